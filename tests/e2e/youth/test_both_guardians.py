"""The setting ``require_both_guardians`` (issue 7): with joint parental responsibility, a consent request and a
child's PID are approved only when both guardians have approved (either can deny); a standing rule of one
guardian no longer approves alone; with responsibility held by one parent, that one still suffices. With the
setting off (the default, the other tests here) one guardian's approval is enough."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from eidcore import jose
from tests.e2e.conftest import make_stack
from tests.e2e.youth.family import Family
from tests.e2e.youth.test_child_pid import redeem, youth_wallet

ALLOW_ALL = {"rules": [{"client_id": "*", "claim": None, "effect": "allow"}]}


@pytest.fixture(params=["sqlite-memory", "postgres-redis"])
async def family(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Family]:
    overrides: dict[str, object] = {"require_both_guardians": True}
    if request.param == "postgres-redis":
        overrides.update(database_url=request.getfixturevalue("clean_postgres_url"),
                         redis_url=request.getfixturevalue("redis_url"))
    s, rt = await make_stack(tmp_path, **overrides)
    try:
        yield Family(s)
    finally:
        await s.client.aclose()
        await rt.stop()


async def test_a_consent_needs_both_guardians_and_either_can_deny(family: Family) -> None:
    kari, ola = await family.guardian("kari"), await family.guardian("ola")
    emma = await family.child("emma", kari)
    asked = await emma.youth.ask(await family.request(await family.ask()), emma.key)
    first = (await kari.call("POST", f"/guardian/requests/{asked['id']}/approve")).json()
    assert first["status"] == "pending" and first["approvals"] == 1
    assert (await emma.youth.outcome(asked["id"]))["consent"] is None
    r = await kari.call("POST", f"/guardian/requests/{asked['id']}/approve", expect=(409,))
    assert r.json()["type"] == "urn:lommebok:error:conflict"
    both = (await ola.call("POST", f"/guardian/requests/{asked['id']}/approve")).json()
    assert both["status"] == "approved" and both["approvals"] == 2
    assert (await emma.youth.outcome(asked["id"]))["consent"]
    # one approves, the other denies: denied
    asked = await emma.youth.ask(await family.request(await family.ask()), emma.key)
    await ola.call("POST", f"/guardian/requests/{asked['id']}/approve")
    assert (await kari.call("POST", f"/guardian/requests/{asked['id']}/deny")).json()["status"] == "denied"
    assert (await emma.youth.outcome(asked["id"]))["status"] == "denied"


async def test_a_standing_rule_of_one_guardian_is_not_enough_unless_they_alone_are_responsible(
        family: Family) -> None:
    kari, erik = await family.guardian("kari"), await family.guardian("erik")
    emma, maja = await family.child("emma", kari), await family.child("maja", erik)
    await kari.call("PUT", f"/guardian/children/{emma.person_id}/rules", json=ALLOW_ALL)
    await erik.call("PUT", f"/guardian/children/{maja.person_id}/rules", json=ALLOW_ALL)
    req = await family.request(await family.ask())
    assert (await emma.youth.ask(req, emma.key))["status"] == "pending"
    answered = await maja.youth.ask(req, maja.key)
    assert answered["status"] == "approved" and answered["consent"]


async def test_a_childs_pid_needs_both_guardians(family: Family) -> None:
    kari, ola = await family.guardian("kari"), await family.guardian("ola")
    _, emma = await youth_wallet(family, "emma", kari)
    view = await emma.request_credential("pid_vc_sd_jwt")
    vci, tok, resp = await redeem(family, view, jose.generate_signing_key())
    assert resp.transaction_id
    await emma.report_transaction(view["id"], resp.transaction_id)
    first = (await kari.call("POST", f"/guardian/credential-requests/{view['id']}/approve")).json()
    assert first["status"] == "awaiting_approval" and first["approvals"] == 1
    assert not (await vci.deferred(tok, resp.transaction_id)).credentials
    both = (await ola.call("POST", f"/guardian/credential-requests/{view['id']}/approve")).json()
    assert both["status"] == "approved" and both["approvals"] == 2
    assert len((await vci.deferred(tok, resp.transaction_id)).credentials) == 1
