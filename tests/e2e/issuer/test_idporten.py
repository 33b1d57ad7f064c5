"""ID-porten as the identity provider (OIDC code flow + PKCE), exercised against a tiny fake OpenID Provider:
discovery, token exchange with the PKCE verifier, ID token validation (iss, aud, exp, nonce, signature), acr to a
level of assurance, and the ``pid`` claim to the population register."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from eidcore import jose
from eidcore.encoding import b64u_encode
from eidcore.oauth import pkce
from wallet_api.holder.vci import VciClient, fetch_metadata

IDP = "https://idporten.fake"


@dataclass
class FakeIdp:
    """Just enough of an OpenID Provider; ``overrides`` tamper with the next ID token."""

    # ID-porten signs ID tokens with RS256, so the fake does too
    key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(public_exponent=65537,
                                                                                     key_size=2048))
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)
    sign_with: rsa.RSAPrivateKey | None = None
    now: int = 0

    def authorize(self, url: str, *, pid: str, acr: str) -> str:
        q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        assert q["code_challenge_method"] == "S256" and q["response_type"] == "code"
        code = secrets.token_urlsafe(16)
        self.codes[code] = {**q, "pid": pid, "acr": acr}
        return f"{q['redirect_uri']}?code={code}&state={q['state']}"

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/.well-known/openid-configuration":
            return httpx.Response(200, json={"issuer": IDP, "authorization_endpoint": f"{IDP}/authorize",
                                             "token_endpoint": f"{IDP}/token", "jwks_uri": f"{IDP}/jwks"})
        if path == "/jwks":
            return httpx.Response(200, json={"keys": [jose.public_jwk(self.key.public_key(), kid="idp-1")]})
        if path == "/token":
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            entry = self.codes.pop(form.get("code", ""), None)
            if entry is None or form.get("client_secret") != "s3cret":
                return httpx.Response(400, json={"error": "invalid_grant"})
            if pkce.s256_challenge(form["code_verifier"]) != entry["code_challenge"]:
                return httpx.Response(400, json={"error": "invalid_grant"})
            claims = {"iss": IDP, "aud": "lommebok-issuer", "sub": "x", "iat": self.now, "exp": self.now + 120,
                      "nonce": entry["nonce"], "acr": entry["acr"], "pid": entry["pid"], **self.overrides}
            token = _rs256(claims, self.sign_with or self.key, kid="idp-1")
            return httpx.Response(200, json={"id_token": token, "access_token": "x", "token_type": "Bearer"})
        return httpx.Response(404)


def _rs256(claims: dict[str, Any], key: rsa.RSAPrivateKey, *, kid: str) -> str:
    """RFC 7518 §3.3: RSASSA-PKCS1-v1_5 with SHA-256 (jose is verify-only for RSA)."""
    header = b64u_encode(json.dumps({"alg": "RS256", "kid": kid, "typ": "JWT"}).encode())
    payload = b64u_encode(json.dumps(claims).encode())
    sig = key.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{b64u_encode(sig)}"


class Router(httpx.AsyncBaseTransport):
    """The fake provider for its host, the in-process app for everything else."""

    def __init__(self, idp: FakeIdp, app: httpx.AsyncBaseTransport) -> None:
        self.idp, self.app = idp, app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "idporten.fake":
            r = self.idp.handle(request)
            return httpx.Response(r.status_code, headers=r.headers, content=r.content)
        return await self.app.handle_async_request(request)


@pytest.fixture
async def idp_stack(tmp_path: Path) -> AsyncIterator[tuple[Any, FakeIdp]]:
    from pydantic import SecretStr

    from eidcore.runtime import Runtime
    from eidcore.settings import IdPortenSettings, IssuerSettings, Settings
    from lommebok.app import create_root_app

    idp = FakeIdp()
    settings = Settings(data_dir=tmp_path / "var", public_base_url="http://localhost:8000",
                        issuer=IssuerSettings(idporten=IdPortenSettings(issuer=IDP, client_id="lommebok-issuer",
                                                                        client_secret=SecretStr("s3cret"))))
    rt = Runtime(settings)
    app = create_root_app(settings, runtime=rt)
    rt.route_outbound(Router(idp, httpx.ASGITransport(app=app)))  # type: ignore[arg-type]
    await rt.start()
    idp.now = int(rt.clock.timestamp())
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
                               base_url="http://localhost:8000")
    try:
        yield (client, rt), idp
    finally:
        await client.aclose()
        await rt.stop()


async def _start(client: httpx.AsyncClient, rt: Any) -> tuple[VciClient, Any, str]:
    meta = await fetch_metadata(client, "http://localhost:8000/issuer")
    vci = VciClient(client, meta, clock=rt.clock, dpop_key=jose.generate_signing_key())
    auth = await vci.push_authorization(redirect_uri="http://127.0.0.1/callback", scope="pid_vc_sd_jwt",
                                        client_id="lommebok-wallet")
    r = await client.get(auth.authorize_url)
    assert r.status_code == 302 and r.headers["location"].startswith(f"{IDP}/authorize?")
    return vci, auth, r.headers["location"]


async def test_idporten_login_issues_at_the_level_reached(idp_stack: Any) -> None:
    (client, rt), idp = idp_stack
    from eidcore.registers.sql import SqlPopulationRegister

    kari = await SqlPopulationRegister(rt.db, clock=rt.clock).get_by_alias("kari")
    vci, auth, url = await _start(client, rt)
    assert "acr_values=idporten-loa-high" in url
    callback = idp.authorize(url, pid=kari.national_id, acr="idporten-loa-high")
    r = await client.get(callback.removeprefix("http://localhost:8000"))
    assert r.status_code == 302, r.text
    tok = await vci.token_authorization_code(vci.authorization_code(r.headers["location"], auth), auth)
    key = jose.generate_signing_key()
    resp = await vci.request_credential(tok, proofs=[vci.proof(key, await vci.nonce())],
                                        credential_configuration_id="pid_vc_sd_jwt")
    assert len(resp.credentials) == 1
    # the test login page is off when ID-porten is configured
    assert (await client.get("/issuer/login", params={"session": "x"})).status_code == 404


@pytest.mark.parametrize(
    ("override", "acr"),
    [
        ({"nonce": "another"}, "idporten-loa-high"),
        ({"aud": "someone-else"}, "idporten-loa-high"),
        ({"iss": "https://evil.example"}, "idporten-loa-high"),
        ({"exp": 1000}, "idporten-loa-high"),
        ({"sign": True}, "idporten-loa-high"),
        ({}, "idporten-loa-substantial"),
        ({"pid": "00000000000"}, "idporten-loa-high"),
    ],
)
async def test_idporten_login_refusals_end_in_access_denied(idp_stack: Any, override: dict[str, Any],
                                                           acr: str) -> None:
    (client, rt), idp = idp_stack
    from eidcore.registers.sql import SqlPopulationRegister

    kari = await SqlPopulationRegister(rt.db, clock=rt.clock).get_by_alias("kari")
    _vci, _auth, url = await _start(client, rt)
    if override.pop("sign", False):
        idp.sign_with = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    idp.overrides = override
    callback = idp.authorize(url, pid=kari.national_id, acr=acr)
    r = await client.get(callback.removeprefix("http://localhost:8000"))
    if r.status_code == 302:  # the level was too low: the authorization response says so
        q = parse_qs(urlsplit(r.headers["location"]).query)
        assert q["error"] == ["access_denied"] and q["iss"] == ["http://localhost:8000/issuer"]
    else:
        assert (r.status_code, r.json()["error"]) == (403, "access_denied"), r.text
