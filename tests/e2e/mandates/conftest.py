"""Acting for others and at work, end to end over HTTP: the whole stack in one process on a clock the tests move.

SQLite + memory, then PostgreSQL + Redis. :class:`Env` wraps the issuer's admin API, a VCI wallet
(:mod:`wallet_api.holder.vci`), presentations (:mod:`wallet_api.holder.vp`) and the demo relying party.
"""

from __future__ import annotations

from typing import Any

import pytest

from eidcore import jose
from eidcore.formats.sd_jwt import SdJwtHolder
from eidcore.registers.sql import SqlOrganisationRegister
from eidcore.status_list import verify_jwt
from tests.e2e.conftest import BASE, Stack
from wallet_api.holder import vp
from wallet_api.holder.vci import VciClient, fetch_metadata, resolve_offer

ISSUER = f"{BASE}/issuer"


class Env:
    """The issuer's admin API, a VCI wallet and the demo relying party against one stack."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.rt: Any = stack.runtime
        self.client = stack.client
        self.admin = {"Authorization": f"Bearer {self.rt.admin_tokens['issuer']}"}
        self.wallet_admin = {"Authorization": f"Bearer {self.rt.admin_tokens['wallet']}"}
        self.verifier_admin = {"Authorization": f"Bearer {self.rt.admin_tokens['verifier']}"}
        key = (stack.settings.data_dir / "secrets" / "rp-demo").read_text().strip()
        self.rp = {"Authorization": f"Bearer {key}"}

    async def issue(self, person: str, config: str, **extra: Any) -> vp.HeldSdJwtVc:
        """A pre-authorized offer (OpenID4VCI 1.0 §4.1, §6.1), a c_nonce, a proof, the credential."""
        r = await self.client.post("/issuer/admin/offers", headers=self.admin,
                                   json={"person": person, "credential_configuration_ids": [config], **extra})
        assert r.status_code == 201, r.text
        return await self.redeem_offer(r.json(), config)

    async def redeem_offer(self, created: dict[str, Any], config: str) -> vp.HeldSdJwtVc:
        offer = await resolve_offer(self.client, created["offer_uri"])
        assert offer.pre_authorized_code is not None
        wallet = VciClient(self.client, await fetch_metadata(self.client, ISSUER), clock=self.rt.clock)
        token = await wallet.token_pre_authorized(offer.pre_authorized_code, created["tx_code"])
        key = jose.generate_signing_key()
        resp = await wallet.request_credential(token, proofs=[wallet.proof(key, await wallet.nonce())],
                                               credential_configuration_id=config)
        assert len(resp.credentials) == 1
        return vp.HeldSdJwtVc(resp.credentials[0], key)

    async def ask(self, **body: Any) -> dict[str, Any]:
        r = await self.client.post("/verifier/rp/transactions", json=body, headers=self.rp)
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        return out

    async def present(self, request_uri: str, held: list[Any]) -> vp.ResponseResult:
        return await vp.present(self.client, request_uri, held, trust_anchors=self.rt.keys.trust_anchors,
                                clock=self.rt.clock)

    async def result(self, tx_id: str) -> dict[str, Any]:
        r = await self.client.get(f"/verifier/rp/transactions/{tx_id}", headers=self.rp)
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        return out

    async def status_ttl(self, held: vp.HeldSdJwtVc) -> int:
        """The ``ttl`` of the status list token the credential points at (so a test can wait it out)."""
        uri = str(SdJwtHolder().load(held.credential).claims["status"]["status_list"]["uri"])
        r = await self.client.get(uri.removeprefix(BASE))
        assert r.status_code == 200
        token = verify_jwt(r.text, uri=uri, clock=self.rt.clock, trust_anchors=self.rt.keys.trust_anchors)
        assert token.ttl is not None
        return int(token.ttl)

    async def orgnr(self, name: str) -> str:
        orgs = await SqlOrganisationRegister(self.rt.db).list_organisations()
        return next(o.orgnr for o in orgs if o.name == name)


@pytest.fixture
def env(stack: Stack) -> Env:
    return Env(stack)
