"""Typed messages of OpenID for Verifiable Credential Issuance 1.0 (and the OAuth messages it builds on).

Shared by the issuer (request bodies it accepts, documents it publishes) and the holder (what it sends and reads):

- credential offer (§4.1.1) with its grants;
- Credential Issuer Metadata (§12.2.4), Authorization Server Metadata (RFC 8414 §2), JWKS (RFC 7517 §5);
- pushed authorization request (RFC 9126 §2.1) and its response (§2.2);
- token request (§6.1, RFC 6749 §4.1.3 / §6) and response (§6.2, with ``authorization_details``, RFC 9396 §7);
- nonce response (§7.2);
- credential request (§8.2) and response (§8.3), deferred credential request (§9.1), notification request (§11.1);
- OAuth error response (RFC 6749 §5.2, OpenID4VCI §8.3.1, §9.3, §11.3).

Requests are lenient about members they do not know (RFC 6749 §3.1, OpenID4VCI §8.2: ignore unknown parameters);
what a member must hold beyond its JSON type is checked by the endpoint, which answers with the protocol's error.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "PRE_AUTHORIZED_CODE_GRANT", "AuthorizationCodeGrant", "AuthorizationDetail", "AuthorizationServerMetadata",
    "CredentialIssuerMetadata", "CredentialObject", "CredentialOffer", "CredentialRequest", "CredentialResponse",
    "CredentialResponseEncryption", "DeferredCredentialRequest", "Jwks", "NonceResponse", "NotificationRequest",
    "OAuthError", "PreAuthorizedCodeGrant", "Proofs", "PushedAuthorizationRequest", "PushedAuthorizationResponse",
    "TokenRequest", "TokenResponse", "TxCode",
]

PRE_AUTHORIZED_CODE_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class _Document(BaseModel):
    """A published document: members beyond the listed ones are allowed (extension points of the specs)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class OAuthError(BaseModel):
    """An error response (RFC 6749 §5.2; OpenID4VCI 1.0 §8.3.1, §9.3, §11.3)."""

    error: str = Field(description="e.g. invalid_request, invalid_grant, invalid_proof, invalid_nonce")
    error_description: str | None = Field(default=None, description="Human-readable text (never personal data)")


# -- credential offer (§4.1.1) ------------------------------------------------------------------------


class TxCode(_Document):
    """``tx_code`` of a pre-authorized code grant (§4.1.1): the wallet asks the user for this code."""

    input_mode: Literal["numeric", "text"] = "numeric"
    length: int | None = None
    description: str | None = Field(default=None, max_length=300)


class PreAuthorizedCodeGrant(_Document):
    pre_authorized_code: str = Field(alias="pre-authorized_code")
    tx_code: TxCode | None = None


class AuthorizationCodeGrant(_Document):
    issuer_state: str | None = None


class CredentialOfferGrants(_Document):
    authorization_code: AuthorizationCodeGrant | None = None
    pre_authorized_code: PreAuthorizedCodeGrant | None = Field(
        default=None, alias="urn:ietf:params:oauth:grant-type:pre-authorized_code")


class CredentialOffer(_Document):
    """A Credential Offer (§4.1.1), by value or fetched from ``credential_offer_uri`` (§4.1.3)."""

    credential_issuer: str
    credential_configuration_ids: list[str]
    grants: CredentialOfferGrants | None = None


# -- metadata ------------------------------------------------------------------------------------------


class Jwks(_Document):
    """A JSON Web Key Set (RFC 7517 §5)."""

    keys: list[dict[str, Any]]


class Display(_Document):
    name: str | None = None
    locale: str | None = None
    description: str | None = None
    background_color: str | None = None
    text_color: str | None = None


class ClaimDescription(_Document):
    path: list[str | int | None]
    mandatory: bool = False
    display: list[Display] = Field(default_factory=list)


class CredentialMetadata(_Document):
    display: list[Display] = Field(default_factory=list)
    claims: list[ClaimDescription] = Field(default_factory=list)


