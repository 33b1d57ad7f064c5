"""The OpenID Connect bridge and role administration, end to end over HTTP.

An employee (``ingrid``) logs in to a municipality's intranet through the verifier's OpenID Provider with her
employee role credential and the client gets the right ID token; her administrator (``per``, hovedadministrator at
Fjordvik kommune, himself logged in through the bridge) removes the access package the intranet requires, which
revokes her credential, and her next login is refused. An administrator of one organisation cannot assign roles in
another.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from eidcore import jose
from eidcore.errors import AccessDenied
from eidcore.oauth import pkce
from tests.e2e.mandates.conftest import Env
from wallet_api.holder import vp

CALLBACK = "https://intranett.fjordvik.example/callback"
A_ORDNING = "urn:altinn:accesspackage:a-ordning"
OP = "http://localhost:8000/verifier/oidc"


async def _client(env: Env, **body: Any) -> dict[str, Any]:
    r = await env.client.post("/verifier/admin/oidc-clients", headers=env.verifier_admin,
                              json={"name": "Fjordvik intranett", "redirect_uris": [CALLBACK], **body})
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


async def _wallet(env: Env, page: dict[str, Any], held: list[Any]) -> vp.ResponseResult:
    """The user's wallet answers the login page's request after confirming the page's matching code."""
    return await vp.present(env.client, page["authorization_request"], held,
                            trust_anchors=env.rt.keys.trust_anchors, clock=env.rt.clock,
                            expected_code=page["match_code"])


async def _login(env: Env, client_id: str, held: Any, *, secret: str | None = None) -> dict[str, Any]:
    """Authorize (PKCE) -> present from the wallet -> continue -> token; the redirect's query (and the tokens)."""
    verifier = pkce.make_verifier()
    r = await env.client.get("/verifier/oidc/authorize", headers={"Accept": "application/json"}, params={
        "response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK, "scope": "openid",
        "state": "st-1", "nonce": "n-1", "code_challenge": pkce.s256_challenge(verifier),
        "code_challenge_method": "S256"})
    assert r.status_code == 200, r.text
    page = r.json()
    cont = page["continue_uri"].removeprefix("http://localhost:8000")
    r = await env.client.get(cont)
    assert r.status_code == 202 and r.json()["status"] == "pending"
    answer = await _wallet(env, page, [held])
    r = await env.client.get(cont)
    if answer.status_code == 400:  # refused: the login stays open for a valid presentation, the page says why
        assert r.status_code == 202 and r.json()["status"] == "pending", r.text
        return {"refused": r.json()["refused_attempts"], "wallet": answer.body}
    assert r.status_code == 302, r.text
    location = r.headers["location"]
    assert location.startswith(CALLBACK + "?")
    q = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert q["state"] == "st-1" and q["iss"] == OP
    if "code" not in q:
        return q
    form = {"grant_type": "authorization_code", "code": q["code"], "redirect_uri": CALLBACK,
            "client_id": client_id, "code_verifier": verifier}
    if secret is not None:
        form["client_secret"] = secret
    r = await env.client.post("/verifier/oidc/token", data=form)
    assert r.status_code == 200, r.text
    tokens: dict[str, Any] = r.json()
    # the code is single use
    again = await env.client.post("/verifier/oidc/token", data=form)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    return {**q, **tokens}


async def _id_token_claims(env: Env, id_token: str) -> dict[str, Any]:
    jwks = (await env.client.get("/verifier/oidc/jwks")).json()["keys"]
    kid = jose.parse_jws(id_token).header["kid"]
    jwk = next(k for k in jwks if k["kid"] == kid)
    return jose.verify_jwt(id_token, jose.public_key_from_jwk(jwk)).claims


async def test_discovery_documents(env: Env) -> None:
    for path in ("/verifier/oidc/.well-known/openid-configuration", "/.well-known/openid-configuration",
                 "/.well-known/openid-configuration/verifier/oidc"):
        r = await env.client.get(path)
        assert r.status_code == 200, path
        doc = r.json()
        assert doc["issuer"] == OP and doc["token_endpoint"] == f"{OP}/token"
        assert doc["code_challenge_methods_supported"] == ["S256"]


