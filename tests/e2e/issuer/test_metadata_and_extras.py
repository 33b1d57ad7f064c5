"""Metadata documents (OpenID4VCI 1.0 §12.2, RFC 8414, SD-JWT VC §5/§6), deferred issuance (§9), notification
(§11), credential request/response encryption (§10) and key attestations (Appendix D)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from eidcore import jose
from eidcore.errors import InvalidNotificationId, InvalidNotificationRequest, InvalidProof, InvalidTransactionId

ISS = "http://localhost:8000/issuer"


async def test_issuer_and_authorization_server_metadata(h: Any) -> None:
    c = h.stack.client
    r = await c.get("/.well-known/openid-credential-issuer/issuer")
    assert r.status_code == 200
    meta = r.json()
    assert meta["credential_issuer"] == ISS and meta["nonce_endpoint"] == f"{ISS}/nonce"
    confs = meta["credential_configurations_supported"]
    expected = {f"{t}_{f}" for t in ("pid", "employee_role", "youth", "mandate") for f in ("vc_sd_jwt", "mso_mdoc")}
    assert set(confs) == expected
    pid = confs["pid_vc_sd_jwt"]
    assert pid["format"] == "dc+sd-jwt" and pid["vct"] == "urn:eudi:pid:1" and pid["scope"] == "pid_vc_sd_jwt"
    assert pid["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"] == ["ES256"]
    assert {d["locale"] for d in pid["credential_metadata"]["display"]} == {"nb", "nn", "en"}
    assert confs["pid_mso_mdoc"]["doctype"] == "eu.europa.ec.eudi.pid.1"
    assert confs["pid_mso_mdoc"]["credential_metadata"]["claims"][0]["path"][0] == "eu.europa.ec.eudi.pid.1"
    assert meta["batch_credential_issuance"]["batch_size"] == h.stack.settings.issuer.batch_size
    assert meta["credential_request_encryption"]["jwks"]["keys"][0]["kid"]
    # Accept-Language picks one locale and says so
    for header, locale in (("nn-NO, en;q=0.5", "nn"), ("en-GB", "en"), ("no", "nb"), ("sv;q=1, nb;q=0.4", "nb")):
        r = await c.get("/.well-known/openid-credential-issuer/issuer", headers={"Accept-Language": header})
        assert r.headers["content-language"] == locale
        displays = r.json()["credential_configurations_supported"]["youth_vc_sd_jwt"]["credential_metadata"]
        assert {d["locale"] for d in displays["display"]} == {locale}
        assert all({d["locale"] for d in cl["display"]} == {locale} for cl in displays["claims"])
    asm = (await c.get("/.well-known/oauth-authorization-server/issuer")).json()
    assert asm["issuer"] == ISS and asm["require_pushed_authorization_requests"] is True
    assert asm["code_challenge_methods_supported"] == ["S256"]
    assert asm["authorization_response_iss_parameter_supported"] is True
    assert "attest_jwt_client_auth" in asm["token_endpoint_auth_methods_supported"]
    assert "ES256" in asm["dpop_signing_alg_values_supported"]
    assert (await c.get("/issuer/.well-known/openid-credential-issuer")).json()["credential_issuer"] == ISS
    vc_meta = (await c.get("/.well-known/jwt-vc-issuer/issuer")).json()
    assert vc_meta["issuer"] == ISS
    jwks = (await c.get("/issuer/jwks")).json()
    assert jwks == vc_meta["jwks"]
    # the SD-JWT VC names a kid that the JWKS holds, and vct#integrity covers the served type metadata
    client, tok = await h.pre_authorized_token("kari", ["youth_vc_sd_jwt"], tx_code=False)
    creds, _, _ = await h.credentials(client, tok, "youth_vc_sd_jwt")
    issuer_jwt_header = jose.parse_jws(creds[0].split("~", 1)[0]).header
    assert issuer_jwt_header["kid"] in {k["kid"] for k in jwks["keys"]}
    tm = await c.get("/issuer/type-metadata/youth")
    assert tm.json()["vct"] == "urn:no:digdir:eudi:age:1"
    integrity = "sha256-" + base64.b64encode(hashlib.sha256(tm.content).digest()).decode()
    assert h.verify_sd_jwt(creds[0]).claims["vct#integrity"] == integrity
    assert (await c.get("/issuer/type-metadata/nope")).status_code == 404


async def test_deferred_issuance_and_notification(h: Any) -> None:
    client, tok = await h.pre_authorized_token("kari", ["pid_vc_sd_jwt"], require_approval=True)
    key = jose.generate_signing_key()
    resp = await client.request_credential(tok, proofs=[client.proof(key, await client.nonce())],
                                           credential_configuration_id="pid_vc_sd_jwt")
    assert resp.transaction_id and resp.interval and not resp.credentials
    again = await client.deferred(tok, resp.transaction_id)
    assert again.transaction_id == resp.transaction_id and not again.credentials
    waits: list[float] = []

    async def approve_while_waiting(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:  # the officer approves during the second wait
            url = f"/issuer/admin/deferred/{resp.transaction_id}/approve"
            # an approval meant for another person's issuance does not apply to this transaction
            r = await h.stack.client.post(url, headers=h.admin, json={"person": "ola"})
            assert r.status_code == 404
            r = await h.stack.client.post(url, headers=h.admin, json={"person": "kari"})
            assert r.status_code == 204

    done = await client.wait_for_deferred(tok, again, sleep=approve_while_waiting)
    assert waits == [float(resp.interval)] * 2
    assert len(done.credentials) == 1 and done.notification_id
    assert h.verify_sd_jwt(done.credentials[0]).holder_jwk == jose.public_jwk(key.public_key)
    with pytest.raises(InvalidTransactionId):
        await client.deferred(tok, resp.transaction_id)
    await client.notify(tok, done.notification_id, "credential_accepted")
    await client.notify(tok, done.notification_id, "credential_accepted")  # idempotent
    with pytest.raises(InvalidNotificationId):
        await client.notify(tok, "unknown", "credential_accepted")
    with pytest.raises(InvalidNotificationRequest):
        await client.notify(tok, done.notification_id, "credential_stolen")


async def test_encrypted_request_and_response(h: Any) -> None:
    client, tok = await h.pre_authorized_token("kari", ["pid_mso_mdoc"])
    creds, _keys, resp = await h.credentials(client, tok, "pid_mso_mdoc", 2, encrypt=True)
    assert len(creds) == 2 and resp.notification_id
    for cred in creds:
        h.verify_mdoc(cred, "eu.europa.ec.eudi.pid.1")


def _key_attestation(h: Any, keys: list[Any], nonce: str, **extra: Any) -> str:
    now = int(h.rt.clock.timestamp())
    claims = {"iat": now, "exp": now + 300, "attested_keys": [jose.public_jwk(k.public_key) for k in keys],
              "key_storage": ["iso_18045_high"], "user_authentication": ["iso_18045_high"], "nonce": nonce, **extra}
    return jose.sign_jwt(claims, h.rt.keys.wallet_provider.signing_key(), typ="key-attestation+jwt",
                         include_kid=False, include_x5c=True)


async def test_key_attestation_issues_one_credential_per_attested_key(h: Any) -> None:
    client, tok = await h.pre_authorized_token("kari", ["pid_vc_sd_jwt"])
    keys = [jose.generate_signing_key() for _ in range(3)]
    nonce = await client.nonce()
    proof = client.proof(keys[0], nonce, key_attestation=_key_attestation(h, keys, nonce))
    resp = await client.request_credential(tok, proofs=[proof], credential_configuration_id="pid_vc_sd_jwt")
    holders = [h.verify_sd_jwt(c).holder_jwk for c in resp.credentials]
    assert holders == [jose.public_jwk(k.public_key) for k in keys]
    nonce = await client.nonce()
    stale = client.proof(keys[0], nonce, key_attestation=_key_attestation(h, keys, "another-nonce"))
    with pytest.raises(InvalidProof):
        await client.request_credential(tok, proofs=[stale], credential_configuration_id="pid_vc_sd_jwt")
    nonce = await client.nonce()
    forged = jose.sign_jwt({"iat": 1, "exp": 2 ** 40, "attested_keys": [jose.public_jwk(keys[0].public_key)],
                            "nonce": nonce}, jose.generate_signing_key(), typ="key-attestation+jwt")
    with pytest.raises(InvalidProof):
        await client.request_credential(tok, proofs=[client.proof(keys[0], nonce, key_attestation=forged)],
                                        credential_configuration_id="pid_vc_sd_jwt")
