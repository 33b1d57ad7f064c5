"""The wallet provider calls the issuer's admin API with its own peer credential, never the issuer operator's
token (issue 12: no shared all-powerful admin token between services), and turns an outage into a 503 problem."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

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
            return httpx.Response(200, json={"updated": 2})
        if request.url.path == "/issuer/admin/offers":
            return httpx.Response(201, json={"offer_uri": "openid-credential-offer://?x", "tx_code": "1234"})
        return httpx.Response(200, json={"updated": 0, "credentials": []})

    rt = runtime(tmp_path, httpx.MockTransport(answer))
    status = await issuer_client.change_credential_status(rt, "suspend", instance_jkt="jkt")
    assert status.status == 200 and status.body["updated"] == 0
    offer = await issuer_client.create_offer(rt, "p1", "pid_vc_sd_jwt", require_approval=True)
    assert offer.status == 201 and offer.body["tx_code"] == "1234"
    assert await issuer_client.approve_deferred(rt, "t/1", person="p1") == 204
    assert await issuer_client.create_mandate(rt, principal="a", agent="b", scope={"service_areas": ["x"]},
                                              valid_until=None) == "m1"
    assert await issuer_client.revoke_mandate(rt, "m1", principal="a") == 2
    assert {auth for _, auth, _ in seen} == {f"Bearer {PEER}"}
    assert [path for path, _, _ in seen] == [
        "/issuer/admin/credentials/status", "/issuer/admin/offers", "/issuer/admin/deferred/t%2F1/approve",
        "/issuer/admin/mandates", "/issuer/admin/mandates/m1/revoke"]
    assert seen[1][2] == {"person": "p1", "credential_configuration_ids": ["pid_vc_sd_jwt"], "require_approval": True}
    await rt.http.aclose()


async def test_an_unreachable_or_refusing_issuer_is_upstream_unavailable(tmp_path: Path) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    rt = runtime(tmp_path, httpx.MockTransport(down))
    with pytest.raises(UpstreamUnavailable):
        await issuer_client.change_credential_status(rt, "revoke", instance_jkt="jkt")
    rt.route_outbound(httpx.MockTransport(lambda request: httpx.Response(403, json={"error": "insufficient_scope"})))
    with pytest.raises(UpstreamUnavailable):
        await issuer_client.create_mandate(rt, principal="a", agent="b", scope={"service_areas": ["x"]},
                                           valid_until=None)
    await rt.http.aclose()