async def test_employee_login_then_refused_after_the_role_is_removed(env: Env) -> None:
    fjordvik = await env.orgnr("Fjordvik kommune")
    client = await _client(env, client_id="fjordvik-intranett", login="employee", orgnr=fjordvik,
                           require_any=[A_ORDNING], confidential=True)
    ingrid = await env.issue("ingrid", "employee_role_vc_sd_jwt", orgnr=fjordvik)
    out = await _login(env, client["client_id"], ingrid, secret=client["client_secret"])
    claims = await _id_token_claims(env, out["id_token"])
    assert claims["iss"] == OP and claims["aud"] == "fjordvik-intranett" and claims["nonce"] == "n-1"
    assert claims["given_name"] == "Ingrid" and claims["family_name"] == "Solberg"
    assert claims["orgnr"] == fjordvik and claims["org_name"] == "Fjordvik kommune"
    assert A_ORDNING in claims["access_packages"] and claims["acr"] == "substantial"
    assert len(claims["pid"]) == 11 and claims["sub"] != claims["pid"]
    r = await env.client.get("/verifier/oidc/userinfo", headers={"Authorization": f"Bearer {out['access_token']}"})
    assert r.status_code == 200 and r.json()["orgnr"] == fjordvik and r.json()["sub"] == claims["sub"]

    # per, hovedadministrator of Fjordvik, logs in to the organisation administration and removes a-ordning
    await _client(env, client_id="lommebok-org-admin", login="employee")
    per = await env.issue("per", "employee_role_vc_sd_jwt", orgnr=fjordvik)
    admin_login = await _login(env, "lommebok-org-admin", per)
    bearer = {"Authorization": f"Bearer {admin_login['id_token']}"}
    r = await env.client.post(f"/issuer/org/{fjordvik}/roles", headers=bearer,
                              json={"action": "remove", "person": "ingrid", "role": A_ORDNING})
    assert r.status_code == 200, r.text
    assert A_ORDNING not in r.json()["access_packages"] and r.json()["revoked_credentials"] == 1

    # her credential is revoked: once the verifier's cached status list expires, the login is refused
    env.rt.clock.advance(await env.status_ttl(ingrid) + 1)
    refused = await _login(env, client["client_id"], ingrid, secret=client["client_secret"])
    assert refused["refused"] == ["status.revoked"] and "status.revoked" in refused["wallet"]["error_description"]
    assert "code" not in refused


async def test_an_administrator_cannot_assign_roles_in_another_organisation(env: Env) -> None:
    fjordvik = await env.orgnr("Fjordvik kommune")
    hospital = await env.orgnr("Helse Nordvest HF")
    await _client(env, client_id="lommebok-org-admin", login="employee")
    per = await env.issue("per", "employee_role_vc_sd_jwt", orgnr=fjordvik)
    bearer = {"Authorization": f"Bearer {(await _login(env, 'lommebok-org-admin', per))['id_token']}"}
    body = {"action": "assign", "person": "henrik", "role": A_ORDNING}
    r = await env.client.post(f"/issuer/org/{hospital}/roles", headers=bearer, json=body)
    assert r.status_code == 403 and r.json()["error"] == "access_denied"
    # in his own organisation he may
    r = await env.client.post(f"/issuer/org/{fjordvik}/roles", headers=bearer,
                              json={"action": "assign", "person": "ingrid", "role": "urn:altinn:accesspackage:post"})
    assert r.status_code == 200 and "urn:altinn:accesspackage:post" in r.json()["access_packages"]
    # an employee without an administrator package may not, even in her own organisation
    ingrid = await env.issue("ingrid", "employee_role_vc_sd_jwt", orgnr=fjordvik)
    bearer = {"Authorization": f"Bearer {(await _login(env, 'lommebok-org-admin', ingrid))['id_token']}"}
    r = await env.client.post(f"/issuer/org/{fjordvik}/roles", headers=bearer,
                              json={"action": "assign", "person": "ingrid", "role": "urn:altinn:accesspackage:x"})
    assert r.status_code == 403 and r.json()["error"] == "access_denied"
    # no token, or a token that is not the bridge's
    r = await env.client.post(f"/issuer/org/{fjordvik}/roles", json=body)
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    forged = jose.sign_jwt({"iss": OP, "aud": "lommebok-org-admin", "orgnr": fjordvik, "exp": 4102444800},
                           jose.generate_signing_key(kid="x"))
    r = await env.client.post(f"/issuer/org/{fjordvik}/roles", headers={"Authorization": f"Bearer {forged}"},
                              json=body)
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"


