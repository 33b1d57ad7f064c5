"""Fullmakt from the wallet: a principal grants an agent a mandate, the agent accepts, the issuer offers the mandate
credential; the principal lists and revokes (Norway's FUFINN work on fullmakter, digital fullmakt).

Both parties call with their own wallet instance (request proofs signed by the instance key, as everywhere in this
API) bound to a person of the population register; the principal's binding is the login at the required level.

- ``POST /wallet/mandates`` (principal): ``{"agent": <F/D-number or person id>, "scope": {"service_areas": [...]
  and/or "access_packages": [...]}, "valid_until": <RFC 3339>?}`` -> the grant, ``pending``;
- ``GET /wallet/mandates``: the caller's grants as principal and as agent;
- ``POST /wallet/mandates/{id}/accept`` (agent): the issuer records the mandate (``POST /issuer/admin/mandates``)
  and makes a credential offer (OpenID4VCI 1.0 §4.1) for it; the answer carries ``offer_uri`` and ``tx_code``;
- ``POST /wallet/mandates/{id}/decline`` (agent) and ``POST /wallet/mandates/{id}/revoke`` (principal): a revoked
  mandate is revoked at the issuer (``POST /issuer/admin/mandates/{id}/revoke``), in the status list, before the
  answer.

Services talk over HTTP only (contracts.md): the issuer's admin API with the admin bearer token.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler
from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel, col, or_, select

from eidcore import jose
from eidcore.errors import (
    AccessDenied,
    Conflict,
    FormatError,
    InvalidRequest,
    NotFound,
    UnknownPerson,
    UpstreamUnavailable,
)
from eidcore.runtime import Runtime
from wallet_api import service
from wallet_api.models import WalInstance

__all__ = ["MandateGrant", "handlers"]

TAGS = ["mandates"]
NO_STORE = {"Cache-Control": "no-store"}


class MandateGrant(SQLModel, table=True):
    """A mandate one person grants another through the wallet (no claim values beyond the scope)."""

    __tablename__ = "mandate_grant"

    id: str = Field(primary_key=True, max_length=64)
    principal_id: str = Field(max_length=36, index=True)
    agent_id: str = Field(max_length=36, index=True)
    scope: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    valid_until: datetime | None = None
    state: str = Field(default="pending", max_length=16, description="pending|accepted|declined|revoked")
    issuer_mandate_id: str | None = Field(default=None, max_length=64)
    created_at: datetime
    updated_at: datetime


def _view(g: MandateGrant, me: str) -> dict[str, Any]:
    return {"id": g.id, "role": "principal" if g.principal_id == me else "agent", "principal_id": g.principal_id,
            "agent_id": g.agent_id, "scope": g.scope,
            "valid_until": g.valid_until.astimezone(UTC).isoformat() if g.valid_until else None,
            "state": g.state, "issuer_mandate_id": g.issuer_mandate_id}


def _scope(value: Any) -> dict[str, list[str]]:
    if not isinstance(value, dict) or not value or set(value) - {"service_areas", "access_packages"}:
        raise InvalidRequest("scope must hold service_areas and/or access_packages")
    for k, v in value.items():
        if not isinstance(v, list) or not v or not all(isinstance(x, str) and 0 < len(x) <= 200 for x in v):
            raise InvalidRequest(f"scope.{k} must be a non-empty list of strings")
    return {str(k): list(v) for k, v in value.items()}


async def _issuer(rt: Runtime, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """A call to the issuer's admin API; a refusal or an outage becomes :class:`UpstreamUnavailable`."""
    url = rt.settings.service_url("issuer") + path
    try:
        r = await rt.http.post(url, json=body, headers={"Authorization": f"Bearer {rt.admin_tokens['issuer']}"},
                               timeout=15)
        data = r.json()
    except Exception as exc:  # network failure or a body that is not JSON
        raise UpstreamUnavailable("the issuer did not answer") from exc
    if r.status_code >= 400 or not isinstance(data, dict):
        raise UpstreamUnavailable(f"the issuer refused ({r.status_code})")
    return data


