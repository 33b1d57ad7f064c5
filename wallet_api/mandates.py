"""Fullmakt from the wallet (Norway's FUFINN work on fullmakter, digital fullmakt): a principal grants an agent a
mandate, the agent accepts, the issuer offers the mandate credential (OpenID4VCI 1.0 §4.1); the principal lists and
revokes.

Both parties call with their own wallet instance (request proofs signed by the instance key, as everywhere in this
API) bound to a person of the population register; the principal's binding is the login at the required level.

- ``POST /wallet/mandates`` (principal): ``{"agent": <F/D-number or person id>, "scope": {"service_areas": [...]
  and/or "access_packages": [...]}, "valid_until": <RFC 3339>?}`` -> the grant, ``pending``;
- ``GET /wallet/mandates``: the caller's grants as principal and as agent;
- ``POST /wallet/mandates/{id}/accept`` (agent): the issuer records the mandate (``POST /issuer/admin/mandates``)
  and makes a credential offer for it; the answer carries ``offer_uri`` and ``tx_code``;
- ``POST /wallet/mandates/{id}/decline`` (agent) and ``POST /wallet/mandates/{id}/revoke`` (principal): a revoked
  mandate is revoked at the issuer (``POST /issuer/admin/mandates/{id}/revoke``), in the status list, before the
  answer.

Services talk over HTTP only (contracts.md): the issuer's admin API through :mod:`wallet_api.issuer_client`.
"""

from __future__ import annotations

import secrets
from datetime import UTC
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody
from sqlmodel import col, or_, select

from eidcore.errors import Conflict, InvalidRequest, NotFound, UnknownPerson
from eidcore.runtime import Runtime
from wallet_api import issuer_client
from wallet_api.conventions import DPoPHeader, problems
from wallet_api.instances import person_from_admin
from wallet_api.models import MandateGrant
from wallet_api.provider import Wallet
from wallet_api.schemas import MandateGrantIn, MandateOffer, MandatePage, MandateRevoked, MandateView

__all__ = ["MandateGrant", "MandatesController"]

NO_STORE = {"Cache-Control": "no-store"}


def mandate_view(g: MandateGrant, me: str) -> MandateView:
    return MandateView.model_validate({
        "id": g.id, "role": "principal" if g.principal_id == me else "agent", "principal_id": g.principal_id,
        "agent_id": g.agent_id, "scope": g.scope,
        "valid_until": g.valid_until.astimezone(UTC).isoformat() if g.valid_until else None,
        "state": g.state, "issuer_mandate_id": g.issuer_mandate_id})


async def _load(rt: Runtime, grant_id: str) -> MandateGrant:
    async with rt.db.session() as s:
        g = await s.get(MandateGrant, grant_id[:64])
    if g is None:
        raise NotFound("no such mandate")
    return g


async def _save(rt: Runtime, g: MandateGrant) -> None:
    g.updated_at = rt.clock.now()
    async with rt.db.session() as s:
        s.add(g)
        await s.commit()


