"""Holder-side DCQL matching (OpenID4VP 1.0 §6.4): which credentials answer a query and what to disclose."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from eidcore.dcql import HeldCredential, MatchResult, NoMatch, match_credentials, parse_dcql_query

VECTORS = Path(__file__).parents[3] / "vectors" / "dcql"
IDENTITY = "https://credentials.example.com/identity_credential"
MDL = "org.iso.18013.5.1.mDL"
ISO = "org.iso.18013.5.1"


def query(name: str) -> Any:
    return parse_dcql_query((VECTORS / name).read_text())


def ok(result: MatchResult | NoMatch) -> MatchResult:
    assert isinstance(result, MatchResult), result
    return result


def no(result: MatchResult | NoMatch) -> NoMatch:
    assert isinstance(result, NoMatch), result
    return result


PERSON = {
    "vct": IDENTITY,
    "iss": "https://issuer.example",
    "last_name": "Doe",
    "first_name": "John",
    "address": {"street_address": "123 Main St", "locality": "Anytown", "region": "Anystate"},
    "postal_code": "90210",
    "locality": "Anytown",
    "region": "Anystate",
    "date_of_birth": "1970-01-01",
}


def test_simple_query_discloses_exactly_the_requested_paths() -> None:
    cred = HeldCredential.sd_jwt_vc(IDENTITY, PERSON, ref="c1")
    result = ok(match_credentials(query("simple.json"), [cred]))
    (m,) = result.selected["my_credential"]
    assert m.credential.ref == "c1"
    assert m.disclose == (("last_name",), ("first_name",), ("address", "street_address"))
    assert m.claim_set is None


def test_simple_query_wrong_vct_is_no_match() -> None:
    cred = HeldCredential.sd_jwt_vc("https://other.example/type", PERSON)
    result = no(match_credentials(query("simple.json"), [cred]))
    assert result.query_ids == ("my_credential",)
    assert "meta" in result.reason
    assert result.rejections[0].check == "meta"


def test_vct_values_match_a_parent_type() -> None:
    cred = HeldCredential.sd_jwt_vc("https://national.example/pid/no", PERSON, vct_extends=[IDENTITY])
    assert ok(match_credentials(query("simple.json"), [cred])).selected["my_credential"]


def test_missing_claim_is_no_match_naming_the_path() -> None:
    cred = HeldCredential.sd_jwt_vc(IDENTITY, {k: v for k, v in PERSON.items() if k != "address"})
    result = no(match_credentials(query("simple.json"), [cred]))
    assert '["address", "street_address"]' in result.reason
    assert result.rejections[0].check == "claims"


def test_simple_mdoc_query_discloses_namespace_element_pairs() -> None:
    cred = HeldCredential.mdoc(
        "org.iso.7367.1.mVRC",
        {"org.iso.7367.1": {"vehicle_holder": "Ola", "vin": "X"}, ISO: {"given_name": "Ola", "family_name": "N"}},
    )
    (m,) = ok(match_credentials(query("simple_mdoc.json"), [cred])).selected["my_credential"]
    assert m.disclose == (("org.iso.7367.1", "vehicle_holder"), (ISO, "given_name"))


def test_mdoc_wrong_doctype_and_wrong_format_are_rejected() -> None:
    q = query("simple_mdoc.json")
    mdl = HeldCredential.mdoc(MDL, {"org.iso.7367.1": {"vehicle_holder": "Ola"}, ISO: {"given_name": "Ola"}})
    sd = HeldCredential.sd_jwt_vc(IDENTITY, PERSON)
    result = no(match_credentials(q, [mdl, sd]))
    assert {r.check for r in result.rejections} == {"meta", "format"}


def test_claims_alternatives_first_satisfiable_set_wins() -> None:
    q = query("claims_alternatives.json")
    full = HeldCredential.sd_jwt_vc(IDENTITY, PERSON)
    (m,) = ok(match_credentials(q, [full])).selected["pid"]
    assert m.claim_set == 0
    assert m.claim_ids == ("a", "c", "d", "e")
    assert m.disclose == (("last_name",), ("locality",), ("region",), ("date_of_birth",))
    without_region = HeldCredential.sd_jwt_vc(IDENTITY, {k: v for k, v in PERSON.items() if k != "region"})
    (m2,) = ok(match_credentials(q, [without_region])).selected["pid"]
    assert m2.claim_set == 1
    assert m2.disclose == (("last_name",), ("postal_code",), ("date_of_birth",))


def test_claims_alternatives_none_satisfiable() -> None:
    q = query("claims_alternatives.json")
    cred = HeldCredential.sd_jwt_vc(IDENTITY, {"last_name": "Doe", "postal_code": "1"})
    result = no(match_credentials(q, [cred]))
    assert "date_of_birth" in result.reason


def test_value_matching_filters_credentials() -> None:
    q = query("value_matching_simple.json")
    good = HeldCredential.sd_jwt_vc(IDENTITY, PERSON, ref="good")
    wrong_zip = HeldCredential.sd_jwt_vc(IDENTITY, {**PERSON, "postal_code": "10001"}, ref="wrong")
    result = ok(match_credentials(q, [wrong_zip, good]))
    assert [m.credential.ref for m in result.matches["my_credential"]] == ["good"]
    assert result.rejections[0].check == "values"
    only_wrong = no(match_credentials(q, [wrong_zip]))
    assert "requested values" in only_wrong.reason


def test_value_matching_type_must_match() -> None:
    q = parse_dcql_query(
        {
            "credentials": [
                {"id": "age", "format": "dc+sd-jwt", "meta": {"vct_values": ["t"]},
                 "claims": [{"path": ["age_over_18"], "values": [True]}]}
            ]
        }
    )  # fmt: skip
    assert ok(match_credentials(q, [HeldCredential.sd_jwt_vc("t", {"age_over_18": True})]))
    assert no(match_credentials(q, [HeldCredential.sd_jwt_vc("t", {"age_over_18": 1})]))
    assert no(match_credentials(q, [HeldCredential.sd_jwt_vc("t", {"age_over_18": "true"})]))


def test_values_on_an_array_wildcard_disclose_only_matching_elements() -> None:
    q = parse_dcql_query(
        {
            "credentials": [
                {"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["t"]},
                 "claims": [{"path": ["nationalities", None], "values": ["NO"]}]}
            ]
        }
    )  # fmt: skip
    cred = HeldCredential.sd_jwt_vc("t", {"nationalities": ["SE", "NO", "DK"]})
    (m,) = ok(match_credentials(q, [cred])).selected["pid"]
    assert m.disclose == (("nationalities", 1),)


def test_mdoc_value_matching_converts_cbor_to_json() -> None:
    q = parse_dcql_query(
        {
            "credentials": [
                {"id": "mdl", "format": "mso_mdoc", "meta": {"doctype_value": MDL},
                 "claims": [{"path": [ISO, "birth_date"], "values": ["1990-01-02"], "intent_to_retain": True}]}
            ]
        }
    )  # fmt: skip
    cred = HeldCredential.mdoc(MDL, {ISO: {"birth_date": date(1990, 1, 2)}})
    (m,) = ok(match_credentials(q, [cred])).selected["mdl"]
    assert m.disclose == ((ISO, "birth_date"),)
    assert m.intent_to_retain == {(ISO, "birth_date"): True}
    assert no(match_credentials(q, [HeldCredential.mdoc(MDL, {ISO: {"birth_date": date(1990, 1, 3)}})]))


def test_no_claims_means_disclose_nothing() -> None:
    q = parse_dcql_query({"credentials": [{"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["t"]}}]})
    (m,) = ok(match_credentials(q, [HeldCredential.sd_jwt_vc("t", PERSON)])).selected["pid"]
    assert m.disclose == ()
    assert m.paths == ()


def test_credentials_alternatives_pick_first_option_and_optional_set_best_effort() -> None:
    q = query("credentials_alternatives.json")
    other = HeldCredential.sd_jwt_vc(
        "https://othercredentials.example/pid",
        {"given_name": "J", "family_name": "D", "address": {"street_address": "x"}},
        ref="other",
    )
    result = ok(match_credentials(q, [other]))
    assert result.options == (("other_pid",), None)
    assert set(result.selected) == {"other_pid"}
    rewards = HeldCredential.sd_jwt_vc("https://company.example/company_rewards", {"rewards_number": 7}, ref="r")
    result2 = ok(match_credentials(q, [other, rewards]))
    assert result2.options == (("other_pid",), ("nice_to_have",))
    assert set(result2.selected) == {"other_pid", "nice_to_have"}


def test_credentials_alternatives_two_credential_option() -> None:
    q = query("credentials_alternatives.json")
    reduced1 = HeldCredential.sd_jwt_vc(
        "https://credentials.example.com/reduced_identity_credential", {"family_name": "D", "given_name": "J"}
    )
    reduced2 = HeldCredential.sd_jwt_vc(
        "https://cred.example/residence_credential", {"postal_code": "1", "locality": "L", "region": "R"}
    )
    result = ok(match_credentials(q, [reduced1, reduced2]))
    assert result.options[0] == ("pid_reduced_cred_1", "pid_reduced_cred_2")
    only_one = no(match_credentials(q, [reduced1]))
    assert only_one.reason.startswith("credential_sets[0]: no option can be met")
    assert "pid_reduced_cred_2" in only_one.query_ids


def test_optional_only_match_is_not_enough() -> None:
    q = query("credentials_alternatives.json")
    rewards = HeldCredential.sd_jwt_vc("https://company.example/company_rewards", {"rewards_number": 7})
    assert no(match_credentials(q, [rewards]))


def test_complex_mdoc_prefers_mdl_and_falls_back_to_photo_card() -> None:
    q = query("complex_mdoc.json")
    items = {
        "given_name": "O",
        "family_name": "N",
        "portrait": b"\x01",
        "resident_address": "A",
        "resident_country": "NO",
    }
    mdl = HeldCredential.mdoc(MDL, {ISO: items}, ref="mdl")
    photo = HeldCredential.mdoc("org.iso.23220.photoid.1", {ISO: items}, ref="photo")
    result = ok(match_credentials(q, [photo, mdl]))
    assert result.options == (("mdl-id",), ("mdl-address",))
    assert result.selected["mdl-id"][0].credential.ref == "mdl"
    assert result.selected["mdl-address"][0].disclose == ((ISO, "resident_address"), (ISO, "resident_country"))
    photo_only = ok(match_credentials(q, [photo]))
    assert photo_only.options == (("photo_card-id",), ("photo_card-address",))


def test_without_credential_sets_every_query_is_required() -> None:
    q = parse_dcql_query(
        {
            "credentials": [
                {"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["pid"]}},
                {"id": "mandate", "format": "dc+sd-jwt", "meta": {"vct_values": ["mandate"]}},
            ]
        }
    )
    pid = HeldCredential.sd_jwt_vc("pid", {})
    result = no(match_credentials(q, [pid]))
    assert result.query_ids == ("mandate",)
    assert "'mandate'" in result.reason
    both = ok(match_credentials(q, [pid, HeldCredential.sd_jwt_vc("mandate", {})]))
    assert set(both.selected) == {"pid", "mandate"}


@pytest.mark.parametrize("multiple, expected", [(False, 1), (True, 2)])
def test_multiple_selects_every_match(multiple: bool, expected: int) -> None:
    q = parse_dcql_query(
        {"credentials": [{"id": "x", "format": "dc+sd-jwt", "meta": {"vct_values": ["t"]}, "multiple": multiple}]}
    )
    creds = [HeldCredential.sd_jwt_vc("t", {}, ref=i) for i in range(2)]
    result = ok(match_credentials(q, creds))
    assert len(result.matches["x"]) == 2
    assert len(result.selected["x"]) == expected


def test_holder_binding_required_by_default() -> None:
    q = parse_dcql_query(json.loads((VECTORS / "simple.json").read_text()))
    unbound = HeldCredential.sd_jwt_vc(IDENTITY, PERSON, holder_binding=False)
    assert no(match_credentials(q, [unbound])).rejections[0].check == "holder_binding"
    relaxed = json.loads((VECTORS / "simple.json").read_text())
    relaxed["credentials"][0]["require_cryptographic_holder_binding"] = False
    assert ok(match_credentials(parse_dcql_query(relaxed), [unbound]))


def test_trusted_authorities_aki_and_other_types() -> None:
    base = json.loads((VECTORS / "simple.json").read_text())
    base["credentials"][0]["trusted_authorities"] = [
        {"type": "aki", "values": ["s9tIpPmhxdiuNkHMEWNpYim8S8Y"]},
        {"type": "openid_federation", "values": ["https://trustanchor.example.com"]},
    ]
    q = parse_dcql_query(base)
    by_aki = HeldCredential.sd_jwt_vc(IDENTITY, PERSON, authority_key_ids=["s9tIpPmhxdiuNkHMEWNpYim8S8Y"])
    by_fed = HeldCredential.sd_jwt_vc(
        IDENTITY, PERSON, other_authorities={"openid_federation": ["https://trustanchor.example.com"]}
    )
    neither = HeldCredential.sd_jwt_vc(IDENTITY, PERSON, authority_key_ids=["AAAA"])
    assert ok(match_credentials(q, [by_aki]))
    assert ok(match_credentials(q, [by_fed]))
    assert no(match_credentials(q, [neither])).rejections[0].check == "trusted_authorities"


def test_claim_on_wrong_structure_is_not_a_match_not_a_crash() -> None:
    cred = HeldCredential.sd_jwt_vc(IDENTITY, {**PERSON, "address": "a string"})
    result = no(match_credentials(query("simple.json"), [cred]))
    assert "expects an object" in result.reason
