"""The guardians' event stream wakes at once when a child asks on another worker (eidcore.events over Redis
pub/sub), not at its next look at the database (issue 12)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from eidcore.oauth import dpop
from eidcore.runtime import Runtime
from lommebok.app import create_root_app
from tests.e2e.conftest import BASE, Stack
from tests.e2e.youth.family import Family
from wallet_api import consent_requests
from wallet_api.holder.provider_client import ProviderClient
from wallet_api.holder.youth import YouthClient


async def _open_stream(stack: Stack, client: ProviderClient, wait: int, chunks: list[tuple[float, bytes]]) -> None:
    """GET /wallet/guardian/events on the stack's own app, recording when each body chunk is sent."""
    path = "/wallet/guardian/events"
    proof = dpop.make_proof(client.key, htm="GET", htu=f"{BASE}{path}", clock=stack.runtime.clock)
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": f"wait={wait}".encode(), "root_path": "",
        "headers": [(b"host", b"localhost:8000"), (b"dpop", proof.encode())], "server": ("localhost", 8000),
        "client": ("127.0.0.1", 50000),
    }
    done = asyncio.Event()
    sent_request = False

    async def receive() -> dict[str, Any]:
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            chunks.append((time.monotonic(), message.get("body", b"")))
            if not message.get("more_body", False):
                done.set()

    await stack.app(scope, receive, send)


async def test_a_request_on_another_worker_wakes_the_stream_at_once(stack: Stack,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    if stack.settings.redis_url is None:
        pytest.skip("events cross workers over Redis; the in-memory bus serves one process")
    # the stream looks at the database only every 30 s here: a wake-up within seconds came over the bus
    monkeypatch.setattr(consent_requests, "POLL_INTERVAL", 30.0)
    family = Family(stack)
    kari = await family.guardian("kari")
    emma = await family.child("emma", kari)
    req = await family.request(await family.ask())

    # a second worker: its own runtime and app on the same database and Redis
    rt2 = Runtime(stack.settings, clock=stack.runtime.clock)
    app2 = create_root_app(stack.settings, runtime=rt2)
    await rt2.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app2), base_url=BASE) as http2:
            chunks: list[tuple[float, bytes]] = []
            stream = asyncio.create_task(_open_stream(stack, kari, 8, chunks))
            await asyncio.sleep(0.5)  # the stream has subscribed and found nothing pending
            assert not any(b"event: request" in body for _, body in chunks)
            on_worker_2 = YouthClient(ProviderClient(http2, stack.url("/wallet"), emma.wallet.key,
                                                     clock=stack.runtime.clock))
            asked_at = time.monotonic()
            asked = await on_worker_2.ask(req, emma.key, relying_party_name="Spill")
            assert asked["status"] == "pending"
            await stream
    finally:
        await rt2.stop()
    woken = [t for t, body in chunks if b"event: request" in body and asked["id"].encode() in body]
    assert woken, chunks
    assert woken[0] - asked_at < 3.0, "the stream waited for its own poll instead of the event bus"
