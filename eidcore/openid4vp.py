"""OpenID for Verifiable Presentations 1.0: the messages between a verifier and a wallet, as typed models.

Shared by the verifier (which writes requests and reads responses) and the holder (which does the opposite):

- :class:`AuthorizationRequestParams`: the parameters of the Authorization Request passed by reference
  (``openid4vp://?client_id=...&request_uri=...``; §5.10, RFC 9101 §5.2);
- :class:`RequestObjectClaims`: the claims of the request object (§5.1, §5.2; RFC 9101 §4), with
  :class:`ClientMetadata` (§5.1 ``client_metadata``);
- :class:`WalletMetadataForm`: the form a wallet posts to a ``request_uri`` with ``request_uri_method=post``
  (§5.10.1: ``wallet_metadata``, ``wallet_nonce``);
- :class:`AuthorizationResponseForm`: the form a wallet posts to the ``response_uri`` (§8.2 ``direct_post``:
  ``vp_token`` and ``state``; §8.3 ``direct_post.jwt``: ``response``; §8.5: ``error``, ``error_description``);
- :class:`ResponseEndpointAnswer`: what the response endpoint answers (§8.2: ``redirect_uri`` or nothing).

The forms keep every member optional: which members a valid response needs depends on the transaction
(its ``response_mode``), so the verifier decides and answers with the spec's error (``invalid_request``).
Unknown members are ignored (§5: a wallet or verifier ignores parameters it does not understand).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "SELF_ISSUED_AUD",
    "AuthorizationRequestParams",
    "AuthorizationResponseForm",
    "ClientMetadata",
    "RequestObjectClaims",
    "ResponseEndpointAnswer",
    "ResponseMode",
    "WalletMetadataForm",
]

SELF_ISSUED_AUD = "https://self-issued.me/v2"
"""The ``aud`` of a request object a verifier signs for any wallet (§5.8, static discovery)."""

ResponseMode = Literal["direct_post", "direct_post.jwt"]
"""The response modes of §8.2 and §8.3."""


class _Message(BaseModel):
    """Members not named here are ignored, not refused (§5)."""

    model_config = ConfigDict(extra="ignore")


class AuthorizationRequestParams(_Message):
    """The query of an ``openid4vp://`` Authorization Request by reference (§5.10; RFC 9101 §5.2)."""

    client_id: str = Field(description="The client identifier with its prefix (§5.9)")
    request_uri: str = Field(description="Where the wallet fetches the request object (RFC 9101 §5.2)")
    request_uri_method: Literal["get", "post"] | None = Field(
        default=None, description="post: the wallet POSTs its metadata and a nonce to request_uri (§5.10)")


class ClientMetadata(_Message):
    """§5.1 ``client_metadata``: the formats the verifier accepts, its response encryption key, its name."""

    vp_formats_supported: dict[str, dict[str, Any]] = Field(description="§11.1: format identifiers and algorithms")
    client_name: str | None = Field(default=None, description="RFC 7591 §2: the name the wallet shows the user")
    jwks: dict[str, list[dict[str, Any]]] | None = Field(
        default=None, description="The public key the wallet encrypts a direct_post.jwt response to (§8.3)")
    encrypted_response_enc_values_supported: list[str] | None = Field(
        default=None, description="JWE enc values for the encrypted response (§8.3)")


class RequestObjectClaims(_Message):
    """The claims of a request object (§5.1, §5.2; RFC 9101 §4)."""

    aud: str = Field(default=SELF_ISSUED_AUD)
    client_id: str
    response_type: Literal["vp_token"] = "vp_token"
    response_mode: ResponseMode
    response_uri: str = Field(description="Where the wallet posts the response (§8.2)")
    nonce: str
    state: str
    dcql_query: dict[str, Any] = Field(description="The DCQL query (§6)")
    client_metadata: ClientMetadata
    iat: int
    exp: int
    wallet_nonce: str | None = Field(default=None, description="Echoed from the request_uri POST (§5.10.1)")
    match_code: str | None = Field(
        default=None, description="Extension: a short code the verifier's page also shows, for the user to "
                                  "compare in cross-device flows (§14.2)")


class WalletMetadataForm(_Message):
    """The form of a ``request_uri`` POST (§5.10.1), ``application/x-www-form-urlencoded``."""

    wallet_metadata: str | None = Field(default=None, description="A JSON object: the wallet's capabilities")
    wallet_nonce: str | None = Field(default=None, max_length=256,
                                     description="Echoed as wallet_nonce in the request object (replay protection)")


class AuthorizationResponseForm(_Message):
    """The form a wallet posts to the ``response_uri`` (``application/x-www-form-urlencoded``).

    ``direct_post`` (§8.2): ``vp_token`` (a JSON object as text) and ``state``; ``direct_post.jwt`` (§8.3):
    ``response``, a JWE whose payload holds those; an error response (§8.5): ``error``, ``error_description``,
    ``state``."""

    vp_token: str | None = Field(default=None, description="§8.1: JSON object, query id -> presentations")
    state: str | None = None
    response: str | None = Field(default=None, description="§8.3: the encrypted response (JWE)")
    error: str | None = Field(default=None, description="§8.5: the wallet's error code")
    error_description: str | None = None

    def params(self) -> dict[str, str]:
        """The members the wallet sent (what a ``direct_post`` response carries at top level)."""
        return {k: v for k, v in self.model_dump(exclude_none=True).items() if isinstance(v, str)}


class ResponseEndpointAnswer(_Message):
    """What the response endpoint answers (§8.2): a ``redirect_uri`` for a same-device flow, else nothing."""

    redirect_uri: str | None = Field(
        default=None, description="Where the wallet sends the user next (same-device flows; carries response_code)")
