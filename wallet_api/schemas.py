"""Request and response bodies of the wallet API (pydantic), so the OpenAPI document describes every field.

Errors are RFC 9457 problem details (:class:`Problem`, ``application/problem+json``); a body that fails validation
is answered 400 ``invalid_request`` in that shape. Request bodies refuse unknown members (``extra="forbid"``) except
where the API always ignored them (the mandate grant).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "MAX_ATTESTED_KEYS", "MAX_BACKUP", "AdminBind", "BackupIn", "BackupView", "BindByPid", "Challenge", "ChildView",
    "ChildWallet", "ConsentRequestIn", "CredentialRequestIn", "CredentialRequestView", "DeferredTransactionIn",
    "EcPublicJwk", "InstancePage", "InstanceView", "IssuerSync", "KeyAttestationRequest", "KeyAttestationResponse",
    "LogEntry", "MandateGrantIn", "MandateOffer", "MandatePage", "MandateRevoked", "MandateScope", "MandateView",
    "Nonce", "PairingCode", "PersonRef", "PlatformAttestation", "Problem", "RegisterRequest", "RelyingPartyIn",
    "RequestView", "RuleIn", "Rules", "StatusChange", "TransactionIn", "TransactionPage", "TransactionView",
    "WalletAttestationResponse", "WalletProfile", "WalletRef",
]

MAX_BACKUP = 128 * 1024
"""Bytes an encrypted backup may hold."""
MAX_ATTESTED_KEYS = 10
"""Keys one key attestation may attest (OpenID4VCI 1.0 Appendix D)."""


class Problem(BaseModel):
    """RFC 9457 problem details; ``type`` is ``urn:lommebok:error:<code>``."""

    type: str
    title: str
    status: int
    detail: str


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EcPublicJwk(BaseModel):
    """A public JWK (RFC 7517); the wallet API accepts P-256 EC keys only and refuses private members."""

    model_config = ConfigDict(extra="allow")

    kty: str | None = Field(default=None, max_length=8, description="EC")
    crv: str | None = Field(default=None, max_length=16, description="P-256")
    x: str | None = Field(default=None, max_length=100)
    y: str | None = Field(default=None, max_length=100)

    def as_dict(self) -> dict[str, Any]:
        """The members the client sent (extra members included, so private ones can be refused)."""
        return self.model_dump(exclude_none=True)


# -- instances and attestations ---------------------------------------------------------------------


class Challenge(BaseModel):
    challenge: str
    expires_in: int


class PlatformAttestation(_Body):
    format: Literal["android-key"] = Field(description="android-key: Android Key Attestation chain")
    x5c: list[str] = Field(max_length=6, description="Standard base64 DER certificates, leaf first")


class RegisterRequest(_Body):
    platform: Literal["android", "ios"]
    attestation: PlatformAttestation
    wallet_version: str = Field(default="", max_length=32)


class IssuerSync(BaseModel):
    """What the issuer answered when asked to follow the instance's state for its credentials."""

    action: Literal["suspend", "revoke", "reinstate"]
    status: Literal["pending", "done", "failed"]
    updated: int | None = Field(default=None, description="Credentials the issuer changed")
    credentials: list[str] | None = Field(default=None, description="Ids of the credentials the issuer changed")
    detail: str | None = Field(default=None, description="Why the update failed")


class InstanceView(BaseModel):
    id: str
    state: Literal["active", "suspended", "revoked"]
    jkt: str = Field(description="RFC 7638 thumbprint of the instance key")
    platform: str
    security_level: str
    wallet_version: str
    person_bound: bool
    bound_by: str | None
    created_at: datetime
    updated_at: datetime
    version: int
    issuer_sync: IssuerSync | None = Field(
        default=None, description="Outcome of the last update of the issuer's credentials for this instance")


class InstancePage(BaseModel):
    items: list[InstanceView]
    next_cursor: str | None


class StatusChange(_Body):
    action: Literal["suspend", "revoke", "reinstate"]


class WalletAttestationResponse(BaseModel):
    wallet_attestation: str
    expires_in: int


