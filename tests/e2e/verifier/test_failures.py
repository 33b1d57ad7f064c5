"""Every validation check fails when it should: the response endpoint answers the spec's
``400 {"error": "invalid_request"}`` (never a 500) and the relying party sees the refused attempt by the check's
name, while the transaction stays pending for a valid response (or ends expired)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from eidcore import jose
from eidcore.errors import AccessDenied
from eidcore.formats import mdoc
from eidcore.formats.sd_jwt import Disclosure, KeyBinding, SdJwtHolder
from eidcore.formats.sd_jwt_vc import StatusReference
from eidcore.keys import create_dev_pki
from tests.e2e.verifier.conftest import VerifierEnv
from verifier.models import VerTransaction
from wallet_api.holder import vp

PID_ASKED = [["given_name"], ["family_name"], ["birthdate"], ["age_equal_or_over", "13"]]


async def _request(env: VerifierEnv, **body: Any) -> tuple[dict[str, Any], vp.AuthorizationRequest]:
    body.setdefault("profile", "pid-basic")
    body.setdefault("params", {"format": "dc+sd-jwt"})
    created = await env.create(**body)
    req = await vp.fetch_request(env.client, created["authorization_request"], trust_anchors=env.anchors)
    return created, req


def _sd_presentation(held: vp.HeldSdJwtVc, req: vp.AuthorizationRequest, *, disclose: list[list[Any]] = PID_ASKED,
                     nonce: str | None = None, aud: str | None = None, iat: int | None = None) -> str:
    kb = KeyBinding(held.key, aud or req.client_id, nonce or req.nonce, issued_at=iat)
    out = SdJwtHolder().present(held.credential, disclose=disclose, key_binding=kb)
    assert isinstance(out, str)
    return out


async def _expect_failed(env: VerifierEnv, created: dict[str, Any], result: vp.ResponseResult, check: str,
                         status: str = "pending") -> dict[str, Any]:
    """The response was refused with ``check``: still pending (refused attempt listed), or ``expired``."""
    assert result.status_code == 400, result.body
    assert result.body["error"] == "invalid_request"
    tx = await env.read(created["transaction_id"])
    assert tx["status"] == status
    if status == "pending":
        assert tx["refused_attempts"][-1]["check"] == check, tx["refused_attempts"]
        assert "failure" not in tx
    else:
        assert tx["failure"]["check"] == check, tx["failure"]
    assert "result" not in tx
    return tx


async def test_presentation_replayed_to_a_second_transaction(env: VerifierEnv) -> None:
    pid = env.sd_jwt("pid")
    first, req1 = await _request(env, response_mode="direct_post")
    second, req2 = await _request(env, response_mode="direct_post")
    token = {"pid": [_sd_presentation(pid, req1)]}
    ok = await vp.send_response(env.client, req1, token)
    assert ok.status_code == 200
    replay = await vp.send_response(env.client, req2, token)
    await _expect_failed(env, second, replay, "key_binding.nonce")
    again = await vp.send_response(env.client, req1, token)  # the first transaction takes no second response
    assert again.status_code == 400
    assert (await env.read(first["transaction_id"]))["status"] == "validated"


@pytest.mark.parametrize(("kwargs", "check"), [
    ({"nonce": "not-the-nonce"}, "key_binding.nonce"),
    ({"aud": "x509_san_dns:localhost"}, "key_binding.aud"),
    ({"iat": int(time.time()) - 3600}, "key_binding.iat"),
    ({"disclose": [*PID_ASKED, ["personal_administrative_number"]]}, "dcql.no_extra_disclosure"),
])
async def test_key_binding_and_disclosure_checks(env: VerifierEnv, kwargs: dict[str, Any], check: str) -> None:
    pid = env.sd_jwt("pid")
    created, req = await _request(env)
    result = await vp.send_response(env.client, req, {"pid": [_sd_presentation(pid, req, **kwargs)]})
    await _expect_failed(env, created, result, check)


async def test_tampered_disclosure(env: VerifierEnv) -> None:
    pid = env.sd_jwt("pid")
    created, req = await _request(env)
    jwt, *disclosures, _ = pid.credential.split("~")
    tampered = []
    for d in disclosures:
        parsed = Disclosure.parse(d)
        if parsed.name == "given_name":
            d = jose.b64url_encode(json.dumps([parsed.salt, "given_name", "Mallory"]).encode())
        tampered.append(d)
    forged = vp.HeldSdJwtVc("~".join([jwt, *tampered, ""]), pid.key)
    kb = KeyBinding(forged.key, req.client_id, req.nonce)
    pres = SdJwtHolder().key_binding_jwt("~".join([jwt, *tampered, ""]), kb)
    token = {"pid": ["~".join([jwt, *tampered, pres])]}
    result = await vp.send_response(env.client, req, token)
    await _expect_failed(env, created, result, "sd_jwt.disclosures")


async def test_untrusted_issuer(env: VerifierEnv) -> None:
    _, foreign = create_dev_pki(env.stack.settings.public_base_url)
    pid = env.sd_jwt("pid", issuer=foreign["issuer"])
    created, req = await _request(env)
    result = await vp.send_response(env.client, req, {"pid": [_sd_presentation(pid, req)]})
    await _expect_failed(env, created, result, "sd_jwt.issuer_trust")


async def test_untrusted_mdoc_issuer(env: VerifierEnv) -> None:
    _, foreign = create_dev_pki(env.stack.settings.public_base_url)
    pid = env.mdoc("pid", issuer=foreign["issuer"])
    created = await env.create(profile="pid-basic", params={"format": "mso_mdoc"})
    result = await vp.present(env.client, created["authorization_request"], [pid], trust_anchors=env.anchors)
    await _expect_failed(env, created, result, "mdoc.issuer_trust")


@pytest.mark.parametrize(("value", "bad_signature", "check"), [
    (1, False, "status.revoked"),
    (2, False, "status.suspended"),
    (0, True, "status_list.signature"),
])
async def test_status(env: VerifierEnv, value: int, bad_signature: bool, check: str) -> None:
    status = env.status.new(env.stack.url(""), value, bad_signature=bad_signature)
    pid = env.sd_jwt("pid", status=status)
    created, req = await _request(env)
    result = await vp.send_response(env.client, req, {"pid": [_sd_presentation(pid, req)]})
    await _expect_failed(env, created, result, check)


async def test_mdoc_status_revoked(env: VerifierEnv) -> None:
    pid = env.mdoc("pid", status=env.status.new(env.stack.url(""), 1))
    created = await env.create(profile="age-over-18", params={"format": "mso_mdoc"})
    result = await vp.present(env.client, created["authorization_request"], [pid], trust_anchors=env.anchors)
    await _expect_failed(env, created, result, "status.revoked")


async def test_status_list_uri_not_allow_listed(env: VerifierEnv) -> None:
    pid = env.sd_jwt("pid", status=StatusReference(uri="http://169.254.169.254/latest/meta-data", idx=3))
    created, req = await _request(env)
    result = await vp.send_response(env.client, req, {"pid": [_sd_presentation(pid, req)]})
    await _expect_failed(env, created, result, "status_list.uri")


async def test_mdoc_device_signature_over_another_transcript(env: VerifierEnv) -> None:
    pid = env.mdoc("pid")
    created = await env.create(profile="pid-basic", params={"format": "mso_mdoc"})
    req = await vp.fetch_request(env.client, created["authorization_request"], trust_anchors=env.anchors)
    other = mdoc.openid4vp_session_transcript(req.client_id, "another-nonce", req.response_uri, req.jwk_thumbprint())
    ns = "eu.europa.ec.eudi.pid.1"
    pres = mdoc.present(pid.credential, pid.device_key, other,
                        disclose={ns: ["given_name", "family_name", "birth_date"]})
    result = await vp.send_response(env.client, req, {"pid_mdoc": [pres]})
    await _expect_failed(env, created, result, "mdoc.device_auth")


async def test_response_for_an_expired_transaction(env: VerifierEnv) -> None:
    pid = env.sd_jwt("pid")
    created, req = await _request(env)
    async with env.rt.db.session() as s:
        tx = await s.get(VerTransaction, created["transaction_id"])
        assert tx is not None
        tx.expires_at = int(time.time()) - 1
        s.add(tx)
        await s.commit()
    result = await vp.send_response(env.client, req, {"pid": [_sd_presentation(pid, req)]})
    await _expect_failed(env, created, result, "transaction_expired", status="expired")


async def test_response_encrypted_to_the_wrong_key(env: VerifierEnv) -> None:
    pid = env.sd_jwt("pid")
    created, req = await _request(env, response_mode="direct_post.jwt")
    real, enc = req.encryption_key()
    wrong = jose.public_jwk(ec.generate_private_key(ec.SECP256R1()).public_key())
    params = vp.response_parameters(req, {"pid": [_sd_presentation(pid, req)]})
    jwe = jose.encrypt_jwe(jose.json_dumps(params), wrong, enc=enc, kid=real["kid"])
    result = await vp.post_form(env.client, req.response_uri, {"response": jwe})
    await _expect_failed(env, created, result, "response_encryption")


async def test_plain_response_to_a_direct_post_jwt_transaction(env: VerifierEnv) -> None:
    pid = env.sd_jwt("pid")
    created, req = await _request(env, response_mode="direct_post.jwt")
    form = {"vp_token": json.dumps({"pid": [_sd_presentation(pid, req)]}), "state": req.state or ""}
    result = await vp.post_form(env.client, req.response_uri, form)
    await _expect_failed(env, created, result, "response_mode")


async def test_wrong_state(env: VerifierEnv) -> None:
    pid = env.sd_jwt("pid")
    created, req = await _request(env, response_mode="direct_post")
    form = {"vp_token": json.dumps({"pid": [_sd_presentation(pid, req)]}), "state": "forged"}
    result = await vp.post_form(env.client, req.response_uri, form)
    await _expect_failed(env, created, result, "state")


async def test_wallet_error_response(env: VerifierEnv) -> None:
    created, req = await _request(env)
    result = await vp.send_error(env.client, req, "access_denied", "the user declined")
    assert result.status_code == 200 and result.body == {}
    tx = await env.read(created["transaction_id"])
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"] == "wallet_error"
    assert tx["refused_attempts"][-1]["error"] == "access_denied"


async def test_wallet_without_matching_credentials_sends_access_denied(env: VerifierEnv) -> None:
    employee = env.sd_jwt("employee_role")
    created = await env.create(profile="pid-basic")
    with pytest.raises(AccessDenied):
        await vp.present(env.client, created["authorization_request"], [employee], trust_anchors=env.anchors)
    tx = await env.read(created["transaction_id"])
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"] == "wallet_error"


async def test_malformed_responses_are_400_never_500(env: VerifierEnv) -> None:
    created, req = await _request(env, response_mode="direct_post")
    r = await env.client.post(req.response_uri, content=b"{}", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = await env.client.post("/verifier/response/unknown", data={"vp_token": "{}", "state": "x"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = await env.client.post(req.response_uri, data={"vp_token": "[not json", "state": req.state or ""})
    assert r.status_code == 400
    tx = await env.read(created["transaction_id"])
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"] == "vp_token"


async def test_mandate_for_another_agent_fails_same_holder(env: VerifierEnv) -> None:
    pid = env.sd_jwt("pid")  # Kari, another person than the mandate's agent, and another key
    mandate = env.sd_jwt("mandate")
    created = await env.create(profile="mandate", params={"scope": "nav:arbeid"})
    result = await vp.present(env.client, created["authorization_request"], [pid, mandate],
                              trust_anchors=env.anchors)
    await _expect_failed(env, created, result, "same_holder")


async def test_mandate_outside_its_validity_period(env: VerifierEnv) -> None:
    key = jose.generate_signing_key()
    example = env.types.get("mandate").example
    agent = example["agent"]
    pid_claims = {**env.types.get("pid").example,
                  "personal_administrative_number": agent["personal_administrative_number"]}
    expired = {**example, "valid_from": "2020-01-01T00:00:00Z", "valid_until": "2021-01-01T00:00:00Z"}
    held = [env.sd_jwt("pid", claims=pid_claims, key=key), env.sd_jwt("mandate", claims=expired, key=key)]
    created = await env.create(profile="mandate", params={"scope": "nav:arbeid"})
    result = await vp.present(env.client, created["authorization_request"], held, trust_anchors=env.anchors)
    await _expect_failed(env, created, result, "mandate.validity")


async def test_employee_of_another_organisation_fails_dcql(env: VerifierEnv) -> None:
    employee = env.sd_jwt("employee_role")  # organisation 311066587
    created, req = await _request(env, profile="employee-role", params={"orgnr": "974760673"})
    token = {"employee": [_sd_presentation(employee, req, disclose=[["given_name"], ["family_name"]])]}
    result = await vp.send_response(env.client, req, token)
    assert result.status_code == 400
    tx = await env.read(created["transaction_id"])
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"] in ("dcql.values", "dcql.claims")


async def test_the_holder_refuses_an_expired_request_object(env: VerifierEnv) -> None:
    """The holder checks the request object's time claims with the one validator (RFC 9101 §10.2; leeway 60 s)."""
    from eidcore.clock import FixedClock
    from eidcore.errors import InvalidRequest

    created = await env.create(profile="pid-basic", params={"format": "dc+sd-jwt"})
    fresh = await vp.fetch_request(env.client, created["authorization_request"], trust_anchors=env.anchors)
    assert fresh.nonce
    later = FixedClock.at_timestamp(time.time() + 24 * 3600)  # long after the request object's exp
    with pytest.raises(InvalidRequest, match="request object has expired"):
        await vp.fetch_request(env.client, created["authorization_request"], trust_anchors=env.anchors, clock=later)
