"""Mandates (fullmakt) at the issuer: listing and revoking granted mandates, and the mandates by law.

Norway's FUFINN work on fullmakter and Folkeregisteret's ``vergemaalEllerFremtidsfullmakt``: a granted mandate
(principal -> agent, scope, validity) lives in ``iss_mandate`` (fed by ``POST /issuer/admin/mandates``); a mandate
by law comes from an active guardianship with service areas in the population register (``legal_basis``
``guardianship``, mandate id ``guardianship-<id>``). :class:`MandateByLaw` (``mandate_by_law``) remembers every
mandate by law the reconciliation job (:mod:`issuer.reconcile`) has seen, so that it can revoke the agent's mandate
credentials once the register no longer supports them.

Revocation sets the credentials' status in the status list (draft-ietf-oauth-status-list §7) and commits before
the caller answers. The issuance record does not name the mandate a credential was issued for, so revoking one
mandate revokes every mandate credential of that agent (the agent asks again for the mandates still in force).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.types import ControllerRouterHandler
from sqlmodel import Field, SQLModel, col, select

from eidcore.errors import InvalidRequest, NotFound
from issuer.admin import check_admin, json_body, resolve_person
from issuer.core import Issuer
from issuer.models import IssMandate
from issuer.status import change_status, subject_id

__all__ = [
    "MandateByLaw", "list_mandates", "mandate_handlers", "mandate_view", "revoke_agent_mandates", "revoke_mandate",
]

NO_STORE = {"Cache-Control": "no-store"}


class MandateByLaw(SQLModel, table=True):
    """A mandate by law the reconciliation job has seen (no claim values: ids, basis, state)."""

    __tablename__ = "mandate_by_law"

    id: str = Field(primary_key=True, max_length=64, description="guardianship-<id>")
    basis: str = Field(max_length=32, description="guardianship")
    agent_id: str = Field(max_length=36, index=True)
    principal_id: str = Field(max_length=36, index=True)
    active: bool = True
    first_seen: datetime
    ended_at: datetime | None = None


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.replace(microsecond=0).isoformat()


def mandate_view(m: IssMandate) -> dict[str, Any]:
    """The JSON view of a granted mandate (person ids, scope, validity, state)."""
    return {"mandate_id": m.id, "principal_id": m.principal_id, "agent_id": m.agent_id, "scope": m.scope,
            "legal_basis": m.legal_basis, "valid_from": _iso(m.valid_from), "valid_until": _iso(m.valid_until),
            "revoked": m.revoked}


async def list_mandates(issuer: Issuer, *, principal_id: str | None = None,
                        agent_id: str | None = None) -> list[dict[str, Any]]:
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


async def revoke_agent_mandates(issuer: Issuer, agent_id: str) -> list[str]:
    """Revoke every mandate credential issued to ``agent_id`` (committed before it returns)."""
    return await change_status(issuer, "revoke", subject=subject_id(agent_id), credential_type="mandate")


async def revoke_mandate(issuer: Issuer, mandate_id: str, *, principal_id: str | None = None) -> dict[str, Any]:
    """Withdraw a granted mandate: no new credential for it, and the agent's mandate credentials revoked at once.

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
    changed = await revoke_agent_mandates(issuer, m.agent_id)
    return {"mandate": mandate_view(m), "updated": len(changed), "credentials": changed}


def mandate_handlers(issuer: Issuer) -> list[ControllerRouterHandler]:
    """Admin routes (bearer admin token): list and revoke granted mandates, run the reconciliation job."""
    from issuer.reconcile import reconcile

    @get("/admin/mandates", operation_id="adminListMandates", tags=["admin"])
    async def list_route(request: Request[Any, Any, Any], principal: FromQuery[str | None] = None,
                         agent: FromQuery[str | None] = None) -> Response[Any]:
        """Granted mandates of a principal and/or an agent (identity number, alias or person id)."""
        check_admin(issuer, request)
        p = (await resolve_person(issuer, principal)).person_id if principal is not None else None
        a = (await resolve_person(issuer, agent)).person_id if agent is not None else None
        return Response({"mandates": await list_mandates(issuer, principal_id=p, agent_id=a)}, headers=NO_STORE)

    @post("/admin/mandates/{mandate_id:str}/revoke", operation_id="adminRevokeMandate", tags=["admin"],
          status_code=200)
    async def revoke_route(mandate_id: FromPath[str], request: Request[Any, Any, Any]) -> Response[Any]:
        """Withdraw a granted mandate; the agent's mandate credentials are revoked before the answer.

        Optional JSON ``{"principal": ...}``: the mandate must be that principal's."""
        check_admin(issuer, request)
        body = await json_body(request) if request.headers.get("content-length", "0") != "0" else {}
        principal = body.get("principal")
        pid = (await resolve_person(issuer, principal)).person_id if principal is not None else None
        return Response(await revoke_mandate(issuer, mandate_id, principal_id=pid), headers=NO_STORE)

    @post("/admin/mandates/reconcile", operation_id="adminReconcileMandates", tags=["admin"], status_code=200)
    async def reconcile_route(request: Request[Any, Any, Any]) -> Response[Any]:
        """Run the reconciliation of mandates by law with the population register once (idempotent)."""
        check_admin(issuer, request)
        return Response((await reconcile(issuer)).to_json(), headers=NO_STORE)

    return [list_route, revoke_route, reconcile_route]
