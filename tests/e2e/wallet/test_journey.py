"""The wallet's whole journey over HTTP in one process (both stacks): the issue's story (story.py: register ->
attest -> PID issuance requiring a wallet attestation -> presentation -> device revoked -> credentials revoked at
the issuer -> presentation refused with the reason); declined and impossible presentations; suspend and reinstate;
backup and restore."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from eidcore.errors import AccessDenied, InvalidRequest, RemoteProblem
from wallet_api.holder.store import LocalStore
from wallet_api.holder.wallet import Wallet

from .conftest import ATTESTING_STACK_TTL, device_maker
from .story import Deployment, run_story


def admin(stack: Any, service: str = "issuer") -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.runtime.admin_tokens[service]}"}


def rp(stack: Any) -> dict[str, str]:
    key = (stack.settings.data_dir / "secrets" / "rp-demo").read_text().strip()
    return {"Authorization": f"Bearer {key}"}


def wallet(stack: Any, path: Path) -> Wallet:
    return Wallet(LocalStore(path), stack.client, base_url="http://localhost:8000",
                  trust_anchors=stack.runtime.keys.trust_anchors, clock=stack.runtime.clock)


async def issue_pid(stack: Any, w: Wallet, person: str, configs: list[str]) -> list[dict[str, Any]]:
    body = {"person": person, "credential_configuration_ids": configs}
    r = await stack.client.post("/issuer/admin/offers", json=body, headers=admin(stack))
    assert r.status_code == 201, r.text
    offer = r.json()
    return await w.receive(offer["offer_uri"], offer["tx_code"])


async def ask_age_over_18(stack: Any) -> dict[str, Any]:
    r = await stack.client.post("/verifier/rp/transactions", json={"profile": "age-over-18"}, headers=rp(stack))
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


async def rp_result(stack: Any, tx_id: str) -> dict[str, Any]:
    r = await stack.client.get(f"/verifier/rp/transactions/{tx_id}", headers=rp(stack))
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def test_the_issue_story_in_one_process(attesting_stack: Any, tmp_path: Path) -> None:
    """register -> attest -> PID issuance requiring a wallet attestation -> presentation -> device revoked ->
    credentials revoked at the issuer -> presentation refused (see story.py), on both stacks, in real time."""
    stack = attesting_stack
    assert stack.settings.issuer.require_wallet_attestation is True
    waited: list[int] = []

    async def wait_it_out(ttl: int) -> None:
        waited.append(ttl)
        await asyncio.sleep(ttl + 1)

    d = Deployment(http=stack.client, issuer=stack.url("/issuer"), verifier=stack.url("/verifier"),
                   wallet=stack.url("/wallet"), admin_token=stack.runtime.admin_tokens['issuer'],
                   rp_key=rp(stack)["Authorization"].split(" ", 1)[1], trust_anchors=stack.runtime.keys.trust_anchors,
                   clock=stack.runtime.clock, device=device_maker(stack), wait_past_status_ttl=wait_it_out)
    await run_story(d, tmp_path)
    assert waited == [ATTESTING_STACK_TTL]


async def test_revoked_phone_gets_no_new_pid(clocked_stack: Any, tmp_path: Path) -> None:
    stack = clocked_stack
    phone = wallet(stack, tmp_path / "phone")
    view = await phone.register(device_maker(stack))
    await issue_pid(stack, phone, "kari", ["pid_vc_sd_jwt"])
    r = await stack.client.post(f"/wallet/admin/instances/{view['id']}/status", headers=admin(stack, "wallet"),
                                json={"action": "revoke"})
    assert r.status_code == 200 and r.json()["issuer_sync"]["updated"] == 1
    with pytest.raises(RemoteProblem) as exc:
        await issue_pid(stack, phone, "kari", ["pid_vc_sd_jwt"])
    assert exc.value.error == "instance_not_active"


async def test_declined_presentation_is_logged(stack: Any, tmp_path: Path) -> None:
    w = wallet(stack, tmp_path / "w")
    await w.register(device_maker(stack))
    received = await issue_pid(stack, w, "ola", ["pid_vc_sd_jwt", "pid_mso_mdoc"])
    assert sorted(r["format"] for r in received) == ["dc+sd-jwt", "mso_mdoc"]
    assert w.claims(next(r for r in received if r["format"] == "mso_mdoc"))["eu.europa.ec.eudi.pid.1"][
        "given_name"] == "Ola"
    tx = await ask_age_over_18(stack)
    outcome = await w.present(await w.inspect_request(tx["authorization_request"]), consent=False)
    assert outcome.outcome == "declined"
    assert (await rp_result(stack, tx["transaction_id"]))["status"] != "validated"
    assert [e["outcome"] for e in await w.provider.transactions()] == ["declined"]


async def test_backup_and_restore_on_new_device(stack: Any, tmp_path: Path) -> None:
    old = wallet(stack, tmp_path / "old")
    await old.register(device_maker(stack))
    await issue_pid(stack, old, "erik", ["pid_vc_sd_jwt"])
    await old.backup("correct horse battery staple")
    new = wallet(stack, tmp_path / "new")
    await new.register(device_maker(stack))
    with pytest.raises(InvalidRequest):  # not bound to Erik yet: no backup visible
        await new.restore("correct horse battery staple")
    person = await stack.client.post("/wallet/admin/persons/instances", json={"person": await _erik(stack)},
                                     headers=admin(stack, "wallet"))
    assert len(person.json()["items"]) == 1
    r = await stack.client.post(f"/wallet/admin/instances/{new.store.instance['id']}/person",  # type: ignore[index]
                                json={"person": await _erik(stack)}, headers=admin(stack, "wallet"))
    assert r.status_code == 200
    with pytest.raises(InvalidRequest) as exc:
        await new.restore("wrong passphrase")
    assert "passphrase" in exc.value.description
    assert await new.restore("correct horse battery staple") == 1
    assert [c["type"] for c in new.store.credentials()] == ["urn:eudi:pid:1"]


async def _erik(stack: Any) -> str:
    from eidcore.registers import SqlPopulationRegister

    person = await SqlPopulationRegister(stack.runtime.db).get_by_alias("erik")
    assert person.national_id is not None
    return person.national_id


async def test_suspend_and_reinstate_reach_the_verifier(clocked_stack: Any, tmp_path: Path) -> None:
    stack = clocked_stack
    phone = wallet(stack, tmp_path / "phone")
    tablet = wallet(stack, tmp_path / "tablet")
    phone_view = await phone.register(device_maker(stack))
    await tablet.register(device_maker(stack))
    await issue_pid(stack, phone, "erik", ["pid_vc_sd_jwt"])
    await issue_pid(stack, tablet, "erik", ["pid_vc_sd_jwt"])

    suspended = await tablet.provider.change_status(phone_view["id"], "suspend")
    assert suspended["issuer_sync"] == {**suspended["issuer_sync"], "status": "done", "updated": 1}
    stack.runtime.clock.advance(305)
    tx = await ask_age_over_18(stack)
    out = await phone.present(await phone.inspect_request(tx["authorization_request"]), consent=True)
    assert out.outcome == "refused"
    assert (await rp_result(stack, tx["transaction_id"]))["refused_attempts"][-1]["check"] == "status.suspended"

    reinstated = await tablet.provider.change_status(phone_view["id"], "reinstate")
    assert reinstated["state"] == "active" and reinstated["issuer_sync"]["updated"] == 1
    stack.runtime.clock.advance(305)
    tx = await ask_age_over_18(stack)
    out = await phone.present(await phone.inspect_request(tx["authorization_request"]), consent=True)
    assert out.outcome == "shared"
    assert (await rp_result(stack, tx["transaction_id"]))["status"] == "validated"


async def test_no_matching_credential_tells_the_verifier(stack: Any, tmp_path: Path) -> None:
    w = wallet(stack, tmp_path / "w")
    await w.register(device_maker(stack))
    await issue_pid(stack, w, "jonas", ["pid_vc_sd_jwt"])  # Jonas is 15
    tx = await ask_age_over_18(stack)
    with pytest.raises(AccessDenied):
        await w.present(await w.inspect_request(tx["authorization_request"]), consent=True)
    assert (await rp_result(stack, tx["transaction_id"]))["status"] != "validated"


async def test_issuer_requiring_attestation_refuses_a_wallet_without_one(clocked_stack: Any) -> None:
    stack = clocked_stack
    r = await stack.client.post("/issuer/admin/offers", headers=admin(stack),
                                json={"person": "kari", "credential_configuration_ids": ["pid_vc_sd_jwt"]})
    offer = r.json()
    code = offer["credential_offer"]["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"][
        "pre-authorized_code"]
    r = await stack.client.post("/issuer/token", data={
        "grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code", "pre-authorized_code": code,
        "tx_code": offer["tx_code"]})
    assert r.status_code in (400, 401), r.text
    assert r.json()["error"] in ("invalid_client", "invalid_client_attestation")
