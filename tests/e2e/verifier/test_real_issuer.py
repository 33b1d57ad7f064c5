"""The verifier with credentials from the real issuer, end to end over HTTP in one process.

The whole stack (issuer, verifier, wallet API) on SQLite + memory, then PostgreSQL + Redis, on a clock the tests
move forward. A wallet built on :mod:`wallet_api.holder.vci` gets the credential with a pre-authorized offer from
the issuer's admin API, presents it with :mod:`wallet_api.holder.vp`, and the relying party reads the result.
Revocation and suspension go through ``POST /issuer/admin/credentials/status``; the verifier keeps using a status
list token it verified until the token's ``ttl`` runs out (draft-ietf-oauth-status-list §13.7), so the tests
show the cached answer first, then move the clock past the ``ttl`` and see the status check fail.
"""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from eidcore import jose
from eidcore.errors import AccessDenied
from eidcore.formats.mdoc import MdocVerifier
from eidcore.formats.sd_jwt import SdJwtHolder
from eidcore.registers.sql import SqlOrganisationRegister
from eidcore.status_list import verify_jwt
from tests.e2e.conftest import BASE, Stack
from wallet_api.holder import vp
from wallet_api.holder.vci import VciClient, fetch_metadata, resolve_offer

ISSUER = f"{BASE}/issuer"
PID_DOCTYPE = "eu.europa.ec.eudi.pid.1"