class MandatesController(Controller):
    """``/mandates``: grant, list, accept, decline and revoke mandates."""

    path = "/mandates"
    tags = ("mandates",)

    @post("/", operation_id="grantMandate", responses=problems(400, 403), status_code=201)
    async def grant(self, wallet: Wallet, request: Request[Any, Any, Any], data: JSONBody[MandateGrantIn],
                    dpop: DPoPHeader = None) -> Response[MandateView]:
        """Grant a mandate to an agent (the caller is the principal); the agent must accept it."""
        rt = wallet.rt
        _, principal = await wallet.person(request, dpop)
        try:
            agent_id = await person_from_admin(rt, data.agent)
        except UnknownPerson:
            raise InvalidRequest("the agent is not in the population register") from None
        if agent_id == principal:
            raise InvalidRequest("a mandate needs another person as agent")
        until = data.valid_until
        if until is not None and (until.tzinfo is None or until <= wallet.now()):
            raise InvalidRequest("valid_until must be a future date-time with a time zone")
        now = wallet.now()
        g = MandateGrant(id=secrets.token_hex(16), principal_id=principal, agent_id=agent_id,
                         scope=data.scope.as_dict(), valid_until=until, created_at=now, updated_at=now)
        await _save(rt, g)
        return Response(mandate_view(g, principal), status_code=201, headers=NO_STORE)

    @get("/", operation_id="listMandates", responses=problems(400, 403))
    async def list_grants(self, wallet: Wallet, request: Request[Any, Any, Any],
                          dpop: DPoPHeader = None) -> Response[MandatePage]:
        """The caller's mandates, as principal and as agent, oldest first."""
        _, pid = await wallet.person(request, dpop)
        async with wallet.rt.db.session() as s:
            rows = (await s.exec(select(MandateGrant).where(or_(col(MandateGrant.principal_id) == pid,
                                                                col(MandateGrant.agent_id) == pid))
                                 .order_by(col(MandateGrant.created_at)).limit(200))).all()
        return Response(MandatePage(items=[mandate_view(g, pid) for g in rows]), headers=NO_STORE)

    @post("/{grant_id:str}/accept", operation_id="acceptMandate", responses=problems(400, 403, 404, 409, 503),
          status_code=200)
    async def accept(self, wallet: Wallet, request: Request[Any, Any, Any], grant_id: FromPath[str],
                     dpop: DPoPHeader = None) -> Response[MandateOffer]:
        """The agent accepts: the issuer records the mandate and offers the mandate credential (offer URI,
        tx_code)."""
        rt = wallet.rt
        _, me = await wallet.person(request, dpop)
        g = await _load(rt, grant_id)
        if g.agent_id != me:
            raise NotFound("no such mandate")
        if g.state not in ("pending", "accepted"):
            raise Conflict(f"the mandate is {g.state}")
        if g.issuer_mandate_id is None:
            g.issuer_mandate_id = await issuer_client.create_mandate(
                rt, principal=g.principal_id, agent=g.agent_id, scope=g.scope,
                valid_until=g.valid_until.astimezone(UTC) if g.valid_until is not None else None)
            g.state = "accepted"
            await _save(rt, g)
        try:
            offer = await issuer_client.create_offer(rt, g.agent_id, "mandate_vc_sd_jwt",
                                                     mandate_id=g.issuer_mandate_id)
        except issuer_client.IssuerAdminError as exc:
            raise issuer_client.unavailable(exc, "the mandate offer") from exc
        return Response(MandateOffer(**mandate_view(g, g.agent_id).model_dump(), offer_uri=offer.offer_uri,
                                     tx_code=offer.tx_code, qr_svg=offer.qr_svg), headers=NO_STORE)

    @post("/{grant_id:str}/decline", operation_id="declineMandate", responses=problems(400, 403, 404, 409),
          status_code=200)
    async def decline(self, wallet: Wallet, request: Request[Any, Any, Any], grant_id: FromPath[str],
                      dpop: DPoPHeader = None) -> Response[MandateView]:
        """The agent declines a pending mandate."""
        _, me = await wallet.person(request, dpop)
        g = await _load(wallet.rt, grant_id)
        if g.agent_id != me:
            raise NotFound("no such mandate")
        if g.state != "pending":
            raise Conflict(f"the mandate is {g.state}")
        g.state = "declined"
        await _save(wallet.rt, g)
        return Response(mandate_view(g, g.agent_id), headers=NO_STORE)

    @post("/{grant_id:str}/revoke", operation_id="revokeMandate", responses=problems(400, 403, 404, 503),
          status_code=200)
    async def revoke(self, wallet: Wallet, request: Request[Any, Any, Any], grant_id: FromPath[str],
                     dpop: DPoPHeader = None) -> Response[MandateRevoked]:
        """The principal revokes: the mandate credential is revoked in the status list before the answer."""
        _, me = await wallet.person(request, dpop)
        g = await _load(wallet.rt, grant_id)
        if g.principal_id != me:
            raise NotFound("no such mandate")
        updated = 0
        if g.issuer_mandate_id is not None:
            updated = await issuer_client.revoke_mandate(wallet.rt, g.issuer_mandate_id, principal=g.principal_id)
        g.state = "revoked"
        await _save(wallet.rt, g)
        return Response(MandateRevoked(**mandate_view(g, g.principal_id).model_dump(), revoked_credentials=updated),
                        headers=NO_STORE)
