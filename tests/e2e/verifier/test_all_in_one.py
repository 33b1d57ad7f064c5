"""The verifier mounted in the all-in-one server (the shared ``stack`` fixture: every service, one runtime)."""

from __future__ import annotations

from typing import Any, cast

import httpx

from tests.e2e.conftest import Stack
from tests.e2e.verifier.conftest import Router, StatusLists, VerifierEnv
from wallet_api.holder import vp


async def test_pid_flow_in_the_all_in_one_server(stack: Stack) -> None:
    assert stack.runtime.keys is not None
    key = (stack.settings.data_dir / "secrets" / "rp-demo").read_text().strip()
    env = VerifierEnv(stack, key, StatusLists(stack.runtime.keys.issuer))
    # the PID carries status: the verifier's status list fetches reach the test lists too
    stack.runtime.route_outbound(httpx.ASGITransport(app=cast(Any, Router(stack.app, env.status.app(stack.url(""))))))
    created = await env.create(profile="pid-basic")
    result = await vp.present(env.client, created["authorization_request"], [env.sd_jwt("pid")],
                              trust_anchors=env.anchors)
    assert result.status_code == 200, result.body
    tx = await env.read(created["transaction_id"])
    assert tx["status"] == "validated" and tx["result"]["pid"][0]["claims"]["family_name"] == "Fjellheim"
