"""The one admin guard (eidcore.admin_auth): the operator's token holds every scope, a peer's credential only the
scopes the called service grants it; RFC 6750 §3.1 answers (401 invalid_token, 403 insufficient_scope)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar import Request, post
from litestar.testing import AsyncTestClient

from eidcore.admin_auth import AdminCaller, admin_caller, admin_guard
from eidcore.errors import ConfigurationError
from eidcore.runtime import Runtime
from eidcore.settings import Settings
from eidcore.web import service_app


@post("/admin/things", guards=[admin_guard("issuer", "things")], status_code=200, sync_to_thread=False)
def things(request: Request) -> dict[str, str]:  # type: ignore[type-arg]
    caller = admin_caller(request)
    return {"caller": caller.name}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[tuple[AsyncTestClient, Runtime]]:  # type: ignore[type-arg]
    rt = Runtime(Settings(data_dir=tmp_path / "var", seed_register=False))
    rt.allow_peer("issuer", "wallet", frozenset({"things:own"}))
    app = service_app(name="issuer", title="t", description="t", rt=rt, own_runtime=True,
                      make_handlers=lambda _: [things], mount_path="/issuer")
    async with AsyncTestClient(app) as c:
        yield c, rt


async def test_the_operator_token_holds_every_scope(client: tuple[AsyncTestClient, Runtime]) -> None:  # type: ignore[type-arg]
    c, rt = client
    r = await c.post("/admin/things", headers={"Authorization": f"Bearer {rt.admin_tokens['issuer']}"})
    assert r.status_code == 200 and r.json() == {"caller": "operator"}


async def test_a_peer_without_the_scope_is_refused_403(client: tuple[AsyncTestClient, Runtime]) -> None:  # type: ignore[type-arg]
    c, rt = client
    r = await c.post("/admin/things", headers={"Authorization": f"Bearer {rt.peer_token('wallet', 'issuer')}"})
    assert r.status_code == 403 and r.json()["error"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in r.headers["www-authenticate"]


async def test_a_peer_with_the_scope_is_let_in_as_itself(client: tuple[AsyncTestClient, Runtime]) -> None:  # type: ignore[type-arg]
    c, rt = client
    rt.allow_peer("issuer", "wallet", frozenset({"things"}))
    r = await c.post("/admin/things", headers={"Authorization": f"Bearer {rt.peer_token('wallet', 'issuer')}"})
    assert r.status_code == 200 and r.json() == {"caller": "wallet"}


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc", "Bearer "])
async def test_missing_or_unknown_tokens_get_401_with_www_authenticate(
        client: tuple[AsyncTestClient, Runtime], header: str | None) -> None:  # type: ignore[type-arg]
    c, _ = client
    r = await c.post("/admin/things", headers={"Authorization": header} if header else {})
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    assert r.headers["www-authenticate"].startswith("Bearer")


async def test_another_services_operator_token_opens_nothing(client: tuple[AsyncTestClient, Runtime]) -> None:  # type: ignore[type-arg]
    c, rt = client
    r = await c.post("/admin/things", headers={"Authorization": f"Bearer {rt.admin_tokens['wallet']}"})
    assert r.status_code == 401


def test_one_token_for_every_admin_api_is_refused_and_peers_never_hold_every_scope(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="LOMMEBOK_ISSUER_ADMIN_TOKEN"):
        Runtime(Settings(data_dir=tmp_path / "var", admin_token="x" * 40))._dev_admin_tokens()
    rt = Runtime(Settings(data_dir=tmp_path / "var"))
    rt._dev_admin_tokens()
    tokens = {*rt.admin_tokens.values(), rt.peer_token("wallet", "issuer")}
    assert len(tokens) == 4  # each admin API its own token, the wallet provider its own credential
    with pytest.raises(ConfigurationError):
        rt.allow_peer("issuer", "wallet", frozenset({"*"}))
    assert AdminCaller("operator", frozenset({"*"})).allows("anything")
    assert not AdminCaller("wallet", frozenset({"a"})).allows("b")
