"""The composition root and each service alone: health, readiness, errors in the spec's form, OpenAPI drift."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from litestar.testing import TestClient

import issuer
import verifier
import wallet_api
from eidcore.runtime import Runtime
from eidcore.settings import Settings
from eidcore.storage import RedisStore
from lommebok.app import create_root_app
from lommebok.openapi import render_all

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", seed_register=False)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    rt = Runtime(settings)
    app = create_root_app(settings, runtime=rt)
    await rt.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost:8000") as c:
            yield c
    finally:
        await rt.stop()


@pytest.mark.parametrize("service", ["issuer", "verifier", "wallet"])
async def test_each_service_answers_health_and_ready(client: httpx.AsyncClient, service: str) -> None:
    r = await client.get(f"/{service}/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    r = await client.get(f"/{service}/ready")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "checks": {"database": "ok", "store": "ok"}}


async def test_landing_page_links_services_and_their_openapi(client: httpx.AsyncClient) -> None:
    r = await client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    for service in ("issuer", "verifier", "wallet"):
        assert f"/{service}/schema/swagger" in r.text
    r = await client.get("/verifier/schema/openapi.json")
    assert r.json()["info"]["title"] == "Lommebok verifier"


async def test_unknown_protocol_path_is_a_spec_error_not_a_500(client: httpx.AsyncClient) -> None:
    r = await client.get("/issuer/no-such-endpoint")
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


async def test_wallet_api_errors_are_problem_details(client: httpx.AsyncClient) -> None:
    r = await client.get("/wallet/no-such-endpoint")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == 404


async def test_ready_reports_an_unreachable_store(settings: Settings) -> None:
    rt = Runtime(settings)
    app = create_root_app(settings, runtime=rt)
    await rt.start()
    healthy_store = rt.store
    rt.store = RedisStore("redis://127.0.0.1:1/0")
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost") as c:
            r = await c.get("/issuer/ready")
            assert r.status_code == 503
            body = r.json()
            assert body["status"] == "unavailable"
            assert body["checks"]["database"] == "ok"
            assert "redis unreachable" in body["checks"]["store"]
            assert (await c.get("/issuer/health")).status_code == 200
    finally:
        await rt.store.close()
        rt.store = healthy_store
        await rt.stop()


@pytest.mark.parametrize("module", [issuer, verifier, wallet_api])
def test_create_app_runs_a_service_alone_with_its_own_lifespan(settings: Settings, module: object) -> None:
    app = module.create_app(settings)  # type: ignore[attr-defined]
    with TestClient(app) as c:
        assert c.get("/health").json() == {"status": "ok"}
        assert c.get("/ready").json()["status"] == "ok"
    assert (settings.data_dir / "keys" / "trust-anchors.pem").exists()


async def test_only_the_chosen_service_is_served(settings: Settings) -> None:
    rt = Runtime(settings)
    app = create_root_app(settings, ["issuer"], runtime=rt)
    await rt.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost") as c:
            assert (await c.get("/issuer/health")).status_code == 200
            assert (await c.get("/verifier/health")).status_code == 404
    finally:
        await rt.stop()


def test_committed_openapi_documents_match_the_code() -> None:
    for name, text in render_all().items():
        committed = ROOT / "specs" / "openapi" / f"{name}.json"
        assert committed.exists(), f"{committed} missing: run `lommebok openapi`"
        assert json.loads(committed.read_text()) == json.loads(text), f"{committed} drifted: run `lommebok openapi`"


def test_every_operation_has_an_operation_id() -> None:
    for name, text in render_all().items():
        for path, ops in json.loads(text)["paths"].items():
            for method, op in ops.items():
                assert op.get("operationId"), f"{name} {method.upper()} {path} has no operationId"


async def test_all_in_one_lifespan_runs_the_mounted_services_hooks(settings: Settings) -> None:
    """Mounted apps get no lifespan of their own: the root's startup starts the verifier's retention task."""
    from verifier.app import verifier_of

    rt = Runtime(settings)
    app = create_root_app(settings, runtime=rt)
    for hook in app.root.on_startup:
        await hook()  # type: ignore[call-arg]
    try:
        task = verifier_of(app)._retention_task
        assert task is not None and not task.done()
    finally:
        for hook in app.root.on_shutdown:
            await hook()  # type: ignore[call-arg]
    assert verifier_of(app)._retention_task is None
    assert not rt.started
