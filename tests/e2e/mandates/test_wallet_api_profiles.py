"""The wallet API keeps a work profile (SQLite/memory and PostgreSQL/Redis): transaction-log entries carry a
profile (``private`` by default, or ``work``) and can be listed per profile; encrypted backups are kept per profile
(``PUT|GET /wallet/backup?profile=work``), each with its own version and ETag."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime
from typing import Any

import pytest

from eidcore import jose
from eidcore.clock import SYSTEM_CLOCK
from eidcore.errors import RemoteProblem
from tests.e2e.conftest import BASE, Stack
from wallet_api.device_attestation import load_or_create_device_maker
from wallet_api.holder.provider_client import ProviderClient


async def _client(stack: Stack) -> ProviderClient:
    c = ProviderClient(stack.client, f"{BASE}/wallet", jose.generate_signing_key())
    await c.register(load_or_create_device_maker(stack.settings.effective_keys_dir, clock=SYSTEM_CLOCK))
    return c


def _entry(rp: str, **extra: Any) -> dict[str, Any]:
    return {"relying_party": rp, "credential_types": ["urn:eudi:pid:1"], "claims": ["given_name"],
            "shared_at": datetime.now(UTC).isoformat(), **extra}


def _blob() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(64)).decode().rstrip("=")


async def test_transactions_carry_a_profile_and_filter_by_it(stack: Stack) -> None:
    c = await _client(stack)
    assert (await c.record_transaction(_entry("x509_hash:a")))["profile"] == "private"
    assert (await c.record_transaction(_entry("x509_hash:b", profile="work")))["profile"] == "work"
    assert (await c.record_transaction(_entry("x509_hash:c", profile="private")))["profile"] == "private"
    assert [e["relying_party"] for e in await c.transactions(profile="work")] == ["x509_hash:b"]
    assert [e["relying_party"] for e in await c.transactions(profile="private")] == ["x509_hash:c", "x509_hash:a"]
    assert [e["profile"] for e in await c.transactions()] == ["private", "work", "private"]
    # the filter pages like the whole log
    page = (await c.call("GET", "/transactions", params={"profile": "private", "limit": 1})).json()
    assert [e["relying_party"] for e in page["items"]] == ["x509_hash:c"]
    rest = (await c.call("GET", "/transactions", params={"profile": "private", "cursor": page["next_cursor"]})).json()
    assert [e["relying_party"] for e in rest["items"]] == ["x509_hash:a"] and rest["next_cursor"] is None


async def test_an_unknown_profile_is_refused(stack: Stack) -> None:
    c = await _client(stack)
    with pytest.raises(RemoteProblem) as exc:
        await c.record_transaction(_entry("x509_hash:a", profile="hobby"))
    assert exc.value.http_status == 400
    with pytest.raises(RemoteProblem) as exc:
        await c.transactions(profile="hobby")
    assert exc.value.http_status == 400
    with pytest.raises(RemoteProblem) as exc:
        await c.put_backup(_blob(), profile="hobby")
    assert exc.value.http_status == 400
    with pytest.raises(RemoteProblem) as exc:
        await c.get_backup(profile="Work")
    assert exc.value.http_status == 400
    assert await c.transactions() == []


async def test_backups_are_kept_per_profile(stack: Stack) -> None:
    c = await _client(stack)
    private, work = _blob(), _blob()
    assert (await c.put_backup(private))["profile"] == "private"
    assert await c.get_backup(profile="work") is None
    stored = await c.put_backup(work, profile="work")
    assert stored["profile"] == "work" and stored["version"] == 1
    got_private, got_work = await c.get_backup(), await c.get_backup(profile="work")
    assert got_private is not None and got_private["ciphertext"] == private
    assert got_work is not None and got_work["ciphertext"] == work and got_work["profile"] == "work"
    # each profile has its own version and ETag: updating work leaves private as it was
    newer = _blob()
    assert (await c.put_backup(newer, profile="work", if_match='"v1"'))["version"] == 2
    with pytest.raises(RemoteProblem) as exc:
        await c.put_backup(_blob(), profile="work", if_match='"v1"')
    assert exc.value.http_status == 412
    r = await c.call("GET", "/backup")
    assert r.headers["ETag"] == '"v1"' and r.json()["ciphertext"] == private
    r = await c.call("GET", "/backup", params={"profile": "work"})
    assert r.headers["ETag"] == '"v2"' and r.json()["ciphertext"] == newer
    r = await c.call("GET", "/backup", params={"profile": "work"}, headers={"If-None-Match": '"v2"'}, expect=(304,))
    assert r.status_code == 304
    with pytest.raises(RemoteProblem) as exc:
        await c.call("PUT", "/backup", json={"ciphertext": _blob()}, params={"profile": "work"},
                     headers={"If-None-Match": "*"})
    assert exc.value.http_status == 412
    # another person's wallet sees neither
    stranger = await _client(stack)
    assert await stranger.get_backup() is None and await stranger.get_backup(profile="work") is None
