"""Hostile and malformed inputs get the spec's error code (OpenID4VCI 1.0 §8.3.1, RFC 6749 §5.2, RFC 6750 §3.1),
never a 500."""

from __future__ import annotations

import json
from typing import Any

from eidcore import jose
from eidcore.encoding import b64u_encode
from wallet_api.holder.vci import PRE_AUTH_GRANT

ISS = "http://localhost:8000/issuer"
CRED = "/issuer/credential"


def _unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"x" * 64) -> str:
    return ".".join(b64u_encode(p) for p in (json.dumps(header).encode(), json.dumps(claims).encode(), signature))


def _hs256(key_jwk: dict[str, Any], claims: dict[str, Any]) -> str:
    import hashlib
    import hmac

    head = b64u_encode(json.dumps({"alg": "HS256", "typ": "openid4vci-proof+jwt", "jwk": key_jwk}).encode())
    body = b64u_encode(json.dumps(claims).encode())
    mac = hmac.new(json.dumps(key_jwk).encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64u_encode(mac)}"


async def test_hostile_credential_requests_get_the_specs_errors(h: Any) -> None:
    client, tok = await h.pre_authorized_token("kari", ["pid_vc_sd_jwt"])
    auth = {"Authorization": f"Bearer {tok.access_token}"}
    key = jose.generate_signing_key()
    jwk = jose.public_jwk(key.public_key)
    nonce = await client.nonce()
    now = int(h.rt.clock.timestamp())
    good = {"aud": ISS, "iat": now, "nonce": nonce}

    def proof(claims: dict[str, Any] | None = None, typ: str = "openid4vci-proof+jwt") -> str:
        return jose.sign_jwt(claims if claims is not None else good, key, typ=typ, include_kid=False,
                             include_jwk=True)

    def body(*proofs: str, **extra: Any) -> dict[str, Any]:
        return {"credential_configuration_id": "pid_vc_sd_jwt", "proofs": {"jwt": list(proofs)}, **extra}

    cases: list[tuple[str, Any, int, str]] = [
        ("wrong typ", body(proof(typ="JWT")), 400, "invalid_proof"),
        ("alg none", body(_unsigned({"alg": "none", "typ": "openid4vci-proof+jwt", "jwk": jwk}, good, b"")),
         400, "invalid_proof"),
        ("HS256", body(_hs256(jwk, good)), 400, "invalid_proof"),
        ("proof for another issuer", body(proof({**good, "aud": "https://other.example"})), 400, "invalid_proof"),
        ("expired iat", body(proof({**good, "iat": now - 3600})), 400, "invalid_proof"),
        ("future iat", body(proof({**good, "iat": now + 3600})), 400, "invalid_proof"),
        ("missing nonce", body(proof({"aud": ISS, "iat": now})), 400, "invalid_proof"),
        ("unknown nonce", body(proof({**good, "nonce": "not-issued"})), 400, "invalid_nonce"),
        ("bad signature", body(proof()[:-4] + "AAAA"), 400, "invalid_proof"),
        ("malformed JWT", body("not.a.jwt"), 400, "invalid_proof"),
        ("garbage JWT", body("x" * 50), 400, "invalid_proof"),
        ("private key in header", body(_unsigned(
            {"alg": "ES256", "typ": "openid4vci-proof+jwt", "jwk": key.private_jwk()}, good)), 400, "invalid_proof"),
        ("kid instead of jwk", body(jose.sign_jwt(good, jose.generate_signing_key(kid="did:example:1#k"),
                                                  typ="openid4vci-proof+jwt")), 400, "invalid_proof"),
        ("proofs not an object", {"credential_configuration_id": "pid_vc_sd_jwt", "proofs": ["x"]}, 400,
         "invalid_proof"),
        ("two proof types", {"credential_configuration_id": "pid_vc_sd_jwt",
                             "proofs": {"jwt": [proof()], "attestation": ["x"]}}, 400, "invalid_proof"),
        ("empty proofs", body(), 400, "invalid_proof"),
        ("no proofs", {"credential_configuration_id": "pid_vc_sd_jwt"}, 400, "invalid_proof"),
        ("too many proofs", body(*[proof()] * (h.stack.settings.issuer.batch_size + 1)), 400,
         "invalid_credential_request"),
        ("same key twice", body(proof(), proof()), 400, "invalid_proof"),
        ("unknown configuration", {**body(proof()), "credential_configuration_id": "nope_vc_sd_jwt"}, 400,
         "unknown_credential_configuration"),
        ("configuration not in token", {**body(proof()), "credential_configuration_id": "pid_mso_mdoc"}, 400,
         "invalid_credential_request"),
        ("unknown identifier", {"credential_identifier": "x", "proofs": {"jwt": [proof()]}}, 400,
         "unknown_credential_identifier"),
        ("both selectors", {**body(proof()), "credential_identifier": "x"}, 400, "invalid_credential_request"),
        ("pre-final proof", {**body(proof()), "proof": {"proof_type": "jwt", "jwt": proof()}}, 400,
         "invalid_credential_request"),
        ("response encryption in the clear", body(proof(), credential_response_encryption={
            "jwk": jwk, "enc": "A128GCM"}), 400, "invalid_encryption_parameters"),
    ]
    for name, payload, status, error in cases:
        r = await h.stack.client.post(CRED, json=payload, headers=auth)
        assert (r.status_code, r.json().get("error")) == (status, error), f"{name}: {r.text}"
    raw: list[tuple[str, bytes, str, int, str]] = [
        ("malformed JSON", b"{not json", "application/json", 400, "invalid_credential_request"),
        ("JSON array", b"[]", "application/json", 400, "invalid_credential_request"),
        ("duplicate member", b'{"proofs":1,"proofs":2}', "application/json", 400, "invalid_credential_request"),
        ("wrong media type", b"a=b", "application/x-www-form-urlencoded", 400, "invalid_credential_request"),
        ("undecryptable JWE", b"a.b.c.d.e", "application/jwt", 400, "invalid_encryption_parameters"),
        ("oversized body", b"{" + b" " * (300 * 1024) + b"}", "application/json", 413, "invalid_request"),
    ]
    for name, content, ctype, status, error in raw:
        r = await h.stack.client.post(CRED, content=content, headers={**auth, "Content-Type": ctype})
        assert (r.status_code, r.json().get("error")) == (status, error), f"{name}: {r.text}"
    # the nonce survived every refused request: a correct request still gets its credential
    ok = await h.stack.client.post(CRED, json=body(proof()), headers=auth)
    assert ok.status_code == 200, ok.text
    for name, headers in (("no token", {}), ("unknown token", {"Authorization": "Bearer nope"}),
                          ("wrong scheme", {"Authorization": f"Basic {tok.access_token}"})):
        r = await h.stack.client.post(CRED, json=body(proof()), headers=headers)
        assert (r.status_code, r.json()["error"]) == (401, "invalid_token"), name
        assert "www-authenticate" in r.headers


