"""Precise revocation: each issuance record names what it was issued for (``subject_ref``), so withdrawing one
mandate revokes only that mandate's credentials, and removing a role in one organisation revokes only that
organisation's employee role credential; the others keep validating at the verifier."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from eidcore.registers import NewPerson
from eidcore.registers.models import RegEmployment
from eidcore.registers.sql import SqlPopulationRegister
from issuer.models import IssCredential
from tests.e2e.mandates.conftest import Env
from tests.e2e.mandates.test_oidc_bridge import A_ORDNING, _client, _login

HEALTH = "helse:fastlege"
TAX = "skatteetaten:skatt"


async def _refs(env: Env, type_id: str) -> list[str]:
    async with env.rt.db.session() as s:
        rows = (await s.exec(select(IssCredential).where(IssCredential.type_id == type_id))).all()
    return sorted((r.subject_ref or "") for r in rows)


async def _grant(env: Env, principal: str, scope: str) -> str:
    r = await env.client.post("/issuer/admin/mandates", headers=env.admin, json={
        "principal": principal, "agent": "kari", "scope": {"service_areas": [scope]}})
    assert r.status_code == 201, r.text
    return str(r.json()["mandate_id"])


async def test_revoking_one_mandate_leaves_the_agents_other_mandate_valid(env: Env) -> None:
    pop = SqlPopulationRegister(env.rt.db, clock=env.rt.clock)
    father = await pop.create_person(NewPerson(given_name="Arne", family_name="Fjellheim",
                                               birth_date=date(1951, 3, 2)))
    mother = await pop.create_person(NewPerson(given_name="Berit", family_name="Fjellheim",
                                               birth_date=date(1953, 6, 9)))
    health_id = await _grant(env, father.person_id, HEALTH)
    tax_id = await _grant(env, mother.person_id, TAX)
    pid = await env.issue("kari", "pid_vc_sd_jwt")
    health = await env.issue("kari", "mandate_vc_sd_jwt", mandate_id=health_id)
    tax = await env.issue("kari", "mandate_vc_sd_jwt", mandate_id=tax_id)
    assert await _refs(env, "mandate") == sorted([f"mandate:{health_id}", f"mandate:{tax_id}"])

    r = await env.client.post(f"/issuer/admin/mandates/{health_id}/revoke", headers=env.admin)
    assert r.status_code == 200, r.text
    assert r.json()["updated"] == 1
    env.rt.clock.advance(await env.status_ttl(health) + 1)

    created = await env.ask(profile="mandate", params={"scope": TAX})
    answer = await env.present(created["authorization_request"], [pid, tax])
    assert answer.status_code == 200, answer.body
    tx = await env.result(created["transaction_id"])
    assert tx["status"] == "validated"
    assert tx["result"]["mandate"][0]["claims"]["principal"] == {"given_name": "Berit", "family_name": "Fjellheim"}

    created = await env.ask(profile="mandate", params={"scope": HEALTH})
    answer = await env.present(created["authorization_request"], [pid, health])
    assert answer.status_code == 400
    tx = await env.result(created["transaction_id"])
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"] == "status.revoked"


async def test_removing_a_role_in_one_organisation_leaves_the_others_credential_valid(env: Env) -> None:
    fjordvik = await env.orgnr("Fjordvik kommune")
    hospital = await env.orgnr("Helse Nordvest HF")
    ingrid = await SqlPopulationRegister(env.rt.db, clock=env.rt.clock).get_by_alias("ingrid")
    async with env.rt.db.session() as s:  # a second, part-time employment at the hospital
        s.add(RegEmployment(person_id=ingrid.person_id, orgnr=hospital, title="Rådgiver", roles=[],
                            access_packages=[A_ORDNING], start_date=date(2020, 1, 1)))
        await s.commit()
    at_fjordvik = await env.issue("ingrid", "employee_role_vc_sd_jwt", orgnr=fjordvik)
    at_hospital = await env.issue("ingrid", "employee_role_vc_sd_jwt", orgnr=hospital)
    assert await _refs(env, "employee_role") == sorted([f"employment:{fjordvik}", f"employment:{hospital}"])

    await _client(env, client_id="lommebok-org-admin", login="employee")
    per = await env.issue("per", "employee_role_vc_sd_jwt", orgnr=fjordvik)
    bearer = {"Authorization": f"Bearer {(await _login(env, 'lommebok-org-admin', per))['id_token']}"}
    r = await env.client.post(f"/issuer/org/{fjordvik}/roles", headers=bearer,
                              json={"action": "remove", "person": "ingrid", "role": A_ORDNING})
    assert r.status_code == 200, r.text
    assert r.json()["revoked_credentials"] == 1
    env.rt.clock.advance(await env.status_ttl(at_fjordvik) + 1)

    created = await env.ask(profile="employee-role", params={"orgnr": hospital})
    answer = await env.present(created["authorization_request"], [at_hospital])
    assert answer.status_code == 200, answer.body
    assert (await env.result(created["transaction_id"]))["status"] == "validated"

    created = await env.ask(profile="employee-role", params={"orgnr": fjordvik})
    answer = await env.present(created["authorization_request"], [at_fjordvik])
    assert answer.status_code == 400
    tx = await env.result(created["transaction_id"])
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"] == "status.revoked"


async def test_admin_status_api_selects_by_subject_ref(env: Env) -> None:
    """``POST /issuer/admin/credentials/status`` with ``subject_ref`` suspends exactly what was issued for it."""
    pop = SqlPopulationRegister(env.rt.db, clock=env.rt.clock)
    principal = await pop.create_person(NewPerson(given_name="Odd", family_name="Fjellheim",
                                                  birth_date=date(1950, 1, 5)))
    first = await _grant(env, principal.person_id, HEALTH)
    second = await _grant(env, principal.person_id, TAX)
    await env.issue("kari", "mandate_vc_sd_jwt", mandate_id=first)
    await env.issue("kari", "mandate_vc_sd_jwt", mandate_id=second)
    r = await env.client.post("/issuer/admin/credentials/status", headers=env.admin,
                              json={"action": "suspend", "subject_ref": f"mandate:{first}"})
    assert r.status_code == 200, r.text
    assert r.json()["updated"] == 1
    r = await env.client.post("/issuer/admin/credentials/status", headers=env.admin,
                              json={"action": "suspend", "subject_ref": f"mandate:{first}", "person": "kari"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = await env.client.post("/issuer/admin/credentials/status",
                              json={"action": "suspend", "subject_ref": f"mandate:{second}"})
    assert r.status_code == 401
