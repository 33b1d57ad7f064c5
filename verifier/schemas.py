"""Request and response bodies of the verifier's HTTP API (pydantic), so the OpenAPI document describes each field.

- relying-party API (OpenID4VP 1.0 §5 on the relying party's behalf): :class:`CreateTransaction`,
  :class:`TransactionCreated`, :class:`TransactionView`, :class:`Redeem`, :class:`TransactionEvent`;
- admin API: :class:`CreateRelyingParty` / :class:`RelyingPartyCreated`, :class:`CreateOidcClient` /
  :class:`OidcClientCreated`;
- OIDC bridge (OpenID Connect Core 1.0): :class:`OidcTokenForm`, :class:`OidcTokenResponse`, :class:`UserInfo`,
  :class:`LoginPage`, :class:`LoginWaiting`;
- errors: :class:`OAuthError` (RFC 6749 §5.2 / OpenID4VP 1.0 §8.5 shape, which every verifier endpoint answers)
  and :func:`errors` (the OpenAPI ``responses`` of a handler).

The wallet-facing messages (request object, response form) are the shared OpenID4VP models in
:mod:`eidcore.openid4vp`.

Answers leave out members that do not apply (``exclude_unset`` when they are written, see
:func:`verifier.app.create_app`), so a member is either present with its value or absent, as before.
"""

from __future__ import annotations

from typing import Any, Literal

from litestar.openapi.datastructures import ResponseSpec
from pydantic import BaseModel, ConfigDict, Field

from eidcore.openid4vp import ResponseMode

__all__ = [
    "CreateOidcClient",
    "CreateRelyingParty",
    "CreateTransaction",
    "Failure",
    "LoginPage",
    "LoginWaiting",
    "OAuthError",
    "OidcClientCreated",
    "OidcTokenForm",
    "OidcTokenResponse",
    "Redeem",
    "RefusedAttempt",
    "RelyingPartyCreated",
    "TransactionCreated",
    "TransactionEvent",
    "TransactionStatus",
    "TransactionView",
    "UserInfo",
    "errors",
]

TransactionStatus = Literal["pending", "responded", "validated", "failed", "expired"]
ClientIdPrefix = Literal["x509_hash", "x509_san_dns", "redirect_uri"]


class _Body(BaseModel):
    """A request body: members not named here are ignored (as before the bodies were typed)."""

    model_config = ConfigDict(extra="ignore")


class _Answer(BaseModel):
    """A response body."""


class OAuthError(BaseModel):
    """The error body of every verifier endpoint: RFC 6749 §5.2 (OpenID4VP 1.0 §8.5 on the wallet side)."""

    error: str = Field(description="invalid_request, invalid_token, not_found, invalid_client, invalid_grant, ...")
    error_description: str


_ERROR_TEXT = {
    400: "Bad input (invalid_request, invalid_request_uri_method; on the token endpoint invalid_grant, "
         "unsupported_grant_type)",
    401: "A bearer credential (API key, admin token, access token) or the client authentication is missing or wrong "
         "(invalid_token, invalid_client); WWW-Authenticate says which",
    403: "The credential is known but may not do this (insufficient_scope, access_denied)",
    404: "No such resource (not_found)",
}


def errors(*codes: int) -> dict[int, ResponseSpec]:
    """The OpenAPI ``responses`` for the error statuses a handler answers (each an :class:`OAuthError`)."""
    return {c: ResponseSpec(data_container=OAuthError, description=_ERROR_TEXT[c], generate_examples=False)
            for c in codes}


# -- relying-party API ----------------------------------------------------------------------------------


class CreateTransaction(_Body):
    """A presentation transaction from a profile (``profile`` + ``params``) or the relying party's own
    ``dcql_query`` (OpenID4VP 1.0 §6)."""

    profile: str | None = Field(default=None, max_length=64, description="A profile the relying party may use")
    params: dict[str, Any] | None = Field(default=None, description="The profile's parameters")
    dcql_query: dict[str, Any] | None = Field(
        default=None, description="A DCQL query (OpenID4VP 1.0 §6); needs the pseudo profile dcql")
    response_mode: ResponseMode = Field(default="direct_post.jwt", description="OpenID4VP 1.0 §8.2, §8.3")
    client_id_prefix: ClientIdPrefix | None = Field(
        default=None, description="OpenID4VP 1.0 §5.9; the profile's default (x509_hash) when absent")
    request_uri_method: Literal["get", "post"] = Field(default="get", description="OpenID4VP 1.0 §5.10")
    redirect_uri: str | None = Field(
        default=None, max_length=1500,
        description="Same-device flows: a URI under one of the registered redirect URIs; {response_code} marks "
                    "where the code goes (else it is added as a query member)")
    youth_policy: Any = Field(
        default=None, description="Refused when present: the youth policy protects the holder and applies to every "
                                  "transaction")