async def test_bridge_refuses_bad_authorization_and_token_requests(env: Env) -> None:
    await _client(env, client_id="kommune-web", login="pid")
    base = {"response_type": "code", "client_id": "kommune-web", "redirect_uri": CALLBACK, "scope": "openid",
            "state": "s", "code_challenge": pkce.s256_challenge(pkce.make_verifier()),
            "code_challenge_method": "S256"}
    # a browser gets a page with the QR code, the same-device link and the way on
    r = await env.client.get("/verifier/oidc/authorize", params=base)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<svg" in r.text and "openid4vp://" in r.text and "/verifier/oidc/continue?session=" in r.text
    assert "Fjordvik intranett" in r.text
    # unknown client or unregistered redirect URI: an error here, never a redirect (OIDC Core §3.1.2.6)
    r = await env.client.get("/verifier/oidc/authorize", params={**base, "client_id": "nobody"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = await env.client.get("/verifier/oidc/authorize", params={**base, "redirect_uri": "https://evil.example/"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    # a registered redirect URI gets the error
    r = await env.client.get("/verifier/oidc/authorize", params={**base, "scope": "profile"})
    assert r.status_code == 302 and "error=invalid_scope" in r.headers["location"]
    r = await env.client.get("/verifier/oidc/authorize", params={**base, "code_challenge_method": "plain"})
    assert r.status_code == 302 and "error=invalid_request" in r.headers["location"]
    # the token endpoint: wrong PKCE verifier, unknown code
    kari = await env.issue("kari", "pid_vc_sd_jwt")
    verifier = pkce.make_verifier()
    r = await env.client.get("/verifier/oidc/authorize", headers={"Accept": "application/json"},
                             params={**base, "code_challenge": pkce.s256_challenge(verifier)})
    page = r.json()
    await _wallet(env, page, [kari])
    r = await env.client.get(page["continue_uri"].removeprefix("http://localhost:8000"))
    code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, "client_id": "kommune-web",
            "code_verifier": pkce.make_verifier()}
    r = await env.client.post("/verifier/oidc/token", data=form)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    r = await env.client.post("/verifier/oidc/token", data={**form, "code_verifier": verifier})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"  # the code was spent by the first try
    r = await env.client.get("/verifier/oidc/userinfo", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"


async def test_pid_login_gives_name_age_and_high_acr(env: Env) -> None:
    await _client(env, client_id="kommune-web", login="pid")
    kari = await env.issue("kari", "pid_vc_sd_jwt")
    out = await _login(env, "kommune-web", kari)
    claims = await _id_token_claims(env, out["id_token"])
    assert claims["given_name"] == "Kari" and claims["age"] == 42 and claims["acr"] == "idporten-loa-high"
    assert "orgnr" not in claims


async def test_ending_the_employment_revokes_the_role_credential(env: Env) -> None:
    fjordvik = await env.orgnr("Fjordvik kommune")
    await _client(env, client_id="lommebok-org-admin", login="employee")
    per = await env.issue("per", "employee_role_vc_sd_jwt", orgnr=fjordvik)
    await env.issue("ingrid", "employee_role_vc_sd_jwt", orgnr=fjordvik)
    bearer = {"Authorization": f"Bearer {(await _login(env, 'lommebok-org-admin', per))['id_token']}"}
    r = await env.client.post(f"/issuer/org/{fjordvik}/employments/end", headers=bearer, json={"person": "ingrid"})
    assert r.status_code == 200, r.text
    assert r.json()["revoked_credentials"] == 1
    r = await env.client.post(f"/issuer/org/{fjordvik}/roles", headers=bearer,
                              json={"action": "assign", "person": "ingrid", "role": A_ORDNING})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


async def _authorize(env: Env, client_id: str, browser: httpx.AsyncClient, *, json_page: bool = True
                     ) -> tuple[httpx.Response, str]:
    verifier = pkce.make_verifier()
    r = await browser.get("/verifier/oidc/authorize", headers={"Accept": "application/json"} if json_page else {},
                          params={"response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK,
                                  "scope": "openid", "state": "st-1", "code_challenge": pkce.s256_challenge(verifier),
                                  "code_challenge_method": "S256"})
    assert r.status_code == 200, r.text
    return r, verifier


def _browser(env: Env) -> httpx.AsyncClient:
    """Another browser: the same server, its own cookie jar."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=env.stack.app), base_url="http://localhost:8000")


async def test_another_browser_with_the_continue_url_cannot_complete_the_login(env: Env) -> None:
    await _client(env, client_id="kommune-web", login="pid")
    kari = await env.issue("kari", "pid_vc_sd_jwt")
    async with _browser(env) as victim, _browser(env) as attacker:
        r, _ = await _authorize(env, "kommune-web", victim)
        page = r.json()
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "path=/verifier/oidc" in cookie
        cont = page["continue_uri"].removeprefix("http://localhost:8000")
        # the wallet answers (the presenter confirmed the code); the attacker has the continue URL, not the cookie
        assert (await _wallet(env, page, [kari])).status_code == 200
        r = await attacker.get(cont)
        assert r.status_code == 403 and r.json()["error"] == "access_denied", r.text
        assert "location" not in r.headers
        r = await env.client.get(cont)  # no cookie at all
        assert r.status_code == 403 and r.json()["error"] == "access_denied"
        # the browser that started the login still finishes it, once
        r = await victim.get(cont)
        assert r.status_code == 302 and "code=" in r.headers["location"], r.text
        assert (await victim.get(cont)).status_code == 404


async def test_the_request_object_names_the_service_and_carries_the_pages_code(env: Env) -> None:
    await _client(env, client_id="kommune-web", login="pid")
    async with _browser(env) as browser:
        r, _ = await _authorize(env, "kommune-web", browser, json_page=False)
        assert r.headers["content-type"].startswith("text/html")
        page_html = r.text
        r, _ = await _authorize(env, "kommune-web", browser)
    page = r.json()
    assert page["client_name"] == "Fjordvik intranett" and len(page["match_code"]) == 4
    req = await vp.fetch_request(env.client, page["authorization_request"], trust_anchors=env.rt.keys.trust_anchors,
                                 clock=env.rt.clock)
    assert req.client_id.startswith("x509_hash:") and req.verifier_certificate is not None  # signed: vouched for
    assert req.client_name == "Fjordvik intranett" and req.match_code == page["match_code"]
    assert "Fjordvik intranett" in page_html and "<strong>" in page_html
    codes = [c for c in page_html.split("<strong>")[1:] if c[:4].isdigit()]
    assert codes and len(codes[0].split("</strong>")[0]) == 4


async def test_the_wallet_shares_only_after_the_code_is_confirmed(env: Env) -> None:
    await _client(env, client_id="kommune-web", login="pid")
    kari = await env.issue("kari", "pid_vc_sd_jwt")
    async with _browser(env) as browser:
        r, _ = await _authorize(env, "kommune-web", browser)
        page = r.json()
        anchors = env.rt.keys.trust_anchors
        wrong = "0000" if page["match_code"] != "0000" else "1111"
        for kwargs in ({}, {"expected_code": wrong}, {"confirm": lambda req: False}):
            with pytest.raises(AccessDenied):
                await vp.present(env.client, page["authorization_request"], [kari], trust_anchors=anchors,
                                 clock=env.rt.clock, **kwargs)
        shown: list[tuple[str | None, str | None]] = []

        def confirm(req: vp.AuthorizationRequest) -> bool:
            shown.append((req.client_name, req.match_code))
            return True

        ok = await vp.present(env.client, page["authorization_request"], [kari], trust_anchors=anchors,
                              clock=env.rt.clock, confirm=confirm, expected_code=page["match_code"])
        assert ok.status_code == 200 and shown == [("Fjordvik intranett", page["match_code"])]
        r = await browser.get(page["continue_uri"].removeprefix("http://localhost:8000"))
        assert r.status_code == 302 and "code=" in r.headers["location"]


async def test_bridge_page_escapes_the_clients_name(env: Env) -> None:
    await _client(env, client_id="evil-web", login="pid", name="<script>alert(1)</script> & Co")
    r = await env.client.get("/verifier/oidc/authorize", params={
        "response_type": "code", "client_id": "evil-web", "redirect_uri": CALLBACK, "scope": "openid", "state": "s",
        "code_challenge": pkce.s256_challenge(pkce.make_verifier()), "code_challenge_method": "S256"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<script>" not in r.text and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in r.text
