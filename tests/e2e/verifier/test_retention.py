"""Results retention runs as a background task (not only on relying-party API calls); server-sent events are pushed
when this process changes a transaction (no 0.25 s database polling); a transaction whose
single-use response slot is taken but whose outcome is not yet written reads as ``responded``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.e2e.verifier.conftest import VerifierEnv
from verifier.app import verifier_of
from verifier.models import VerTransaction
from wallet_api.holder import vp


async def test_background_task_deletes_results_past_the_retention_period(env: VerifierEnv) -> None:
    svc = verifier_of(env.stack.app)
    keep = await env.create(profile="pid-basic", params={"format": "dc+sd-jwt"}, response_mode="direct_post")
    old = await env.create(profile="pid-basic", params={"format": "dc+sd-jwt"}, response_mode="direct_post")
    for created in (keep, old):
        r = await vp.present(env.client, created["authorization_request"], [env.sd_jwt("pid")],
                             trust_anchors=env.anchors)
        assert r.status_code == 200, r.body
    retention = env.rt.settings.verifier.result_retention_seconds
    async with env.rt.db.session() as s:
        row = await s.get(VerTransaction, old["transaction_id"])
        assert row is not None and row.result is not None and row.finished_at is not None
        row.finished_at -= retention + 5
        s.add(row)
        await s.commit()
    await svc.stop_retention()
    svc.retention_interval = 0.05
    svc.start_retention()
    try:
        for _ in range(100):
            await asyncio.sleep(0.05)
            async with env.rt.db.session() as s:
                if await s.get(VerTransaction, old["transaction_id"]) is None:
                    break
        async with env.rt.db.session() as s:
            assert await s.get(VerTransaction, old["transaction_id"]) is None, "past retention: deleted"
            assert await s.get(VerTransaction, keep["transaction_id"]) is not None, "within retention: kept"
    finally:
        await svc.stop_retention()


async def test_a_response_being_validated_reads_as_responded(env: VerifierEnv) -> None:
    created = await env.create(profile="pid-basic")
    assert (await env.read(created["transaction_id"]))["status"] == "pending"
    # what handle_response does first: take the single-use response slot
    assert await env.rt.store.consume(f"ver:resp:{created['transaction_id']}") is not None
    assert (await env.read(created["transaction_id"]))["status"] == "responded"


async def test_events_are_pushed_when_the_response_arrives(env: VerifierEnv) -> None:
    svc = verifier_of(env.stack.app)
    svc.event_poll_seconds = 60.0  # without the in-process wake-up the stream would wait a minute
    created = await env.create(profile="pid-basic", params={"format": "dc+sd-jwt"}, response_mode="direct_post")
    tx_id = created["transaction_id"]
    loop = asyncio.get_running_loop()
    start = loop.time()
    stream = asyncio.create_task(env.client.get(f"/verifier/rp/transactions/{tx_id}/events", headers=env.auth()))
    await asyncio.sleep(0.2)  # the stream has sent "pending" and waits
    assert not stream.done()
    r = await vp.present(env.client, created["authorization_request"], [env.sd_jwt("pid")],
                         trust_anchors=env.anchors)
    assert r.status_code == 200
    events = await asyncio.wait_for(stream, 10)
    assert loop.time() - start < 10
    statuses = [line for line in events.text.splitlines() if line.startswith("data:")]
    assert '"status": "pending"' in statuses[0] and '"status": "validated"' in statuses[-1]
    assert "Fjellheim" not in events.text


async def test_a_response_on_another_worker_wakes_the_stream(env: VerifierEnv) -> None:
    """Two workers on one database and one Redis: the wallet's response reaches the second, the relying party's
    event stream (held open by the first) wakes at once through ``rt.events`` (Redis pub/sub)."""
    import httpx

    from eidcore.runtime import Runtime
    from lommebok.app import create_root_app

    settings = env.stack.settings
    if settings.redis_url is None:
        pytest.skip("one process without Redis: the in-memory event bus serves that process only")
    verifier_of(env.stack.app).event_poll_seconds = 60.0  # only the event can wake the stream in time
    other_rt = Runtime(settings, clock=env.rt.clock)
    other_rt.route_outbound(env.rt.outbound_transport)  # type: ignore[arg-type]
    other = create_root_app(settings, ("verifier",), runtime=other_rt)
    await other_rt.start()
    try:
        other_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url=str(env.client.base_url))
        created = await env.create(profile="pid-basic", params={"format": "dc+sd-jwt"}, response_mode="direct_post")
        tx_id = created["transaction_id"]
        loop = asyncio.get_running_loop()
        stream = asyncio.create_task(env.client.get(f"/verifier/rp/transactions/{tx_id}/events",
                                                    headers=env.auth()))
        await asyncio.sleep(0.3)  # the stream on the first worker has sent "pending" and waits
        assert not stream.done()
        start = loop.time()
        r = await vp.present(other_client, created["authorization_request"], [env.sd_jwt("pid")],
                             trust_anchors=env.anchors)
        assert r.status_code == 200, r.text
        events = await asyncio.wait_for(stream, 10)
        assert loop.time() - start < 10
        statuses = [line for line in events.text.splitlines() if line.startswith("data:")]
        assert '"status": "validated"' in statuses[-1]
        await other_client.aclose()
    finally:
        await other_rt.stop()


async def test_the_standalone_app_runs_retention_from_its_lifespan(tmp_path: Path) -> None:
    from litestar.testing import AsyncTestClient

    from eidcore.settings import Settings
    from verifier.app import create_app

    app = create_app(Settings(data_dir=tmp_path / "var", seed_register=False))
    rt = app.state.runtime
    async with AsyncTestClient(app=app) as client:
        svc = verifier_of(app)
        task = svc._retention_task
        assert task is not None and not task.done(), "started with the app, before any request"
        assert (await client.get("/health")).status_code == 200
    assert task.done() and svc._retention_task is None, "stopped with the app"
    assert not rt.started