class TransactionCreated(_Answer):
    """A new transaction: its id and the Authorization Request by reference (OpenID4VP 1.0 §5.10)."""

    transaction_id: str
    status: Literal["pending"]
    authorization_request: str = Field(description="openid4vp://?client_id=...&request_uri=...")
    request_uri: str
    client_id: str
    response_mode: ResponseMode
    flow: Literal["same_device", "cross_device"]
    expires_at: int = Field(description="Unix seconds")
    dcql_query: dict[str, Any] = Field(description="The query the wallet gets (the youth policy's claims included)")
    qr_svg: str = Field(description="The authorization request as a QR code (SVG)")


class Failure(_Answer):
    check: str
    reason: str | None


class RefusedAttempt(_Answer):
    """A response the ``response_uri`` refused (the transaction stayed pending): no claim values."""

    model_config = ConfigDict(extra="allow")

    check: str = Field(description="The check that failed, or wallet_error")
    at: int = Field(description="Unix seconds")
    error: str | None = Field(default=None, description="The wallet's error code (wallet_error)")


class TransactionView(_Answer):
    """The relying party's view of a transaction; the result once validated (a same-device one after the
    ``response_code`` was redeemed)."""

    transaction_id: str
    status: TransactionStatus
    profile: str | None
    client_id: str
    response_mode: str
    created_at: int
    expires_at: int
    finished_at: int | None
    checks: list[str] = Field(description="The checks that passed")
    authorization_request: str | None = Field(default=None, description="While pending")
    failure: Failure | None = None
    refused_attempts: list[RefusedAttempt] | None = Field(default=None, description="The most recent (at most 20)")
    refused_count: int | None = None
    result_withheld: str | None = Field(default=None, description="Same-device: redeem the response_code first")
    result: dict[str, Any] | None = Field(
        default=None, description="Query id -> presentations, each with the disclosed claims the query asked for")


class Redeem(_Body):
    """The same-device ``response_code`` from the redirect (OpenID4VP 1.0 §13.3), single use."""

    response_code: str | None = Field(default=None, max_length=128)


class TransactionEvent(_Answer):
    """The data of a server-sent ``status`` event (no claim values)."""

    transaction_id: str
    status: TransactionStatus
    failed_check: str | None = None
    refused_count: int | None = None


# -- admin API ------------------------------------------------------------------------------------------


class CreateRelyingParty(_Body):
    name: str = Field(min_length=1, max_length=200)
    allowed_profiles: list[str] = Field(description="Profile names; dcql to send its own DCQL queries")
    redirect_uris: list[str] = Field(
        default_factory=list, description="Absolute http(s) URLs ending with / (prefixes of the redirect URIs)")


class RelyingPartyCreated(_Answer):
    id: str
    name: str
    allowed_profiles: list[str]
    redirect_uris: list[str]
    api_key: str = Field(description="Shown once: only its SHA-256 is kept")


class CreateOidcClient(_Body):
    """An OIDC client of the bridge."""

    name: str = Field(min_length=1, max_length=200)
    redirect_uris: list[str] = Field(min_length=1, description="Absolute http(s) URLs without fragment")
    login: Literal["pid", "employee"] = "pid"
    client_id: str | None = Field(default=None, min_length=1, max_length=100)
    orgnr: str | None = Field(default=None, description="Employee logins: the organisation number required")
    require_any: list[str] | None = Field(
        default=None, description="Employee logins: role codes / access packages of which one is required")
    confidential: bool = Field(default=False, strict=True, description="true: the answer holds a client secret")


class OidcClientCreated(_Answer):
    client_id: str
    name: str
    redirect_uris: list[str]
    login: Literal["pid", "employee"]
    orgnr: str | None = None
    require_any: list[str] | None = None
    client_secret: str | None = Field(default=None, description="Confidential clients: shown once")


# -- OIDC bridge ----------------------------------------------------------------------------------------


class LoginPage(_Answer):
    """``/oidc/authorize`` with ``Accept: application/json``: what the login page shows."""

    authorization_request: str
    qr_svg: str
    continue_uri: str
    expires_at: int
    client_name: str
    match_code: str = Field(description="The code the wallet shows too (OpenID4VP 1.0 §14.2)")


class LoginWaiting(_Answer):
    """``/oidc/continue`` while the wallet has not answered (202)."""

    status: TransactionStatus
    refused_attempts: list[str | None] | None = Field(default=None, description="Check names of refused responses")


class OidcTokenForm(_Body):
    """OIDC Core §3.1.3.1 token request (``application/x-www-form-urlencoded``)."""

    grant_type: str | None = Field(default=None, description="authorization_code")
    code: str | None = None
    redirect_uri: str | None = None
    code_verifier: str | None = Field(default=None, description="RFC 7636 §4.5")
    client_id: str | None = None
    client_secret: str | None = Field(default=None, description="client_secret_post")


class OidcTokenResponse(_Answer):
    """OIDC Core §3.1.3.3."""

    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    id_token: str
    scope: str


class UserInfo(_Answer):
    """OIDC Core §5.3.2: the login's claims (``sub`` pairwise)."""

    sub: str
    pid: str
    given_name: str | None = None
    family_name: str | None = None
    acr: str | None = None
    birthdate: str | None = None
    age: int | None = None
    orgnr: str | None = None
    org_name: str | None = None
    roles: list[str] | None = None
    access_packages: list[str] | None = None
