"""Every HTML page carries a Content-Security-Policy (CSP Level 3, with ``frame-ancestors``), ``X-Frame-Options``
(RFC 7034), ``Referrer-Policy`` and ``X-Content-Type-Options: nosniff``; every other response carries ``nosniff``
too: the issuer's test login, the verifier's OpenID Connect bridge page, the landing page, Swagger UI."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from eidcore.oauth import pkce
from tests.e2e.conftest import Stack
from tests.e2e.issuer.conftest import REDIRECT, Helper

CALLBACK = "https://intranett.fjordvik.example/callback"


def _directives(csp: str) -> dict[str, str]:
    return {d.strip().split(" ", 1)[0]: d.strip().partition(" ")[2] for d in csp.split(";") if d.strip()}


def assert_page_headers(r: httpx.Response, *, scripts: bool = False) -> None:
    assert r.headers["content-type"].startswith("text/html"), (r.url, r.status_code, r.text[:200])
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    csp = _directives(r.headers["content-security-policy"])
    assert csp["default-src"] == "'none'" and csp["frame-ancestors"] == "'none'" and csp["base-uri"] == "'none'"
    if scripts:  # Swagger UI: its bundle from jsDelivr, and its inline bootstrap
        assert "https://cdn.jsdelivr.net" in csp["script-src"]
    else:  # our pages run no script at all
        assert "script-src" not in csp


async def _issuer_login_page(stack: Stack) -> httpx.Response:
    h = Helper(stack)
    client = await h.client(dpop=True, attested=True)
    auth = await client.push_authorization(redirect_uri=REDIRECT, scope="pid_vc_sd_jwt")
    r = await stack.client.get(auth.authorize_url)
    assert r.status_code == 302, r.text
    session = parse_qs(urlsplit(r.headers["location"]).query)["session"][0]
    return await stack.client.get("/issuer/login", params={"session": session, "q": "kari"})


async def _oidc_bridge_page(stack: Stack) -> httpx.Response:
    admin = {"Authorization": f"Bearer {stack.runtime.admin_tokens['verifier']}"}
    r = await stack.client.post("/verifier/admin/oidc-clients", headers=admin,
                                json={"name": "Fjordvik intranett", "redirect_uris": [CALLBACK]})
    assert r.status_code == 201, r.text
    return await stack.client.get("/verifier/oidc/authorize", headers={"Accept": "text/html"}, params={
        "response_type": "code", "client_id": r.json()["client_id"], "redirect_uri": CALLBACK, "scope": "openid",
        "state": "st-1", "nonce": "n-1", "code_challenge": pkce.s256_challenge(pkce.make_verifier()),
        "code_challenge_method": "S256"})


async def test_html_pages_send_csp_frame_and_referrer_policies(stack: Stack) -> None:
    login = await _issuer_login_page(stack)
    assert login.status_code == 200 and "<form" in login.text
    assert_page_headers(login)
    bridge = await _oidc_bridge_page(stack)
    assert bridge.status_code == 200 and "<svg" in bridge.text
    assert_page_headers(bridge)
    landing = await stack.client.get("/")
    assert landing.status_code == 200
    assert_page_headers(landing)


async def test_swagger_ui_gets_a_csp_that_lets_it_load_its_assets(stack: Stack) -> None:
    for service in ("issuer", "verifier", "wallet"):
        for path in ("/schema/swagger", "/schema/oauth2-redirect.html"):
            r = await stack.client.get(f"/{service}{path}")
            assert r.status_code == 200, (service, path)
            assert_page_headers(r, scripts=True)
            # what the page loads is what the policy allows
            assert all(src.startswith("https://cdn.jsdelivr.net/") for src in _sources(r.text))


def _sources(page: str) -> list[str]:
    import re

    return re.findall(r"""(?:src|href)=["'](https?://[^"']+)["']""", page)


async def test_every_response_says_nosniff(stack: Stack) -> None:
    for method, path in [("GET", "/issuer/.well-known/openid-credential-issuer"), ("GET", "/verifier/health"),
                         ("GET", "/wallet/instances"), ("POST", "/issuer/token"), ("GET", "/nowhere"),
                         ("GET", "/issuer/nowhere"), ("GET", "/issuer/status/a%00"),
                         ("GET", "/.well-known/openid-credential-issuer/issuer"),
                         ("GET", "/issuer/schema/openapi.json")]:
        r = await stack.client.request(method, path)
        assert r.headers.get("x-content-type-options") == "nosniff", (method, path, r.status_code)
        if not r.headers.get("content-type", "").startswith("text/html"):
            assert "content-security-policy" not in r.headers


async def test_the_test_login_page_escapes_what_the_user_typed_and_lists_rows_the_holder_reads(stack: Stack) -> None:
    h = Helper(stack)
    client = await h.client(dpop=True, attested=True)
    auth = await client.push_authorization(redirect_uri=REDIRECT, scope="pid_vc_sd_jwt")
    r = await stack.client.get(auth.authorize_url)
    session = parse_qs(urlsplit(r.headers["location"]).query)["session"][0]
    typed = "'><script>alert(1)</script>"
    page = await stack.client.get("/issuer/login", params={"session": session, "q": typed})
    assert page.status_code == 200 and "<script>" not in page.text and "&lt;script&gt;" in page.text
    page = await stack.client.get("/issuer/login", params={"session": session, "q": "kari"})
    from wallet_api.holder.login import _ROW  # the reference holder fills the page in by these rows

    assert any(m["alias"] == "kari" for m in _ROW.finditer(page.text))