class KeyAttestationRequest(_Body):
    attested_keys: list[EcPublicJwk] = Field(min_length=1, max_length=MAX_ATTESTED_KEYS)
    nonce: str | None = Field(default=None, max_length=512, description="The issuer's c_nonce")


class KeyAttestationResponse(BaseModel):
    key_attestation: str
    expires_in: int


class Nonce(BaseModel):
    nonce: str
    expires_in: int


class BindByPid(_Body):
    presentation: str = Field(max_length=64 * 1024, description="PID SD-JWT VC with KB-JWT (aud = this service)")
    nonce: str = Field(max_length=256)


class AdminBind(_Body):
    person: str = Field(max_length=64, description="National identity number or person id")


class PersonRef(_Body):
    person: str = Field(min_length=1, max_length=64, description="National identity number or person id")


# -- transaction log and backups --------------------------------------------------------------------

WalletProfile = Literal["private", "work"]
"""A wallet profile (``wallet_api.models.PROFILES``): work credentials are kept apart from private ones."""
ClaimName = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:/#\[\]\-]+$")]


class TransactionIn(_Body):
    relying_party: str = Field(min_length=1, max_length=512, description="The verifier's client_id")
    relying_party_name: str | None = Field(default=None, max_length=200)
    credential_types: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(default_factory=list,
                                                                                       max_length=20)
    claims: list[ClaimName] = Field(max_length=100, description="Claim names only (never values)")
    outcome: Literal["shared", "declined", "refused"] = "shared"
    profile: WalletProfile = Field(default="private", description="The wallet profile whose credentials were shown")
    shared_at: datetime


class TransactionView(BaseModel):
    id: int
    instance_id: str
    relying_party: str
    relying_party_name: str | None
    credential_types: list[str]
    claims: list[str]
    outcome: str
    profile: str
    shared_at: datetime
    recorded_at: datetime


class TransactionPage(BaseModel):
    items: list[TransactionView]
    next_cursor: str | None


class BackupIn(_Body):
    ciphertext: str = Field(min_length=1, max_length=MAX_BACKUP * 4 // 3 + 4,
                            description="base64url of the encrypted blob (the server never holds its key)")
    media_type: str = Field(default="application/octet-stream", max_length=100)


class BackupView(BaseModel):
    ciphertext: str
    media_type: str
    profile: str
    size: int
    version: int
    updated_at: datetime


# -- youth wallets under guardian control -----------------------------------------------------------

ClaimPath = Annotated[list[str | int | None], Field(min_length=1, max_length=10)]
Category = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$", description="A relying-party category, e.g. video")]


class WalletRef(_Body):
    instance_id: str = Field(min_length=1, max_length=36,
                             description="The child's wallet instance (registered, not bound yet)")
    pairing_code: str = Field(min_length=1, max_length=32,
                              description="The one-time code the child's wallet shows (POST /youth/pairing-codes)")


class PairingCode(BaseModel):
    instance_id: str = Field(description="This wallet instance (the guardian sends it with the code)")
    pairing_code: str = Field(description="Show it to the guardian; single use")
    expires_in: int


class ChildWallet(BaseModel):
    id: str
    state: str
    registered_by_me: bool
    created_at: datetime


class ChildView(BaseModel):
    person_id: str
    given_name: str
    age: int
    basis: str
    wallets: list[ChildWallet]


class RuleIn(_Body):
    client_id: str = Field(min_length=1, max_length=2048, description="The verifier's client_id, or * for any")
    claim: ClaimPath | None = Field(default=None, description="A DCQL claim path; null for any claim")
    effect: Literal["allow", "ask", "never"]
    category: Category | None = Field(default=None, description="Only relying parties of this category "
                                      "(the wallet provider's registry); use with client_id *")


class Rules(_Body):
    rules: list[RuleIn] = Field(max_length=100)


class RelyingPartyIn(_Body):
    client_id: str = Field(min_length=1, max_length=2048, description="The verifier's client_id (with prefix)")
    category: Category
    name: str | None = Field(default=None, max_length=200)


