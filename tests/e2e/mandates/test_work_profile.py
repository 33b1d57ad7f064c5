"""The holder's work profile, end to end: ``ingrid`` holds her PID (private profile) and her employee role
credential (work profile) in one reference wallet. A relying party asking for her employee role gets it from the
work profile alone; a request for a work credential that also asks for the PID is not answered with the private
PID (the wallet has nothing to show); a private request is answered from the private profile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eidcore.clock import SYSTEM_CLOCK
from eidcore.errors import AccessDenied, NotFound
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


async def _wallet(env: Env, tmp_path: Path, pid: vp.HeldSdJwtVc, role: vp.HeldSdJwtVc) -> Wallet:
    w = Wallet(LocalStore(tmp_path / "wallet"), env.client, base_url=BASE,
               trust_anchors=env.rt.keys.trust_anchors, clock=env.rt.clock)
    await w.register(load_or_create_device_maker(env.stack.settings.effective_keys_dir, clock=SYSTEM_CLOCK))
    # restored records (as from a backup) carry no profile yet: the store classifies them by type
    added = w.store.import_({"credentials": [_record(pid, "pidkey-0001", PID_VCT),
                                             _record(role, "rolekey-0001", EMPLOYEE_VCT)],
                             "keys": {"pidkey-0001": pid.key.private_jwk(), "rolekey-0001": role.key.private_jwk()}})
    assert added == 2
    return w


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
    assert tx["status"] == "failed" and tx["failure"]["check"] == "wallet_error"

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