class ProofType(_Document):
    proof_signing_alg_values_supported: list[str]
    key_attestations_required: dict[str, Any] | None = None


class CredentialConfiguration(_Document):
    """One ``credential_configurations_supported`` entry (§12.2.4, Appendix A)."""

    format: str = Field(description="dc+sd-jwt or mso_mdoc")
    scope: str | None = None
    vct: str | None = None
    doctype: str | None = None
    cryptographic_binding_methods_supported: list[str] = Field(default_factory=list)
    credential_signing_alg_values_supported: list[str | int] = Field(default_factory=list)
    proof_types_supported: dict[str, ProofType] = Field(default_factory=dict)
    credential_metadata: CredentialMetadata | None = None


class RequestEncryptionMetadata(_Document):
    jwks: Jwks
    enc_values_supported: list[str]
    encryption_required: bool = False


class ResponseEncryptionMetadata(_Document):
    alg_values_supported: list[str]
    enc_values_supported: list[str]
    encryption_required: bool = False


class BatchIssuance(_Document):
    batch_size: int


class CredentialIssuerMetadata(_Document):
    """Credential Issuer Metadata (§12.2.4); signed as ``application/jwt`` on request (§12.2.3)."""

    credential_issuer: str
    credential_endpoint: str
    nonce_endpoint: str | None = None
    deferred_credential_endpoint: str | None = None
    notification_endpoint: str | None = None
    authorization_servers: list[str] | None = None
    credential_request_encryption: RequestEncryptionMetadata | None = None
    credential_response_encryption: ResponseEncryptionMetadata | None = None
    batch_credential_issuance: BatchIssuance | None = None
    display: list[Display] = Field(default_factory=list)
    credential_configurations_supported: dict[str, CredentialConfiguration]


class AuthorizationServerMetadata(_Document):
    """Authorization Server Metadata (RFC 8414 §2) with the members of RFC 9126, RFC 9207, RFC 9449, RFC 9396,
    attestation-based client authentication and OpenID4VCI 1.0 §12.3."""

    issuer: str
    authorization_endpoint: str | None = None
    token_endpoint: str
    pushed_authorization_request_endpoint: str | None = None
    require_pushed_authorization_requests: bool = False
    challenge_endpoint: str | None = None
    jwks_uri: str | None = None
    response_types_supported: list[str] = Field(default_factory=list)
    response_modes_supported: list[str] = Field(default_factory=list)
    grant_types_supported: list[str] = Field(default_factory=list)
    code_challenge_methods_supported: list[str] = Field(default_factory=list)
    token_endpoint_auth_methods_supported: list[str] = Field(default_factory=list)
    client_attestation_signing_alg_values_supported: list[str] = Field(default_factory=list)
    client_attestation_pop_signing_alg_values_supported: list[str] = Field(default_factory=list)
    dpop_signing_alg_values_supported: list[str] = Field(default_factory=list)
    authorization_response_iss_parameter_supported: bool = False
    authorization_details_types_supported: list[str] = Field(default_factory=list)
    scopes_supported: list[str] = Field(default_factory=list)
    pre_authorized_grant_anonymous_access_supported: bool = Field(
        default=False, alias="pre-authorized_grant_anonymous_access_supported")


class JwtVcIssuerMetadata(_Document):
    """JWT VC Issuer Metadata (SD-JWT VC §5)."""

    issuer: str
    jwks: Jwks


# -- authorization server -------------------------------------------------------------------------------


