"""Wallet instances for the wallet provider's end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from eidcore import jose
from eidcore.clock import SYSTEM_CLOCK
from eidcore.runtime import Runtime
from eidcore.settings import IssuerSettings, Settings
from lommebok.app import create_root_app
from wallet_api.device_attestation import DeviceMaker, load_or_create_device_maker
from wallet_api.holder.provider_client import ProviderClient

BASE = "http://localhost:8000"


@dataclass
class Stack:
    """The same shape as ``tests/e2e/conftest.py``'s ``Stack`` (settings, runtime, app, client)."""

    settings: Settings
    runtime: Runtime
    app: Any
    client: httpx.AsyncClient

    def url(self, path: str) -> str:
        return f"{BASE}{path}"

NewWallet = Callable[[], Awaitable[tuple[ProviderClient, dict[str, Any]]]]


def device_maker(stack: Stack) -> DeviceMaker:
    return load_or_create_device_maker(stack.settings.effective_keys_dir, clock=SYSTEM_CLOCK)


def client_for(stack: Stack, key: jose.SigningKey | None = None) -> ProviderClient:
    return ProviderClient(stack.client, stack.url("/wallet"), key or jose.generate_signing_key())


@pytest.fixture
def new_wallet(stack: Stack) -> NewWallet:
    """Register a fresh wallet instance (dev device attestation) and return its client and view."""

    async def make() -> tuple[ProviderClient, dict[str, Any]]:
        c = client_for(stack)
        view = await c.register(device_maker(stack))
        return c, view

    return make


@pytest.fixture(params=["sqlite-memory", "postgres-redis"])
async def clocked_stack(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    """The full stack (as ``stack``) on a clock the test can move forward (``stack.runtime.clock.advance``), with
    the issuer requiring a wallet attestation."""
    from lommebok.demo import OffsetClock

    overrides: dict[str, Any] = {}
    if request.param == "postgres-redis":
        overrides = {"database_url": request.getfixturevalue("clean_postgres_url"),
                     "redis_url": request.getfixturevalue("redis_url")}
    settings = Settings(data_dir=tmp_path / "var", public_base_url=BASE,
                        issuer=IssuerSettings(require_wallet_attestation=True), **overrides)
    rt = Runtime(settings, clock=OffsetClock())
    app: Any = create_root_app(settings, runtime=rt)
    rt.route_outbound(httpx.ASGITransport(app=app))
    await rt.start()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
    try:
        yield Stack(settings, rt, app, client)
    finally:
        await client.aclose()
        await rt.stop()


#: the status list ttl of ``attesting_stack`` (LOMMEBOK_STATUS_LIST_TTL): short, so a test can wait it out for real
ATTESTING_STACK_TTL = 1


@pytest.fixture(params=["sqlite-memory", "postgres-redis"])
async def attesting_stack(request: pytest.FixtureRequest, tmp_path: Path,
                          monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    """The ``stack`` fixture's stack (``tests/e2e/conftest.py`` ``make_stack``, real clock) with the issuer's
    ``require_wallet_attestation`` set in its settings and a status list ttl of :data:`ATTESTING_STACK_TTL`."""
    from tests.e2e.conftest import make_stack

    monkeypatch.setenv("LOMMEBOK_STATUS_LIST_TTL", str(ATTESTING_STACK_TTL))
    overrides: dict[str, Any] = {"issuer": IssuerSettings(require_wallet_attestation=True)}
    if request.param == "postgres-redis":
        overrides.update(database_url=request.getfixturevalue("clean_postgres_url"),
                         redis_url=request.getfixturevalue("redis_url"))
    s, rt = await make_stack(tmp_path, **overrides)
    try:
        yield s
    finally:
        await s.client.aclose()
        await rt.stop()
