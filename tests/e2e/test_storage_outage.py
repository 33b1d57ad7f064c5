"""A database or Redis lost while running: real endpoints answer 503 with ``Retry-After`` (RFC 9110 §15.6.4,
§10.2.3), in the spec's error form, never a 500.

The storage is made unreachable after start by pointing the running runtime at a port nothing listens on, as a
Redis or PostgreSQL failover would look to the workers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from lommebok_testing import free_port

from eidcore.storage import Database, RedisStore
from tests.e2e.conftest import Stack


def _admin(stack: Stack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.runtime.admin_tokens['issuer']}"}


@pytest.fixture
async def redis_lost(stack: Stack) -> AsyncIterator[Stack]:
    """The stack, with its Redis gone (the running runtime now talks to a closed port)."""
    rt = stack.runtime
    kept = rt.store
    rt.store = RedisStore(f"redis://127.0.0.1:{free_port()}/0", namespace="lost")
    try:
        yield stack
    finally:
        await rt.store.close()
        rt.store = kept


@pytest.fixture
async def database_lost(stack: Stack) -> AsyncIterator[Stack]:
    """The stack, with its PostgreSQL gone."""
    rt = stack.runtime
    kept = rt.db
    rt.db = Database(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/test")
    try:
        yield stack
    finally:
        await rt.db.dispose()
        rt.db = kept


async def test_a_lost_redis_answers_503_with_retry_after_on_the_issuer(redis_lost: Stack) -> None:
    # the pre-authorized code is taken from the store (atomic consume)
    r = await redis_lost.client.post("/issuer/token", data={
        "grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code", "pre-authorized_code": "x" * 43})
    assert r.status_code == 503, r.text
    assert r.headers.get("retry-after") == "1"
    assert r.json()["error"] == "temporarily_unavailable"


async def test_a_lost_redis_answers_503_with_retry_after_on_the_wallet_api(redis_lost: Stack) -> None:
    r = await redis_lost.client.post("/wallet/instances/challenge")
    assert r.status_code == 503, r.text
    assert r.headers.get("retry-after") == "1"
    assert r.json()["type"].endswith("temporarily_unavailable")


async def test_a_lost_database_answers_503_with_retry_after(database_lost: Stack) -> None:
    r = await database_lost.client.post("/issuer/admin/offers", headers=_admin(database_lost),
                                        json={"person": "amir", "credential_configuration_ids": ["pid_vc_sd_jwt"]})
    assert r.status_code == 503, r.text
    assert r.headers.get("retry-after") == "1"
    assert r.json()["error"] == "temporarily_unavailable"


async def test_readiness_names_the_lost_store(redis_lost: Stack) -> None:
    r = await redis_lost.client.get("/issuer/ready")
    assert r.status_code == 503
    assert r.headers.get("retry-after") == "1"
    assert r.json()["checks"]["store"].startswith("redis unreachable")