class ConsentRequestIn(_Body):
    client_id: str = Field(min_length=1, max_length=2048, description="The verifier's client_id (with prefix)")
    relying_party_name: str | None = Field(default=None, max_length=200)
    claims: list[ClaimPath] = Field(min_length=1, max_length=50, description="DCQL claim paths to disclose")
    transaction_nonce_hash: str = Field(pattern=r"^[A-Za-z0-9_-]{43}$",
                                        description="base64url(SHA-256(the OpenID4VP nonce))")
    holder_jwk: EcPublicJwk = Field(description="The public key the presented credentials are bound to")


class RequestView(BaseModel):
    id: str
    child_id: str
    client_id: str
    relying_party_name: str | None
    claims: list[list[str | int | None]]
    status: Literal["pending", "approved", "denied", "expired"]
    decided_by: str | None
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None
    consent: str | None = Field(default=None, description="The guardian consent credential (child only)")
    approvals: int = Field(default=0, description="Guardians who approved so far (both may be required)")
    category: str | None = Field(default=None, description="The relying party's category (wallet provider registry)")


class LogEntry(BaseModel):
    kind: Literal["consent_request", "presentation"]
    relying_party: str
    relying_party_name: str | None
    claims: list[str | list[str | int | None]] = Field(
        description="Claim paths (consent requests) or claim names (presentations); never values")
    outcome: str
    at: datetime


class CredentialRequestIn(_Body):
    credential_configuration_id: str = Field(pattern=r"^pid_[a-z_]{1,40}$",
                                             description="The issuer's configuration id, e.g. pid_vc_sd_jwt")
    instance_id: str | None = Field(default=None, max_length=36,
                                    description="(guardian) the child's wallet; may be left out when it has one")


class DeferredTransactionIn(_Body):
    transaction_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,200}$",
                                description="The issuer's deferred transaction_id (OpenID4VCI 1.0 §8.3)")


class CredentialRequestView(BaseModel):
    id: str
    child_id: str
    instance_id: str
    credential_configuration_id: str
    requested_by: Literal["child", "guardian"]
    status: Literal["offered", "awaiting_approval", "approved", "denied"]
    approvals: int
    decided_by: str | None
    created_at: datetime
    decided_at: datetime | None
    offer_uri: str | None = Field(default=None, description="The credential offer (child only)")
    tx_code: str | None = Field(default=None, description="The offer's transaction code (child only)")


# -- mandates ---------------------------------------------------------------------------------------

ScopeItems = Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]], Field(min_length=1)]


class MandateScope(BaseModel):
    """What the mandate covers: service areas and/or access packages (Altinn / FUFINN vocabulary)."""

    model_config = ConfigDict(extra="forbid")

    service_areas: ScopeItems | None = None
    access_packages: ScopeItems | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> MandateScope:
        if self.service_areas is None and self.access_packages is None:
            raise ValueError("scope must hold service_areas and/or access_packages")
        return self

    def as_dict(self) -> dict[str, list[str]]:
        """The scope as stored and sent to the issuer (only the members given)."""
        return {k: list(v) for k, v in (("service_areas", self.service_areas),
                                        ("access_packages", self.access_packages)) if v is not None}


class MandateGrantIn(BaseModel):
    """A principal grants a mandate (unknown members are ignored, as they always were)."""

    agent: str = Field(min_length=1, max_length=64, description="The agent's identity number or person id")
    scope: MandateScope
    valid_until: datetime | None = Field(default=None, description="RFC 3339 date-time with a time zone, future")


class MandateView(BaseModel):
    id: str
    role: Literal["principal", "agent"] = Field(description="The caller's role in this mandate")
    principal_id: str
    agent_id: str
    scope: dict[str, list[str]] = Field(description="service_areas and/or access_packages")
    valid_until: str | None = Field(json_schema_extra={"format": "date-time"})
    state: Literal["pending", "accepted", "declined", "revoked"]
    issuer_mandate_id: str | None


class MandatePage(BaseModel):
    items: list[MandateView]


class MandateOffer(MandateView):
    """An accepted mandate with the issuer's credential offer for the agent (OpenID4VCI 1.0 §4.1)."""

    offer_uri: str
    tx_code: str | None
    qr_svg: str | None


class MandateRevoked(MandateView):
    revoked_credentials: int = Field(description="Mandate credentials the issuer revoked")
