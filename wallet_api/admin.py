"""The wallet provider's administration API (project rule: one admin guard, RFC 6750 bearer tokens): a service desk
binds an instance to a person after an in-person identity check, suspends or revokes the instances of a person who
lost every device, lists a person's instances; and the registry of relying-party categories that guardians' rules
target (:mod:`wallet_api.guardian_rules`).

Every route is guarded by :func:`eidcore.admin_auth.admin_guard` (RFC 6750 §3.1: 401 ``invalid_token`` without a
known bearer credential, 403 ``insufficient_scope`` without the scope): scope :data:`SCOPE_INSTANCES` for the
instances, :data:`SCOPE_YOUTH` for the category registry; the operator's token holds both.

A national identity number travels in a JSON body, never in a URL (access logs and proxies keep URLs).
"""

from __future__ import annotations

from litestar import Controller, Response, get, post, put
from litestar.params import FromPath, JSONBody
from sqlmodel import col, select

from eidcore.admin_auth import admin_guard, admin_security
from wallet_api.conventions import etag, problems, view
from wallet_api.instances import bind, change_state, person_from_admin
from wallet_api.models import WalInstance, YouthRelyingParty
from wallet_api.provider import Wallet
from wallet_api.schemas import AdminBind, InstancePage, InstanceView, PersonRef, RelyingPartyIn, StatusChange

__all__ = ["SCOPE_INSTANCES", "SCOPE_YOUTH", "InstanceAdminController", "RelyingPartyAdminController"]

TAGS = ("administration",)
SCOPE_INSTANCES = "instances"
"""Admin scope: bind, suspend, revoke, reinstate and list wallet instances."""
SCOPE_YOUTH = "youth"
"""Admin scope: the relying-party category registry of youth wallets."""


class InstanceAdminController(Controller):
    """``/admin/instances``, ``/admin/persons``: wallet instances as the service desk sees them."""

    path = "/admin"
    tags = TAGS
    guards = [admin_guard("wallet", SCOPE_INSTANCES)]  # noqa: RUF012 (litestar's Controller attribute)
    security = admin_security(SCOPE_INSTANCES)

    @post("/instances/{instance_id:str}/person", operation_id="adminBindInstance",
          responses=problems(400, 401, 403, 404, 409), status_code=200)
    async def admin_bind(self, wallet: Wallet, instance_id: FromPath[str], data: JSONBody[AdminBind]
                         ) -> Response[InstanceView]:
        """Bind an instance to a person (service desk, after an in-person identity check)."""
        person = await person_from_admin(wallet.rt, data.person)
        inst = await bind(wallet.rt, instance_id, person, how="admin")
        return Response(view(inst), headers={"ETag": etag(inst.version)})

    @post("/instances/{instance_id:str}/status", operation_id="adminChangeInstanceStatus",
          responses=problems(400, 401, 403, 404, 409), status_code=200)
    async def admin_status(self, wallet: Wallet, instance_id: FromPath[str], data: JSONBody[StatusChange]
                           ) -> Response[InstanceView]:
        """Suspend, revoke or reinstate an instance as an administrator (a person who lost every device)."""
        inst = await change_state(wallet.rt, instance_id, data.action, by="admin")
        return Response(view(inst), headers={"ETag": etag(inst.version)})

    @post("/persons/instances", operation_id="adminListPersonInstances", responses=problems(400, 401, 403, 404),
          status_code=200)
    async def admin_list(self, wallet: Wallet, data: JSONBody[PersonRef]) -> InstancePage:
        """A person's wallet instances. The national identity number (or person id) travels in the JSON body, never
        in the URL, which access logs and proxies keep."""
        pid = await person_from_admin(wallet.rt, data.person)
        async with wallet.rt.db.session() as s:
            rows = (await s.exec(select(WalInstance).where(WalInstance.person_id == pid)
                                 .order_by(col(WalInstance.created_at)).limit(100))).all()
        return InstancePage(items=[view(r) for r in rows], next_cursor=None)


class RelyingPartyAdminController(Controller):
    """``/admin/youth/relying-parties``: the relying-party category registry guardians' rules target."""

    path = "/admin/youth/relying-parties"
    tags = TAGS
    guards = [admin_guard("wallet", SCOPE_YOUTH)]  # noqa: RUF012 (litestar's Controller attribute)
    security = admin_security(SCOPE_YOUTH)

    @put("/", operation_id="adminPutRelyingPartyCategory", responses=problems(400, 401, 403), status_code=200)
    async def put_relying_party(self, wallet: Wallet, data: JSONBody[RelyingPartyIn]) -> RelyingPartyIn:
        """Set a relying party's category (keyed by its client id), which guardians' category rules target."""
        async with wallet.rt.db.session() as s:
            row = await s.get(YouthRelyingParty, data.client_id)
            row = row or YouthRelyingParty(client_id=data.client_id, category=data.category, updated_at=wallet.now())
            row.category, row.name, row.updated_at = data.category, data.name, wallet.now()
            s.add(row)
            await s.commit()
        return data

    @get("/", operation_id="adminListRelyingPartyCategories", responses=problems(400, 401, 403))
    async def list_relying_parties(self, wallet: Wallet) -> list[RelyingPartyIn]:
        """The registered relying parties and their categories."""
        async with wallet.rt.db.session() as s:
            rows = (await s.exec(select(YouthRelyingParty).order_by(col(YouthRelyingParty.client_id)))).all()
        return [RelyingPartyIn(client_id=r.client_id, category=r.category, name=r.name) for r in rows]
