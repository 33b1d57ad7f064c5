"""The verifier's ``wallet_profile`` mark (verifier/profiles.py): read from a raw DCQL query, validated, and put back
into the wire form of the parsed query, which drops unknown members (OpenID4VP 1.0 §6)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from eidcore.dcql import DcqlQuery
from eidcore.errors import InvalidRequest
from verifier.profiles import build_profile, mark_wallet_profiles, wallet_profile_marks

PID = {"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:eudi:pid:1"]}}
AGE = {"id": "age", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:no:digdir:eudi:age:1"]}}


def _wire(raw: Any) -> dict[str, Any]:
    return mark_wallet_profiles(DcqlQuery.parse(raw).to_json(), wallet_profile_marks(raw))


@pytest.mark.parametrize("fmt", ["dc+sd-jwt", "mso_mdoc"])
def test_the_employee_role_mark_survives_reserialization(fmt: str) -> None:
    raw = build_profile("employee-role", {"orgnr": "311066587", "format": fmt}).dcql_query
    assert "wallet_profile" not in DcqlQuery.parse(raw).to_json()["credentials"][0]  # the model drops it
    assert _wire(raw)["credentials"][0]["wallet_profile"] == "work"


def test_only_marked_queries_carry_the_mark_and_the_rest_is_unchanged() -> None:
    raw = {"credentials": [{**PID, "wallet_profile": "work"}, AGE]}
    wire = _wire(raw)
    assert wire["credentials"][0]["wallet_profile"] == "work"
    assert "wallet_profile" not in wire["credentials"][1]
    assert {**wire, "credentials": [{k: v for k, v in c.items() if k != "wallet_profile"} for c in wire["credentials"]]
            } == DcqlQuery.parse(raw).to_json()
    assert _wire(json.dumps(raw)) == wire  # a query submitted as JSON text
    assert _wire({"credentials": [PID]}) == DcqlQuery.parse({"credentials": [PID]}).to_json()


@pytest.mark.parametrize("mark", ["private", "", "WORK", 1, None, {"profile": "work"}])
def test_any_other_mark_is_an_invalid_request(mark: Any) -> None:
    with pytest.raises(InvalidRequest) as exc:
        wallet_profile_marks({"credentials": [AGE, {**PID, "wallet_profile": mark}]})
    assert exc.value.description == 'dcql_query.credentials[1].wallet_profile: must be "work"'
