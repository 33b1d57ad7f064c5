"""The reference holder's side of redirect URI safety: it sends a redirect URI the issuer's dev registration
accepts (RFC 8252 §7.3 loopback), and takes an authorization response only at that URI (RFC 6749 §4.1.2)."""

from __future__ import annotations

import socket

import pytest

from issuer.clients import DEV_REDIRECT_URIS, redirect_uri_matches
from wallet_api.holder.login import LoopbackLogin, TestLoginForm
from wallet_api.holder.vci import _same_redirect_target


async def test_loopback_redirect_uri_is_registered_in_the_dev_default() -> None:
    login = LoopbackLogin(lambda _: None, timeout=1)
    uri = await login.start()
    try:
        assert any(redirect_uri_matches(r, uri) for r in DEV_REDIRECT_URIS)
    finally:
        await login.close()
    form_uri = await TestLoginForm(None, "kari").start()  # type: ignore[arg-type]
    assert any(redirect_uri_matches(r, form_uri) for r in DEV_REDIRECT_URIS)


@pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6")
async def test_ipv6_loopback_redirect_uri_is_bracketed_and_registered() -> None:
    login = LoopbackLogin(lambda _: None, timeout=1, host="::1")
    try:
        uri = await login.start()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    try:
        assert uri.startswith("http://[::1]:") and uri.endswith("/callback")
        assert any(redirect_uri_matches(r, uri) for r in DEV_REDIRECT_URIS)
    finally:
        await login.close()


@pytest.mark.parametrize(("location", "ok"), [
    ("http://127.0.0.1:5000/callback?code=c&state=s", True),
    ("http://127.0.0.1:5000/callback", True),
    ("http://127.0.0.1:5001/callback?code=c", False),
    ("http://127.0.0.1:5000/other?code=c", False),
    ("https://evil.example/callback?code=c", False),
    ("http://evil@127.0.0.1:5000/callback?code=c", False),
    ("http://127.0.0.1:5000/callback?code=c#x", False),
])
def test_authorization_response_must_come_to_the_flows_redirect_uri(location: str, ok: bool) -> None:
    assert _same_redirect_target(location, "http://127.0.0.1:5000/callback") is ok
