"""A guardian registers a child's wallet only with proof from the child's device (issue "Close the holes a security
test found", item 1): the one-time pairing code the child's wallet shows. Knowing the instance id is not enough; a
wrong, expired or reused code is refused with problem details and binds nothing; guessing is attempt-limited.
On SQLite + in-memory store and on PostgreSQL + Redis (the ``stack`` fixture)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.e2e.conftest import Stack
from tests.e2e.youth.family import Family
from wallet_api.holder.provider_client import ProviderClient
from wallet_api.holder.youth import YouthClient, register_child_wallet
from wallet_api.models import WalInstance, YouthWallet
from wallet_api.youth_wallets import PAIRING_MAX_ATTEMPTS, PAIRING_TTL


@pytest.fixture
def family(stack: Stack) -> Family:
    return Family(stack)


def refused(resp: httpx.Response, code: str = "invalid_pairing_code", status: int = 400) -> None:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["type"] == f"urn:lommebok:error:{code}", resp.text


async def nothing_bound(family: Family, instance_id: str) -> None:
    async with family.rt.db.session() as s:
        inst = await s.get(WalInstance, instance_id)
        assert inst is not None and inst.person_id is None and inst.bound_by is None and inst.version == 1
        assert await s.get(YouthWallet, instance_id) is None


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


async def register(guardian: ProviderClient, child_id: str, body: dict[str, object]) -> httpx.Response:
    """The guardian's registration call with what the child's phone shows (instance id and code)."""
    body = {k: v for k, v in body.items() if k in ("instance_id", "pairing_code")}
    return await guardian.call("POST", f"/guardian/children/{child_id}/wallets", json=body, expect=(400, 201, 409))


async def test_guardian_cannot_register_a_wallet_by_its_instance_id_alone(family: Family) -> None:
    kari = await family.guardian("kari")
    emma_id = await family.person_id("emma")
    _, view = await family.new_wallet()  # somebody's unbound phone whose instance id kari learnt
    r = await register(kari, emma_id, {"instance_id": view["id"]})
    refused(r, "invalid_request")
    assert "pairing_code" in r.json()["detail"]
    await nothing_bound(family, view["id"])
    r = await register(kari, emma_id, {"instance_id": view["id"], "pairing_code": "00000000"})
    refused(r)  # no code was ever shown by that phone
    await nothing_bound(family, view["id"])


async def test_wrong_or_other_instances_pairing_code_is_refused_and_binds_nothing(family: Family) -> None:
    kari = await family.guardian("kari")
    emma_id = await family.person_id("emma")
    phone, view = await family.new_wallet()
    shown = await YouthClient(phone).pairing_code()
    assert shown["instance_id"] == view["id"] and len(shown["pairing_code"]) == 8 and shown["expires_in"] == PAIRING_TTL
    refused(await register(kari, emma_id, {"instance_id": view["id"], "pairing_code": wrong(shown["pairing_code"])}))
    # the code another phone shows does not bind this one
    other, other_view = await family.new_wallet()
    other_code = await YouthClient(other).pairing_code()
    refused(await register(kari, emma_id, {"instance_id": view["id"], "pairing_code": other_code["pairing_code"]}))
    await nothing_bound(family, view["id"])
    await nothing_bound(family, other_view["id"])
    # an unknown instance id answers the same (no oracle for instance ids)
    refused(await register(kari, emma_id, {"instance_id": "no-such-instance", "pairing_code": "12345678"}))


async def test_expired_pairing_code_is_refused(family: Family) -> None:
    kari = await family.guardian("kari")
    emma_id = await family.person_id("emma")
    phone, view = await family.new_wallet()
    shown = await YouthClient(phone).pairing_code()
    family.rt.clock.advance(PAIRING_TTL + 1)
    refused(await register(kari, emma_id, shown))
    await nothing_bound(family, view["id"])


async def test_right_pairing_code_binds_once_and_cannot_be_reused(family: Family) -> None:
    kari, ola = await family.guardian("kari"), await family.guardian("ola")
    emma_id, jonas_id = await family.person_id("emma"), await family.person_id("jonas")
    phone, view = await family.new_wallet()
    shown = await YouthClient(phone).pairing_code()
    out = await register_child_wallet(kari, emma_id, shown)
    assert out["id"] == view["id"] and out["registered_by_me"] is True
    async with family.rt.db.session() as s:
        inst = await s.get(WalInstance, view["id"])
        assert inst is not None and inst.person_id == emma_id and inst.bound_by == "guardian"
        row = await s.get(YouthWallet, view["id"])
        assert row is not None and row.child_id == emma_id
    # reused: by the same guardian, by the other guardian, for another child
    refused(await register(kari, emma_id, shown))
    refused(await register(ola, emma_id, shown))
    refused(await register(ola, jonas_id, shown))
    async with family.rt.db.session() as s:
        inst = await s.get(WalInstance, view["id"])
        assert inst is not None and inst.person_id == emma_id


async def test_two_guardians_racing_with_one_code_bind_once(family: Family) -> None:
    kari, ola = await family.guardian("kari"), await family.guardian("ola")
    jonas_id = await family.person_id("jonas")
    phone, _ = await family.new_wallet()
    shown = await YouthClient(phone).pairing_code()
    a, b = await asyncio.gather(register(kari, jonas_id, shown), register(ola, jonas_id, shown))
    assert sorted([a.status_code, b.status_code]) == [201, 400], (a.text, b.text)


async def test_guessing_the_pairing_code_is_attempt_limited(family: Family) -> None:
    kari = await family.guardian("kari")
    emma_id = await family.person_id("emma")
    phone, view = await family.new_wallet()
    child = YouthClient(phone)
    shown = await child.pairing_code()
    guess = shown["pairing_code"]
    for _ in range(PAIRING_MAX_ATTEMPTS):
        guess = wrong(guess)
        if guess == shown["pairing_code"]:
            guess = wrong(guess)
        refused(await register(kari, emma_id, {"instance_id": view["id"], "pairing_code": guess}))
    # the limit is reached: even the right code no longer binds
    refused(await register(kari, emma_id, shown))
    await nothing_bound(family, view["id"])
    # the child's wallet shows a new code, which works (a fresh attempt budget)
    again = await child.pairing_code()
    assert (await register(kari, emma_id, again)).status_code == 201


async def test_a_new_pairing_code_replaces_the_old_one(family: Family) -> None:
    kari = await family.guardian("kari")
    emma_id = await family.person_id("emma")
    phone, view = await family.new_wallet()
    child = YouthClient(phone)
    first = await child.pairing_code()
    second = await child.pairing_code()
    if first["pairing_code"] != second["pairing_code"]:
        refused(await register(kari, emma_id, first))
        await nothing_bound(family, view["id"])
    assert (await register(kari, emma_id, second)).status_code == 201
