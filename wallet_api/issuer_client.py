"""The wallet provider's use of the issuer's admin API, through the one typed client of that API
(:class:`eidcore.api.issuer_admin.IssuerAdminClient`; services talk over HTTP only).

Every call carries the wallet provider's own credential for the issuer (``rt.peer_token("wallet", "issuer")``,
scoped by the issuer: follow the state of its wallet instances, guardian-approved issuance, the mandates its users
grant), never the issuer operator's token. Each function maps the issuer's refusal to this service's errors:
:class:`UpstreamUnavailable` when the issuer cannot be reached or refuses what it should accept, and the typed
error a caller can act on where the issuer's answer means something here (a 404 approval, a 400 offer).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from eidcore.api.issuer_admin import (
    DeferredApproval,
    IssuerAdminClient,
    IssuerAdminError,
    MandateRequest,
    MandateRevokeRequest,
    MandateScope,
    OfferCreated,
    OfferRequest,
    StatusChange,
    StatusChanged,
)
from eidcore.errors import UpstreamUnavailable
from eidcore.runtime import Runtime

__all__ = ["IssuerAdminError", "approve_deferred", "change_credential_status", "client", "create_mandate",
           "create_offer", "revoke_mandate", "unavailable"]

StatusAction = Literal["suspend", "revoke", "reinstate"]


def client(rt: Runtime) -> IssuerAdminClient:
    """The typed client of the issuer's admin API, with the wallet provider's own credential."""
    return IssuerAdminClient(rt.http, rt.settings.service_url("issuer"), rt.peer_token("wallet", "issuer"))


def unavailable(exc: IssuerAdminError, what: str) -> UpstreamUnavailable:
    """The issuer's refusal of ``what`` as this service's 503 (never the issuer's description: it may name data)."""
    if exc.status == 0:
        return UpstreamUnavailable(f"the issuer could not be reached ({exc.description})")
    return UpstreamUnavailable(f"the issuer answered HTTP {exc.status} to {what}")


async def change_credential_status(rt: Runtime, action: StatusAction, *, instance_jkt: str) -> StatusChanged:
    """``POST /admin/credentials/status``: revoke / suspend / reinstate every credential issued to an instance key;
    :class:`IssuerAdminError` when refused."""
    return await client(rt).change_status(StatusChange(action=action, instance_jkt=instance_jkt))


async def create_offer(rt: Runtime, person: str, configuration_id: str, *, require_approval: bool = False,
                       mandate_id: str | None = None) -> OfferCreated:
    """``POST /admin/offers``: a pre-authorized credential offer for ``person``; with ``require_approval`` the
    issuance is deferred until :func:`approve_deferred` (OpenID4VCI 1.0 §9). :class:`IssuerAdminError` when
    refused."""
    return await client(rt).create_offer(OfferRequest(
        person=person, credential_configuration_ids=[configuration_id], require_approval=require_approval,
        mandate_id=mandate_id))


async def approve_deferred(rt: Runtime, transaction_id: str, *, person: str) -> bool:
    """``POST /admin/deferred/{transaction_id}/approve``: True when approved, False when the issuer has no such
    pending transaction of ``person`` (it approves only that person's own issuance)."""
    try:
        await client(rt).approve_deferred(transaction_id, DeferredApproval(person=person))
    except IssuerAdminError as exc:
        if exc.status == 404:
            return False
        raise unavailable(exc, "the approval") from exc
    return True


async def create_mandate(rt: Runtime, *, principal: str, agent: str, scope: dict[str, list[str]],
                         valid_until: datetime | None) -> str:
    """``POST /admin/mandates``: record a granted mandate at the issuer; its ``mandate_id``."""
    try:
        out = await client(rt).create_mandate(MandateRequest(
            principal=principal, agent=agent, scope=MandateScope.model_validate(scope), valid_until=valid_until))
    except IssuerAdminError as exc:
        raise unavailable(exc, "the mandate") from exc
    return out.mandate_id


async def revoke_mandate(rt: Runtime, mandate_id: str, *, principal: str) -> int:
    """``POST /admin/mandates/{id}/revoke``: revoke it and its credentials in the status list; how many."""
    try:
        out = await client(rt).revoke_mandate(mandate_id, MandateRevokeRequest(principal=principal))
    except IssuerAdminError as exc:
        raise unavailable(exc, "the revocation") from exc
    return out.updated
