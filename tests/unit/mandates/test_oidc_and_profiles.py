"""Unit tests of the OpenID Connect bridge's pure parts and the mandate profile's optional end date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from eidcore.clock import FixedClock
from eidcore.dcql import DcqlQuery
from eidcore.dcql._evaluate import evaluate_claim_sets
from eidcore.errors import AccessDenied
from verifier.oidc import OidcClient, _claims, _query, provider_metadata
from verifier.profiles import build_profile


@dataclass
class _Settings:
    def service_url(self, name: str) -> str:
        return f"http://localhost:8000/{name}"


@dataclass
class _Rt:
    settings: Any
    clock: Any


RT: Any = _Rt(_Settings(), FixedClock(datetime(2026, 6, 1, tzinfo=UTC)))


def _client(login: str, **params: Any) -> OidcClient:
    return OidcClient(id="c1", name="x", redirect_uris=["https://rp.example/cb"], login=login, params=params,
                      created_at=0)


def test_provider_metadata_names_the_bridge_endpoints_and_s256_only() -> None:
    doc = provider_metadata(RT)
    assert doc["issuer"] == "http://localhost:8000/verifier/oidc"
    assert doc["authorization_endpoint"] == doc["issuer"] + "/authorize"
    assert doc["jwks_uri"] == doc["issuer"] + "/jwks"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["subject_types_supported"] == ["pairwise"] and doc["response_types_supported"] == ["code"]


def test_employee_query_pins_the_organisation_number_when_the_client_has_one() -> None:
    q = DcqlQuery.parse(_query("employee", {"orgnr": "311066587"}))
    raw = q.to_json()["credentials"][0]
    org = next(c for c in raw["claims"] if c["path"] == ["organisation", "orgnr"])
    assert org["values"] == ["311066587"]
    open_q = _query("employee", {})["credentials"][0]
    assert all("values" not in c for c in open_q["claims"])
    assert [c.id for c in DcqlQuery.parse(_query("pid", {})).credentials] == ["pid"]


def test_pid_login_maps_age_acr_and_a_pairwise_subject() -> None:
    result = {"pid": [{"claims": {"given_name": "Kari", "family_name": "Fjellheim", "birthdate": "2008-06-02",
                                  "personal_administrative_number": "01010112345"}}]}
    claims = _claims(RT, _client("pid"), result)
    assert claims["age"] == 17  # the day before her 18th birthday
    assert claims["acr"] == "idporten-loa-high" and claims["pid"] == "01010112345"
    other = _claims(RT, OidcClient(id="c2", name="y", redirect_uris=[], login="pid", params={}, created_at=0), result)
    assert claims["sub"] != other["sub"] and claims["sub"] != claims["pid"]


def test_employee_login_requires_one_of_the_clients_roles() -> None:
    result = {"employee": [{"claims": {
        "given_name": "Ingrid", "family_name": "Solberg", "personal_administrative_number": "01010112345",
        "organisation": {"orgnr": "311066587", "name": "Fjordvik kommune"}, "roles": [],
        "access_packages": ["urn:altinn:accesspackage:post"]}}]}
    ok = _claims(RT, _client("employee", require_any=["urn:altinn:accesspackage:post"]), result)
    assert ok["orgnr"] == "311066587" and ok["acr"] == "substantial"
    with pytest.raises(AccessDenied, match="none of the roles"):
        _claims(RT, _client("employee", require_any=["urn:altinn:accesspackage:a-ordning"]), result)


def test_login_without_identity_number_is_refused() -> None:
    result = {"pid": [{"claims": {"given_name": "Amir", "family_name": "Haddad", "birthdate": "1995-01-01"}}]}
    with pytest.raises(AccessDenied, match="identity number"):
        _claims(RT, _client("pid"), result)


def test_mandate_profile_accepts_a_mandate_without_end_date_but_prefers_one() -> None:
    q = DcqlQuery.parse(build_profile("mandate", {"scope": "nav:arbeid"}).dcql_query)
    mandate_q = next(c for c in q.credentials if c.id == "mandate")
    claims: dict[str, Any] = {"principal": {"given_name": "Sigrid", "family_name": "Haugen"},
                              "agent": {"personal_administrative_number": "01010112345"},
                              "scope": {"service_areas": ["nav:arbeid"]}, "legal_basis": "guardianship",
                              "valid_from": "2024-01-01T00:00:00Z"}
    assert evaluate_claim_sets(mandate_q, claims).option == 1
    assert evaluate_claim_sets(mandate_q, {**claims, "valid_until": "2099-01-01T00:00:00Z"}).option == 0
    assert evaluate_claim_sets(mandate_q, {**claims, "scope": {"service_areas": ["helse:x"]}}).option is None
