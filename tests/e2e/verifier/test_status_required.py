"""A credential of a type that carries status (``credential.json`` ``carries_status``: PID, mandate, employee role,
youth) is refused without a status reference, in both formats, with the named check ``status.missing``: without it
the verifier could not check it for revocation (draft-ietf-oauth-status-list §6; deny by default)."""

from __future__ import annotations

import pytest

from eidcore.credential_types import load_credential_types
from tests.e2e.verifier.conftest import VerifierEnv
from wallet_api.holder import vp


def test_the_types_that_carry_status_are_configured() -> None:
    types = load_credential_types()
    assert {t.id for t in types if t.carries_status} == {"pid", "mandate", "employee_role", "youth"}
    assert not types.get("guardian_consent").carries_status


@pytest.mark.parametrize("fmt", ["dc+sd-jwt", "mso_mdoc"])
async def test_pid_without_status_claim_is_refused(env: VerifierEnv, fmt: str) -> None:
    pid = env.sd_jwt("pid", status=None) if fmt == "dc+sd-jwt" else env.mdoc("pid", status=None)
    created = await env.create(profile="pid-basic", params={"format": fmt})
    result = await vp.present(env.client, created["authorization_request"], [pid], trust_anchors=env.anchors)
    assert result.status_code == 400 and result.body["error"] == "invalid_request"
    assert result.body["error_description"].startswith("status.missing")
    tx = await env.read(created["transaction_id"])
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"] == "status.missing"
    assert "result" not in tx
    # the same PID with a status list entry passes, and the result says it was checked
    ok = env.sd_jwt("pid") if fmt == "dc+sd-jwt" else env.mdoc("pid")
    result = await vp.present(env.client, created["authorization_request"], [ok], trust_anchors=env.anchors)
    assert result.status_code == 200, result.body
    tx = await env.read(created["transaction_id"])
    assert tx["status"] == "validated" and "status" in tx["checks"]


@pytest.mark.parametrize("fmt", ["dc+sd-jwt", "mso_mdoc"])
async def test_employee_role_without_status_is_refused(env: VerifierEnv, fmt: str) -> None:
    employee = env.sd_jwt("employee_role", status=None) if fmt == "dc+sd-jwt" else env.mdoc("employee_role",
                                                                                              status=None)
    created = await env.create(profile="employee-role", params={"orgnr": "311066587", "format": fmt})
    result = await vp.present(env.client, created["authorization_request"], [employee], trust_anchors=env.anchors)
    assert result.status_code == 400 and result.body["error_description"].startswith("status.missing")
