"""Fullmakt end to end: a father grants his daughter a health-services mandate; the verifier's ``mandate`` profile
accepts her PID + mandate for a health request, refuses it for a tax request, and refuses it once he revokes."""

from __future__ import annotations

from datetime import date

import pytest

from eidcore.errors import AccessDenied, CredentialRequestDenied
from eidcore.registers import NewPerson
from eidcore.registers.sql import SqlPopulationRegister
from tests.e2e.mandates.conftest import Env

HEALTH = "helse:fastlege"
TAX = "skatteetaten:skatt"


async def _father(env: Env) -> str:
    pop = SqlPopulationRegister(env.rt.db, clock=env.rt.clock)
    father = await pop.create_person(NewPerson(given_name="Arne", family_name="Fjellheim",
                                               birth_date=date(1951, 3, 2)))
    return father.person_id


async def test_daughter_acts_for_her_father_in_health_only_until_he_revokes(env: Env) -> None:
    father = await _father(env)
    r = await env.client.post("/issuer/admin/mandates", headers=env.admin, json={
        "principal": father, "agent": "kari", "scope": {"service_areas": [HEALTH]},
        "valid_until": "2099-01-01T00:00:00Z"})
    assert r.status_code == 201, r.text
    mandate_id = r.json()["mandate_id"]
    pid = await env.issue("kari", "pid_vc_sd_jwt")
    mandate = await env.issue("kari", "mandate_vc_sd_jwt", mandate_id=mandate_id)

    # health: accepted, and the result names the principal she acts for
    created = await env.ask(profile="mandate", params={"scope": HEALTH})
    answer = await env.present(created["authorization_request"], [pid, mandate])
    assert answer.status_code == 200, answer.body
    tx = await env.result(created["transaction_id"])
    assert tx["status"] == "validated" and {"same_holder", "status"} <= set(tx["checks"])
    m = tx["result"]["mandate"][0]["claims"]
    assert m["principal"] == {"given_name": "Arne", "family_name": "Fjellheim"}
    assert m["scope"]["service_areas"] == [HEALTH] and m["legal_basis"] == "granted"

    # tax: her mandate does not cover it, the wallet has nothing to show (OpenID4VP 1.0 §8.5)
    created = await env.ask(profile="mandate", params={"scope": TAX})
    with pytest.raises(AccessDenied):
        await env.present(created["authorization_request"], [pid, mandate])
    tx = await env.result(created["transaction_id"])
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"] == "wallet_error"

    # the father lists and revokes; the status list says so at once, the verifier sees it after its cache ttl
    r = await env.client.post("/issuer/admin/mandates/query", json={"principal": father}, headers=env.admin)
    assert r.status_code == 200
    assert [x["mandate_id"] for x in r.json()["mandates"]] == [mandate_id]
    r = await env.client.post(f"/issuer/admin/mandates/{mandate_id}/revoke", headers=env.admin,
                              json={"principal": father})
    assert r.status_code == 200, r.text
    assert r.json()["mandate"]["revoked"] is True and r.json()["updated"] == 1
    env.rt.clock.advance(await env.status_ttl(mandate) + 1)
    created = await env.ask(profile="mandate", params={"scope": HEALTH})
    answer = await env.present(created["authorization_request"], [pid, mandate])
    assert answer.status_code == 400
    tx = await env.result(created["transaction_id"])
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"] == "status.revoked"

    # a revoked mandate gives no new credential
    r = await env.client.post("/issuer/admin/offers", headers=env.admin, json={
        "person": "kari", "credential_configuration_ids": ["mandate_vc_sd_jwt"], "mandate_id": mandate_id})
    offer = r.json()
    with pytest.raises(CredentialRequestDenied, match="no active mandate"):
        await env.redeem_offer(offer, "mandate_vc_sd_jwt")


async def test_another_principal_cannot_revoke_the_mandate(env: Env) -> None:
    father = await _father(env)
    r = await env.client.post("/issuer/admin/mandates", headers=env.admin, json={
        "principal": father, "agent": "kari", "scope": {"service_areas": [HEALTH]}})
    mandate_id = r.json()["mandate_id"]
    r = await env.client.post(f"/issuer/admin/mandates/{mandate_id}/revoke", headers=env.admin,
                              json={"principal": "ola"})
    assert r.status_code == 404 and r.json()["error"] == "not_found"