class PushedAuthorizationRequest(_Message):
    """A pushed authorization request (RFC 9126 §2.1; OpenID4VCI 1.0 §5.1), a form body. Either ``scope`` or
    ``authorization_details`` names the credentials; PKCE ``S256`` is required."""

    response_type: str = Field(description="code")
    client_id: str = Field(min_length=1, max_length=200)
    redirect_uri: str = Field(min_length=1, max_length=2048,
                              description="One registered for the client (or its wallet provider)")
    code_challenge: str | None = Field(default=None, description="PKCE (RFC 7636), required")
    code_challenge_method: str | None = Field(default=None, description="S256")
    scope: str | None = None
    authorization_details: str | None = Field(
        default=None, description="JSON array of openid_credential entries (RFC 9396, OpenID4VCI 1.0 §5.1.1)")
    state: str | None = Field(default=None, max_length=512)
    issuer_state: str | None = Field(default=None, description="From the credential offer's authorization_code grant")
    dpop_jkt: str | None = Field(default=None, description="RFC 9449 §10")
    request_uri: str | None = Field(default=None, description="Not allowed in a pushed request (RFC 9126 §2.1)")
    request: str | None = Field(default=None, description="Not allowed in a pushed request")


class PushedAuthorizationResponse(BaseModel):
    """RFC 9126 §2.2."""

    request_uri: str
    expires_in: int


class TokenRequest(_Message):
    """A token request (RFC 6749 §4.1.3, §6; OpenID4VCI 1.0 §6.1), a form body."""

    grant_type: str = Field(description="authorization_code, urn:ietf:params:oauth:grant-type:pre-authorized_code "
                                        "or refresh_token")
    code: str | None = None
    redirect_uri: str | None = None
    code_verifier: str | None = None
    client_id: str | None = None
    pre_authorized_code: str | None = Field(default=None, alias="pre-authorized_code")
    tx_code: str | None = None
    refresh_token: str | None = None
    authorization_details: str | None = None


class AuthorizationDetail(_Document):
    """An ``openid_credential`` authorization detail (OpenID4VCI 1.0 §5.1.1, §6.2)."""

    type: Literal["openid_credential"] = "openid_credential"
    credential_configuration_id: str
    credential_identifiers: list[str] | None = None
    locations: list[str] | None = None


class TokenResponse(BaseModel):
    """A token response (RFC 6749 §5.1; OpenID4VCI 1.0 §6.2)."""

    access_token: str
    token_type: str = Field(description="DPoP or Bearer")
    expires_in: int
    refresh_token: str | None = None
    authorization_details: list[AuthorizationDetail] | None = None


class AttestationChallengeResponse(BaseModel):
    """The challenge endpoint's answer (attestation-based client authentication §8)."""

    attestation_challenge: str


# -- credential issuer ----------------------------------------------------------------------------------


class NonceResponse(BaseModel):
    """§7.2."""

    c_nonce: str


class Proofs(_Message):
    """Key proofs (§8.2): exactly one proof type, ``jwt`` (Appendix F.1) or ``attestation`` (Appendix F.3)."""

    jwt: list[str] | None = Field(default=None, min_length=1)
    attestation: list[str] | None = Field(default=None, min_length=1)


class CredentialResponseEncryption(_Message):
    """§8.2: the key and ``enc`` the wallet wants the response encrypted with (ECDH-ES)."""

    jwk: dict[str, Any]
    enc: str
    zip: str | None = None


class CredentialRequest(_Message):
    """A credential request (§8.2): ``application/json``, or ``application/jwt`` encrypted to the issuer (§10)."""

    credential_identifier: str | None = None
    credential_configuration_id: str | None = None
    proofs: Proofs | None = None
    credential_response_encryption: CredentialResponseEncryption | None = None


class CredentialObject(BaseModel):
    credential: str


class CredentialResponse(BaseModel):
    """A credential response (§8.3): the credentials, or a ``transaction_id`` when deferred (202)."""

    credentials: list[CredentialObject] | None = None
    notification_id: str | None = None
    transaction_id: str | None = None
    interval: int | None = None


class DeferredCredentialRequest(_Message):
    """§9.1."""

    transaction_id: str = Field(max_length=200)
    credential_response_encryption: CredentialResponseEncryption | None = None


class NotificationRequest(_Message):
    """§11.1."""

    notification_id: str = Field(max_length=200)
    event: Literal["credential_accepted", "credential_failure", "credential_deleted"]
    event_description: str | None = None
