"""Mandates by law from parental responsibility, end to end: ``kari`` and ``ola`` have joint parental responsibility
for ``emma`` (10) and ``jonas`` (15). The issuer gives a parent a mandate credential for a child under 18 with
``legal_basis`` ``parental_responsibility``; the verifier accepts it. When the register ends kari's responsibility
for emma, or a child turns 18 (the injected clock moves), the reconciliation job revokes exactly those
credentials (ola's for emma and kari's for jonas stay valid), and a second run changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from eidcore.errors import CredentialRequestDenied
from eidcore.formats.sd_jwt import SdJwtHolder
from eidcore.registers import NewPerson
from eidcore.registers.models import RegParentalResponsibility
from eidcore.registers.sql import SqlPopulationRegister
from issuer.models import IssCredential
from tests.e2e.mandates.conftest import Env
from wallet_api.holder import vp

HEALTH = "helse:fastlege"


async def _reconcile(env: Env) -> dict[str, list[str]]:
    r = await env.client.post("/issuer/admin/mandates/reconcile", headers=env.admin)
    assert r.status_code == 200, r.text
    return {k: v for k, v in r.json().items() if isinstance(v, list)}


async def _status(env: Env, held: vp.HeldSdJwtVc) -> int:
    """The issuer's record of the credential (by its status list index)."""
    ref = SdJwtHolder().load(held.credential).claims["status"]["status_list"]
    list_id = str(ref["uri"]).rsplit("/", 1)[1]
    async with env.rt.db.session() as s:
        row = (await s.exec(select(IssCredential).where(IssCredential.list_id == list_id,
                                                        IssCredential.idx == ref["idx"]))).one()
    return int(row.status)


async def test_parent_mandate_by_law_until_responsibility_ends_or_the_child_turns_18(env: Env) -> None:
    pop = SqlPopulationRegister(env.rt.db, clock=env.rt.clock)
    kari, emma, jonas = [await pop.get_by_alias(a) for a in ("kari", "emma", "jonas")]
    today = env.rt.clock.now().date()
    # a third child who turns 18 in three days
    soon = await pop.create_person(NewPerson(given_name="Nora", family_name="Fjellheim",
                                             birth_date=(today + timedelta(days=3)).replace(year=today.year - 18)))
    async with env.rt.db.session() as s:
        s.add(RegParentalResponsibility(parent_id=kari.person_id, child_id=soon.person_id, kind="joint",
                                        valid_from=soon.birth_date))
        await s.commit()
    first = await _reconcile(env)
    assert first["ended"] == [] and len(first["new"]) >= 5

    pid = await env.issue("kari", "pid_vc_sd_jwt")
    for_emma = await env.issue("kari", "mandate_vc_sd_jwt", mandate_id=f"parental-{emma.person_id}")
    for_jonas = await env.issue("kari", "mandate_vc_sd_jwt", mandate_id=f"parental-{jonas.person_id}")
    for_nora = await env.issue("kari", "mandate_vc_sd_jwt", mandate_id=f"parental-{soon.person_id}")
    ola_for_emma = await env.issue("ola", "mandate_vc_sd_jwt", mandate_id=f"parental-{emma.person_id}")
    claims = SdJwtHolder().load(for_emma.credential).claims
    assert claims["legal_basis"] == "parental_responsibility"
    assert claims["principal"]["given_name"] == "Emma" and claims["agent"]["given_name"] == "Kari"
    eighteen = emma.birth_date.replace(year=emma.birth_date.year + 18)
    assert claims["valid_until"] == f"{eighteen.isoformat()}T00:00:00Z"

    created = await env.ask(profile="mandate", params={"scope": HEALTH})
    answer = await env.present(created["authorization_request"], [pid, for_emma])
    assert answer.status_code == 200, answer.body
    tx = await env.result(created["transaction_id"])
    assert tx["status"] == "validated"
    assert tx["result"]["mandate"][0]["claims"]["principal"] == {"given_name": "Emma", "family_name": "Fjellheim"}
    assert tx["result"]["mandate"][0]["claims"]["legal_basis"] == "parental_responsibility"

    # the register ends kari's responsibility for emma: run twice, the second changes nothing
    await pop.end_parental_responsibility(kari.person_id, emma.person_id, on=today)
    run1 = await _reconcile(env)
    assert len(run1["ended"]) == 1 and len(run1["revoked_credentials"]) == 1
    run2 = await _reconcile(env)
    assert run2["ended"] == [] and run2["new"] == [] and run2["revoked_credentials"] == []
    assert [await _status(env, h) for h in (for_emma, for_jonas, for_nora, ola_for_emma)] == [1, 0, 0, 0]
    env.rt.clock.advance(await env.status_ttl(for_emma) + 1)
    created = await env.ask(profile="mandate", params={"scope": HEALTH})
    answer = await env.present(created["authorization_request"], [pid, for_emma])
    assert answer.status_code == 400
    tx = await env.result(created["transaction_id"])
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"] == "status.revoked"
    with pytest.raises(CredentialRequestDenied):  # and no new credential on that basis
        await env.issue("kari", "mandate_vc_sd_jwt", mandate_id=f"parental-{emma.person_id}")

    # nora turns 18: the clock moves four days, the job ends kari's mandate for her and nothing else
    env.rt.clock.advance(4 * 86400)
    assert env.rt.clock.now().date() >= soon.birth_date.replace(year=soon.birth_date.year + 18)
    run3 = await _reconcile(env)
    assert len(run3["ended"]) == 1 and len(run3["revoked_credentials"]) == 1
    assert (await _reconcile(env))["revoked_credentials"] == []
    assert [await _status(env, h) for h in (for_emma, for_jonas, for_nora, ola_for_emma)] == [1, 0, 1, 0]
    with pytest.raises(CredentialRequestDenied):
        await env.issue("kari", "mandate_vc_sd_jwt", mandate_id=f"parental-{soon.person_id}")

