"""The relying-party API: bearer API keys (missing or wrong: 401), one relying party cannot see another's
transactions (404), the admin API registers relying parties, and the request object endpoint's HTTP rules."""

from __future__ import annotations

import stat

import pytest

from eidcore import jose
from tests.e2e.verifier.conftest import VerifierEnv


async def _new_rp(env: VerifierEnv, profiles: list[str] | None = None) -> str:
    admin = env.rt.admin_tokens["verifier"]
    r = await env.client.post("/verifier/admin/relying-parties", headers={"Authorization": f"Bearer {admin}"},
                              json={"name": "Fjordvik kommune", "allowed_profiles": profiles or ["age-over-18"],
                                    "redirect_uris": ["https://fjordvik.example/"]})
    assert r.status_code == 201, r.text
    key: str = r.json()["api_key"]
    return key


async def test_missing_and_wrong_keys_are_401(env: VerifierEnv) -> None:
    body = {"profile": "pid-basic"}
    r = await env.client.post("/verifier/rp/transactions", json=body)
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    assert r.headers["www-authenticate"].startswith("Bearer")
    r = await env.client.post("/verifier/rp/transactions", json=body, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    r = await env.client.get("/verifier/rp/transactions/x", headers={"Authorization": f"Basic {env.rp_key}"})
    assert r.status_code == 401


async def test_another_relying_partys_transaction_is_404(env: VerifierEnv) -> None:
    other = await _new_rp(env)
    mine = await env.create(profile="pid-basic")
    r = await env.client.get(f"/verifier/rp/transactions/{mine['transaction_id']}", headers=env.auth(other))
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = await env.client.get(f"/verifier/rp/transactions/{mine['transaction_id']}/events", headers=env.auth(other))
    assert r.status_code == 404
    theirs = await env.create(other, profile="age-over-18")
    assert (await env.read(theirs["transaction_id"], other))["status"] == "pending"
    r = await env.client.get(f"/verifier/rp/transactions/{theirs['transaction_id']}", headers=env.auth())
    assert r.status_code == 404


async def test_relying_party_is_limited_to_its_profiles_and_redirect_uris(env: VerifierEnv) -> None:
    other = await _new_rp(env)
    r = await env.client.post("/verifier/rp/transactions", json={"profile": "pid-basic"}, headers=env.auth(other))
    assert r.status_code == 400 and "profile" in r.json()["error_description"]
    r = await env.client.post("/verifier/rp/transactions", headers=env.auth(other),
                              json={"profile": "age-over-18", "redirect_uri": "https://evil.example/"})
    assert r.status_code == 400 and "redirect_uri" in r.json()["error_description"]
    r = await env.client.post("/verifier/rp/transactions", headers=env.auth(other), json={
        "dcql_query": {"credentials": [{"id": "x", "format": "dc+sd-jwt", "meta": {"vct_values": ["a"]}}]}})
    assert r.status_code == 400


async def test_admin_api_needs_the_admin_token(env: VerifierEnv) -> None:
    r = await env.client.post("/verifier/admin/relying-parties", headers=env.auth(),
                              json={"name": "x", "allowed_profiles": []})
    assert r.status_code == 401


async def test_demo_key_file_is_private(env: VerifierEnv) -> None:
    path = env.stack.settings.data_dir / "secrets" / "rp-demo"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("prefix", ["x509_hash", "x509_san_dns"])
async def test_request_object_is_a_signed_jar(env: VerifierEnv, prefix: str) -> None:
    created = await env.create(profile="pid-basic", client_id_prefix=prefix)
    r = await env.client.get(created["request_uri"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/oauth-authz-req+jwt")
    jws = jose.parse_jws(r.text)
    assert jws.header["typ"] == "oauth-authz-req+jwt" and len(jws.header["x5c"]) == 1
    claims = jose.verify_jwt(jws, jose.x5c_leaf_key(jws.header), jose.JwsPolicy(typ="oauth-authz-req+jwt")).claims
    assert claims["client_id"] == created["client_id"] and claims["response_type"] == "vp_token"
    assert claims["response_mode"] == "direct_post.jwt" and "redirect_uri" not in claims
    keys = claims["client_metadata"]["jwks"]["keys"]
    assert keys[0]["alg"] == "ECDH-ES" and keys[0]["crv"] == "P-256" and "d" not in keys[0]
    assert claims["client_metadata"]["encrypted_response_enc_values_supported"] == ["A128GCM", "A256GCM"]
    assert set(claims["client_metadata"]["vp_formats_supported"]) == {"dc+sd-jwt", "mso_mdoc"}
    # request_uri_method=get: a POST is refused with the spec's error
    r = await env.client.post(created["request_uri"], data={"wallet_nonce": "n"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request_uri_method"


async def test_request_uri_method_post_returns_the_wallet_nonce(env: VerifierEnv) -> None:
    created = await env.create(profile="pid-basic", request_uri_method="post")
    r = await env.client.post(created["request_uri"], data={"wallet_nonce": "abc123", "wallet_metadata": "{}"})
    assert r.status_code == 200
    assert jose.parse_json_object(jose.parse_jws(r.text).payload, what="jar")["wallet_nonce"] == "abc123"
