"""Guardian rules by relying-party category (issue 7): the category of a verifier comes from the wallet provider's
registry keyed by client id (``PUT /wallet/admin/youth/relying-parties``), and a rule can target a category."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Stack
from tests.e2e.youth.family import AGE_VCT, Family

AGE13 = ["age_equal_or_over", "13"]


@pytest.fixture
def family(stack: Stack) -> Family:
    return Family(stack)


async def test_category_rules_follow_the_registry_not_the_request(family: Family) -> None:
    kari = await family.guardian("kari")
    emma = await family.child("emma", kari)
    video = await family.request(await family.ask())
    other = await family.request(await family.ask(client_id_prefix="redirect_uri"))
    assert video.client_id != other.client_id
    r = await family.http.put("/wallet/admin/youth/relying-parties", json={"client_id": video.client_id,
                                                                          "category": "video"})
    assert r.status_code == 401
    for client_id, category in ((video.client_id, "video"), (other.client_id, "health")):
        r = await family.http.put("/wallet/admin/youth/relying-parties", headers=family.wallet_admin,
                                  json={"client_id": client_id, "category": category, "name": category.title()})
        assert r.status_code == 200, r.text
    listed = (await family.http.get("/wallet/admin/youth/relying-parties", headers=family.wallet_admin)).json()
    assert {(e["client_id"], e["category"]) for e in listed} == {(video.client_id, "video"),
                                                                  (other.client_id, "health")}
    rules = {"rules": [{"client_id": "*", "category": "video", "claim": AGE13, "effect": "allow"},
                       {"client_id": "*", "category": "health", "claim": None, "effect": "never"}]}
    await kari.call("PUT", f"/guardian/children/{emma.person_id}/rules", json=rules)
    assert (await kari.call("GET", f"/guardian/children/{emma.person_id}/rules")).json() == rules
    # the video service gets age-over-13 without asking; the health service never
    answered = await emma.youth.ask(video, emma.key)
    assert (answered["status"], answered["category"]) == ("approved", "video") and answered["consent"]
    status, tx = await family.answer(await family.ask(), [emma.credential])  # a new transaction: needs its own
    assert status == 400 and tx["refused_attempts"][-1]["check"] == "youth.consent_required"
    denied = await emma.youth.ask(other, emma.key)
    assert (denied["status"], denied["category"], denied["consent"]) == ("denied", "health", None)
    # a claim the category rule does not cover waits for a guardian
    query = {"credentials": [{"id": "age", "format": "dc+sd-jwt", "meta": {"vct_values": [AGE_VCT]},
                              "claims": [{"path": ["age_equal_or_over", "18"]}]}]}
    pending = await emma.youth.ask(await family.request(await family.ask(query)), emma.key)
    assert (pending["status"], pending["category"]) == ("pending", "video")


async def test_an_unregistered_relying_party_has_no_category(family: Family) -> None:
    kari = await family.guardian("kari")
    emma = await family.child("emma", kari)
    await kari.call("PUT", f"/guardian/children/{emma.person_id}/rules", json={
        "rules": [{"client_id": "*", "category": "video", "claim": None, "effect": "allow"}]})
    asked = await emma.youth.ask(await family.request(await family.ask()), emma.key)
    assert (asked["status"], asked["category"]) == ("pending", None)
    r = await kari.call("PUT", f"/guardian/children/{emma.person_id}/rules", expect=(400,), json={
        "rules": [{"client_id": "*", "category": "Video Games!", "claim": None, "effect": "allow"}]})
    assert r.status_code == 400