def handlers(rt: Runtime) -> list[ControllerRouterHandler]:
    """The mandate routes of the wallet API (mount-relative)."""

    async def me(request: Request[Any, Any, Any]) -> WalInstance:
        inst = await service.authenticate(rt, request.headers.get("dpop"), method=request.method,
                                          url=service.public_url(rt, request.scope))
        if inst.person_id is None:
            raise AccessDenied("this wallet instance is not bound to a person")
        return inst

    async def body_of(request: Request[Any, Any, Any]) -> dict[str, Any]:
        raw = await request.body()
        if not raw:
            return {}
        try:
            return jose.parse_json_object(raw, what="request")
        except FormatError:
            raise InvalidRequest("the body is not a JSON object") from None

    async def load(grant_id: str) -> MandateGrant:
        async with rt.db.session() as s:
            g = await s.get(MandateGrant, grant_id[:64])
        if g is None:
            raise NotFound("no such mandate")
        return g

    async def save(g: MandateGrant) -> None:
        g.updated_at = service.now_utc(rt)
        async with rt.db.session() as s:
            s.add(g)
            await s.commit()

    @post("/mandates", operation_id="grantMandate", tags=TAGS, status_code=201)
    async def grant(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        """Grant a mandate to an agent (the caller is the principal); the agent must accept it."""
        inst = await me(request)
        assert inst.person_id is not None
        body = await body_of(request)
        agent = body.get("agent")
        if not isinstance(agent, str) or not 0 < len(agent) <= 64:
            raise InvalidRequest("agent must be an identity number or person id")
        try:
            agent_id = await service.person_from_admin(rt, agent)
        except UnknownPerson:
            raise InvalidRequest("the agent is not in the population register") from None
        if agent_id == inst.person_id:
            raise InvalidRequest("a mandate needs another person as agent")
        scope = _scope(body.get("scope"))
        until: datetime | None = None
        if body.get("valid_until") is not None:
            try:
                until = datetime.fromisoformat(str(body["valid_until"]).replace("Z", "+00:00"))
            except ValueError:
                raise InvalidRequest("valid_until must be an RFC 3339 date-time") from None
            if until.tzinfo is None or until <= service.now_utc(rt):
                raise InvalidRequest("valid_until must be a future date-time with a time zone")
        now = service.now_utc(rt)
        g = MandateGrant(id=secrets.token_hex(16), principal_id=inst.person_id, agent_id=agent_id, scope=scope,
                         valid_until=until, created_at=now, updated_at=now)
        await save(g)
        return Response(_view(g, inst.person_id), status_code=201, headers=NO_STORE)

    @get("/mandates", operation_id="listMandates", tags=TAGS)
    async def list_grants(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        """The caller's mandates, as principal and as agent, oldest first."""
        inst = await me(request)
        pid = inst.person_id
        assert pid is not None
        async with rt.db.session() as s:
            rows = (await s.exec(select(MandateGrant).where(or_(col(MandateGrant.principal_id) == pid,
                                                                col(MandateGrant.agent_id) == pid))
                                 .order_by(col(MandateGrant.created_at)).limit(200))).all()
        return Response({"items": [_view(g, pid) for g in rows]}, headers=NO_STORE)

    @post("/mandates/{grant_id:str}/accept", operation_id="acceptMandate", tags=TAGS, status_code=200)
    async def accept(grant_id: FromPath[str], request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        """The agent accepts: the issuer records the mandate and offers the mandate credential (offer URI,
        tx_code)."""
        inst = await me(request)
        g = await load(grant_id)
        if g.agent_id != inst.person_id:
            raise NotFound("no such mandate")
        if g.state not in ("pending", "accepted"):
            raise Conflict(f"the mandate is {g.state}")
        if g.issuer_mandate_id is None:
            body: dict[str, Any] = {"principal": g.principal_id, "agent": g.agent_id, "scope": g.scope}
            if g.valid_until is not None:
                body["valid_until"] = g.valid_until.astimezone(UTC).isoformat()
            g.issuer_mandate_id = str((await _issuer(rt, "/admin/mandates", body))["mandate_id"])
            g.state = "accepted"
            await save(g)
        offer = await _issuer(rt, "/admin/offers", {
            "person": g.agent_id, "credential_configuration_ids": ["mandate_vc_sd_jwt"],
            "mandate_id": g.issuer_mandate_id})
        return Response({**_view(g, g.agent_id), "offer_uri": offer["offer_uri"], "tx_code": offer.get("tx_code"),
                         "qr_svg": offer.get("qr_svg")}, headers=NO_STORE)

    @post("/mandates/{grant_id:str}/decline", operation_id="declineMandate", tags=TAGS, status_code=200)
    async def decline(grant_id: FromPath[str], request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        """The agent declines a pending mandate."""
        inst = await me(request)
        g = await load(grant_id)
        if g.agent_id != inst.person_id:
            raise NotFound("no such mandate")
        if g.state != "pending":
            raise Conflict(f"the mandate is {g.state}")
        g.state = "declined"
        await save(g)
        return Response(_view(g, g.agent_id), headers=NO_STORE)

    @post("/mandates/{grant_id:str}/revoke", operation_id="revokeMandate", tags=TAGS, status_code=200)
    async def revoke(grant_id: FromPath[str], request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        """The principal revokes: the mandate credential is revoked in the status list before the answer."""
        inst = await me(request)
        g = await load(grant_id)
        if g.principal_id != inst.person_id:
            raise NotFound("no such mandate")
        updated = 0
        if g.issuer_mandate_id is not None:
            out = await _issuer(rt, f"/admin/mandates/{g.issuer_mandate_id}/revoke", {"principal": g.principal_id})
            updated = int(out.get("updated", 0))
        g.state = "revoked"
        await save(g)
        return Response({**_view(g, g.principal_id), "revoked_credentials": updated}, headers=NO_STORE)

    return [grant, list_grants, accept, decline, revoke]
