"""The youth policy protects the holder, so a relying party can neither switch it off nor get around it
(verifier/youth.py): ``youth_policy`` is refused, every Credential Query for a type that carries an age (PID,
youth) asks for the claim that decides the consent age, and a presentation that leaves it undecided is refused.

A 10-year-old's PID asked for names only: before, it validated without any guardian consent.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from eidcore.encoding import b64u_encode
from eidcore.formats.sd_jwt import KeyBinding, SdJwtHolder
from tests.e2e.verifier.conftest import VerifierEnv
from wallet_api.consent import issue_consent
from wallet_api.holder import vp

PID_VCT = "urn:eudi:pid:1"
PID_DOCTYPE = "eu.europa.ec.eudi.pid.1"
AGE13 = ["age_equal_or_over", "13"]
NAMES_ONLY = {"credentials": [{"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": [PID_VCT]},
                               "claims": [{"path": ["given_name"]}, {"path": ["family_name"]}]}]}


def _child_claims(env: VerifierEnv) -> dict[str, Any]:
    """Emma, 10: a PID as the issuer makes it (the age thresholds from her birth date)."""
    return {**env.types.get("pid").example, "given_name": "Emma", "birthdate": "2016-05-01",
            "age_equal_or_over": {"13": False, "15": False, "18": False}, "age_in_years": 10, "age_birth_year": 2016}


@pytest.mark.parametrize("value", [False, True, "no"])
async def test_relying_party_cannot_switch_the_youth_policy_off(env: VerifierEnv, value: Any) -> None:
    r = await env.client.post("/verifier/rp/transactions", headers=env.auth(),
                              json={"dcql_query": NAMES_ONLY, "youth_policy": value})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    assert "youth_policy" in r.json()["error_description"]


async def test_the_query_always_asks_for_the_claim_that_decides_the_consent_age(env: VerifierEnv) -> None:
    created = await env.create(dcql_query=NAMES_ONLY)
    pid = next(c for c in created["dcql_query"]["credentials"] if c["id"] == "pid")
    assert AGE13 in [c["path"] for c in pid["claims"]]
    assert "guardian_consent" in [c["id"] for c in created["dcql_query"]["credentials"]]
    mdoc = await env.create(profile="pid-basic", params={"format": "mso_mdoc"})
    pid_mdoc = next(c for c in mdoc["dcql_query"]["credentials"] if c["id"] == "pid_mdoc")
    assert [PID_DOCTYPE, "age_over_13"] in [c["path"] for c in pid_mdoc["claims"]]
    # the request object the wallet gets carries it
    req = await vp.fetch_request(env.client, created["authorization_request"], trust_anchors=env.anchors)
    assert AGE13 in [list(c.path) for c in req.dcql_query.credential("pid").claims or ()]


async def test_childs_pid_for_names_only_needs_the_guardian_consent(env: VerifierEnv) -> None:
    emma = env.sd_jwt("pid", claims=_child_claims(env))
    created = await env.create(dcql_query=NAMES_ONLY)
    result = await vp.present(env.client, created["authorization_request"], [emma], trust_anchors=env.anchors)
    assert result.status_code == 400 and result.body["error_description"].startswith("youth.consent_required")
    tx = await env.read(created["transaction_id"])
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"] == "youth.consent_required"

    # with a guardian consent for this verifier, transaction and claims, the same PID is accepted
    req = await vp.fetch_request(env.client, created["authorization_request"], trust_anchors=env.anchors)
    paths = [list(c.path) for c in req.dcql_query.credential("pid").claims or ()]
    consent = issue_consent(env.rt, holder_jwk=emma.key.public_jwk, client_id=req.client_id, approved_claims=paths,
                            transaction_nonce_hash=b64u_encode(hashlib.sha256(req.nonce.encode()).digest()),
                            child_id="emma", guardian_id="kari")
    token = vp.build_vp_token(req, [emma, vp.HeldSdJwtVc(consent, emma.key)])
    result = await vp.send_response(env.client, req, token)
    assert result.status_code == 200, result.body
    tx = await env.read(created["transaction_id"])
    assert tx["status"] == "validated" and {"youth.age", "youth.consent"} <= set(tx["checks"])
    # the relying party gets what it asked for; the age claim was the verifier's own question
    claims = tx["result"]["pid"][0]["claims"]
    assert claims["given_name"] == "Emma" and "age_equal_or_over" not in claims and "birthdate" not in claims


async def test_pid_that_does_not_disclose_the_age_is_refused_as_undecidable(env: VerifierEnv) -> None:
    emma = env.sd_jwt("pid", claims=_child_claims(env))
    created = await env.create(dcql_query=NAMES_ONLY)
    req = await vp.fetch_request(env.client, created["authorization_request"], trust_anchors=env.anchors)
    # a wallet that keeps the age back and sends the names only
    pres = SdJwtHolder().present(emma.credential, disclose=[["given_name"], ["family_name"]],
                                 key_binding=KeyBinding(emma.key, req.client_id, req.nonce))
    assert isinstance(pres, str)
    result = await vp.send_response(env.client, req, {"pid": [pres]})
    assert result.status_code == 400 and result.body["error_description"].startswith("youth.age_undecidable")
    tx = await env.read(created["transaction_id"])
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"] == "youth.age_undecidable"


async def test_adult_pid_for_names_only_passes_and_the_result_holds_only_the_names(env: VerifierEnv) -> None:
    created = await env.create(dcql_query=NAMES_ONLY)
    result = await vp.present(env.client, created["authorization_request"], [env.sd_jwt("pid")],
                              trust_anchors=env.anchors)
    assert result.status_code == 200, result.body
    tx = await env.read(created["transaction_id"])
    assert tx["status"] == "validated" and "youth.age" in tx["checks"]
    claims = tx["result"]["pid"][0]["claims"]
    assert claims["given_name"] == "Kari" and "age_equal_or_over" not in claims and "birthdate" not in claims


async def test_employee_role_alone_is_not_subject_to_the_age_decision(env: VerifierEnv) -> None:
    created = await env.create(profile="employee-role", params={"orgnr": "311066587"})
    employee = next(c for c in created["dcql_query"]["credentials"] if c["id"] == "employee")
    assert AGE13 not in [c["path"] for c in employee["claims"]]
    result = await vp.present(env.client, created["authorization_request"], [env.sd_jwt("employee_role")],
                              trust_anchors=env.anchors)
    assert result.status_code == 200, result.body
    assert "youth.not_applicable" in (await env.read(created["transaction_id"]))["checks"]
