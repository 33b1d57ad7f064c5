"""The whole stack in one process for end-to-end tests over HTTP.

``stack`` runs the three services (the all-in-one app) on SQLite + in-memory store, then on PostgreSQL +
Redis, on an :class:`~eidcore.clock.OffsetClock` (``stack.runtime.clock.advance(s)`` moves time forward).
``stack.client`` speaks HTTP to it in-process (base URL ``http://localhost:8000``), and the services' own
outbound HTTP (status lists, the issuer's admin API) is routed to the same app.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from eidcore.clock import OffsetClock
from eidcore.runtime import Runtime
from eidcore.settings import Settings
from lommebok.app import Dispatcher, create_root_app

BASE = "http://localhost:8000"


@dataclass
class Stack:
    settings: Settings
    runtime: Runtime
    app: Dispatcher
    client: httpx.AsyncClient

    def url(self, path: str) -> str:
        return f"{BASE}{path}"


async def make_stack(tmp: Path, **overrides: object) -> tuple[Stack, Runtime]:
    settings = Settings(data_dir=tmp / "var", public_base_url=BASE, **overrides)  # type: ignore[arg-type]
    rt = Runtime(settings, clock=OffsetClock())  # wall time that tests can move forward (ttls, expiries)
    app = create_root_app(settings, runtime=rt)
    rt.route_outbound(httpx.ASGITransport(app=app))
    await rt.start()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
    return Stack(settings, rt, app, client), rt


@pytest.fixture(params=["sqlite-memory", "postgres-redis"])
async def stack(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stack]:
    """The full stack, seeded with the synthetic register."""
    overrides: dict[str, object] = {}
    if request.param == "postgres-redis":
        pg = request.getfixturevalue("clean_postgres_url")
        overrides = {"database_url": pg, "redis_url": request.getfixturevalue("redis_url")}
    s, rt = await make_stack(tmp_path, **overrides)
    try:
        yield s
    finally:
        await s.client.aclose()
        await rt.stop()


@pytest.fixture
def unique() -> str:
    return secrets.token_hex(4)
