"""Mandates (fullmakt) at the issuer: listing and revoking granted mandates, and the mandates by law.

Norway's FUFINN work on fullmakter and Folkeregisteret's ``vergemaalEllerFremtidsfullmakt``: a granted mandate
(principal -> agent, scope, validity) lives in ``iss_mandate`` (fed by ``POST /issuer/admin/mandates``); a mandate
by law comes from an active guardianship with service areas in the population register (``legal_basis``
``guardianship``, mandate id ``guardianship-<id>``). :class:`MandateByLaw` (``mandate_by_law``) remembers every
mandate by law the reconciliation job (:mod:`issuer.reconcile`) has seen, so that it can revoke the agent's mandate
credentials once the register no longer supports them.

Revocation sets the credentials' status in the status list (draft-ietf-oauth-status-list §7) and commits before
the caller answers. Each issuance record names what it was issued for (``subject_ref``: ``mandate:<id>``,
``guardianship:<id>``, ``parental:<child id>``, ``employment:<orgnr>``, :func:`issuer.credentials.subject_ref`), so
revoking one mandate revokes only that mandate's credentials (:func:`change_status_by_ref`); the agent's other
mandates stay valid.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request, Response, post
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler
from sqlmodel import Field, SQLModel, col, or_, select

from eidcore.errors import InvalidRequest, NotFound
from issuer.admin import check_admin, json_body, resolve_person
from issuer.core import Issuer
from issuer.credentials import mandate_ref
from issuer.models import IssCredential, IssMandate
from issuer.status import change_status, subject_id

__all__ = [
    "MandateByLaw", "change_status_by_ref", "list_mandates", "mandate_handlers", "mandate_view", "revoke_mandate",
    "revoke_mandate_ref",
]

NO_STORE = {"Cache-Control": "no-store"}


class MandateByLaw(SQLModel, table=True):
    """A mandate by law the reconciliation job has seen (no claim values: ids, basis, state)."""

    __tablename__ = "mandate_by_law"

    id: str = Field(primary_key=True, max_length=64, description="guardianship-<id>")
    basis: str = Field(max_length=32, description="guardianship or parental_responsibility")
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


async def change_status_by_ref(issuer: Issuer, action: str, subject_ref: str, *, credential_type: str | None = None,
                               person_id: str | None = None) -> list[str]:
    """Revoke, suspend or reinstate the credentials issued for ``subject_ref`` (committed before it returns).

    With ``person_id`` only that person's records are taken, and also that person's records of ``credential_type``
    that name no ``subject_ref`` (issued before the column existed, or caught between their insert and the
    reference's update in :func:`issuer.endpoint._issue`): when in doubt, revoke.
    """
    if not subject_ref or len(subject_ref) > 100:
        raise InvalidRequest("subject_ref must be a non-empty string of at most 100 characters")
    q = select(IssCredential.id)
    if person_id is not None:
        q = q.where(IssCredential.subject == subject_id(person_id))
        if credential_type is not None:
            q = q.where(or_(col(IssCredential.subject_ref) == subject_ref, col(IssCredential.subject_ref).is_(None)))
        else:
            q = q.where(IssCredential.subject_ref == subject_ref)
    else:
        q = q.where(IssCredential.subject_ref == subject_ref)
    if credential_type is not None:
        q = q.where(IssCredential.type_id == credential_type)
    async with issuer.rt.db.session() as s:
        ids = list((await s.exec(q)).all())
    changed: list[str] = []
    for cid in ids:
        changed += await change_status(issuer, action, credential_id=cid)
    return changed


async def revoke_mandate_ref(issuer: Issuer, mandate_id: str, agent_id: str) -> list[str]:
    """Revoke the mandate credentials ``agent_id`` holds for the mandate ``mandate_id`` (and no other)."""
    return await change_status_by_ref(issuer, "revoke", mandate_ref(mandate_id), credential_type="mandate",
                                      person_id=agent_id)


async def revoke_mandate(issuer: Issuer, mandate_id: str, *, principal_id: str | None = None) -> dict[str, Any]:
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
    return {"mandate": mandate_view(m), "updated": len(changed), "credentials": changed}


def mandate_handlers(issuer: Issuer) -> list[ControllerRouterHandler]:
    """Admin routes (bearer admin token): list and revoke granted mandates, run the reconciliation job."""
    from issuer.reconcile import reconcile

    @post("/admin/mandates/query", operation_id="adminListMandates", tags=["admin"], status_code=200)
    async def list_route(request: Request[Any, Any, Any]) -> Response[Any]:
        """Granted mandates of a principal and/or an agent: JSON ``{"principal": ..., "agent": ...}`` (identity
        number, alias or person id), in the body so that no identity number lands in a URL (access logs)."""
        check_admin(issuer, request)
        body = await json_body(request)
        if set(body) - {"principal", "agent"}:
            raise InvalidRequest("the query takes principal and/or agent only")
        principal, agent = body.get("principal"), body.get("agent")
        p = (await resolve_person(issuer, principal)).person_id if principal is not None else None
        a = (await resolve_person(issuer, agent)).person_id if agent is not None else None
        return Response({"mandates": await list_mandates(issuer, principal_id=p, agent_id=a)}, headers=NO_STORE)

    @post("/admin/mandates/{mandate_id:str}/revoke", operation_id="adminRevokeMandate", tags=["admin"],
          status_code=200)
    async def revoke_route(mandate_id: FromPath[str], request: Request[Any, Any, Any]) -> Response[Any]:
        """Withdraw a granted mandate; its credentials are revoked before the answer.

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
