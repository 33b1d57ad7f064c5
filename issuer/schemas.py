"""Request and response models of the issuer's HTTP API (pydantic), so the OpenAPI document describes every field.

- OpenID4VCI 1.0 and OAuth messages (offer, metadata, PAR, token, nonce, credential, deferred, notification) are
  the shared models of :mod:`eidcore.openid4vci`;
- the admin API's bodies (offers, status changes, mandates, deferred approval) are the shared models of
  :mod:`eidcore.api.issuer_admin` (the wallet provider calls that API with :class:`IssuerAdminClient`);
- the test login form and the organisation administration's bodies are defined here.

Errors are OAuth error responses (:class:`OAuthError`: ``error`` and ``error_description``, RFC 6749 §5.2,
OpenID4VCI 1.0 §8.3.1) on every endpoint of the service.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from eidcore.api.issuer_admin import (
    DeferredApproval,
    MandateCreated,
    MandateList,
    MandateQuery,
    MandateRequest,
    MandateRevocation,
    MandateRevokeRequest,
    MandateView,
    OfferCreated,
    OfferRequest,
    ReconcileReport,
    StatusChange,
    StatusChanged,
)
from eidcore.openid4vci import (
    AttestationChallengeResponse,
    AuthorizationServerMetadata,
    CredentialIssuerMetadata,
    CredentialOffer,
    CredentialRequest,
    CredentialResponse,
    DeferredCredentialRequest,
    Jwks,
    JwtVcIssuerMetadata,
    NonceResponse,
    NotificationRequest,
    OAuthError,
    PushedAuthorizationRequest,
    PushedAuthorizationResponse,
    TokenRequest,
    TokenResponse,
)

__all__ = [
    "AttestationChallengeResponse", "AuthorizationServerMetadata", "CredentialIssuerMetadata", "CredentialOffer",
    "CredentialRequest", "CredentialResponse", "DeferredApproval", "DeferredCredentialRequest", "EmploymentEnd",
    "EmploymentEnded", "Jwks", "JwtVcIssuerMetadata", "LoginForm", "MandateCreated", "MandateList", "MandateQuery",
    "MandateRequest", "MandateRevocation", "MandateRevokeRequest", "MandateView", "NonceResponse",
    "NotificationRequest", "OAuthError", "OfferCreated", "OfferRequest", "PushedAuthorizationRequest",
    "PushedAuthorizationResponse", "ReconcileReport", "RoleChange", "RoleChanged", "StatusChange", "StatusChanged",
    "TokenRequest", "TokenResponse", "TypeMetadata",
]


class TypeMetadata(BaseModel):
    """SD-JWT VC Type Metadata (SD-JWT VC §6), served byte for byte (``vct#integrity`` covers it)."""

    model_config = ConfigDict(extra="allow")

    vct: str
    name: str | None = None
    description: str | None = None
    extends: str | None = None
    display: list[dict[str, object]] | None = None
    claims: list[dict[str, object]] | None = None


class LoginForm(BaseModel):
    """The test login's form (dev only): the chosen synthetic person at the chosen level of assurance."""

    model_config = ConfigDict(extra="ignore")

    session: str = Field(min_length=1, max_length=200)
    person_id: str = Field(min_length=1, max_length=200)
    loa: str | None = Field(default=None, description="low, substantial or high")


class RoleChange(BaseModel):
    """``POST /org/{orgnr}/roles``: assign or remove a role code / access package of an employee."""

    model_config = ConfigDict(extra="ignore")

    action: Literal["assign", "remove"]
    person: str = Field(min_length=1, max_length=64, description="Identity number, alias or person id")
    role: str = Field(min_length=1, max_length=200, description="A role code or an access package URN")


class RoleChanged(BaseModel):
    orgnr: str
    roles: list[str]
    access_packages: list[str]
    revoked_credentials: int


class EmploymentEnd(BaseModel):
    """``POST /org/{orgnr}/employments/end``: end an employee's employment (from ``on``, default today)."""

    model_config = ConfigDict(extra="ignore")

    person: str = Field(min_length=1, max_length=64, description="Identity number, alias or person id")
    on: date | None = None


class EmploymentEnded(BaseModel):
    orgnr: str
    ended: str
    revoked_credentials: int
