"""The loopback redirect listener (RFC 8252 §7.3) of the CLI wallet's authorization code flow."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from eidcore.errors import AccessDenied
from wallet_api.holder.login import LoopbackLogin


async def test_loopback_listens_on_127_0_0_1_and_returns_the_redirect() -> None:
    shown: list[str] = []
    login = LoopbackLogin(shown.append, timeout=10)
    uri = await login.start()
    assert uri.startswith("http://127.0.0.1:") and uri.endswith("/callback")
    port = int(uri.split(":")[2].split("/")[0])
    assert port > 0

    async def browser() -> httpx.Response:
        async with httpx.AsyncClient() as http:
            miss = await http.get(uri.replace("/callback", "/other"))
            assert miss.status_code == 404
            return await http.get(uri, params={"code": "abc", "state": "xyz", "iss": "http://localhost:8000/issuer"})

    task = asyncio.create_task(browser())
    try:
        got = await login.authorize("http://localhost:8000/issuer/authorize?client_id=x&request_uri=y")
        page = await task
    finally:
        await login.close()
    assert shown == ["http://localhost:8000/issuer/authorize?client_id=x&request_uri=y"]
    assert got == f"{uri}?code=abc&state=xyz&iss=http%3A%2F%2Flocalhost%3A8000%2Fissuer"
    assert page.status_code == 200 and "logged in" in page.text
    with pytest.raises(httpx.ConnectError):  # closed after use
        async with httpx.AsyncClient() as http:
            await http.get(uri)


async def test_loopback_only_the_first_redirect_counts() -> None:
    login = LoopbackLogin(lambda _: None, timeout=10)
    uri = await login.start()
    async with httpx.AsyncClient() as http:
        first = await http.get(uri, params={"error": "access_denied"})
        second = await http.get(uri, params={"code": "late"})
    try:
        got = await login.authorize("http://localhost/authorize")
    finally:
        await login.close()
    assert "error=access_denied" in got
    assert first.status_code == 200 and "Login failed" in first.text
    assert second.status_code == 404


async def test_loopback_times_out() -> None:
    login = LoopbackLogin(lambda _: None, timeout=0.2)
    await login.start()
    try:
        with pytest.raises(AccessDenied) as exc:
            await login.authorize("http://localhost/authorize")
    finally:
        await login.close()
    assert "not completed within" in exc.value.description
