"""Shared fixtures: the same tests run against the embedded defaults (SQLite, in-memory store) and against
real PostgreSQL and Redis.

PostgreSQL and Redis are found through ``LOMMEBOK_TEST_POSTGRES_URL`` / ``LOMMEBOK_TEST_REDIS_URL``, or at
their default local addresses. Where they do not answer, those parametrizations skip with the reason, unless
``LOMMEBOK_TEST_REQUIRE_SERVICES=1`` (as ``.ci/run`` sets), which turns the skip into a failure.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import secrets
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from hypothesis import settings as hypothesis_settings

from eidcore.storage import Database, KeyValueStore, MemoryStore, RedisStore, ServiceSchema
from issuer.migrations import SCHEMA as ISSUER_SCHEMA
from verifier.migrations import SCHEMA as VERIFIER_SCHEMA
from wallet_api.migrations import SCHEMA as WALLET_SCHEMA

#: every service's tables: the databases the fixtures hand out are migrated for the whole stack
SERVICE_SCHEMAS: tuple[ServiceSchema, ...] = (ISSUER_SCHEMA, VERIFIER_SCHEMA, WALLET_SCHEMA)

# No per-example deadline: CI machines are shared and slow examples are not failures of the property.
hypothesis_settings.register_profile("lommebok", deadline=None, print_blob=True)
hypothesis_settings.load_profile("lommebok")

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
REQUIRE = os.environ.get("LOMMEBOK_TEST_REQUIRE_SERVICES") == "1"


def _answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), 1):
            return True
    except OSError:
        return False


def _unavailable(what: str, url: str) -> None:
    msg = f"{what} not reachable at {url} (set LOMMEBOK_TEST_{what.upper()}_URL)"
    if REQUIRE:
        pytest.fail(msg + " and LOMMEBOK_TEST_REQUIRE_SERVICES=1")
    pytest.skip(msg)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (dropped at the end), as an asyncpg URL."""
    base = os.environ.get("LOMMEBOK_TEST_POSTGRES_URL", DEFAULT_PG)
    if not _answers(base, 5432):
        _unavailable("postgres", base)
    import asyncpg

    name = f"lommebok_test_{secrets.token_hex(4)}"
    plain = base.replace("postgresql+asyncpg://", "postgresql://")

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(plain)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    _run(admin(f'CREATE DATABASE "{name}"'))
    parts = urlsplit(plain)
    url = urlunsplit(("postgresql+asyncpg", parts.netloc, f"/{name}", "", ""))
    migrated = Database(url, schemas=SERVICE_SCHEMAS)
    _run(_migrate_and_dispose(migrated))
    yield url
    _run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _run(coro: Any) -> Any:
    """Run a coroutine to completion from sync code, even when an event loop is already running here."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _migrate_and_dispose(db: Database) -> None:
    await db.migrate()
    await db.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("LOMMEBOK_TEST_REDIS_URL", DEFAULT_REDIS)
    if not _answers(url, 6379):
        _unavailable("redis", url)
    return url


async def _truncate_all(db: Database) -> None:
    from sqlalchemy import text

    tables = [t.name for t in db.tables()]
    if tables:
        async with db.engine.begin() as conn:
            await conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))


@pytest.fixture
def clean_postgres_url(postgres_url: str) -> str:
    """The session's PostgreSQL database with every table emptied (for tests that start a whole runtime)."""

    async def clean() -> None:
        database = Database(postgres_url, schemas=SERVICE_SCHEMAS)
        try:
            await _truncate_all(database)
        finally:
            await database.dispose()

    _run(clean())
    return postgres_url


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Database]:
    """A migrated, empty database: SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "lommebok.db"
        database = Database(f"sqlite+aiosqlite:///{path}", schemas=SERVICE_SCHEMAS)
        await database.migrate()
    else:
        url = request.getfixturevalue("postgres_url")
        database = Database(url, schemas=SERVICE_SCHEMAS)
        await _truncate_all(database)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[KeyValueStore]:
    """An empty key-value store: in-memory, then Redis (a unique namespace per test)."""
    ns = f"test-{secrets.token_hex(6)}"
    kv: KeyValueStore
    if request.param == "memory":
        kv = MemoryStore(namespace=ns)
    else:
        kv = RedisStore(request.getfixturevalue("redis_url"), namespace=ns)
    try:
        yield kv
    finally:
        await kv.close()