async def test_hostile_token_par_and_other_requests(h: Any) -> None:
    c = h.stack.client
    created = await h.offer("kari", ["pid_vc_sd_jwt"])
    code = created["credential_offer"]["grants"][PRE_AUTH_GRANT]["pre-authorized_code"]
    pkce = {"code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256"}
    par = {"response_type": "code", "client_id": "lommebok-wallet", "redirect_uri": "http://127.0.0.1/callback",
           "scope": "pid_vc_sd_jwt", **pkce}
    form_cases: list[tuple[str, str, dict[str, str] | bytes, int, str]] = [
        ("unknown grant", "/issuer/token", {"grant_type": "password"}, 400, "unsupported_grant_type"),
        ("no grant", "/issuer/token", {}, 400, "invalid_request"),
        ("missing tx_code", "/issuer/token", {"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": code}, 400,
         "invalid_request"),
        ("unknown code", "/issuer/token", {"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": "x"}, 400,
         "invalid_grant"),
        ("unknown auth code", "/issuer/token", {"grant_type": "authorization_code", "code": "x"}, 400,
         "invalid_grant"),
        ("duplicate parameter", "/issuer/token", b"grant_type=a&grant_type=b", 400, "invalid_request"),
        ("not UTF-8", "/issuer/token", b"grant_type=\xff\xfe", 400, "invalid_request"),
        ("plain PKCE", "/issuer/par", {**par, "code_challenge_method": "plain"}, 400, "invalid_request"),
        ("no PKCE", "/issuer/par", {k: v for k, v in par.items() if not k.startswith("code_")}, 400,
         "invalid_request"),
        ("unknown scope", "/issuer/par", {**par, "scope": "admin"}, 400, "invalid_scope"),
        ("bad authorization_details", "/issuer/par", {**par, "authorization_details": "[{"}, 400,
         "invalid_request"),
        ("request_uri in PAR", "/issuer/par", {**par, "request_uri": "urn:x"}, 400, "invalid_request"),
        ("javascript redirect", "/issuer/par", {**par, "redirect_uri": "javascript:alert(1)"}, 400,
         "invalid_request"),
        ("unregistered redirect", "/issuer/par", {**par, "redirect_uri": "https://evil.example/cb"}, 400,
         "invalid_request"),
        ("unknown client", "/issuer/par", {**par, "client_id": "w"}, 401, "invalid_client"),
        ("bad attestation", "/issuer/par", par, 401, "invalid_client_attestation"),
    ]
    for name, path, data, status, error in form_cases:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if name == "bad attestation":
            headers.update({"OAuth-Client-Attestation": "a.b.c", "OAuth-Client-Attestation-PoP": "a.b.c"})
        r = await c.post(path, content=data if isinstance(data, bytes) else None,
                         data=data if isinstance(data, dict) else None, headers=headers)
        assert (r.status_code, r.json().get("error")) == (status, error), f"{name}: {r.text}"
    r = await c.post("/issuer/token", json={"grant_type": PRE_AUTH_GRANT})
    assert (r.status_code, r.json()["error"]) == (400, "invalid_request")
    unknown_uri = "urn:ietf:params:oauth:request_uri:x"
    r = await c.get("/issuer/authorize", params={"client_id": "w", "request_uri": unknown_uri})
    assert (r.status_code, r.json()["error"]) == (400, "invalid_request")
    plain = {"client_id": "w", "response_type": "code", "scope": "pid_vc_sd_jwt"}
    r = await c.get("/issuer/authorize", params=plain)
    assert (r.status_code, r.json()["error"]) == (400, "invalid_request"), "PAR is required"
    r = await c.get("/issuer/status/does-not-exist")
    assert r.status_code == 404
    for hdr in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
        r = await c.post("/issuer/admin/offers", json={"person": "kari", "credential": "pid_vc_sd_jwt"}, headers=hdr)
        assert (r.status_code, r.json()["error"]) == (401, "invalid_token")
        r = await c.post("/issuer/admin/credentials/status", json={"action": "revoke", "person": "kari"},
                         headers=hdr)
        assert r.status_code == 401
    admin = h.admin
    for payload in ({"action": "delete", "person": "kari"}, {"action": "revoke"},
                    {"action": "revoke", "person": "kari", "credential_id": "x"},
                    {"action": "revoke", "person": "kari", "credential_type": "nope"}):
        r = await c.post("/issuer/admin/credentials/status", json=payload, headers=admin)
        assert (r.status_code, r.json()["error"]) == (400, "invalid_request"), payload
    r = await c.post("/issuer/admin/offers", json={"person": "nobody-here", "credential": "pid_vc_sd_jwt"},
                     headers=admin)
    assert r.status_code == 404
    r = await c.post("/issuer/admin/offers", json={"person": "kari", "credential": "nope"}, headers=admin)
    assert (r.status_code, r.json()["error"]) == (400, "invalid_request")


