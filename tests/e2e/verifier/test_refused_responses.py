"""A response that does not validate never ends a transaction (OpenID4VP 1.0 §14.2: the ``response_uri`` is in
the QR code, anyone who saw it can post to it).

A refused response answers 400 ``invalid_request`` naming the check, is listed in the relying party's view
(``refused_attempts``: check names and times, bounded, no claim values) and the transaction stays pending, so the
real wallet's valid response is still accepted, exactly once, also by two workers racing on PostgreSQL + Redis. A
wallet error response is recorded the same way. Hostile input (a deeply nested ``vp_token``) answers 400, never
500, and leaves nothing half-written.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, cast

import httpx

from eidcore.runtime import Runtime
from lommebok.app import create_root_app
from tests.e2e.verifier.conftest import Router, VerifierEnv
from wallet_api.holder import vp


async def _pid_request(env: VerifierEnv, mode: str = "direct_post") -> tuple[dict[str, Any], vp.AuthorizationRequest]:
    created = await env.create(profile="pid-basic", params={"format": "dc+sd-jwt"}, response_mode=mode)
    req = await vp.fetch_request(env.client, created["authorization_request"], trust_anchors=env.anchors)
    return created, req


def _pid(env: VerifierEnv) -> vp.HeldSdJwtVc:
    return env.sd_jwt("pid", status=env.status.new(env.stack.url("")))


async def _real_wallet_answers(env: VerifierEnv, req: vp.AuthorizationRequest,
                               created: dict[str, Any]) -> dict[str, Any]:
    result = await vp.send_response(env.client, req, vp.build_vp_token(req, [_pid(env)]))
    assert result.status_code == 200, result.body
    tx = await env.read(created["transaction_id"])
    assert tx["status"] == "validated", tx
    return tx


async def test_anonymous_garbage_post_leaves_the_transaction_pending_for_the_real_wallet(env: VerifierEnv) -> None:
    created, req = await _pid_request(env)
    r = await env.client.post(req.response_uri, data={"vp_token": "{}", "state": "guessed"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    assert r.json()["error_description"].startswith("state:")
    r = await env.client.post(req.response_uri, data={"vp_token": "{}", "state": req.state or ""})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    tx = await env.read(created["transaction_id"])
    assert tx["status"] == "pending" and "failure" not in tx and "result" not in tx
    assert [a["check"] for a in tx["refused_attempts"]] == ["state", "vp_token"] and tx["refused_count"] == 2
    assert "authorization_request" in tx
    # the wallet can still fetch the request and its valid answer is accepted
    req = await vp.fetch_request(env.client, created["authorization_request"], trust_anchors=env.anchors)
    tx = await _real_wallet_answers(env, req, created)
    assert tx["refused_count"] == 2  # the refused attempts stay on record
    # ... exactly once
    again = await vp.send_response(env.client, req, vp.build_vp_token(req, [_pid(env)]))
    assert again.status_code == 400 and "no longer waiting" in again.body["error_description"]


async def test_wallet_error_response_is_recorded_and_a_later_valid_response_accepted(env: VerifierEnv) -> None:
    created, req = await _pid_request(env, "direct_post.jwt")
    result = await vp.send_error(env.client, req, "access_denied", "the user declined")
    assert result.status_code == 200 and result.body == {}
    tx = await env.read(created["transaction_id"])
    assert tx["status"] == "pending"
    assert tx["refused_attempts"] == [{"check": "wallet_error", "error": "access_denied",
                                       "at": tx["refused_attempts"][0]["at"]}]
    await _real_wallet_answers(env, req, created)


async def test_nested_vp_token_answers_400_and_leaves_the_transaction_pending(env: VerifierEnv) -> None:
    created, req = await _pid_request(env)
    for nested in ("[" * 5000 + "]" * 5000, '{"pid": ' + "[" * 5000 + "]" * 5000 + "}",
                   '{"pid": [' + '{"a":' * 3000 + "1" + "}" * 3000 + "]}"):
        r = await env.client.post(req.response_uri, data={"vp_token": nested, "state": req.state or ""})
        assert r.status_code == 400 and r.json()["error"] == "invalid_request", r.text
    tx = await env.read(created["transaction_id"])
    # the edge guard (eidcore.web.InputGuard) refuses such nesting before the verifier reads the transaction:
    # nothing is recorded and nothing consumed, so the real wallet still gets through
    assert tx["status"] == "pending" and tx.get("refused_count", 0) == 0 and "result" not in tx
    await _real_wallet_answers(env, req, created)


async def test_refused_attempts_are_bounded_and_carry_no_claim_values(env: VerifierEnv) -> None:
    created, req = await _pid_request(env)
    pid = _pid(env)
    # a genuine PID presented with another nonce: refused, and none of its claim values reach the record
    other = vp.AuthorizationRequest(req.client_id, req.client_id_prefix, req.response_mode, req.response_uri,
                                    "another-nonce", req.state, req.dcql_query, req.client_metadata, req.claims)
    token = vp.build_vp_token(other, [pid])
    for _ in range(24):
        r = await vp.send_response(env.client, req, token)
        assert r.status_code == 400 and r.body["error_description"].startswith("key_binding.nonce")
    tx = await env.read(created["transaction_id"])
    assert tx["status"] == "pending" and tx["refused_count"] == 24 and len(tx["refused_attempts"]) == 20
    assert {a["check"] for a in tx["refused_attempts"]} == {"key_binding.nonce"}
    text = json.dumps(tx)
    assert "Kari" not in text and "Fjellheim" not in text and "1984" not in text
    await _real_wallet_answers(env, req, created)


async def test_a_valid_response_is_accepted_exactly_once_by_racing_workers(env: VerifierEnv) -> None:
    """Two workers (PostgreSQL + Redis: two runtimes sharing them; embedded: one worker) get the same valid
    response at once: one accepts it, the other refuses it, and the outcome is written once."""
    created, req = await _pid_request(env)
    token = vp.build_vp_token(req, [_pid(env)])
    second: Runtime | None = None
    client2 = env.client
    if env.stack.settings.redis_url:
        second = Runtime(env.stack.settings)
        app2: Any = create_root_app(env.stack.settings, ("verifier",), runtime=second)
        second.route_outbound(httpx.ASGITransport(app=cast(Any, Router(app2, env.status.app(env.stack.url(""))))))
        await second.start()
        client2 = httpx.AsyncClient(transport=httpx.ASGITransport(app=app2), base_url=env.stack.url(""))
    try:
        form = {"vp_token": json.dumps(token), "state": req.state or ""}
        answers = await asyncio.gather(*(c.post(req.response_uri, data=form)
                                         for c in (env.client, client2, env.client, client2)))
    finally:
        if second is not None:
            await client2.aclose()
            await second.stop()
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 400, 400, 400], [a.text for a in answers]
    tx = await env.read(created["transaction_id"])
    assert tx["status"] == "validated" and tx["result"]["pid"][0]["claims"]["given_name"] == "Kari"
