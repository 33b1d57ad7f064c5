"""The guardian API around the consent flow: the consent credential's content, pushed events, suspending the
child's wallet, and a guardian who loses parental responsibility in the register (issue 7)."""

from __future__ import annotations

import json

import pytest

from eidcore.credential_types import load_credential_types
from eidcore.formats.sd_jwt import SdJwtHolder
from eidcore.registers import SqlPopulationRegister
from tests.e2e.conftest import Stack
from tests.e2e.youth.family import Family
from wallet_api.holder.youth import nonce_hash


@pytest.fixture
def family(stack: Stack) -> Family:
    return Family(stack)


async def test_consent_credential_follows_the_type_and_is_pairwise(family: Family) -> None:
    kari = await family.guardian("kari")
    emma = await family.child("emma", kari)
    req = await family.request(await family.ask())
    await kari.call("PUT", f"/guardian/children/{emma.person_id}/rules",
                    json={"rules": [{"client_id": "*", "claim": None, "effect": "allow"}]})
    view = await emma.youth.ask(req, emma.key)
    loaded = SdJwtHolder().load(view["consent"])
    claims = loaded.claims
    assert "~" not in view["consent"].rstrip("~")  # no disclosures: nothing selectively disclosable
    assert claims["vct"] == "urn:no:digdir:eudi:guardian_consent:1" and claims["iss"] == family.wallet_url
    assert claims["cnf"]["jwk"] == emma.key.public_jwk
    assert 0 < claims["exp"] - claims["iat"] <= 900
    body = {k: v for k, v in claims.items() if k not in ("vct", "iss", "iat", "exp", "cnf")}
    load_credential_types().get("guardian_consent").validate_claims(body)
    assert body["client_id"] == req.client_id and body["transaction_nonce_hash"] == nonce_hash(req.nonce)
    assert body["approved_claims"] == [["age_equal_or_over", "13"]]
    assert body["guardian_basis"] == "parental_responsibility"
    # pairwise: another verifier sees other pseudonyms for the same child and guardian
    req2 = await family.request(await family.ask(client_id_prefix="redirect_uri"))
    other = SdJwtHolder().load((await emma.youth.ask(req2, emma.key))["consent"]).claims
    assert other["child_pseudonym"] != body["child_pseudonym"]
    assert other["guardian_pseudonym"] != body["guardian_pseudonym"]
    assert person_free(view["consent"], family, emma.person_id)


def person_free(consent: str, family: Family, person_id: str) -> bool:
    text = json.dumps(SdJwtHolder().load(consent).claims)
    return person_id not in text and "Emma" not in text


async def test_pending_requests_are_pushed_to_the_guardian(family: Family) -> None:
    kari = await family.guardian("kari")
    emma = await family.child("emma", kari)
    asked = await emma.youth.ask(await family.request(await family.ask()), emma.key, relying_party_name="Spill")
    r = await kari.call("GET", "/guardian/events", params={"wait": 0})
    assert r.headers["content-type"].startswith("text/event-stream")
    events = [json.loads(line[5:]) for line in r.text.splitlines() if line.startswith("data:")]
    assert [(e["id"], e["relying_party_name"], e["status"]) for e in events] == [(asked["id"], "Spill", "pending")]
    assert "event: request" in r.text
    # erik's stream has nothing of kari's children
    erik = await family.guardian("erik")
    assert "data:" not in (await erik.call("GET", "/guardian/events", params={"wait": 0})).text


async def test_guardian_suspends_the_childs_wallet(family: Family) -> None:
    kari = await family.guardian("kari")
    emma = await family.child("emma", kari)
    r = await kari.call("POST", f"/guardian/children/{emma.person_id}/wallets/{emma.instance_id}/status",
                        json={"action": "suspend"})
    assert r.json()["state"] == "suspended"
    req = await family.request(await family.ask())
    r = await emma.wallet.call("POST", "/youth/consent-requests", expect=(403,), json={
        "client_id": req.client_id, "claims": [["age_equal_or_over", "13"]],
        "transaction_nonce_hash": nonce_hash(req.nonce), "holder_jwk": emma.key.public_jwk})
    assert r.json()["type"] == "urn:lommebok:error:instance_not_active"
    kids = {c["given_name"]: c for c in (await kari.call("GET", "/guardian/children")).json()}
    assert kids["Emma"]["wallets"][0]["state"] == "suspended"
    r = await kari.call("POST", f"/guardian/children/{emma.person_id}/wallets/{emma.instance_id}/status",
                        json={"action": "reinstate"})
    assert r.json()["state"] == "active"


async def test_losing_parental_responsibility_ends_access(family: Family) -> None:
    kari, ola = await family.guardian("kari"), await family.guardian("ola")
    emma = await family.child("emma", kari)
    await kari.call("PUT", f"/guardian/children/{emma.person_id}/rules",
                    json={"rules": [{"client_id": "*", "claim": None, "effect": "allow"}]})
    reg = SqlPopulationRegister(family.rt.db, clock=family.rt.clock)
    await reg.end_parental_responsibility(await family.person_id("kari"), emma.person_id,
                                          on=family.rt.clock.now().date())
    assert [c["given_name"] for c in (await kari.call("GET", "/guardian/children")).json()] == ["Jonas"]
    r = await kari.call("GET", f"/guardian/children/{emma.person_id}/rules", expect=(403,))
    assert r.json()["type"] == "urn:lommebok:error:access_denied"
    # kari's standing rule no longer approves anything; ola (still responsible) decides
    req = await family.request(await family.ask())
    asked = await emma.youth.ask(req, emma.key)
    assert asked["status"] == "pending" and asked["consent"] is None
    r = await kari.call("POST", f"/guardian/requests/{asked['id']}/approve", expect=(403,))
    assert r.json()["type"] == "urn:lommebok:error:access_denied"
    assert (await ola.call("POST", f"/guardian/requests/{asked['id']}/approve")).json()["status"] == "approved"


async def test_a_childs_wallet_is_no_guardian_and_an_adults_wallet_asks_no_consent(family: Family) -> None:
    kari = await family.guardian("kari")
    emma = await family.child("emma", kari)
    r = await emma.wallet.call("GET", "/guardian/children", expect=(403,))
    assert r.json()["type"] == "urn:lommebok:error:access_denied"
    req = await family.request(await family.ask())
    r = await kari.call("POST", "/youth/consent-requests", expect=(403,), json={
        "client_id": req.client_id, "claims": [["age_equal_or_over", "13"]],
        "transaction_nonce_hash": nonce_hash(req.nonce), "holder_jwk": emma.key.public_jwk})
    assert r.json()["type"] == "urn:lommebok:error:access_denied"
