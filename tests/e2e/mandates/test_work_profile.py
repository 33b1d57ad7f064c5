"""The holder's work profile, end to end: ``ingrid`` holds her PID (private profile) and her employee role
credential (work profile) in one reference wallet. A relying party asking for her employee role gets it from the
work profile alone; a request for a work credential that also asks for the PID is not answered with the private
PID (the wallet has nothing to show); a private request is answered from the private profile.

The relying party's explicit request: the verifier carries the Credential Query member ``"wallet_profile": "work"``
(of its ``employee-role`` profile or of a raw DCQL query) into the signed request object, so a wallet holding only a
private PID does not answer a PID query marked work-only. The holder's log entries at the wallet provider and its
backups are kept per profile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eidcore.clock import SYSTEM_CLOCK
from eidcore.errors import AccessDenied, InvalidRequest, NotFound
from eidcore.registers import SqlPopulationRegister
from tests.e2e.conftest import BASE
from tests.e2e.mandates.conftest import Env
from wallet_api.device_attestation import load_or_create_device_maker
from wallet_api.holder import vp
from wallet_api.holder.store import LocalStore
from wallet_api.holder.wallet import Wallet, requested_profile

EMPLOYEE_VCT = "urn:no:digdir:eudi:employee:1"
PID_VCT = "urn:eudi:pid:1"


def _record(held: vp.HeldSdJwtVc, kid: str, vct: str) -> dict[str, Any]:
    return {"id": kid[:12], "format": "dc+sd-jwt", "credential": held.credential, "key_id": kid, "type": vct,
            "configuration_id": "x", "issuer": f"{BASE}/issuer"}


async def _empty_wallet(env: Env, directory: Path) -> Wallet:
    w = Wallet(LocalStore(directory), env.client, base_url=BASE,
               trust_anchors=env.rt.keys.trust_anchors, clock=env.rt.clock)
    await w.register(load_or_create_device_maker(env.stack.settings.effective_keys_dir, clock=SYSTEM_CLOCK))
    return w


async def _wallet(env: Env, tmp_path: Path, pid: vp.HeldSdJwtVc, role: vp.HeldSdJwtVc | None) -> Wallet:
    w = await _empty_wallet(env, tmp_path / "wallet")
    # restored records (as from a backup) carry no profile yet: the store classifies them by type
    records, keys = [_record(pid, "pidkey-0001", PID_VCT)], {"pidkey-0001": pid.key.private_jwk()}
    if role is not None:
        records.append(_record(role, "rolekey-0001", EMPLOYEE_VCT))
        keys["rolekey-0001"] = role.key.private_jwk()
    assert w.store.import_({"credentials": records, "keys": keys}) == len(records)
    return w


async def _bind(env: Env, w: Wallet, alias: str) -> None:
    person = await SqlPopulationRegister(env.rt.db).get_by_alias(alias)
    assert w.store.instance is not None
    r = await env.client.post(f"/wallet/admin/instances/{w.store.instance['id']}/person", headers=env.wallet_admin,
                              json={"person": person.national_id or person.person_id})
    assert r.status_code == 200, r.text


PID_QUERY = {"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": [PID_VCT]},
             "claims": [{"path": ["given_name"]}]}


async def test_work_requests_are_answered_from_the_work_profile_only(env: Env, tmp_path: Path) -> None:
    fjordvik = await env.orgnr("Fjordvik kommune")
    pid = await env.issue("ingrid", "pid_vc_sd_jwt")
    role = await env.issue("ingrid", "employee_role_vc_sd_jwt", orgnr=fjordvik)
    w = await _wallet(env, tmp_path, pid, role)
    assert [c["type"] for c in w.store.credentials("work")] == [EMPLOYEE_VCT]
    assert [c["type"] for c in w.store.credentials("private")] == [PID_VCT]
    with pytest.raises(NotFound):
        w.store.credentials("hobby")

    # the employee-role profile: answered from the work profile, only the employee credential is shared
    created = await env.ask(profile="employee-role", params={"orgnr": fjordvik})
    preview = await w.inspect_request(created["authorization_request"])
    assert requested_profile(preview.request.claims) == "work"
    # the relying party's mark reaches the wallet in the signed request object
    assert preview.request.claims["dcql_query"]["credentials"][0]["wallet_profile"] == "work"
    assert created["dcql_query"]["credentials"][0]["wallet_profile"] == "work"
    outcome = await w.present(preview, consent=True)
    assert outcome.outcome == "shared", outcome.body
    tx = await env.result(created["transaction_id"])
    assert tx["status"] == "validated" and set(tx["result"]) == {"employee"}

    # a work request that also asks for the PID: the private PID is never mixed in, so nothing can be shown
    employee_q = {"id": "employee", "format": "dc+sd-jwt", "meta": {"vct_values": [EMPLOYEE_VCT]},
                  "claims": [{"path": ["organisation", "orgnr"]}]}
    pid_q = {"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": [PID_VCT]},
             "claims": [{"path": ["given_name"]}]}
    created = await env.ask(dcql_query={"credentials": [employee_q, pid_q]})
    preview = await w.inspect_request(created["authorization_request"])
    with pytest.raises(AccessDenied):
        await w.present(preview, consent=True)
    tx = await env.result(created["transaction_id"])
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"] == "wallet_error"

    # a private request is answered from the private profile
    created = await env.ask(profile="pid-basic")
    preview = await w.inspect_request(created["authorization_request"])
    assert requested_profile(preview.request.claims) is None
    outcome = await w.present(preview, consent=True)
    assert outcome.outcome == "shared", outcome.body
    assert (await env.result(created["transaction_id"]))["status"] == "validated"


def test_the_profile_mark_alone_asks_for_the_work_profile() -> None:
    """The ``employee-role`` profile's extension member (OpenID4VP 1.0 §6: unknown members are ignored by others)."""
    marked = {"dcql_query": {"credentials": [{"id": "x", "format": "dc+sd-jwt", "wallet_profile": "work",
                                              "meta": {"vct_values": ["urn:example:badge:1"]}}]}}
    plain = {"dcql_query": {"credentials": [{"id": "x", "format": "dc+sd-jwt",
                                             "meta": {"vct_values": ["urn:example:badge:1"]}}]}}
    assert requested_profile(marked) == "work"
    assert requested_profile(plain) is None
    assert requested_profile({}) is None


