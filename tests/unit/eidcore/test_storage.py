"""Key-value store and database behaviour, on the embedded defaults and on Redis / PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from eidcore.errors import ConfigurationError, StorageUnavailable
from eidcore.storage import Database, KeyValueStore, MemoryStore, RedisStore


async def test_consume_returns_value_once(store: KeyValueStore) -> None:
    assert await store.put("nonce:a", b"v1", ttl=60)
    assert await store.consume("nonce:a") == b"v1"
    assert await store.consume("nonce:a") is None
    assert await store.get("nonce:a") is None


async def test_concurrent_consumers_get_the_value_at_most_once(store: KeyValueStore) -> None:
    await store.put("code", b"secret", ttl=60)
    results = await asyncio.gather(*(store.consume("code") for _ in range(50)))
    assert [r for r in results if r is not None] == [b"secret"]


async def test_put_only_if_absent(store: KeyValueStore) -> None:
    assert await store.put("jti:1", b"x", ttl=60, only_if_absent=True)
    assert not await store.put("jti:1", b"y", ttl=60, only_if_absent=True)
    assert await store.get("jti:1") == b"x"


async def test_counter_increments(store: KeyValueStore) -> None:
    assert [await store.incr("attempts", ttl=60) for _ in range(3)] == [1, 2, 3]
    await store.delete("attempts")
    assert await store.incr("attempts", ttl=60) == 1


async def test_memory_store_expires_values() -> None:
    now = [1000.0]
    kv = MemoryStore(_now=lambda: now[0])
    await kv.put("k", b"v", ttl=10)
    now[0] += 9.9
    assert await kv.get("k") == b"v"
    now[0] += 0.2
    assert await kv.consume("k") is None


@pytest.mark.redis
async def test_redis_value_expires(redis_url: str) -> None:
    kv = RedisStore(redis_url, namespace="test-expiry")
    try:
        await kv.put("k", b"v", ttl=1)
        await asyncio.sleep(1.2)
        assert await kv.get("k") is None
    finally:
        await kv.close()


async def test_unreachable_redis_is_a_clear_error() -> None:
    kv = RedisStore("redis://127.0.0.1:1/0")
    try:
        with pytest.raises(StorageUnavailable, match="redis unreachable"):
            await kv.ping()
    finally:
        await kv.close()


async def test_database_answers_and_migrations_are_idempotent(db: Database) -> None:
    await db.ping()
    await db.migrate()
    await db.migrate()


async def test_unreachable_postgres_is_a_clear_error() -> None:
    bad = Database("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        with pytest.raises(StorageUnavailable, match="database unreachable"):
            await bad.ping()
    finally:
        await bad.dispose()


def test_bad_database_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        Database("mysql+nodriver://x/y")
