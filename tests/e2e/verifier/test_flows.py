"""Verifier happy paths end to end over HTTP: the relying-party API creates a transaction, the wallet client
(:mod:`wallet_api.holder.vp`) fetches and verifies the request object, matches the DCQL query and answers."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from eidcore import jose
from tests.e2e.verifier.conftest import VerifierEnv
from wallet_api.holder import vp


async def _wallet(env: VerifierEnv, created: dict[str, Any], held: list[Any]) -> vp.ResponseResult:
    return await vp.present(env.client, created["authorization_request"], held, trust_anchors=env.anchors)


@pytest.mark.parametrize("mode", ["direct_post", "direct_post.jwt"])
async def test_pid_sd_jwt_cross_device(env: VerifierEnv, mode: str) -> None:
    status = env.status.new(env.stack.url(""))
    pid = env.sd_jwt("pid", status=status)
    created = await env.create(profile="pid-basic", params={"format": "dc+sd-jwt"}, response_mode=mode)
    assert created["authorization_request"].startswith("openid4vp://?client_id=x509_hash%3A")
    assert created["qr_svg"].startswith("<svg")
    assert created["flow"] == "cross_device"
    result = await _wallet(env, created, [pid])
    assert result.status_code == 200 and result.body == {}
    tx = await env.read(created["transaction_id"])
    assert tx["status"] == "validated"
    claims = tx["result"]["pid"][0]["claims"]
    assert claims["given_name"] == "Kari" and claims["birthdate"] == "1984-02-20"
    assert "personal_administrative_number" not in claims  # not asked for, not disclosed
    for check in ("sd_jwt.signature", "sd_jwt.issuer_trust", "key_binding.nonce", "key_binding.aud", "status"):
        assert check in tx["checks"]


@pytest.mark.parametrize("mode", ["direct_post", "direct_post.jwt"])
async def test_pid_mdoc_same_device(env: VerifierEnv, mode: str) -> None:
    status = env.status.new(env.stack.url(""))
    pid = env.mdoc("pid", status=status)
    created = await env.create(profile="pid-basic", params={"format": "mso_mdoc"}, response_mode=mode,
                               redirect_uri="http://localhost:8000/done?session=abc", client_id_prefix="x509_san_dns")
    assert created["client_id"] == "x509_san_dns:localhost"
    result = await _wallet(env, created, [pid])
    assert result.status_code == 200
    assert result.redirect_uri is not None and result.redirect_uri.startswith("http://localhost:8000/done?session=abc")
    code = parse_qs(urlsplit(result.redirect_uri).query)["response_code"][0]
    tx = await env.read(created["transaction_id"])
    assert tx["status"] == "validated" and "result" not in tx and "result_withheld" in tx
    r = await env.client.post(f"/verifier/rp/transactions/{created['transaction_id']}/redeem",
                              json={"response_code": code}, headers=env.auth())
    assert r.status_code == 200, r.text
    claims = r.json()["result"]["pid_mdoc"][0]["claims"]["eu.europa.ec.eudi.pid.1"]
    assert claims == {"given_name": "Kari", "family_name": "Fjellheim", "birth_date": "1984-02-20"}
    assert "mdoc.device_auth" in r.json()["checks"]
    again = await env.client.post(f"/verifier/rp/transactions/{created['transaction_id']}/redeem",
                                  json={"response_code": code}, headers=env.auth())
    assert again.status_code == 400 and again.json()["error"] == "invalid_request"


async def test_age_over_18_mdoc_unsigned_redirect_uri_client(env: VerifierEnv) -> None:
    pid = env.mdoc("pid")
    created = await env.create(profile="age-over-18", params={"format": "mso_mdoc"})
    assert created["client_id"].startswith("redirect_uri:http://localhost:8000/verifier/response/")
    result = await _wallet(env, created, [pid])
    assert result.status_code == 200, result.body
    tx = await env.read(created["transaction_id"])
    assert tx["status"] == "validated"
    assert tx["result"]["pid_mdoc"][0]["claims"] == {"eu.europa.ec.eudi.pid.1": {"age_over_18": True}}


async def test_employee_role_matches_orgnr_and_role(env: VerifierEnv) -> None:
    employee = env.sd_jwt("employee_role")
    created = await env.create(profile="employee-role", response_mode="direct_post",
                               params={"orgnr": "311066587", "roles": ["urn:altinn:external-role:ccr:daglig-leder"]})
    result = await _wallet(env, created, [employee])
    assert result.status_code == 200, result.body
    tx = await env.read(created["transaction_id"])
    assert tx["status"] == "validated"
    assert tx["result"]["employee"][0]["claims"]["organisation"]["orgnr"] == "311066587"
    assert "access_packages" not in tx["result"]["employee"][0]["claims"]


async def test_employee_role_refuses_an_invalid_orgnr(env: VerifierEnv) -> None:
    r = await env.client.post("/verifier/rp/transactions", headers=env.auth(),
                              json={"profile": "employee-role", "params": {"orgnr": "311066588"}})
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request" and "check_digit" in r.json()["error_description"]


async def test_pid_and_mandate_same_holder(env: VerifierEnv) -> None:
    key = jose.generate_signing_key()
    agent = env.types.get("mandate").example["agent"]
    pid_claims = {**env.types.get("pid").example, "given_name": agent["given_name"],
                  "family_name": agent["family_name"], "birthdate": agent["birthdate"],
                  "personal_administrative_number": agent["personal_administrative_number"]}
    pid = env.sd_jwt("pid", claims=pid_claims, key=key)
    mandate = env.sd_jwt("mandate", key=key)
    created = await env.create(profile="mandate", params={"scope": "nav:arbeid"}, request_uri_method="post")
    assert "request_uri_method=post" in created["authorization_request"]
    result = await _wallet(env, created, [pid, mandate])
    assert result.status_code == 200, result.body
    tx = await env.read(created["transaction_id"])
    assert tx["status"] == "validated"
    assert "same_holder" in tx["checks"] and "mandate.validity" in tx["checks"]
    assert tx["result"]["mandate"][0]["claims"]["scope"]["service_areas"] == ["nav:arbeid", "skatteetaten:skatt"]


async def test_custom_dcql_query_and_events(env: VerifierEnv) -> None:
    pid = env.sd_jwt("pid")
    query = {"credentials": [{"id": "p", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:eudi:pid:1"]},
                              "claims": [{"path": ["family_name"]}]}]}
    created = await env.create(dcql_query=query)
    result = await _wallet(env, created, [pid])
    assert result.status_code == 200
    tx_id = created["transaction_id"]
    r = await env.client.get(f"/verifier/rp/transactions/{tx_id}/events", headers=env.auth())
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    assert "event: status" in r.text and '"status": "validated"' in r.text
    assert "Fjellheim" not in r.text  # events never carry claim values
