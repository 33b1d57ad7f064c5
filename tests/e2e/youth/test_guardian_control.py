"""Youth wallets under guardian control (issue 7), end to end over HTTP on sqlite-memory and postgres-redis.

A family from the seeded register: kari and ola share parental responsibility for emma (10) and jonas (15); erik
alone for maja (6). A guardian registers the child's wallet from their own (person-bound) wallet; a relying party
asks for age_over_13; below the consent age (``Settings.consent_age``) the verifier's youth policy requires a
guardian consent credential bound to the child's key, this verifier and this transaction's nonce.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from eidcore.errors import RemoteProblem
from tests.e2e.conftest import Stack, make_stack
from tests.e2e.youth.family import Child, Family, age_query
from wallet_api.holder.vp import Held
from wallet_api.holder.youth import YouthClient, present_with_consent

AGE13 = ["age_equal_or_over", "13"]


@pytest.fixture
def family(stack: Stack) -> Family:
    return Family(stack)


async def test_guardian_registers_a_ten_year_olds_wallet(family: Family) -> None:
    kari, ola = await family.guardian("kari"), await family.guardian("ola")
    emma = await family.child("emma", kari)
    kids = {c["given_name"]: c for c in (await kari.call("GET", "/guardian/children")).json()}
    assert set(kids) == {"Emma", "Jonas"}
    assert kids["Emma"]["age"] == 10 and [w["id"] for w in kids["Emma"]["wallets"]] == [emma.instance_id]
    assert kids["Emma"]["wallets"][0]["registered_by_me"] is True and kids["Jonas"]["wallets"] == []
    # joint responsibility: the other parent sees the wallet too
    by_ola = {c["given_name"]: c for c in (await ola.call("GET", "/guardian/children")).json()}
    assert [w["id"] for w in by_ola["Emma"]["wallets"]] == [emma.instance_id]
    assert by_ola["Emma"]["wallets"][0]["registered_by_me"] is False
    # the wallet is bound to the child
    inst = (await emma.wallet.call("GET", f"/instances/{emma.instance_id}")).json()
    assert inst["person_bound"] is True and inst["bound_by"] == "guardian"


async def test_under_consent_age_refused_without_consent_accepted_after_approval(family: Family) -> None:
    kari = await family.guardian("kari")
    emma = await family.child("emma", kari)

    created = await family.ask()
    status, tx = await family.answer(created, [emma.credential])
    assert status == 400
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"] == "youth.consent_required", tx

    created = await family.ask()
    req = await family.request(created)
    asked = await emma.youth.ask(req, emma.key, relying_party_name="Videotjenesten")
    assert asked["status"] == "pending" and asked["consent"] is None and asked["claims"] == [AGE13]
    pending = (await kari.call("GET", "/guardian/requests")).json()
    assert [p["id"] for p in pending] == [asked["id"]]
    assert pending[0]["client_id"] == req.client_id and pending[0]["relying_party_name"] == "Videotjenesten"
    approved = (await kari.call("POST", f"/guardian/requests/{asked['id']}/approve")).json()
    assert approved["status"] == "approved" and approved["consent"] is None  # the guardian does not get it
    view = await emma.youth.outcome(asked["id"])
    assert view["status"] == "approved"
    status, tx = await family.answer(created, [emma.credential, emma.youth.held(view, emma.key)])
    assert status == 200, tx
    assert tx["status"] == "validated" and {"youth.age", "youth.consent"} <= set(tx["checks"]), tx
    assert tx["result"]["age"][0]["claims"]["age_equal_or_over"] == {"13": False}
    assert (await kari.call("GET", "/guardian/requests")).json() == []
    # a second approval of the same request is refused
    again = await kari.call("POST", f"/guardian/requests/{asked['id']}/approve", expect=(409,))
    assert again.json()["type"] == "urn:lommebok:error:conflict"
    # the child's log: relying party and claim names, never values
    log = (await kari.call("GET", f"/guardian/children/{emma.person_id}/transactions")).json()
    assert [(e["kind"], e["relying_party"], e["claims"], e["outcome"]) for e in log] == [
        ("consent_request", req.client_id, [AGE13], "approved")]


async def test_denied_request_gives_no_consent(family: Family) -> None:
    kari = await family.guardian("kari")
    emma = await family.child("emma", kari)
    req = await family.request(await family.ask())
    asked = await emma.youth.ask(req, emma.key)
    ola = await family.guardian("ola")  # joint responsibility: either parent can decide
    denied = (await ola.call("POST", f"/guardian/requests/{asked['id']}/deny")).json()
    assert denied["status"] == "denied"
    view = await emma.youth.outcome(asked["id"])
    assert view["status"] == "denied" and view["consent"] is None


async def _approved_consent(family: Family, guardian_alias: str, child_alias: str
                            ) -> tuple[Child, dict[str, Any], dict[str, Any]]:
    guardian = await family.guardian(guardian_alias)
    child = await family.child(child_alias, guardian)
    created = await family.ask()
    req = await family.request(created)
    asked = await child.youth.ask(req, child.key)
    await guardian.call("POST", f"/guardian/requests/{asked['id']}/approve")
    return child, created, await child.youth.outcome(asked["id"])


async def test_consent_replayed_to_another_transaction_verifier_or_child_is_refused(family: Family) -> None:
    emma, first, view = await _approved_consent(family, "kari", "emma")
    consent = emma.youth.held(view, emma.key)
    creds: list[Held] = [emma.credential, consent]

    # another transaction of the same verifier
    status, tx = await family.answer(await family.ask(), creds)
    assert status == 400 and tx["refused_attempts"][-1]["check"] == "youth.consent_nonce", tx

    # another verifier (another client id)
    other = await family.ask(client_id_prefix="redirect_uri")
    status, tx = await family.answer(other, creds)
    assert status == 400 and tx["refused_attempts"][-1]["check"] == "youth.consent_client", tx

    # another child (maja, erik's daughter) with emma's consent
    erik = await family.guardian("erik")
    maja = await family.child("maja", erik)
    status, tx = await family.answer(first, [maja.credential, consent])
    assert status == 400 and tx["refused_attempts"][-1]["check"] == "youth.consent_holder", tx


async def test_guardian_without_parental_responsibility_is_refused(family: Family) -> None:
    kari, erik = await family.guardian("kari"), await family.guardian("erik")
    emma = await family.child("emma", kari)
    assert [c["given_name"] for c in (await erik.call("GET", "/guardian/children")).json()] == ["Maja"]

    wallet, _ = await family.new_wallet()
    shown = await YouthClient(wallet).pairing_code()
    r = await erik.call("POST", f"/guardian/children/{emma.person_id}/wallets", expect=(403,),
                        json={"instance_id": shown["instance_id"], "pairing_code": shown["pairing_code"]})
    assert r.json()["type"] == "urn:lommebok:error:access_denied"

    req = await family.request(await family.ask())
    asked = await emma.youth.ask(req, emma.key)
    assert (await erik.call("GET", "/guardian/requests")).json() == []
    for path in (f"/guardian/requests/{asked['id']}/approve", f"/guardian/children/{emma.person_id}/rules",
                 f"/guardian/children/{emma.person_id}/transactions"):
        method = "POST" if path.endswith("approve") else "GET"
        r = await erik.call(method, path, expect=(403,))
        assert r.json()["type"] == "urn:lommebok:error:access_denied", path
    assert (await emma.youth.outcome(asked["id"]))["status"] == "pending"
    # a wallet not bound to a person cannot act as a guardian either
    with pytest.raises(RemoteProblem) as exc:
        await wallet.call("GET", "/guardian/children")
    assert exc.value.http_status == 403


async def test_fifteen_year_old_presents_without_consent(family: Family) -> None:
    kari = await family.guardian("kari")
    jonas = await family.child("jonas", kari)
    status, tx = await family.answer(await family.ask(), [jonas.credential])
    assert status == 200 and tx["status"] == "validated", tx
    assert "youth.age" in tx["checks"] and "youth.consent" not in tx["checks"]
    assert tx["result"]["age"][0]["claims"]["age_equal_or_over"] == {"13": True}


async def test_standing_rule_approves_without_asking(family: Family) -> None:
    kari = await family.guardian("kari")
    emma = await family.child("emma", kari)
    created = await family.ask()
    req = await family.request(created)
    rules = {"rules": [{"client_id": req.client_id, "claim": AGE13, "effect": "allow"},
                       {"client_id": "*", "claim": ["age_equal_or_over", "18"], "effect": "never"}]}
    await kari.call("PUT", f"/guardian/children/{emma.person_id}/rules", json=rules)
    stored = (await kari.call("GET", f"/guardian/children/{emma.person_id}/rules")).json()
    assert stored == {"rules": [{**r, "category": None} for r in rules["rules"]]}

    asked = await emma.youth.ask(req, emma.key)
    assert asked["status"] == "approved" and asked["decided_by"] == "rule" and asked["consent"]
    assert (await kari.call("GET", "/guardian/requests")).json() == []
    status, tx = await family.answer(created, [emma.credential, emma.youth.held(asked, emma.key)])
    assert status == 200 and tx["status"] == "validated" and "youth.consent" in tx["checks"], tx

    # a "never" rule denies at once; a claim no rule covers waits for a guardian
    req18 = await family.request(await family.ask(age_query(18)))
    assert (await emma.youth.ask(req18, emma.key))["status"] == "denied"
    req15 = await family.request(await family.ask(age_query(15)))
    assert (await emma.youth.ask(req15, emma.key))["status"] == "pending"


@pytest.fixture(params=["sqlite-memory", "postgres-redis"])
async def stack15(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stack]:
    """The full stack with ``consent_age`` 15 (the proposed new Norwegian consent age)."""
    overrides: dict[str, object] = {"consent_age": 15}
    if request.param == "postgres-redis":
        overrides.update(database_url=request.getfixturevalue("clean_postgres_url"),
                         redis_url=request.getfixturevalue("redis_url"))
    s, rt = await make_stack(tmp_path, **overrides)
    try:
        yield s
    finally:
        await s.client.aclose()
        await rt.stop()


async def test_consent_age_setting_fifteen_changes_the_outcome(stack15: Stack) -> None:
    family = Family(stack15)
    kari = await family.guardian("kari")
    jonas = await family.child("jonas", kari)
    emma = await family.child("emma", kari)
    # the relying party asks for age_over_13; the verifier adds age_over_15 (the consent age) to the query itself
    created = await family.ask()
    assert ["age_equal_or_over", "15"] in [c["path"] for c in created["dcql_query"]["credentials"][0]["claims"]]
    # jonas (15) shows it: no consent needed, and the relying party's result holds what it asked for
    status, tx = await family.answer(created, [jonas.credential])
    assert status == 200 and tx["status"] == "validated" and "youth.age" in tx["checks"], tx
    assert tx["result"]["age"][0]["claims"]["age_equal_or_over"] == {"13": True}
    # emma (10) needs the consent, and the refusal names the consent age
    status, tx = await family.answer(await family.ask(), [emma.credential])
    assert status == 400 and tx["refused_attempts"][-1]["check"] == "youth.consent_required", tx
    assert family.last_answer is not None and "(15)" in family.last_answer.body["error_description"]
    # a verifier asking for age_over_15 itself gets true from a 15-year-old: no consent needed
    status, tx = await family.answer(await family.ask(age_query(15)), [jonas.credential])
    assert status == 200 and tx["status"] == "validated", tx


async def test_childs_wallet_waits_for_the_guardian_then_presents_or_declines(family: Family) -> None:
    kari = await family.guardian("kari")
    emma = await family.child("emma", kari)

    async def guardian_decides(action: str) -> None:
        for _ in range(200):
            pending = (await kari.call("GET", "/guardian/requests")).json()
            if pending:
                await kari.call("POST", f"/guardian/requests/{pending[0]['id']}/{action}")
                return
            await asyncio.sleep(0.02)
        raise AssertionError("no request reached the guardian")

    for action, outcome, http_status, tx_status in (("approve", "approved", 200, "validated"),
                                                    ("deny", "denied", 200, "pending")):
        created = await family.ask()
        child = present_with_consent(family.http, created["authorization_request"], [emma.credential], emma.youth,
                                     emma.key, trust_anchors=family.anchors, clock=family.rt.clock,
                                     wait_seconds=10, poll_seconds=0.02)
        (status, answer), _ = await asyncio.gather(child, guardian_decides(action))
        assert status == outcome and answer.status_code == http_status, answer.body
        tx = (await family.http.get(f"/verifier/rp/transactions/{created['transaction_id']}",
                                    headers=family.rp)).json()
        assert tx["status"] == tx_status, tx
        if action == "deny":
            assert tx["refused_attempts"][-1]["check"] == "wallet_error"