def _random_json(rng: Any, depth: int = 0) -> Any:
    kind = rng.randrange(7 if depth < 3 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.randint(-(2**70), 2**70)
    if kind == 3:
        return rng.random() * 1e300
    if kind == 4:
        return "".join(chr(rng.randrange(0x20, 0x2FFF)) for _ in range(rng.randrange(30)))
    if kind == 5:
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["credential_configuration_id", "credential_identifier", "proofs", "jwt", "proof",
            "credential_response_encryption", "jwk", "enc", "transaction_id", "notification_id", "event"]
    return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randrange(4))}


async def test_random_garbage_never_causes_a_server_error(h: Any) -> None:
    import random

    rng = random.Random(20261128)
    client, tok = await h.pre_authorized_token("kari", ["pid_vc_sd_jwt"], tx_code=False)
    auth = {"Authorization": f"Bearer {tok.access_token}"}
    paths = ["/issuer/credential", "/issuer/deferred", "/issuer/notification"]
    for i in range(60):
        body = _random_json(rng)
        for path in paths:
            r = await h.stack.client.post(path, json=body, headers=auth)
            assert 400 <= r.status_code < 500, f"{path} {body!r}: {r.status_code} {r.text}"
        raw = bytes(rng.randrange(256) for _ in range(rng.randrange(200)))
        for path, ctype in (("/issuer/token", "application/x-www-form-urlencoded"),
                            ("/issuer/par", "application/x-www-form-urlencoded"),
                            ("/issuer/credential", "application/jwt"),
                            ("/issuer/admin/offers", "application/json")):
            headers = {"Content-Type": ctype, **(h.admin if "admin" in path else auth)}
            r = await h.stack.client.post(path, content=raw, headers=headers)
            assert 400 <= r.status_code < 500, f"{path} #{i}: {r.status_code} {r.text}"
    del client
