"""Mandates (fullmakt) at the issuer's admin API: recording, listing and revoking granted mandates, and running the
reconciliation of mandates by law (:mod:`issuer.reconcile`).

Norway's FUFINN work on fullmakter and Folkeregisteret's ``vergemaalEllerFremtidsfullmakt``: a granted mandate
(principal -> agent, scope, validity) lives in ``iss_mandate`` (fed by ``POST /issuer/admin/mandates``); a mandate
by law comes from an active guardianship with service areas in the population register (``legal_basis``
``guardianship``, mandate id ``guardianship-<id>``), remembered in ``iss_mandate_by_law``
(:class:`issuer.models.MandateByLaw`).

Revocation sets the credentials' status in the status list (draft-ietf-oauth-status-list §7) and commits before
the caller answers. Each issuance record names what it was issued for (``subject_ref``,
:func:`issuer.credentials.subject_ref`), so revoking one mandate revokes only that mandate's credentials
(:func:`issuer.status.revoke_mandate_ref`); the agent's other mandates stay valid.

Scopes (:mod:`eidcore.admin_auth`): ``mandates`` for all of it; ``mandates:write`` (the wallet provider) to record
and revoke a mandate.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated

from litestar import Controller, Response, post
from litestar.params import Body, FromPath
from sqlmodel import col, select

from eidcore.admin_auth import admin_security
from eidcore.api.issuer_admin import (
    MandateCreated,
    MandateList,
    MandateQuery,
    MandateRequest,
    MandateRevocation,
    MandateRevokeRequest,
    MandateView,
    ReconcileReport,
)
from eidcore.errors import InvalidClaim, InvalidRequest, NotFound
from issuer.admin import ADMIN_ERRORS, admin_guard_any
from issuer.core import Issuer, IssuerDep
from issuer.http import NO_STORE, body_dto, spec
from issuer.models import IssMandate
from issuer.reconcile import reconcile
from issuer.schemas import OAuthError
from issuer.status import revoke_mandate_ref

__all__ = ["MandateController", "create_mandate", "list_mandates", "mandate_view", "revoke_mandate"]

NOT_FOUND = {404: spec(OAuthError, "No such person or mandate")}


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.replace(microsecond=0).isoformat()


def mandate_view(m: IssMandate) -> MandateView:
    """The view of a granted mandate (person ids, scope, validity, state)."""
    return MandateView(mandate_id=m.id, principal_id=m.principal_id, agent_id=m.agent_id, scope=m.scope,
                       legal_basis=m.legal_basis, valid_from=_iso(m.valid_from), valid_until=_iso(m.valid_until),
                       revoked=m.revoked)


async def create_mandate(issuer: Issuer, body: MandateRequest) -> MandateCreated:
    """Record a granted mandate (principal grants agent a scope) for later issuance to the agent."""
    principal = await issuer.resolve_person(body.principal)
    agent = await issuer.resolve_person(body.agent)
    if principal.person_id == agent.person_id:
        raise InvalidRequest("principal and agent must differ")
    scope = body.scope.model_dump(exclude_none=True)
    if not scope:
        raise InvalidRequest("scope must hold service_areas and/or access_packages")
    for k, v in scope.items():
        if not all(0 < len(x) <= 200 for x in v):
            raise InvalidRequest(f"scope.{k} must be a non-empty list of strings")
    for name, when in (("valid_from", body.valid_from), ("valid_until", body.valid_until)):
        if when is not None and when.tzinfo is None:
            raise InvalidRequest(f"{name} needs a time zone")
    now = issuer.now().replace(microsecond=0)
    valid_from = body.valid_from or now
    valid_until = body.valid_until
    if valid_until is not None and valid_until <= valid_from:
        raise InvalidRequest("valid_until must be after valid_from")
    mandate_id = secrets.token_hex(16)
    sample = {"principal": {"unique_identity": "x"}, "agent": {"unique_identity": "x"}, "scope": scope,
              "legal_basis": "granted", "valid_from": "2000-01-01T00:00:00Z", "mandate_id": mandate_id}
    try:
        issuer.types.get("mandate").validate_claims(sample)
    except InvalidClaim as exc:
        raise InvalidRequest(f"the mandate scope is not valid: {exc.description}") from exc
    async with issuer.rt.db.session() as s:
        s.add(IssMandate(id=mandate_id, principal_id=principal.person_id, agent_id=agent.person_id, scope=scope,
                         legal_basis="granted", valid_from=valid_from, valid_until=valid_until, created_at=now))
        await s.commit()
    return MandateCreated(mandate_id=mandate_id)


async def list_mandates(issuer: Issuer, *, principal_id: str | None = None,
                        agent_id: str | None = None) -> list[MandateView]:
    """Granted mandates of a principal and/or an agent, oldest first."""
    if principal_id is None and agent_id is None:
        raise InvalidRequest("give principal or agent")
    async with issuer.rt.db.session() as s:
        q = select(IssMandate)
        if principal_id is not None:
            q = q.where(IssMandate.principal_id == principal_id)
        if agent_id is not None:
            q = q.where(IssMandate.agent_id == agent_id)
        rows = (await s.exec(q.order_by(col(IssMandate.created_at)))).all()
    return [mandate_view(m) for m in rows]


async def revoke_mandate(issuer: Issuer, mandate_id: str, *, principal_id: str | None = None) -> MandateRevocation:
    """Withdraw a granted mandate: no new credential for it, and its credentials revoked at once (the agent's
    other mandates stay valid).

    With ``principal_id`` the mandate must be that principal's (else :class:`NotFound`, revealing nothing).
    Idempotent: revoking again answers the same mandate with ``updated`` 0.
    """
    async with issuer.rt.db.session() as s:
        m = await s.get(IssMandate, mandate_id[:64])
        if m is None or (principal_id is not None and m.principal_id != principal_id):
            raise NotFound("no such mandate")
        m.revoked = True
        s.add(m)
        await s.commit()
        await s.refresh(m)
    changed = await revoke_mandate_ref(issuer, m.id, m.agent_id)
    return MandateRevocation(mandate=mandate_view(m), updated=len(changed), credentials=changed)


class MandateController(Controller):
    """``/admin/mandates``: record, query and revoke granted mandates; reconcile mandates by law."""

    path = "/admin/mandates"
    tags = ("admin",)

    @post(operation_id="adminCreateMandate", status_code=201, dto=body_dto(MandateRequest), return_dto=None,
          guards=[admin_guard_any("mandates", "mandates:write")],
          security=admin_security("mandates", "mandates:write"), responses={**NOT_FOUND, **ADMIN_ERRORS})
    async def create(self, issuer: IssuerDep, data: Annotated[MandateRequest, Body()]) -> Response[MandateCreated]:
        """Record a granted mandate (principal -> agent, scope, validity)."""
        return Response(await create_mandate(issuer, data), status_code=201, headers=NO_STORE)

    @post("/query", operation_id="adminListMandates", status_code=200, dto=body_dto(MandateQuery), return_dto=None,
          guards=[admin_guard_any("mandates")], security=admin_security("mandates"),
          responses={**NOT_FOUND, **ADMIN_ERRORS})
    async def query(self, issuer: IssuerDep, data: Annotated[MandateQuery, Body()]) -> Response[MandateList]:
        """Granted mandates of a principal and/or an agent (identity number, alias or person id), in the body so
        that no identity number lands in a URL (access logs)."""
        p = (await issuer.resolve_person(data.principal)).person_id if data.principal is not None else None
        a = (await issuer.resolve_person(data.agent)).person_id if data.agent is not None else None
        return Response(MandateList(mandates=await list_mandates(issuer, principal_id=p, agent_id=a)),
                        headers=NO_STORE)

    @post("/{mandate_id:str}/revoke", operation_id="adminRevokeMandate", status_code=200,
          dto=body_dto(MandateRevokeRequest, "optional-json"), return_dto=None,
          guards=[admin_guard_any("mandates", "mandates:write")],
          security=admin_security("mandates", "mandates:write"), responses={**NOT_FOUND, **ADMIN_ERRORS})
    async def revoke(self, issuer: IssuerDep, mandate_id: FromPath[str],
                     data: Annotated[MandateRevokeRequest | None, Body(description="Optional")] = None
                     ) -> Response[MandateRevocation]:
        """Withdraw a granted mandate; its credentials are revoked before the answer. With ``principal`` the
        mandate must be that principal's."""
        principal = data.principal if data is not None else None
        pid = (await issuer.resolve_person(principal)).person_id if principal is not None else None
        return Response(await revoke_mandate(issuer, mandate_id, principal_id=pid), headers=NO_STORE)

    @post("/reconcile", operation_id="adminReconcileMandates", status_code=200,
          guards=[admin_guard_any("mandates")], security=admin_security("mandates"), responses=ADMIN_ERRORS)
    async def reconcile(self, issuer: IssuerDep) -> Response[ReconcileReport]:
        """Run the reconciliation of mandates by law with the population register once (idempotent)."""
        report = await reconcile(issuer)
        return Response(ReconcileReport(seen=report.seen, new=report.new, ended=report.ended,
                                        revoked_credentials=report.revoked_credentials), headers=NO_STORE)
