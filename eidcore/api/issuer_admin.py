"""The issuer's admin API (``/issuer/admin/...``): request and response models, and a typed client.

The issuer serves these bodies (its admin and mandate controllers); the wallet provider calls them
through :class:`IssuerAdminClient` with its own credential (``rt.peer_token("wallet", "issuer")``), whose scopes the
issuer declares (``offers:delegated``, ``credentials:status:instance``, ``mandates:write``, ``deferred:approve``).
Errors come as OAuth-style ``{"error", "error_description"}`` bodies (:class:`IssuerAdminError` on the client).

Offers are OpenID4VCI 1.0 §4.1 credential offers; status changes act on the Token Status List
(draft-ietf-oauth-status-list §7); mandates are granted mandates (principal -> agent, scope, validity).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from eidcore.openid4vci import CredentialOffer

__all__ = [
    "DeferredApproval",
    "IssuerAdminClient",
    "IssuerAdminError",
    "MandateCreated",
    "MandateList",
    "MandateQuery",
    "MandateRequest",
    "MandateRevocation",
    "MandateRevokeRequest",
    "MandateScope",
    "MandateView",
    "OfferCreated",
    "OfferRequest",
    "ReconcileReport",
    "StatusChange",
    "StatusChanged",
]

Person = str
"""A person: national identity number (F/D-number), a story alias, or the register's person id."""


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OfferRequest(_Body):
    """``POST /admin/offers``: a credential offer (OpenID4VCI 1.0 §4.1) for a person of the population register."""

    person: Person = Field(min_length=1, max_length=64)
    credential_configuration_ids: list[str] | None = Field(default=None, min_length=1, max_length=10)
    credential: str | None = Field(default=None, description="One configuration id (instead of the list)")
    grant: Literal["pre-authorized_code", "authorization_code"] = "pre-authorized_code"
    tx_code: StrictBool = Field(default=True, description="Protect a pre-authorized code with a tx_code")
    loa: Literal["low", "substantial", "high"] = "high"
    require_approval: StrictBool = Field(default=False, description="Deferred issuance until approved (§9)")
    orgnr: str | None = Field(default=None, min_length=1, max_length=100)
    mandate_id: str | None = Field(default=None, min_length=1, max_length=100)
    by_reference: StrictBool = Field(default=False, description="Offer by credential_offer_uri (§4.1.3)")

    def configuration_ids(self) -> list[str]:
        return self.credential_configuration_ids or ([self.credential] if self.credential else [])


class OfferCreated(BaseModel):
    credential_offer: CredentialOffer
    tx_code: str | None = None
    expires_in: int
    offer_uri: str = Field(description="openid-credential-offer:// URI")
    credential_offer_uri: str | None = None
    qr_svg: str = Field(description="The offer URI as a QR code (SVG)")


class StatusChange(_Body):
    """``POST /admin/credentials/status``: exactly one selector."""

    action: Literal["revoke", "suspend", "reinstate"]
    credential_id: str | None = Field(default=None, min_length=1, max_length=100)
    instance_jkt: str | None = Field(default=None, min_length=1, max_length=100)
    person: Person | None = Field(default=None, min_length=1, max_length=100)
    subject_ref: str | None = Field(default=None, min_length=1, max_length=100,
                                    description="mandate:<id>, guardianship:<id>, parental:<id>, employment:<orgnr>")
    credential_type: str | None = Field(default=None, max_length=64)


class StatusChanged(BaseModel):
    updated: int
    credentials: list[str]


class MandateScope(_Closed):
    service_areas: list[str] | None = Field(default=None, min_length=1)
    access_packages: list[str] | None = Field(default=None, min_length=1)


class MandateRequest(_Body):
    """``POST /admin/mandates``: record a granted mandate."""

    principal: Person = Field(min_length=1, max_length=64)
    agent: Person = Field(min_length=1, max_length=64)
    scope: MandateScope
    valid_from: datetime | None = Field(default=None, description="RFC 3339 date-time with a time zone")
    valid_until: datetime | None = None