class Env:
    """The issuer's admin API, a VCI wallet and the demo relying party against one stack."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.rt: Any = stack.runtime
        self.client = stack.client
        self.admin = {"Authorization": f"Bearer {self.rt.admin_tokens['issuer']}"}
        key = (stack.settings.data_dir / "secrets" / "rp-demo").read_text().strip()
        self.rp = {"Authorization": f"Bearer {key}"}

    async def issue(self, person: str, config: str, **extra: Any) -> vp.HeldSdJwtVc | vp.HeldMdoc:
        """A pre-authorized offer (OpenID4VCI 1.0 §4.1, §6.1), a c_nonce, a proof, the credential."""
        r = await self.client.post("/issuer/admin/offers", headers=self.admin,
                                   json={"person": person, "credential_configuration_ids": [config], **extra})
        assert r.status_code == 201, r.text
        created = r.json()
        offer = await resolve_offer(self.client, created["offer_uri"])
        assert offer.pre_authorized_code is not None
        wallet = VciClient(self.client, await fetch_metadata(self.client, ISSUER), clock=self.rt.clock)
        token = await wallet.token_pre_authorized(offer.pre_authorized_code, created["tx_code"])
        key = jose.generate_signing_key()
        resp = await wallet.request_credential(token, proofs=[wallet.proof(key, await wallet.nonce())],
                                               credential_configuration_id=config)
        assert len(resp.credentials) == 1
        if config.endswith("_mso_mdoc"):
            assert isinstance(key.private_key, ec.EllipticCurvePrivateKey)
            return vp.HeldMdoc(resp.credentials[0], key.private_key)
        return vp.HeldSdJwtVc(resp.credentials[0], key)

    async def status(self, action: str, person: str, credential_type: str) -> None:
        r = await self.client.post("/issuer/admin/credentials/status", headers=self.admin,
                                   json={"action": action, "person": person, "credential_type": credential_type})
        assert r.status_code == 200, r.text
        assert r.json()["updated"] >= 1

    async def ask(self, **body: Any) -> dict[str, Any]:
        r = await self.client.post("/verifier/rp/transactions", json=body, headers=self.rp)
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        return out

    async def present(self, created: dict[str, Any], held: list[Any]) -> vp.ResponseResult:
        return await vp.present(self.client, created["authorization_request"], held,
                                trust_anchors=self.rt.keys.trust_anchors, clock=self.rt.clock)

    async def result(self, tx_id: str) -> dict[str, Any]:
        r = await self.client.get(f"/verifier/rp/transactions/{tx_id}", headers=self.rp)
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        return out


FORMATS = {"dc+sd-jwt": ("pid_vc_sd_jwt", "pid"), "mso_mdoc": ("pid_mso_mdoc", "pid_mdoc")}


def _status_uri(env: Env, held: Any) -> str:
    """The status list URI in a held credential (SD-JWT VC ``status`` claim or the MSO's ``status``)."""
    if isinstance(held, vp.HeldSdJwtVc):
        claims = SdJwtHolder().load(held.credential).claims
        return str(claims["status"]["status_list"]["uri"])
    doc = MdocVerifier(env.rt.keys.trust_anchors, clock=env.rt.clock).verify_issuer_signed(held.credential)
    return str(doc.status["status_list"]["uri"])


async def _ttl(env: Env, uri: str) -> int:
    """The ``ttl`` of the issuer's status list token at ``uri`` (verified with the trust anchors)."""
    r = await env.client.get(uri.removeprefix(BASE))
    assert r.status_code == 200
    token = verify_jwt(r.text, uri=uri, clock=env.rt.clock, trust_anchors=env.rt.keys.trust_anchors)
    assert token.ttl is not None
    return int(token.ttl)


async def _pid_round(env: Env, fmt: str, held: Any, mode: str = "direct_post.jwt") -> dict[str, Any]:
    created = await env.ask(profile="pid-basic", params={"format": fmt}, response_mode=mode)
    answer = await env.present(created, [held])
    tx = await env.result(created["transaction_id"])
    tx["_http"] = answer.status_code
    return tx


@pytest.mark.parametrize("fmt", ["dc+sd-jwt", "mso_mdoc"])
async def test_pid_from_the_issuer_validates_then_fails_once_revoked(stack: Stack, fmt: str) -> None:
    env = Env(stack)
    config, qid = FORMATS[fmt]
    held = await env.issue("kari", config)
    tx = await _pid_round(env, fmt, held)
    assert tx["status"] == "validated", tx
    assert "status" in tx["checks"]
    assert ("sd_jwt.issuer_trust" if fmt == "dc+sd-jwt" else "mdoc.device_auth") in tx["checks"]
    claims = tx["result"][qid][0]["claims"]
    if fmt == "mso_mdoc":
        claims = claims[PID_DOCTYPE]
        assert set(claims) == {"given_name", "family_name", "birth_date"}
    else:
        assert claims["birthdate"] and claims["vct"] == "urn:eudi:pid:1"
        # selectively disclosable claims not asked for stay undisclosed
        assert not {"personal_administrative_number", "address", "nationalities"} & set(claims)
    assert claims["given_name"] == "Kari" and claims["family_name"] == "Fjellheim"

    await env.status("revoke", "kari", "pid")
    # the status list token the verifier verified is still within its ttl: it answers from its cache
    tx = await _pid_round(env, fmt, held, "direct_post")
    assert tx["status"] == "validated"
    env.rt.clock.advance(await _ttl(env, _status_uri(env, held)) + 1)
    tx = await _pid_round(env, fmt, held, "direct_post")
    assert tx["_http"] == 400
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"] == "status.revoked"


async def test_suspended_pid_fails_and_passes_again_once_reinstated(stack: Stack) -> None:
    env = Env(stack)
    held = await env.issue("kari", "pid_vc_sd_jwt")
    assert (await _pid_round(env, "dc+sd-jwt", held))["status"] == "validated"
    ttl = await _ttl(env, _status_uri(env, held))
    await env.status("suspend", "kari", "pid")
    env.rt.clock.advance(ttl + 1)
    tx = await _pid_round(env, "dc+sd-jwt", held)
    assert tx["_http"] == 400
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"] == "status.suspended"
    await env.status("reinstate", "kari", "pid")
    env.rt.clock.advance(ttl + 1)
    assert (await _pid_round(env, "dc+sd-jwt", held))["status"] == "validated"


async def _orgnr(env: Env, name: str) -> str:
    orgs = await SqlOrganisationRegister(env.rt.db).list_organisations()
    return next(o.orgnr for o in orgs if o.name == name)


@pytest.mark.parametrize("fmt", ["dc+sd-jwt", "mso_mdoc"])
async def test_employee_role_from_the_issuer_matches_the_organisation_number(stack: Stack, fmt: str) -> None:
    env = Env(stack)
    orgnr = await _orgnr(env, "Fjordvik kommune")
    config = "employee_role_vc_sd_jwt" if fmt == "dc+sd-jwt" else "employee_role_mso_mdoc"
    held = await env.issue("ingrid", config, orgnr=orgnr)
    created = await env.ask(profile="employee-role", params={"orgnr": orgnr, "format": fmt})
    answer = await env.present(created, [held])
    assert answer.status_code == 200, answer.body
    tx = await env.result(created["transaction_id"])
    assert tx["status"] == "validated" and "status" in tx["checks"]
    claims = tx["result"]["employee"][0]["claims"]
    if fmt == "dc+sd-jwt":
        assert claims["organisation"]["orgnr"] == orgnr and claims["given_name"] == "Ingrid"
    else:
        claims = claims["no.digdir.eudi.employee.1"]
        assert claims["organisation_number"] == orgnr and claims["given_name"] == "Ingrid"
    assert "access_packages" not in claims

    # another organisation's number: the wallet has no matching credential and declines (OpenID4VP 1.0 §8.5)
    other = await _orgnr(env, "Helse Nordvest HF")
    created = await env.ask(profile="employee-role", params={"orgnr": other, "format": fmt})
    with pytest.raises(AccessDenied):
        await env.present(created, [held])
    tx = await env.result(created["transaction_id"])
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"] == "wallet_error"


@pytest.mark.parametrize("fmt", ["dc+sd-jwt", "mso_mdoc"])
async def test_pid_and_granted_mandate_from_the_issuer(stack: Stack, fmt: str) -> None:
    env = Env(stack)
    r = await env.client.post("/issuer/admin/mandates", headers=env.admin, json={
        "principal": "kari", "agent": "ola", "scope": {"service_areas": ["nav:arbeid"]},
        "valid_until": "2099-01-01T00:00:00Z"})
    assert r.status_code == 201, r.text
    suffix = "_vc_sd_jwt" if fmt == "dc+sd-jwt" else "_mso_mdoc"
    pid = await env.issue("ola", "pid" + suffix)
    mandate = await env.issue("ola", "mandate" + suffix, mandate_id=r.json()["mandate_id"])
    params = {"scope": "nav:arbeid", "format": fmt}
    created = await env.ask(profile="mandate", params=params)
    answer = await env.present(created, [pid, mandate])
    assert answer.status_code == 200, answer.body
    tx = await env.result(created["transaction_id"])
    assert tx["status"] == "validated"
    assert {"same_holder", "mandate.validity", "status"} <= set(tx["checks"])
    m = tx["result"]["mandate"][0]["claims"]
    p = tx["result"]["pid"][0]["claims"]
    if fmt == "dc+sd-jwt":
        assert m["principal"]["given_name"] == "Kari" and m["scope"]["service_areas"] == ["nav:arbeid"]
        assert m["agent"]["personal_administrative_number"] == p["personal_administrative_number"]
    else:
        m, p = m["no.digdir.eudi.mandate.1"], p[PID_DOCTYPE]
        assert m["principal_given_name"] == "Kari" and m["scope_service_areas"] == ["nav:arbeid"]
        assert m["agent_personal_administrative_number"] == p["personal_administrative_number"]

    # the principal withdraws: the issuer revokes the mandate credential, the next presentation fails
    await env.status("revoke", "ola", "mandate")
    env.rt.clock.advance(await _ttl(env, _status_uri(env, mandate)) + 1)
    created = await env.ask(profile="mandate", params=params)
    answer = await env.present(created, [pid, mandate])
    assert answer.status_code == 400
    tx = await env.result(created["transaction_id"])
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"] == "status.revoked"
