"""Results retention runs as a background task (not only on relying-party API calls); server-sent events are pushed
when this process changes a transaction (no 0.25 s database polling); a transaction whose
single-use response slot is taken but whose outcome is not yet written reads as ``responded``."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.e2e.verifier.conftest import VerifierEnv
from verifier.models import VerTransaction
from verifier.app import verifier_of
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
