"""``require_cryptographic_holder_binding: false`` in a Credential Query (OpenID4VP 1.0 §6.1, §B.3.6): the verifier
accepts an SD-JWT VC without a KB-JWT for that query (``key_binding.not_required``), still verifies a KB-JWT sent
anyway, still requires one for every other query, and ``state`` stays mandatory (§5.3)."""

from __future__ import annotations

import json
from typing import Any

from eidcore.formats.sd_jwt import KeyBinding, SdJwtHolder
from tests.e2e.verifier.conftest import VerifierEnv
from wallet_api.holder import vp

PID_VCT = "urn:eudi:pid:1"


def _query(*, bind: bool) -> dict[str, Any]:
    return {"credentials": [{"id": "p", "format": "dc+sd-jwt", "meta": {"vct_values": [PID_VCT]},
                             "require_cryptographic_holder_binding": bind,
                             "claims": [{"path": ["family_name"]}]}]}


async def _request(env: VerifierEnv, bind: bool) -> tuple[dict[str, Any], vp.AuthorizationRequest]:
    created = await env.create(dcql_query=_query(bind=bind), response_mode="direct_post")
    req = await vp.fetch_request(env.client, created["authorization_request"], trust_anchors=env.anchors)
    return created, req


async def test_unbound_presentation_is_accepted_when_the_query_does_not_require_binding(env: VerifierEnv) -> None:
    pid = env.sd_jwt("pid")
    created, req = await _request(env, bind=False)
    assert req.dcql_query.credential("p").require_cryptographic_holder_binding is False
    token = vp.build_vp_token(req, [pid])
    assert token["p"][0].endswith("~"), "the wallet sends no KB-JWT when none is required"
    result = await vp.send_response(env.client, req, token)
    assert result.status_code == 200, result.body
    tx = await env.read(created["transaction_id"])
    assert tx["status"] == "validated"
    assert "key_binding.not_required" in tx["checks"] and "key_binding.nonce" not in tx["checks"]
    assert tx["result"]["p"][0]["claims"]["family_name"] == "Fjellheim"


async def test_a_kb_jwt_sent_anyway_is_still_verified(env: VerifierEnv) -> None:
    pid = env.sd_jwt("pid")
    created, req = await _request(env, bind=False)
    kb = KeyBinding(pid.key, req.client_id, "another-nonce")
    pres = SdJwtHolder().present(pid.credential, disclose=[["family_name"]], key_binding=kb)
    assert isinstance(pres, str)
    result = await vp.send_response(env.client, req, {"p": [pres]})
    assert result.status_code == 400
    tx = await env.read(created["transaction_id"])
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"] == "key_binding.nonce"


async def test_binding_is_required_by_default(env: VerifierEnv) -> None:
    pid = env.sd_jwt("pid")
    created, req = await _request(env, bind=True)
    pres = SdJwtHolder().present(pid.credential, disclose=[["family_name"]], key_binding=None)
    assert isinstance(pres, str) and pres.endswith("~")
    result = await vp.send_response(env.client, req, {"p": [pres]})
    assert result.status_code == 400
    tx = await env.read(created["transaction_id"])
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"].startswith("key_binding.")


async def test_state_is_mandatory_for_an_unbound_presentation(env: VerifierEnv) -> None:
    pid = env.sd_jwt("pid")
    created, req = await _request(env, bind=False)
    token = vp.build_vp_token(req, [pid])
    r = await env.client.post(req.response_uri, data={"vp_token": json.dumps(token)})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    tx = await env.read(created["transaction_id"])
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"] == "state"