class MandateCreated(BaseModel):
    mandate_id: str


class MandateQuery(_Closed):
    """``POST /admin/mandates/query`` (in the body, so no identity number lands in a URL)."""

    principal: Person | None = Field(default=None, min_length=1, max_length=64)
    agent: Person | None = Field(default=None, min_length=1, max_length=64)


class MandateView(BaseModel):
    mandate_id: str
    principal_id: str
    agent_id: str
    scope: dict[str, list[str]]
    legal_basis: str
    valid_from: str | None
    valid_until: str | None
    revoked: bool


class MandateList(BaseModel):
    mandates: list[MandateView]


class MandateRevokeRequest(_Body):
    principal: Person | None = Field(default=None, min_length=1, max_length=64,
                                     description="The mandate must be this principal's")


class MandateRevocation(BaseModel):
    mandate: MandateView
    updated: int
    credentials: list[str]


class ReconcileReport(BaseModel):
    seen: int
    new: list[str]
    ended: list[str]
    revoked_credentials: list[str]


class DeferredApproval(_Body):
    """``POST /admin/deferred/{transaction_id}/approve``: optionally only if the transaction is this person's."""

    person: Person | None = Field(default=None, min_length=1, max_length=64)


class IssuerAdminError(Exception):
    """The issuer refused an admin call (or could not be reached: ``status`` 0)."""

    def __init__(self, status: int, error: str | None, description: str | None) -> None:
        super().__init__(f"issuer admin API: HTTP {status} {error or ''} {description or ''}".strip())
        self.status = status
        self.error = error
        self.description = description


R = TypeVar("R", bound=BaseModel)


class IssuerAdminClient:
    """A typed client of the issuer's admin API (one method per operation)."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, token: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.token = token

    async def _post(self, path: str, body: BaseModel | None, answer: type[R] | None) -> R | None:
        try:
            r = await self.http.post(self.base_url + path, headers={"Authorization": f"Bearer {self.token}"},
                                     json=None if body is None else body.model_dump(mode="json", exclude_unset=True,
                                                                                exclude_none=True))
        except httpx.HTTPError as exc:
            raise IssuerAdminError(0, "unreachable", type(exc).__name__) from exc
        data: Any = None
        if r.headers.get("content-type", "").startswith("application/json"):
            try:
                data = r.json()
            except ValueError:
                data = None
        if not 200 <= r.status_code < 300:
            err = data if isinstance(data, dict) else {}
            raise IssuerAdminError(r.status_code, err.get("error"), err.get("error_description"))
        if answer is None:
            return None
        try:
            return answer.model_validate(data)
        except ValidationError as exc:
            raise IssuerAdminError(r.status_code, "invalid_response", str(exc)[:200]) from exc

    async def create_offer(self, body: OfferRequest) -> OfferCreated:
        out = await self._post("/admin/offers", body, OfferCreated)
        assert out is not None
        return out

    async def change_status(self, body: StatusChange) -> StatusChanged:
        out = await self._post("/admin/credentials/status", body, StatusChanged)
        assert out is not None
        return out

    async def create_mandate(self, body: MandateRequest) -> MandateCreated:
        out = await self._post("/admin/mandates", body, MandateCreated)
        assert out is not None
        return out

    async def query_mandates(self, body: MandateQuery) -> MandateList:
        out = await self._post("/admin/mandates/query", body, MandateList)
        assert out is not None
        return out

    async def revoke_mandate(self, mandate_id: str, body: MandateRevokeRequest | None = None) -> MandateRevocation:
        out = await self._post(f"/admin/mandates/{quote(mandate_id, safe='')}/revoke", body, MandateRevocation)
        assert out is not None
        return out

    async def reconcile_mandates(self) -> ReconcileReport:
        out = await self._post("/admin/mandates/reconcile", None, ReconcileReport)
        assert out is not None
        return out

    async def approve_deferred(self, transaction_id: str, body: DeferredApproval | None = None) -> None:
        await self._post(f"/admin/deferred/{quote(transaction_id, safe='')}/approve", body, None)

