"""Fullmakt through the wallet API: the father grants from his wallet, the daughter accepts in hers and gets the
mandate credential from the issuer's offer, presents it (health accepted, tax refused), the father lists and
revokes, and her next presentation is refused."""

from __future__ import annotations

from datetime import date

import pytest

from eidcore import jose
from eidcore.clock import SYSTEM_CLOCK
from eidcore.errors import AccessDenied, RemoteProblem
from eidcore.registers import NewPerson
from eidcore.registers.sql import SqlPopulationRegister
from tests.e2e.mandates.conftest import Env
from wallet_api.device_attestation import load_or_create_device_maker
from wallet_api.holder.provider_client import ProviderClient

HEALTH = "helse:fastlege"
TAX = "skatteetaten:skatt"


async def _wallet_of(env: Env, person_id: str) -> ProviderClient:
    """A registered wallet instance (dev device attestation) bound to ``person_id`` by the service desk."""
    c = ProviderClient(env.client, "http://localhost:8000/wallet", jose.generate_signing_key(), clock=env.rt.clock)
    view = await c.register(load_or_create_device_maker(env.stack.settings.effective_keys_dir, clock=SYSTEM_CLOCK))
    r = await env.client.post(f"/wallet/admin/instances/{view['id']}/person", headers=env.wallet_admin,
                              json={"person": person_id})
    assert r.status_code == 200, r.text
    return c


async def test_grant_accept_present_and_revoke_through_the_wallet(env: Env) -> None:
    pop = SqlPopulationRegister(env.rt.db, clock=env.rt.clock)
    father = (await pop.create_person(NewPerson(given_name="Arne", family_name="Fjellheim",
                                                birth_date=date(1951, 3, 2)))).person_id
    kari = await pop.get_by_alias("kari")
    assert kari.national_id is not None
    dad_wallet, kari_wallet = await _wallet_of(env, father), await _wallet_of(env, kari.person_id)

    r = await dad_wallet.call("POST", "/mandates", json={
        "agent": kari.national_id, "scope": {"service_areas": [HEALTH]}, "valid_until": "2099-01-01T00:00:00Z"})
    assert r.status_code == 201
    grant = r.json()
    assert grant["state"] == "pending" and grant["role"] == "principal" and grant["agent_id"] == kari.person_id

    r = await kari_wallet.call("POST", f"/mandates/{grant['id']}/accept")
    accepted = r.json()
    assert accepted["state"] == "accepted" and accepted["offer_uri"].startswith("openid-credential-offer://")
    mandate = await env.redeem_offer(accepted, "mandate_vc_sd_jwt")
    pid = await env.issue("kari", "pid_vc_sd_jwt")

    created = await env.ask(profile="mandate", params={"scope": HEALTH})
    answer = await env.present(created["authorization_request"], [pid, mandate])
    assert answer.status_code == 200, answer.body
    tx = await env.result(created["transaction_id"])
    assert tx["status"] == "validated"
    assert tx["result"]["mandate"][0]["claims"]["principal"] == {"given_name": "Arne", "family_name": "Fjellheim"}
    created = await env.ask(profile="mandate", params={"scope": TAX})
    with pytest.raises(AccessDenied):
        await env.present(created["authorization_request"], [pid, mandate])

    mine = (await dad_wallet.call("GET", "/mandates")).json()["items"]
    assert [(m["id"], m["role"], m["state"]) for m in mine] == [(grant["id"], "principal", "accepted")]
    theirs = (await kari_wallet.call("GET", "/mandates")).json()["items"]
    assert [(m["id"], m["role"]) for m in theirs] == [(grant["id"], "agent")]

    # only the principal may revoke
    with pytest.raises(RemoteProblem) as not_hers:
        await kari_wallet.call("POST", f"/mandates/{grant['id']}/revoke")
    assert not_hers.value.http_status == 404 and not_hers.value.error == "not_found"
    r = await dad_wallet.call("POST", f"/mandates/{grant['id']}/revoke")
    assert r.json()["state"] == "revoked" and r.json()["revoked_credentials"] == 1

    env.rt.clock.advance(await env.status_ttl(mandate) + 1)
    created = await env.ask(profile="mandate", params={"scope": HEALTH})
    answer = await env.present(created["authorization_request"], [pid, mandate])
    assert answer.status_code == 400
    tx = await env.result(created["transaction_id"])
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"] == "status.revoked"
