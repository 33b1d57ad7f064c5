"""A family from the seeded register (kari and ola with emma 10 and jonas 15; erik with maja 6) against one stack:
the guardians' wallets (bound to them), the children's wallets registered by a guardian, youth credentials from
the issuer, a relying party asking for age claims, and the child's wallet presenting (with or without consent)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from eidcore import jose
from eidcore.registers import SqlPopulationRegister
from tests.e2e.conftest import Stack
from wallet_api.device_attestation import load_or_create_device_maker
from wallet_api.holder import vp
from wallet_api.holder.provider_client import ProviderClient
from wallet_api.holder.vci import VciClient, fetch_metadata, resolve_offer
from wallet_api.holder.youth import YouthClient, register_child_wallet

AGE_VCT = "urn:no:digdir:eudi:age:1"


def age_query(age: int = 13) -> dict[str, Any]:
    """An RP asks for the youth credential's age_over_<age> (true or false: the answer, not a filter)."""
    return {"credentials": [{"id": "age", "format": "dc+sd-jwt", "meta": {"vct_values": [AGE_VCT]},
                             "claims": [{"path": ["age_equal_or_over", str(age)]}]}]}


@dataclass
class Child:
    alias: str
    person_id: str
    wallet: ProviderClient
    instance_id: str
    key: jose.SigningKey
    credential: vp.HeldSdJwtVc

    @property
    def youth(self) -> YouthClient:
        return YouthClient(self.wallet)


class Family:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.rt: Any = stack.runtime
        self.http = stack.client
        self.admin = {"Authorization": f"Bearer {self.rt.admin_tokens['issuer']}"}
        self.wallet_admin = {"Authorization": f"Bearer {self.rt.admin_tokens['wallet']}"}
        key = (stack.settings.data_dir / "secrets" / "rp-demo").read_text().strip()
        self.rp = {"Authorization": f"Bearer {key}"}
        self.wallet_url = stack.url("/wallet")
        self.last_answer: vp.ResponseResult | None = None
        """The verifier's answer to the last :meth:`answer`."""

    @property
    def anchors(self) -> list[x509.Certificate]:
        return list(self.rt.keys.trust_anchors)

    async def person_id(self, alias: str) -> str:
        return (await SqlPopulationRegister(self.rt.db, clock=self.rt.clock).get_by_alias(alias)).person_id

    async def new_wallet(self) -> tuple[ProviderClient, dict[str, Any]]:
        c = ProviderClient(self.http, self.wallet_url, jose.generate_signing_key(), clock=self.rt.clock)
        maker = load_or_create_device_maker(self.stack.settings.effective_keys_dir, clock=self.rt.clock)
        return c, await c.register(maker)

    async def guardian(self, alias: str) -> ProviderClient:
        """A wallet bound to the person (as after presenting their PID; here the admin binding)."""
        c, view = await self.new_wallet()
        r = await self.http.post(f"/wallet/admin/instances/{view['id']}/person", headers=self.wallet_admin,
                                 json={"person": await self.person_id(alias)})
        assert r.status_code == 200, r.text
        return c

    async def issue_youth(self, alias: str, key: jose.SigningKey) -> vp.HeldSdJwtVc:
        held = await self.issue(alias, key, "youth_vc_sd_jwt")
        assert isinstance(held, vp.HeldSdJwtVc)
        return held

    async def issue(self, alias: str, key: jose.SigningKey, config: str) -> vp.Held:
        """A pre-authorized offer from the issuer's admin API, redeemed with one proof of ``key``."""
        r = await self.http.post("/issuer/admin/offers", headers=self.admin,
                                 json={"person": alias, "credential_configuration_ids": [config]})
        assert r.status_code == 201, r.text
        created = r.json()
        offer = await resolve_offer(self.http, created["offer_uri"])
        assert offer.pre_authorized_code is not None
        vci = VciClient(self.http, await fetch_metadata(self.http, self.stack.url("/issuer")), clock=self.rt.clock)
        token = await vci.token_pre_authorized(offer.pre_authorized_code, created["tx_code"])
        resp = await vci.request_credential(token, proofs=[vci.proof(key, await vci.nonce())],
                                            credential_configuration_id=config)
        if config.endswith("_mso_mdoc"):
            assert isinstance(key.private_key, ec.EllipticCurvePrivateKey)
            return vp.HeldMdoc(resp.credentials[0], key.private_key)
        return vp.HeldSdJwtVc(resp.credentials[0], key)

    async def child(self, alias: str, guardian: ProviderClient) -> Child:
        """The child's phone registered, then put under guardian control by ``guardian`` (with the pairing code the
        phone shows); a youth credential."""
        wallet, view = await self.new_wallet()
        pid = await self.person_id(alias)
        out = await register_child_wallet(guardian, pid, await YouthClient(wallet).pairing_code())
        assert out["id"] == view["id"]
        key = jose.generate_signing_key()
        return Child(alias, pid, wallet, view["id"], key, await self.issue_youth(alias, key))

    async def ask(self, query: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
        r = await self.http.post("/verifier/rp/transactions", headers=self.rp,
                                 json={"dcql_query": query or age_query(), **extra})
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        return out

    async def request(self, created: dict[str, Any]) -> vp.AuthorizationRequest:
        return await vp.fetch_request(self.http, created["authorization_request"], trust_anchors=self.anchors,
                                      clock=self.rt.clock)

    async def answer(self, created: dict[str, Any], held: list[vp.Held]) -> tuple[int, dict[str, Any]]:
        """The wallet answers the request with ``held``; returns (HTTP status, the RP's view)."""
        req = await self.request(created)
        res = await vp.send_response(self.http, req, vp.build_vp_token(req, held, clock=self.rt.clock))
        self.last_answer = res
        r = await self.http.get(f"/verifier/rp/transactions/{created['transaction_id']}", headers=self.rp)
        assert r.status_code == 200, r.text
        return res.status_code, r.json()
