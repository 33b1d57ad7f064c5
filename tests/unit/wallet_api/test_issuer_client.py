"""The wallet provider calls the issuer's admin API through the typed client with its own peer credential, never
the issuer operator's token (no shared all-powerful admin token between services), and turns an outage or a
refusal into a 503 problem."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from eidcore.api.issuer_admin import IssuerAdminError
from eidcore.errors import UpstreamUnavailable
from eidcore.runtime import Runtime
from eidcore.settings import Settings
from wallet_api import issuer_client

OPERATOR, PEER = "operator-token-of-the-issuer", "the-wallet-providers-own-credential"


def runtime(tmp_path: Path, handler: httpx.MockTransport) -> Runtime:
    rt = Runtime(Settings(data_dir=tmp_path, public_base_url="http://localhost:8000"))
    rt.admin_tokens["issuer"] = OPERATOR
    rt.peer_tokens[("wallet", "issuer")] = PEER
    rt.route_outbound(handler)
    return rt


async def test_every_call_carries_the_peer_credential(tmp_path: Path) -> None:
    seen: list[tuple[str, str, dict[str, object]]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content or b"{}")
        seen.append((request.url.raw_path.decode(), request.headers["authorization"], body))
        if request.url.path.endswith("/approve"):
            return httpx.Response(204)
        if request.url.path == "/issuer/admin/mandates":
            return httpx.Response(201, json={"mandate_id": "m1"})
        if request.url.path.endswith("/revoke"):
            return httpx.Response(200, json={"updated": 2, "credentials": ["c1", "c2"], "mandate": {
                "mandate_id": "m1", "principal_id": "a", "agent_id": "b", "scope": {"service_areas": ["x"]},
                "legal_basis": "granted", "valid_from": None, "valid_until": None, "revoked": True}})
        if request.url.path == "/issuer/admin/offers":
            return httpx.Response(201, json={
                "offer_uri": "openid-credential-offer://?x", "tx_code": "1234", "expires_in": 600, "qr_svg": "<svg/>",
                "credential_offer": {"credential_issuer": "http://localhost:8000/issuer",
                                     "credential_configuration_ids": ["pid_vc_sd_jwt"]}})
        return httpx.Response(200, json={"updated": 0, "credentials": []})

    rt = runtime(tmp_path, httpx.MockTransport(answer))
    status = await issuer_client.change_credential_status(rt, "suspend", instance_jkt="jkt")
    assert status.updated == 0 and status.credentials == []
    offer = await issuer_client.create_offer(rt, "p1", "pid_vc_sd_jwt", require_approval=True)
    assert offer.tx_code == "1234" and offer.offer_uri.startswith("openid-credential-offer://")
    assert await issuer_client.approve_deferred(rt, "t/1", person="p1") is True
    assert await issuer_client.create_mandate(rt, principal="a", agent="b", scope={"service_areas": ["x"]},
                                              valid_until=None) == "m1"
    assert await issuer_client.revoke_mandate(rt, "m1", principal="a") == 2
    assert {auth for _, auth, _ in seen} == {f"Bearer {PEER}"}
    assert [path for path, _, _ in seen] == [
        "/issuer/admin/credentials/status", "/issuer/admin/offers", "/issuer/admin/deferred/t%2F1/approve",
        "/issuer/admin/mandates", "/issuer/admin/mandates/m1/revoke"]
    assert seen[1][2] == {"person": "p1", "credential_configuration_ids": ["pid_vc_sd_jwt"], "require_approval": True}
    assert seen[0][2] == {"action": "suspend", "instance_jkt": "jkt"}  # only what the caller set
    await rt.http.aclose()


async def test_an_unreachable_or_refusing_issuer_is_upstream_unavailable(tmp_path: Path) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    rt = runtime(tmp_path, httpx.MockTransport(down))
    with pytest.raises(IssuerAdminError) as refused:
        await issuer_client.change_credential_status(rt, "revoke", instance_jkt="jkt")
    assert refused.value.status == 0
    with pytest.raises(UpstreamUnavailable, match="could not be reached"):
        await issuer_client.approve_deferred(rt, "t1", person="p1")
    rt.route_outbound(httpx.MockTransport(lambda request: httpx.Response(403, json={"error": "insufficient_scope"})))
    with pytest.raises(UpstreamUnavailable):
        await issuer_client.create_mandate(rt, principal="a", agent="b", scope={"service_areas": ["x"]},
                                           valid_until=None)
    await rt.http.aclose()


async def test_an_unknown_deferred_transaction_is_false_and_a_malformed_answer_a_refusal(tmp_path: Path) -> None:
    rt = runtime(tmp_path, httpx.MockTransport(lambda request: httpx.Response(404, json={"error": "not_found"})))
    assert await issuer_client.approve_deferred(rt, "t1", person="p1") is False
    rt.route_outbound(httpx.MockTransport(lambda request: httpx.Response(201, json={"offer_uri": 42})))
    with pytest.raises(IssuerAdminError) as bad:
        await issuer_client.create_offer(rt, "p1", "pid_vc_sd_jwt")
    assert bad.value.error == "invalid_response"
    await rt.http.aclose()
