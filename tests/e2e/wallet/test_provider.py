"""Wallet provider over HTTP (SQLite/memory and PostgreSQL/Redis): registration, attestations, lifecycle,
person binding, mobile conventions, transaction log, backup, hostile input."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from eidcore import jose
from eidcore.clock import SYSTEM_CLOCK
from eidcore.errors import RemoteProblem
from eidcore.formats.sd_jwt.present import KeyBinding, SdJwtHolder
from eidcore.formats.sd_jwt_vc import SdJwtVcIssuer
from eidcore.oauth import client_attestation, dpop
from eidcore.registers import SqlPopulationRegister
from eidcore.status_list.token import verify_jwt as verify_status_list
from eidcore.trust.x509 import validate_chain
from wallet_api.device_attestation import load_or_create_device_maker

from .conftest import NewWallet, client_for, device_maker

ISSUER = "http://localhost:8000/issuer"
WALLET = "http://localhost:8000/wallet"


def admin(stack: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.runtime.admin_tokens['wallet']}"}


async def bind(stack: Any, instance_id: str, alias: str) -> None:
    person = await SqlPopulationRegister(stack.runtime.db).get_by_alias(alias)
    body = {"person": person.national_id or person.person_id}
    r = await stack.client.post(f"/wallet/admin/instances/{instance_id}/person", json=body, headers=admin(stack))
    assert r.status_code == 200, r.text
    assert r.json()["person_bound"] is True


def _ec(key: jose.SigningKey) -> ec.EllipticCurvePublicKey:
    pub = key.public_key
    assert isinstance(pub, ec.EllipticCurvePublicKey)
    return pub


def problem(resp: httpx.Response, status: int, code: str) -> None:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["type"] == f"urn:lommebok:error:{code}"


# -- registration and attestations -----------------------------------------------------------------


async def test_register_and_wallet_attestation(stack: Any, new_wallet: NewWallet) -> None:
    c, view = await new_wallet()
    assert view["state"] == "active"
    assert view["jkt"] == c.instance_jkt
    assert view["security_level"] == "software"
    att = await c.wallet_attestation()
    pop = client_attestation.make_pop(c.key, audience=ISSUER, clock=SYSTEM_CLOCK)
    verified = client_attestation.verify(att, pop, audience=ISSUER, trust_anchors=stack.runtime.keys.trust_anchors,
                                         clock=SYSTEM_CLOCK)
    assert verified.client_id == "lommebok-wallet"
    assert verified.instance_jkt == c.instance_jkt
    assert verified.wallet_name == "Lommebok"
    assert verified.status is not None and verified.status["status_list"]["uri"] == f"{WALLET}/status/instances"
    assert verified.attestation_exp - int(SYSTEM_CLOCK.timestamp()) <= 3600
    claims = jose.parse_json_object(jose.parse_jws(att).payload, what="attestation")
    assert claims["wallet_version"] == "0.1.0"
    assert "iss" not in claims  # removed from the attestation in recent drafts of attestation-based client auth


async def test_key_attestation(stack: Any, new_wallet: NewWallet) -> None:
    c, _ = await new_wallet()
    keys = [jose.generate_signing_key().public_jwk for _ in range(3)]
    jwt = await c.key_attestation([{k: v for k, v in key.items() if k != "alg"} for key in keys], nonce="c-nonce-1")
    parsed = jose.parse_jws(jwt)
    assert parsed.header["typ"] == "key-attestation+jwt"
    leaf = validate_chain(jose.x5c_certificates(parsed.header), stack.runtime.keys.trust_anchors,
                          at=SYSTEM_CLOCK.now(), purpose="wallet_provider")
    provider_key = leaf.public_key()
    assert isinstance(provider_key, ec.EllipticCurvePublicKey)
    claims = jose.verify_jwt(parsed, provider_key, jose.JwsPolicy(typ="key-attestation+jwt")).claims
    assert [jose.jwk_thumbprint_b64u(k) for k in claims["attested_keys"]] == [
        jose.jwk_thumbprint_b64u(k) for k in keys]
    assert claims["nonce"] == "c-nonce-1"
    assert claims["key_storage"] == ["iso_18045_basic"]
    assert claims["user_authentication"] == ["iso_18045_basic"]
    assert claims["exp"] > claims["iat"]
    assert "status_list" in claims["status"]


async def test_key_attestation_refuses_private_keys(stack: Any, new_wallet: NewWallet) -> None:
    c, _ = await new_wallet()
    with pytest.raises(RemoteProblem) as exc:
        await c.key_attestation([jose.generate_signing_key().private_jwk()])
    assert exc.value.http_status == 400 and exc.value.error == "invalid_request"


async def _registration(stack: Any, key: jose.SigningKey, *, x5c: list[str] | None = None,
                        challenge: str | None = None, attest_challenge: str | None = None,
                        proof: str | bool | None = True) -> httpx.Response:
    if challenge is None:
        challenge = (await stack.client.post("/wallet/instances/challenge")).json()["challenge"]
    if x5c is None:
        x5c = device_maker(stack).attest(_ec(key), (attest_challenge or challenge).encode(), clock=SYSTEM_CLOCK)
    headers = {}
    if proof is True:
        headers["DPoP"] = dpop.make_proof(key, htm="POST", htu=f"{WALLET}/instances", clock=SYSTEM_CLOCK,
                                          nonce=challenge)
    elif isinstance(proof, str):
        headers["DPoP"] = proof
    body = {"platform": "android", "attestation": {"format": "android-key", "x5c": x5c}}
    resp: httpx.Response = await stack.client.post("/wallet/instances", json=body, headers=headers)
    return resp


async def test_forged_or_replayed_registrations_are_refused(stack: Any, tmp_path: Any) -> None:
    # replay: the challenge is single-use
    key = jose.generate_signing_key()
    challenge = (await stack.client.post("/wallet/instances/challenge")).json()["challenge"]
    assert (await _registration(stack, key, challenge=challenge)).status_code == 201
    problem(await _registration(stack, jose.generate_signing_key(), challenge=challenge), 400, "invalid_nonce")
    # the same key twice
    problem(await _registration(stack, key), 409, "conflict")
    # a challenge the provider never issued
    problem(await _registration(stack, jose.generate_signing_key(), challenge="made-up-challenge"), 400,
            "invalid_nonce")
    # an attestation from a device maker the provider does not trust
    key = jose.generate_signing_key()
    challenge = (await stack.client.post("/wallet/instances/challenge")).json()["challenge"]
    forger = load_or_create_device_maker(tmp_path / "forger", clock=SYSTEM_CLOCK)
    r = await _registration(stack, key, x5c=forger.attest(_ec(key), challenge.encode(), clock=SYSTEM_CLOCK),
                            challenge=challenge)
    problem(r, 400, "invalid_device_attestation")
    assert "not trusted" in r.json()["detail"]
    # an attestation of another key than the one signing the request
    challenge = (await stack.client.post("/wallet/instances/challenge")).json()["challenge"]
    x5c = device_maker(stack).attest(_ec(jose.generate_signing_key()), challenge.encode(), clock=SYSTEM_CLOCK)
    r = await _registration(stack, key, x5c=x5c, challenge=challenge)
    problem(r, 400, "invalid_device_attestation")
    assert "different key" in r.json()["detail"]
    # an attestation made for another challenge
    r = await _registration(stack, jose.generate_signing_key(), attest_challenge="another-challenge")
    problem(r, 400, "invalid_device_attestation")
    assert "challenge" in r.json()["detail"]
    # no proof of possession
    problem(await _registration(stack, jose.generate_signing_key(), proof=None), 400, "invalid_dpop_proof")
    # iOS App Attest is not implemented: refused with the reason
    key = jose.generate_signing_key()
    challenge = (await stack.client.post("/wallet/instances/challenge")).json()["challenge"]
    proof = dpop.make_proof(key, htm="POST", htu=f"{WALLET}/instances", clock=SYSTEM_CLOCK, nonce=challenge)
    body = {"platform": "ios", "attestation": {"format": "android-key", "x5c": ["AA=="]}}
    r = await stack.client.post("/wallet/instances", json=body, headers={"DPoP": proof})
    problem(r, 400, "invalid_device_attestation")
    assert "App Attest" in r.json()["detail"]


async def test_request_proofs_are_single_use_and_need_a_registered_key(stack: Any, new_wallet: NewWallet) -> None:
    c, _ = await new_wallet()
    proof = dpop.make_proof(c.key, htm="POST", htu=f"{WALLET}/attestations/wallet", clock=SYSTEM_CLOCK)
    assert (await stack.client.post("/wallet/attestations/wallet", headers={"DPoP": proof})).status_code == 200
    problem(await stack.client.post("/wallet/attestations/wallet", headers={"DPoP": proof}), 400,
            "invalid_dpop_proof")
    wrong_url = dpop.make_proof(c.key, htm="POST", htu=f"{WALLET}/attestations/key", clock=SYSTEM_CLOCK)
    problem(await stack.client.post("/wallet/attestations/wallet", headers={"DPoP": wrong_url}), 400,
            "invalid_dpop_proof")
    with pytest.raises(RemoteProblem) as exc:
        await client_for(stack).wallet_attestation()
    assert exc.value.http_status == 403 and exc.value.error == "access_denied"


# -- lifecycle ---------------------------------------------------------------------------------------


async def test_lost_device_lifecycle(stack: Any, new_wallet: NewWallet) -> None:
    lost, lost_view = await new_wallet()
    other, other_view = await new_wallet()
    idx = jose.parse_jws(await lost.wallet_attestation())
    status_idx = jose.parse_json_object(idx.payload, what="attestation")["status"]["status_list"]["idx"]
    await bind(stack, lost_view["id"], "kari")
    await bind(stack, other_view["id"], "kari")
    assert {i["id"] for i in await other.instances()} == {lost_view["id"], other_view["id"]}

    suspended = await other.change_status(lost_view["id"], "suspend")
    assert suspended["state"] == "suspended"
    assert suspended["issuer_sync"]["action"] == "suspend"
    assert suspended["issuer_sync"]["status"] == "done"  # the issuer's admin API answered (no credentials yet)
    assert suspended["issuer_sync"]["updated"] == 0
    for attempt in (lost.wallet_attestation(), lost.key_attestation([jose.generate_signing_key().public_jwk])):
        with pytest.raises(RemoteProblem) as exc:
            await attempt
        assert exc.value.http_status == 403 and exc.value.error == "instance_not_active"
    # a suspended instance still learns its own state
    assert (await lost.instance(lost_view["id"]))["state"] == "suspended"

    assert (await other.change_status(lost_view["id"], "reinstate"))["state"] == "active"
    assert await lost.wallet_attestation()

    assert (await other.change_status(lost_view["id"], "revoke"))["state"] == "revoked"
    with pytest.raises(RemoteProblem) as exc:
        await lost.wallet_attestation()
    assert exc.value.error == "instance_not_active"
    with pytest.raises(RemoteProblem) as exc:
        await other.change_status(lost_view["id"], "reinstate")
    assert exc.value.http_status == 409

    token = (await stack.client.get("/wallet/status/instances")).text
    lst = verify_status_list(token, uri=f"{WALLET}/status/instances", clock=SYSTEM_CLOCK,
                             trust_anchors=stack.runtime.keys.trust_anchors)
    assert lst.get(status_idx) == 1
    assert lst.ttl == 30  # dev: an issuer learns of a lost phone within 30 s


async def test_instance_cannot_reinstate_itself(stack: Any, new_wallet: NewWallet) -> None:
    c, view = await new_wallet()
    assert (await c.change_status(view["id"], "suspend"))["state"] == "suspended"
    with pytest.raises(RemoteProblem) as exc:
        await c.change_status(view["id"], "reinstate")
    assert exc.value.error == "instance_not_active"


async def test_another_persons_device_cannot_be_touched(stack: Any, new_wallet: NewWallet) -> None:
    karis, kv = await new_wallet()
    olas, ov = await new_wallet()
    stranger, _ = await new_wallet()
    await bind(stack, kv["id"], "kari")
    await bind(stack, ov["id"], "ola")
    for c in (olas, stranger):
        for attempt in (c.change_status(kv["id"], "revoke"), c.instance(kv["id"])):
            with pytest.raises(RemoteProblem) as exc:
                await attempt
            assert exc.value.http_status == 404 and exc.value.error == "not_found"
    assert (await karis.instance(kv["id"]))["state"] == "active"
    assert [i["id"] for i in await olas.instances()] == [ov["id"]]


async def test_admin_lifecycle_needs_the_admin_token(stack: Any, new_wallet: NewWallet) -> None:
    _, view = await new_wallet()
    r = await stack.client.post(f"/wallet/admin/instances/{view['id']}/status", json={"action": "revoke"},
                                headers={"Authorization": "Bearer wrong"})
    problem(r, 401, "invalid_token")
    r = await stack.client.post(f"/wallet/admin/instances/{view['id']}/status", json={"action": "suspend"},
                                headers=admin(stack))
    assert r.status_code == 200 and r.json()["state"] == "suspended"


# -- person binding by PID -----------------------------------------------------------------------------


def _pid(stack: Any, number: str, holder: jose.SigningKey) -> str:
    issuer = SdJwtVcIssuer(stack.runtime.keys.issuer.signing_key(), iss=ISSUER, clock=SYSTEM_CLOCK)
    issued = issuer.issue({"given_name": "Kari", "personal_administrative_number": number},
                          vct="urn:eudi:pid:1", disclosable=[["given_name"], ["personal_administrative_number"]],
                          holder_jwk=holder.public_jwk, expires_in=3600)
    return issued.compact


async def test_bind_by_pid_presentation(stack: Any, new_wallet: NewWallet) -> None:
    c, _ = await new_wallet()
    kari = await SqlPopulationRegister(stack.runtime.db).get_by_alias("kari")
    assert kari.national_id is not None
    holder = jose.generate_signing_key()
    pid = _pid(stack, kari.national_id, holder)
    nonce = await c.binding_nonce()
    presentation = SdJwtHolder(clock=SYSTEM_CLOCK).present(
        pid, disclose=[["personal_administrative_number"]],
        key_binding=KeyBinding(holder, audience=WALLET, nonce=nonce))
    assert isinstance(presentation, str)
    bound = await c.bind_by_pid(presentation, nonce)
    assert bound["person_bound"] is True and bound["bound_by"] == "pid"
    # the nonce is single-use
    with pytest.raises(RemoteProblem) as exc:
        await c.bind_by_pid(presentation, nonce)
    assert exc.value.error == "invalid_nonce"


async def test_bind_by_pid_refuses_wrong_audience(stack: Any, new_wallet: NewWallet) -> None:
    c, _ = await new_wallet()
    holder = jose.generate_signing_key()
    pid = _pid(stack, "12345678901", holder)
    nonce = await c.binding_nonce()
    presentation = SdJwtHolder(clock=SYSTEM_CLOCK).present(
        pid, disclose=None, key_binding=KeyBinding(holder, audience=ISSUER, nonce=nonce))
    with pytest.raises(RemoteProblem) as exc:
        await c.bind_by_pid(str(presentation), nonce)
    assert exc.value.http_status == 400 and "not valid" in str(exc.value)


# -- mobile conventions --------------------------------------------------------------------------------


async def test_idempotency_key_replays_status_change(stack: Any, new_wallet: NewWallet) -> None:
    _, view = await new_wallet()
    other, ov = await new_wallet()
    await bind(stack, view["id"], "ola")
    await bind(stack, ov["id"], "ola")
    key = secrets.token_urlsafe(16)
    path = f"/instances/{view['id']}/status"
    first = await other.call("POST", path, json={"action": "suspend"}, headers={"Idempotency-Key": key})
    second = await other.call("POST", path, json={"action": "suspend"}, headers={"Idempotency-Key": key})
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    with pytest.raises(RemoteProblem) as exc:
        await other.call("POST", path, json={"action": "revoke"}, headers={"Idempotency-Key": key})
    assert exc.value.http_status == 409
    assert (await other.instance(view["id"]))["state"] == "suspended"


async def test_idempotency_key_on_transactions(stack: Any, new_wallet: NewWallet) -> None:
    c, _ = await new_wallet()
    key = secrets.token_urlsafe(16)
    entry = {"relying_party": "x509_hash:abc", "claims": ["age_equal_or_over.18"], "credential_types": ["pid"],
             "shared_at": datetime.now(UTC).isoformat()}
    a = await c.call("POST", "/transactions", json=entry, headers={"Idempotency-Key": key})
    b = await c.call("POST", "/transactions", json=entry, headers={"Idempotency-Key": key})
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] == b.json()["id"]
    assert b.headers["Idempotent-Replayed"] == "true"
    assert len(await c.transactions()) == 1
    with pytest.raises(RemoteProblem) as exc:
        await c.call("POST", "/transactions", json={**entry, "claims": ["family_name"]},
                     headers={"Idempotency-Key": key})
    assert exc.value.http_status == 409
    with pytest.raises(RemoteProblem) as exc:
        await c.call("POST", "/transactions", json=entry)
    assert exc.value.http_status == 400 and "Idempotency-Key" in str(exc.value)


async def test_etags(stack: Any, new_wallet: NewWallet) -> None:
    c, view = await new_wallet()
    other, ov = await new_wallet()
    await bind(stack, view["id"], "erik")
    await bind(stack, ov["id"], "erik")
    r = await c.call("GET", f"/instances/{view['id']}")
    tag = r.headers["ETag"]
    assert (await c.call("GET", f"/instances/{view['id']}", headers={"If-None-Match": tag}, expect=(304,))
            ).status_code == 304
    await other.change_status(view["id"], "suspend")
    await other.change_status(view["id"], "reinstate")
    with pytest.raises(RemoteProblem) as exc:
        await other.call("POST", f"/instances/{view['id']}/status", json={"action": "suspend"},
                         headers={"If-Match": tag}, idempotent=True)
    assert exc.value.http_status == 412 and exc.value.error == "precondition_failed"


async def test_transaction_log_is_per_person_and_paginated(stack: Any, new_wallet: NewWallet) -> None:
    a, av = await new_wallet()
    b, bv = await new_wallet()
    stranger, _ = await new_wallet()
    await bind(stack, av["id"], "anna")
    await bind(stack, bv["id"], "anna")
    for i in range(5):
        await (a if i % 2 else b).record_transaction({
            "relying_party": f"x509_hash:rp{i}", "relying_party_name": f"RP {i}", "credential_types": ["pid"],
            "claims": ["age_equal_or_over.18"], "shared_at": datetime.now(UTC).isoformat()})
    page = (await a.call("GET", "/transactions", params={"limit": 2})).json()
    assert [e["relying_party"] for e in page["items"]] == ["x509_hash:rp4", "x509_hash:rp3"]
    rest = (await a.call("GET", "/transactions", params={"limit": 10, "cursor": page["next_cursor"]})).json()
    assert [e["relying_party"] for e in rest["items"]] == ["x509_hash:rp2", "x509_hash:rp1", "x509_hash:rp0"]
    assert rest["next_cursor"] is None
    assert await stranger.transactions() == []
    with pytest.raises(RemoteProblem) as exc:
        await a.record_transaction({"relying_party": "rp", "claims": ["Kari Nordmann"],
                                    "shared_at": datetime.now(UTC).isoformat()})
    assert exc.value.http_status == 400


async def test_encrypted_backup_restores_on_new_device(stack: Any, new_wallet: NewWallet) -> None:
    old, ov = await new_wallet()
    await bind(stack, ov["id"], "amir")
    blob = base64.urlsafe_b64encode(secrets.token_bytes(300)).decode().rstrip("=")
    stored = await old.put_backup(blob, media_type="application/jose")
    assert stored["version"] == 1 and stored["size"] == 300
    with pytest.raises(RemoteProblem) as exc:
        await old.put_backup(blob, if_match='"v7"')
    assert exc.value.http_status == 412
    # the phone is lost: revoke it from the service desk, register a new one, bind it, restore
    r = await stack.client.post(f"/wallet/admin/instances/{ov['id']}/status", json={"action": "revoke"},
                                headers=admin(stack))
    assert r.status_code == 200
    new, nv = await new_wallet()
    assert await new.get_backup() is None
    await bind(stack, nv["id"], "amir")
    restored = await new.get_backup()
    assert restored is not None and restored["ciphertext"] == blob
    stranger, _ = await new_wallet()
    assert await stranger.get_backup() is None


# -- hostile input ---------------------------------------------------------------------------------------


async def test_hostile_inputs_get_problem_details(stack: Any, new_wallet: NewWallet) -> None:
    c, view = await new_wallet()
    ok_key = jose.generate_signing_key()
    challenge = (await stack.client.post("/wallet/instances/challenge")).json()["challenge"]
    proof = dpop.make_proof(ok_key, htm="POST", htu=f"{WALLET}/instances", clock=SYSTEM_CLOCK, nonce=challenge)
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/wallet/instances", {"content": b"{not json"}),
        ("POST", "/wallet/instances", {"json": []}),
        ("POST", "/wallet/instances", {"json": {"platform": "android", "attestation": {"format": "android-key",
                                                                                        "x5c": ["!!!"]}},
                                       "headers": {"DPoP": proof}}),
        ("POST", "/wallet/instances", {"json": {"platform": "android", "attestation": {
            "format": "android-key", "x5c": [base64.b64encode(b"\x30\x82\xff\xff").decode()]}},
            "headers": {"DPoP": dpop.make_proof(ok_key, htm="POST", htu=f"{WALLET}/instances", clock=SYSTEM_CLOCK,
                                                nonce=(await stack.client.post("/wallet/instances/challenge")
                                                       ).json()["challenge"])}}),
        ("POST", "/wallet/instances", {"json": {"platform": "android", "attestation": {"format": "x", "x5c": []}}}),
        ("POST", "/wallet/instances", {"json": {"platform": "android", "extra": 1,
                                                "attestation": {"format": "android-key", "x5c": ["AA=="] * 50}}}),
        ("POST", "/wallet/attestations/wallet", {"headers": {"DPoP": "a.b.c"}}),
        ("POST", "/wallet/attestations/wallet", {"headers": {"DPoP": "x" * 20000}}),
        ("GET", "/wallet/instances", {"params": {"cursor": "%%%"}}),
        ("GET", "/wallet/instances", {"params": {"limit": "-3"}}),
        ("GET", f"/wallet/instances/{view['id']}", {}),
        ("POST", f"/wallet/admin/instances/{view['id']}/person", {"json": {"person": "1" * 11},
                                                                  "headers": admin(stack)}),
        ("POST", "/wallet/admin/instances/nope/status", {"json": {"action": "revoke"}, "headers": admin(stack)}),
        ("POST", "/wallet/admin/instances/nope/status", {"json": {"action": "explode"}, "headers": admin(stack)}),
        ("PUT", "/wallet/backup", {"json": {"ciphertext": 5}}),
    ]
    for method, path, kw in cases:
        r = await stack.client.request(method, path, **kw)
        assert 400 <= r.status_code < 500, (method, path, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json"), (path, r.text)
        assert r.json()["status"] == r.status_code
    # signed but hostile
    signed: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/attestations/key", {"json": {"attested_keys": [{"kty": "EC", "crv": "P-256", "x": "AA",
                                                                   "y": "AA"}]}}),
        ("POST", "/attestations/key", {"json": {"attested_keys": [{"kty": "oct", "k": "AA"}]}}),
        ("POST", f"/instances/{view['id']}/status", {"json": {"action": "revoke"},
                                                      "headers": {"Idempotency-Key": "short"}}),
        ("PUT", "/backup", {"json": {"ciphertext": "***"}}),
        ("POST", "/binding", {"json": {"presentation": "garbage~", "nonce": "n"}}),
    ]
    for method, path, kw in signed:
        with pytest.raises(RemoteProblem) as exc:
            await c.call(method, path, **kw)
        assert 400 <= exc.value.http_status < 500, (path, exc.value)
