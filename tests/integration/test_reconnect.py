"""A database restart costs at most one failed request (503, never a 500); the next one reconnects."""

from __future__ import annotations

import asyncpg
import pytest
from litestar import Litestar, get
from litestar.testing import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError

from eidcore.storage import Database
from eidcore.web import error_handlers

pytestmark = pytest.mark.postgres


async def test_connections_killed_by_the_server_are_replaced(postgres_url: str) -> None:
    db = Database(postgres_url)
    try:
        async with db.engine.connect() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar() == 1
        # the server drops every connection of this database (as a restart or failover would)
        admin = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await admin.close()
        failures = 0
        for _ in range(3):
            try:
                async with db.engine.connect() as conn:
                    assert (await conn.execute(text("SELECT 1"))).scalar() == 1
            except DBAPIError as exc:
                assert exc.connection_invalidated
                failures += 1
        assert failures <= 1
    finally:
        await db.dispose()


@pytest.mark.parametrize("style", ["oauth", "problem"])
def test_lost_storage_is_503_not_500(style: str) -> None:
    @get("/db", sync_to_thread=False)
    def broken_db() -> None:
        raise OperationalError("SELECT 1", {}, ConnectionResetError("server closed the connection"))

    @get("/redis", sync_to_thread=False)
    def broken_redis() -> None:
        from redis.exceptions import ConnectionError as RedisConnectionError

        raise RedisConnectionError("Connection refused")

    @get("/bug", sync_to_thread=False)
    def bug() -> None:
        raise KeyError("x")

    app = Litestar([broken_db, broken_redis, bug], exception_handlers=error_handlers(style))  # type: ignore[arg-type]
    with TestClient(app) as c:
        for path in ("/db", "/redis"):
            r = c.get(path)
            assert r.status_code == 503 and r.headers["retry-after"] == "1"
            body = r.json()
            assert (body["error"] if style == "oauth" else body["type"]).endswith("temporarily_unavailable")
        r = c.get("/bug")
        assert r.status_code == 500 and "KeyError" not in r.text
