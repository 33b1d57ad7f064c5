"""The employee-role and mandate profiles with mdocs (``no.digdir.eudi.employee.1``, ``no.digdir.eudi.mandate.1``
and the PID ``eu.europa.ec.eudi.pid.1``): the organisation number by DCQL ``values``, the roles and the mandate's
service areas by the verifier (an mdoc element matches as a whole, OpenID4VP 1.0 §6.3), the PID and the mandate
held by the same person."""

from __future__ import annotations

from typing import Any

import pytest

from eidcore.errors import InvalidRequest
from tests.e2e.verifier.conftest import VerifierEnv
from verifier.profiles import build_profile
from wallet_api.holder import vp

EMPLOYEE_NS = "no.digdir.eudi.employee.1"
MANDATE_NS = "no.digdir.eudi.mandate.1"
DAGLIG_LEDER = "urn:altinn:external-role:ccr:daglig-leder"


async def _run(env: VerifierEnv, held: list[Any], **body: Any) -> tuple[vp.ResponseResult, dict[str, Any]]:
    created = await env.create(**body)
    result = await vp.present(env.client, created["authorization_request"], held, trust_anchors=env.anchors)
    return result, await env.read(created["transaction_id"])


async def test_employee_role_mdoc_with_orgnr_and_role(env: VerifierEnv) -> None:
    employee = env.mdoc("employee_role")
    result, tx = await _run(env, [employee], profile="employee-role",
                            params={"orgnr": "311066587", "roles": [DAGLIG_LEDER], "format": "mso_mdoc"})
    assert result.status_code == 200, result.body
    assert tx["status"] == "validated" and "employee.roles" in tx["checks"] and "mdoc.device_auth" in tx["checks"]
    claims = tx["result"]["employee"][0]["claims"][EMPLOYEE_NS]
    assert claims["organisation_number"] == "311066587" and claims["roles"] == [DAGLIG_LEDER]
    assert "access_packages" not in claims and "personal_administrative_number" not in claims


async def test_employee_role_mdoc_without_the_role_fails_the_roles_check(env: VerifierEnv) -> None:
    employee = env.mdoc("employee_role")
    result, tx = await _run(env, [employee], profile="employee-role", response_mode="direct_post",
                            params={"orgnr": "311066587", "roles": ["urn:altinn:external-role:ccr:styreleder"],
                                    "format": "mso_mdoc"})
    assert result.status_code == 400 and result.body["error"] == "invalid_request"
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"] == "employee.roles"


async def test_pid_and_mandate_mdocs_of_the_same_person(env: VerifierEnv) -> None:
    mandate_example = env.types.get("mandate").example
    agent = mandate_example["agent"]
    pid = env.mdoc("pid", claims={**env.types.get("pid").example, "given_name": agent["given_name"],
                                  "family_name": agent["family_name"], "birthdate": agent["birthdate"],
                                  "personal_administrative_number": agent["personal_administrative_number"]})
    mandate = env.mdoc("mandate")
    result, tx = await _run(env, [pid, mandate], profile="mandate",
                            params={"scope": "nav:arbeid", "format": "mso_mdoc"})
    assert result.status_code == 200, result.body
    assert tx["status"] == "validated"
    assert {"same_holder", "mandate.validity", "mandate.scope"} <= set(tx["checks"])
    m = tx["result"]["mandate"][0]["claims"][MANDATE_NS]
    assert m["scope_service_areas"] == ["nav:arbeid", "skatteetaten:skatt"]
    assert m["agent_personal_administrative_number"] == agent["personal_administrative_number"]


async def test_mandate_mdoc_of_another_person_fails_same_holder(env: VerifierEnv) -> None:
    pid = env.mdoc("pid")  # Kari's PID, not the mandate's agent
    mandate = env.mdoc("mandate")
    result, tx = await _run(env, [pid, mandate], profile="mandate", response_mode="direct_post",
                            params={"scope": "nav:arbeid", "format": "mso_mdoc"})
    assert result.status_code == 400
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"] == "same_holder"


async def test_mandate_mdoc_outside_the_scope_fails_the_scope_check(env: VerifierEnv) -> None:
    agent = env.types.get("mandate").example["agent"]
    pid = env.mdoc("pid", claims={**env.types.get("pid").example,
                                  "personal_administrative_number": agent["personal_administrative_number"]})
    result, tx = await _run(env, [pid, env.mdoc("mandate")], profile="mandate", response_mode="direct_post",
                            params={"scope": "kartverket:eiendom", "format": "mso_mdoc"})
    assert result.status_code == 400
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"] == "mandate.scope"


def test_profiles_refuse_an_unknown_format() -> None:
    with pytest.raises(InvalidRequest):
        build_profile("mandate", {"scope": "nav:arbeid", "format": "jwt_vc_json"})
    with pytest.raises(InvalidRequest):
        build_profile("employee-role", {"orgnr": "311066587", "format": "ldp_vc"})
