"""Profiles build valid DCQL queries (OpenID4VP 1.0 §6) and refuse bad parameters."""

from __future__ import annotations

import pytest

from eidcore.dcql import DcqlQuery
from eidcore.errors import InvalidRequest
from verifier.profiles import PROFILES, build_profile


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_profile_builds_a_valid_query(name: str) -> None:
    params = {"orgnr": "311066587", "scope": "nav:arbeid"}
    profile = build_profile(name, params)
    query = DcqlQuery.parse(profile.dcql_query)
    assert query.ids


def test_pid_basic_offers_both_formats_as_alternatives() -> None:
    q = build_profile("pid-basic").dcql_query
    assert [c["format"] for c in q["credentials"]] == ["dc+sd-jwt", "mso_mdoc"]
    assert q["credential_sets"] == [{"options": [["pid"], ["pid_mdoc"]], "required": True}]
    assert "credential_sets" not in build_profile("pid-basic", {"format": "mso_mdoc"}).dcql_query


def test_age_profiles_filter_on_true_and_default_to_unsigned_requests() -> None:
    p = build_profile("age-over-13", {"format": "mso_mdoc"})
    assert p.default_client_id_prefix == "redirect_uri"
    claims = [c["claims"][0] for c in p.dcql_query["credentials"]]
    assert claims == [{"path": ["eu.europa.ec.eudi.pid.1", "age_over_13"], "values": [True]},
                      {"path": ["eu.europa.ec.av.1", "age_over_13"], "values": [True]}]


def test_employee_role_puts_orgnr_and_roles_in_value_filters() -> None:
    q = build_profile("employee-role", {"orgnr": " 311066587 ", "roles": ["urn:altinn:external-role:ccr:dagl"]})
    claims = q.dcql_query["credentials"][0]["claims"]
    assert {"path": ["organisation", "orgnr"], "values": ["311066587"]} in claims
    assert {"path": ["roles", None], "values": ["urn:altinn:external-role:ccr:dagl"]} in claims


@pytest.mark.parametrize(("name", "params", "text"), [
    ("employee-role", {}, "orgnr"),
    ("employee-role", {"orgnr": "311066588"}, "check_digit"),
    ("employee-role", {"orgnr": "31106658"}, "length"),
    ("employee-role", {"orgnr": "311066587", "roles": "x"}, "roles"),
    ("mandate", {}, "scope"),
    ("pid-basic", {"format": "jwt_vc_json"}, "format"),
    ("unknown", {}, "unknown profile"),
])
def test_bad_parameters_are_invalid_request(name: str, params: dict[str, object], text: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        build_profile(name, params)
    assert text in info.value.description


def test_mandate_requires_same_holder() -> None:
    assert build_profile("mandate", {"scope": "nav:arbeid"}).same_holder == ("pid", "mandate")
