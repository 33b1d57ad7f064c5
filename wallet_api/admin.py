"""The wallet provider's administration API (project rule: one admin guard, RFC 6750 bearer tokens): a service desk
binds an instance to a person after an in-person identity check, suspends or revokes the instances of a person who
lost every device, lists a person's instances; and the registry of relying-party categories that guardians' rules
target (:mod:`wallet_api.guardian_rules`).

A national identity number travels in a JSON body, never in a URL (access logs and proxies keep URLs).
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post, put
from litestar.params import FromPath, HeaderParameter, JSONBody
from sqlmodel import col, select

from eidcore.errors import InvalidToken
from eidcore.runtime import Runtime
from wallet_api.conventions import etag, problems, view
from wallet_api.instances import bind, change_state, person_from_admin
from wallet_api.models import WalInstance, YouthRelyingParty
from wallet_api.provider import Wallet
from wallet_api.schemas import AdminBind, InstancePage, InstanceView, PersonRef, RelyingPartyIn, StatusChange

__all__ = ["InstanceAdminController", "RelyingPartyAdminController"]

TAGS = ("administration",)
AuthHeader = Annotated[str | None, HeaderParameter(name="Authorization", required=False)]


def require_admin(rt: Runtime, authorization: str | None) -> None:
    if not rt.admin_authorized("wallet", authorization):
        raise InvalidToken("the admin API needs the admin bearer token",
                           headers={"WWW-Authenticate": 'Bearer realm="lommebok-admin"'})


class InstanceAdminController(Controller):
    """``/admin/instances``, ``/admin/persons``: wallet instances as the service desk sees them."""

    path = "/admin"
    tags = TAGS

    @post("/instances/{instance_id:str}/person", operation_id="adminBindInstance",
          responses=problems(400, 401, 404, 409), status_code=200)
    async def admin_bind(self, wallet: Wallet, instance_id: FromPath[str], data: JSONBody[AdminBind],
                         authorization: AuthHeader = None) -> Response[InstanceView]:
        """Bind an instance to a person (service desk, after an in-person identity check)."""
        require_admin(wallet.rt, authorization)
        person = await person_from_admin(wallet.rt, data.person)
        inst = await bind(wallet.rt, instance_id, person, how="admin")
        return Response(view(inst), headers={"ETag": etag(inst.version)})

    @post("/instances/{instance_id:str}/status", operation_id="adminChangeInstanceStatus",
          responses=problems(400, 401, 404, 409), status_code=200)
    async def admin_status(self, wallet: Wallet, instance_id: FromPath[str], data: JSONBody[StatusChange],
                           authorization: AuthHeader = None) -> Response[InstanceView]:
        """Suspend, revoke or reinstate an instance as an administrator (a person who lost every device)."""
        require_admin(wallet.rt, authorization)
        inst = await change_state(wallet.rt, instance_id, data.action, by="admin")
        return Response(view(inst), headers={"ETag": etag(inst.version)})

    @post("/persons/instances", operation_id="adminListPersonInstances", responses=problems(400, 401, 404),
          status_code=200)
    async def admin_list(self, wallet: Wallet, data: JSONBody[PersonRef], authorization: AuthHeader = None
                         ) -> InstancePage:
        """A person's wallet instances. The national identity number (or person id) travels in the JSON body, never
        in the URL, which access logs and proxies keep."""
        require_admin(wallet.rt, authorization)
        pid = await person_from_admin(wallet.rt, data.person)
        async with wallet.rt.db.session() as s:
            rows = (await s.exec(select(WalInstance).where(WalInstance.person_id == pid)
                                 .order_by(col(WalInstance.created_at)).limit(100))).all()
        return InstancePage(items=[view(r) for r in rows], next_cursor=None)


class RelyingPartyAdminController(Controller):
    """``/admin/youth/relying-parties``: the relying-party category registry guardians' rules target."""

    path = "/admin/youth/relying-parties"
    tags = TAGS

    @put("/", operation_id="adminPutRelyingPartyCategory", responses=problems(400, 401), status_code=200)
    async def put_relying_party(self, wallet: Wallet, data: JSONBody[RelyingPartyIn],
                                authorization: AuthHeader = None) -> RelyingPartyIn:
        """Set a relying party's category (keyed by its client id), which guardians' category rules target."""
        require_admin(wallet.rt, authorization)
        async with wallet.rt.db.session() as s:
            row = await s.get(YouthRelyingParty, data.client_id)
            row = row or YouthRelyingParty(client_id=data.client_id, category=data.category, updated_at=wallet.now())
            row.category, row.name, row.updated_at = data.category, data.name, wallet.now()
            s.add(row)
            await s.commit()
        return data

    @get("/", operation_id="adminListRelyingPartyCategories", responses=problems(400, 401))
    async def list_relying_parties(self, wallet: Wallet, authorization: AuthHeader = None
                                   ) -> list[RelyingPartyIn]:
        """The registered relying parties and their categories."""
        require_admin(wallet.rt, authorization)
        async with wallet.rt.db.session() as s:
            rows = (await s.exec(select(YouthRelyingParty).order_by(col(YouthRelyingParty.client_id)))).all()
        return [RelyingPartyIn(client_id=r.client_id, category=r.category, name=r.name) for r in rows]