async def test_a_pid_query_marked_work_only_gets_no_answer_from_a_private_pid(env: Env, tmp_path: Path) -> None:
    pid = await env.issue("ingrid", "pid_vc_sd_jwt")
    w = await _wallet(env, tmp_path, pid, None)

    created = await env.ask(dcql_query={"credentials": [{**PID_QUERY, "wallet_profile": "work"}]})
    assert created["dcql_query"]["credentials"][0]["wallet_profile"] == "work"
    preview = await w.inspect_request(created["authorization_request"])
    assert preview.request.claims["dcql_query"]["credentials"][0]["wallet_profile"] == "work"
    assert requested_profile(preview.request.claims) == "work"
    with pytest.raises(AccessDenied):
        await w.present(preview, consent=True)
    tx = await env.result(created["transaction_id"])
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"] == "wallet_error"

    # the same query without the mark is answered with the private PID
    created = await env.ask(dcql_query={"credentials": [PID_QUERY]})
    assert "wallet_profile" not in created["dcql_query"]["credentials"][0]
    outcome = await w.present(await w.inspect_request(created["authorization_request"]), consent=True)
    assert outcome.outcome == "shared", outcome.body
    assert set((await env.result(created["transaction_id"]))["result"]) == {"pid"}


@pytest.mark.parametrize("mark", ["private", "Work", True, None, ["work"]])
async def test_a_relying_party_can_only_mark_work(env: Env, mark: Any) -> None:
    r = await env.client.post("/verifier/rp/transactions", headers=env.rp,
                              json={"dcql_query": {"credentials": [{**PID_QUERY, "wallet_profile": mark}]}})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_request"
    assert "credentials[0].wallet_profile" in r.json()["error_description"]


async def test_the_log_at_the_provider_and_the_backups_are_kept_per_profile(env: Env, tmp_path: Path) -> None:
    fjordvik = await env.orgnr("Fjordvik kommune")
    pid = await env.issue("ingrid", "pid_vc_sd_jwt")
    role = await env.issue("ingrid", "employee_role_vc_sd_jwt", orgnr=fjordvik)
    w = await _wallet(env, tmp_path, pid, role)
    await _bind(env, w, "ingrid")

    created = await env.ask(profile="employee-role", params={"orgnr": fjordvik})
    assert (await w.present(await w.inspect_request(created["authorization_request"]), consent=True)).outcome == \
        "shared"
    created = await env.ask(profile="pid-basic")
    assert (await w.present(await w.inspect_request(created["authorization_request"]), consent=False)).outcome == \
        "declined"
    assert [e["profile"] for e in w.store.log()] == ["work", "private"]
    work = await w.provider.transactions(profile="work")
    assert [(e["profile"], e["outcome"], e["credential_types"]) for e in work] == [
        ("work", "shared", [EMPLOYEE_VCT])]
    private = await w.provider.transactions(profile="private")
    assert [(e["profile"], e["outcome"]) for e in private] == [("private", "declined")]
    assert [e["profile"] for e in await w.provider.transactions()] == ["private", "work"]

    # one backup per profile; a new phone restores the work profile alone, then the private one
    view = await w.backup("correct horse battery staple")
    assert set(view["profiles"]) == {"private", "work"}
    assert view["profile"] == "private" and view["profiles"]["work"]["profile"] == "work"
    new = await _empty_wallet(env, tmp_path / "new")
    await _bind(env, new, "ingrid")
    assert await new.restore("correct horse battery staple", profile="work") == 1
    assert [c["type"] for c in new.store.credentials()] == [EMPLOYEE_VCT]
    assert new.store.credentials("private") == []
    assert await new.restore("correct horse battery staple", profile="private") == 1
    assert [c["type"] for c in new.store.credentials("private")] == [PID_VCT]
    assert await new.restore("correct horse battery staple") == 0  # both again: nothing new


async def test_a_wallet_without_work_credentials_keeps_no_work_backup(env: Env, tmp_path: Path) -> None:
    pid = await env.issue("ingrid", "pid_vc_sd_jwt")
    w = await _wallet(env, tmp_path, pid, None)
    view = await w.backup("correct horse battery staple")
    assert set(view["profiles"]) == {"private"}
    assert await w.provider.get_backup(profile="work") is None
    with pytest.raises(InvalidRequest) as exc:
        await w.restore("correct horse battery staple", profile="work")
    assert "no backup" in exc.value.description
