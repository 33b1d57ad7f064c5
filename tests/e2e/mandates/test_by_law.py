"""Mandates by law end to end: ``terje`` is ``sigrid``'s guardian (service areas nav:arbeid, skatteetaten:skatt, ...)
in the population register; his mandate credential is accepted; the guardianship ends in the register, the
reconciliation job runs twice (the second run changes nothing) and the credential is revoked."""

from __future__ import annotations

import pytest

from eidcore.errors import CredentialRequestDenied
from eidcore.registers.sql import SqlPopulationRegister
from tests.e2e.mandates.conftest import Env


async def _reconcile(env: Env) -> dict[str, object]:
    r = await env.client.post("/issuer/admin/mandates/reconcile", headers=env.admin)
    assert r.status_code == 200, r.text
    out: dict[str, object] = r.json()
    return out


async def test_guardian_mandate_accepted_then_revoked_when_the_guardianship_ends(env: Env) -> None:
    pop = SqlPopulationRegister(env.rt.db, clock=env.rt.clock)
    terje = await pop.get_by_alias("terje")
    (g,) = [g for g in (await pop.guardianships_of(terje.person_id)).as_guardian if g.is_active(
        env.rt.clock.now().date())]
    mandate_id = f"guardianship-{g.id}"
    first = await _reconcile(env)
    assert mandate_id in first["new"] and first["ended"] == []  # type: ignore[operator]

    pid = await env.issue("terje", "pid_vc_sd_jwt")
    mandate = await env.issue("terje", "mandate_vc_sd_jwt", mandate_id=mandate_id)
    created = await env.ask(profile="mandate", params={"scope": "nav:arbeid"})
    answer = await env.present(created["authorization_request"], [pid, mandate])
    assert answer.status_code == 200, answer.body
    tx = await env.result(created["transaction_id"])
    assert tx["status"] == "validated"
    assert tx["result"]["mandate"][0]["claims"]["principal"] == {"given_name": "Sigrid", "family_name": "Haugen"}
    assert tx["result"]["mandate"][0]["claims"]["legal_basis"] == "guardianship"

    # the guardianship ends in the register; the job runs twice: the first revokes, the second changes nothing
    await pop.end_guardianship(g.id, on=env.rt.clock.now().date())
    run1 = await _reconcile(env)
    assert run1["ended"] == [mandate_id] and len(run1["revoked_credentials"]) == 1  # type: ignore[arg-type]
    run2 = await _reconcile(env)
    assert run2["ended"] == [] and run2["new"] == [] and run2["revoked_credentials"] == []

    env.rt.clock.advance(await env.status_ttl(mandate) + 1)
    created = await env.ask(profile="mandate", params={"scope": "nav:arbeid"})
    answer = await env.present(created["authorization_request"], [pid, mandate])
    assert answer.status_code == 400
    tx = await env.result(created["transaction_id"])
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"] == "status.revoked"

    # and no new mandate credential on that basis
    r = await env.client.post("/issuer/admin/offers", headers=env.admin, json={
        "person": "terje", "credential_configuration_ids": ["mandate_vc_sd_jwt"], "mandate_id": mandate_id})
    with pytest.raises(CredentialRequestDenied):
        await env.redeem_offer(r.json(), "mandate_vc_sd_jwt")
