"""Consents and requests expire; the policy holds for mdoc presentations too; no relying party turns it off.

On a clock the tests move forward (``lommebok.demo.OffsetClock``), sqlite-memory and postgres-redis.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from eidcore import jose
from eidcore.runtime import Runtime
from eidcore.settings import Settings
from lommebok.app import create_root_app
from lommebok.demo import OffsetClock
from tests.e2e.conftest import BASE, Stack
from tests.e2e.youth.family import Family, age_query
from wallet_api.consent import CONSENT_VALIDITY
from wallet_api.consent_requests import REQUEST_TTL

AV = "eu.europa.ec.av.1"


@pytest.fixture(params=["sqlite-memory", "postgres-redis"])
async def family(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Family]:
    overrides: dict[str, Any] = {}
    if request.param == "postgres-redis":
        overrides = {"database_url": request.getfixturevalue("clean_postgres_url"),
                     "redis_url": request.getfixturevalue("redis_url")}
    settings = Settings(data_dir=tmp_path / "var", public_base_url=BASE, **overrides)
    rt = Runtime(settings, clock=OffsetClock())
    app: Any = create_root_app(settings, runtime=rt)
    rt.route_outbound(httpx.ASGITransport(app=app))
    await rt.start()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
    try:
        yield Family(Stack(settings, rt, app, client))
    finally:
        await client.aclose()
        await rt.stop()


async def test_consent_expires_within_minutes(family: Family) -> None:
    kari = await family.guardian("kari")
    emma = await family.child("emma", kari)
    created = await family.ask()
    req = await family.request(created)
    asked = await emma.youth.ask(req, emma.key)
    await kari.call("POST", f"/guardian/requests/{asked['id']}/approve")
    consent = emma.youth.held(await emma.youth.outcome(asked["id"]), emma.key)
    family.rt.clock.advance(CONSENT_VALIDITY + 61)  # past exp and the verifier's 60 s clock skew
    status, tx = await family.answer(created, [emma.credential, consent])
    assert status == 400 and tx["refused_attempts"][-1]["check"] == "sd_jwt.validity", tx


async def test_unanswered_request_expires_and_the_child_sees_it(family: Family) -> None:
    kari = await family.guardian("kari")
    emma = await family.child("emma", kari)
    asked = await emma.youth.ask(await family.request(await family.ask()), emma.key)
    family.rt.clock.advance(REQUEST_TTL + 1)
    assert (await emma.youth.outcome(asked["id"]))["status"] == "expired"
    assert (await kari.call("GET", "/guardian/requests")).json() == []
    r = await kari.call("POST", f"/guardian/requests/{asked['id']}/approve", expect=(409,))
    assert r.json()["type"] == "urn:lommebok:error:conflict"
    log = (await kari.call("GET", f"/guardian/children/{emma.person_id}/transactions")).json()
    assert [e["outcome"] for e in log] == ["expired"]


async def test_mdoc_age_presentation_needs_the_consent_too(family: Family) -> None:
    kari = await family.guardian("kari")
    emma = await family.child("emma", kari)
    key = jose.generate_signing_key()
    held = await family.issue("emma", key, "youth_mso_mdoc")
    query = {"credentials": [{"id": "age_mdoc", "format": "mso_mdoc", "meta": {"doctype_value": AV},
                              "claims": [{"path": [AV, "age_over_13"]}]}]}
    status, tx = await family.answer(await family.ask(query), [held])
    assert status == 400 and tx["refused_attempts"][-1]["check"] == "youth.consent_required", tx

    created = await family.ask(query)
    req = await family.request(created)
    asked = await emma.youth.ask(req, key)
    assert asked["claims"] == [[AV, "age_over_13"]]
    await kari.call("POST", f"/guardian/requests/{asked['id']}/approve")
    consent = emma.youth.held(await emma.youth.outcome(asked["id"]), key)
    status, tx = await family.answer(created, [held, consent])
    assert status == 200 and "youth.consent" in tx["checks"], tx
    assert tx["result"]["age_mdoc"][0]["claims"][AV] == {"age_over_13": False}


async def test_relying_party_cannot_turn_the_youth_policy_off(family: Family) -> None:
    kari = await family.guardian("kari")
    emma = await family.child("emma", kari)
    for value in (False, "no"):
        r = await family.http.post("/verifier/rp/transactions", headers=family.rp,
                                   json={"dcql_query": age_query(), "youth_policy": value})
        assert r.status_code == 400 and r.json()["error"] == "invalid_request"
        assert "youth_policy" in r.json()["error_description"]
    status, tx = await family.answer(await family.ask(), [emma.credential])
    assert status == 400 and tx["refused_attempts"][-1]["check"] == "youth.consent_required", tx
