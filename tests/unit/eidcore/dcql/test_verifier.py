"""Verifier-side DCQL checks of a verified vp_token (OpenID4VP 1.0 §8.1, §8.6, §6.4)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from eidcore.dcql import DcqlQuery, VerifiedPresentation, check_vp_token, parse_dcql_query
from eidcore.errors import DcqlMismatch

VECTORS = Path(__file__).parents[3] / "vectors" / "dcql"
IDENTITY = "https://credentials.example.com/identity_credential"
MDL = "org.iso.18013.5.1.mDL"
ISO = "org.iso.18013.5.1"


def query(name: str) -> DcqlQuery:
    return parse_dcql_query((VECTORS / name).read_text())


def sd(claims: dict[str, Any], disclosed: list[tuple[Any, ...]], *, vct: str = IDENTITY, bound: bool = True) -> Any:
    return VerifiedPresentation.sd_jwt_vc(vct, claims, disclosed_paths=disclosed, holder_bound=bound)


ALWAYS = {"vct": IDENTITY, "iss": "https://issuer.example", "cnf": {"jwk": {}}}
SIMPLE_CLAIMS = {**ALWAYS, "last_name": "Doe", "first_name": "John", "address": {"street_address": "1 Main"}}
SIMPLE_DISCLOSED = [("last_name",), ("first_name",), ("address", "street_address")]


def test_simple_presentation_passes_every_check() -> None:
    result = check_vp_token(query("simple.json"), {"my_credential": [sd(SIMPLE_CLAIMS, SIMPLE_DISCLOSED)]})
    assert result.ok
    assert result.failure is None
    result.raise_for_failure()
    names = [c.name for c in result.checks]
    assert names == [
        "vp_token_keys",
        "presentation_count",
        "format",
        "meta",
        "holder_binding",
        "claims",
        "no_extra_disclosure",
        "required_credentials",
    ]
    assert all(c.passed for c in result.checks)
    (outcome,) = result.accepted["my_credential"]
    assert outcome.paths == (("last_name",), ("first_name",), ("address", "street_address"))
    assert outcome.claim_set is None


def test_parent_disclosure_of_a_requested_nested_claim_is_allowed() -> None:
    """Revealing ``address.street_address`` may need the ``address`` disclosure itself (a parent)."""
    disclosed = [*SIMPLE_DISCLOSED, ("address",)]
    assert check_vp_token(query("simple.json"), {"my_credential": [sd(SIMPLE_CLAIMS, disclosed)]}).ok


def test_always_visible_claims_are_not_extra_disclosures() -> None:
    claims = {**SIMPLE_CLAIMS, "nationality": "NO"}  # present but issued in the clear: not in disclosed
    assert check_vp_token(query("simple.json"), {"my_credential": [sd(claims, SIMPLE_DISCLOSED)]}).ok


def test_extra_selective_disclosure_fails_naming_query_and_path() -> None:
    claims = {**SIMPLE_CLAIMS, "birthdate": "1970-01-01"}
    result = check_vp_token(query("simple.json"), {"my_credential": [sd(claims, [*SIMPLE_DISCLOSED, ("birthdate",)])]})
    assert not result.ok
    assert result.failure is not None and result.failure.name == "required_credentials"
    assert result.failure.cause is not None and result.failure.cause.name == "no_extra_disclosure"
    with pytest.raises(DcqlMismatch) as exc:
        result.raise_for_failure()
    assert exc.value.check == "no_extra_disclosure"
    assert exc.value.query_id == "my_credential"
    assert exc.value.path == ("birthdate",)
    assert '["birthdate"]' in exc.value.description
    assert exc.value.code == "invalid_request"


def test_sibling_of_a_requested_nested_claim_is_extra() -> None:
    claims = {**SIMPLE_CLAIMS, "address": {"street_address": "1 Main", "locality": "Oslo"}}
    disclosed = [*SIMPLE_DISCLOSED, ("address", "locality")]
    result = check_vp_token(query("simple.json"), {"my_credential": [sd(claims, disclosed)]})
    with pytest.raises(DcqlMismatch) as exc:
        result.raise_for_failure()
    assert exc.value.check == "no_extra_disclosure"
    assert exc.value.path == ("address", "locality")


def test_missing_claim_fails_claims_check() -> None:
    claims = {k: v for k, v in SIMPLE_CLAIMS.items() if k != "first_name"}
    result = check_vp_token(query("simple.json"), {"my_credential": [sd(claims, SIMPLE_DISCLOSED[::2])]})
    with pytest.raises(DcqlMismatch) as exc:
        result.raise_for_failure()
    assert exc.value.check == "claims"
    assert exc.value.path == ("first_name",)


def test_value_mismatch_fails_values_check() -> None:
    claims = {**SIMPLE_CLAIMS, "postal_code": "10001"}
    disclosed = [*SIMPLE_DISCLOSED, ("postal_code",)]
    result = check_vp_token(query("value_matching_simple.json"), {"my_credential": [sd(claims, disclosed)]})
    with pytest.raises(DcqlMismatch) as exc:
        result.raise_for_failure()
    assert exc.value.check == "values"
    assert exc.value.path == ("postal_code",)


def test_value_match_passes_and_reports_values_check() -> None:
    claims = {**SIMPLE_CLAIMS, "postal_code": "90211"}
    disclosed = [*SIMPLE_DISCLOSED, ("postal_code",)]
    result = check_vp_token(query("value_matching_simple.json"), {"my_credential": [sd(claims, disclosed)]})
    assert result.ok
    assert any(c.name == "values" and c.passed for c in result.checks)


def test_claims_alternatives_accepts_second_option_and_rejects_a_mix() -> None:
    q = query("claims_alternatives.json")
    second = {**ALWAYS, "last_name": "D", "postal_code": "1", "date_of_birth": "1970-01-01"}
    result = check_vp_token(q, {"pid": [sd(second, [("last_name",), ("postal_code",), ("date_of_birth",)])]})
    assert result.ok
    assert result.accepted["pid"][0].claim_set == 1
    assert result.accepted["pid"][0].claim_ids == ("a", "b", "e")
    # both options' claims at once: more than any one combination
    mixed = {**second, "locality": "L", "region": "R"}
    disclosed = [("last_name",), ("postal_code",), ("date_of_birth",), ("locality",), ("region",)]
    bad = check_vp_token(q, {"pid": [sd(mixed, disclosed)]})
    with pytest.raises(DcqlMismatch) as exc:
        bad.raise_for_failure()
    assert exc.value.check == "no_extra_disclosure"
    assert exc.value.path == ("postal_code",)


def test_unknown_vp_token_key_rejects_the_token() -> None:
    result = check_vp_token(query("simple.json"), {"my_credential": [sd(SIMPLE_CLAIMS, SIMPLE_DISCLOSED)], "other": []})
    assert not result.ok
    assert result.failure is not None and result.failure.name == "vp_token_keys"
    assert "'other'" in result.failure.reason


def test_two_presentations_without_multiple_reject_the_token() -> None:
    p = sd(SIMPLE_CLAIMS, SIMPLE_DISCLOSED)
    result = check_vp_token(query("simple.json"), {"my_credential": [p, p]})
    with pytest.raises(DcqlMismatch) as exc:
        result.raise_for_failure()
    assert exc.value.check == "presentation_count"
    assert exc.value.query_id == "my_credential"


def test_multiple_true_accepts_several() -> None:
    q = parse_dcql_query(
        {"credentials": [{"id": "x", "format": "dc+sd-jwt", "meta": {"vct_values": ["t"]}, "multiple": True}]}
    )
    p = sd({"vct": "t"}, [], vct="t")
    result = check_vp_token(q, {"x": [p, p, p]})
    assert result.ok
    assert len(result.accepted["x"]) == 3


def test_credentials_alternatives_other_pid_satisfies_required_set() -> None:
    q = query("credentials_alternatives.json")
    other = sd(
        {"vct": "https://othercredentials.example/pid", "given_name": "J", "family_name": "D",
         "address": {"street_address": "x"}},
        [("given_name",), ("family_name",), ("address", "street_address")],
        vct="https://othercredentials.example/pid",
    )  # fmt: skip
    result = check_vp_token(q, {"other_pid": [other]})
    assert result.ok
    assert result.options == (("other_pid",), None)


def test_credentials_alternatives_only_optional_fails() -> None:
    q = query("credentials_alternatives.json")
    rewards = sd({"rewards_number": 1}, [("rewards_number",)], vct="https://company.example/company_rewards")
    result = check_vp_token(q, {"nice_to_have": [rewards]})
    with pytest.raises(DcqlMismatch) as exc:
        result.raise_for_failure()
    assert exc.value.check == "required_credentials"
    assert "credential_sets[0]" in exc.value.description


def test_bad_optional_presentation_is_discarded_not_fatal() -> None:
    q = query("credentials_alternatives.json")
    other = sd(
        {"given_name": "J", "family_name": "D", "address": {"street_address": "x"}},
        [("given_name",), ("family_name",), ("address", "street_address")],
        vct="https://othercredentials.example/pid",
    )
    rewards = sd({"rewards_number": 1, "tier": "gold"}, [("rewards_number",), ("tier",)],
                 vct="https://company.example/company_rewards")  # fmt: skip
    result = check_vp_token(q, {"other_pid": [other], "nice_to_have": [rewards]})
    assert result.ok
    assert "nice_to_have" not in result.accepted
    assert [f.name for f in result.failures] == ["no_extra_disclosure"]


def test_meta_mismatch_and_inheritance() -> None:
    claims = SIMPLE_CLAIMS
    wrong = check_vp_token(query("simple.json"), {"my_credential": [sd(claims, SIMPLE_DISCLOSED, vct="urn:x")]})
    with pytest.raises(DcqlMismatch) as exc:
        wrong.raise_for_failure()
    assert exc.value.check == "meta"
    child = VerifiedPresentation.sd_jwt_vc(
        "urn:child", claims, disclosed_paths=SIMPLE_DISCLOSED, holder_bound=True, vct_extends=[IDENTITY]
    )
    assert check_vp_token(query("simple.json"), {"my_credential": [child]}).ok


def test_format_mismatch() -> None:
    mdoc = VerifiedPresentation.mdoc(MDL, {ISO: {"given_name": "O"}}, holder_bound=True)
    result = check_vp_token(query("simple.json"), {"my_credential": [mdoc]})
    with pytest.raises(DcqlMismatch) as exc:
        result.raise_for_failure()
    assert exc.value.check == "format"


def test_holder_binding_required_unless_relaxed() -> None:
    unbound = sd(SIMPLE_CLAIMS, SIMPLE_DISCLOSED, bound=False)
    result = check_vp_token(query("simple.json"), {"my_credential": [unbound]})
    with pytest.raises(DcqlMismatch) as exc:
        result.raise_for_failure()
    assert exc.value.check == "holder_binding"
    relaxed = query("simple.json").to_json()
    relaxed["credentials"][0]["require_cryptographic_holder_binding"] = False
    assert check_vp_token(parse_dcql_query(relaxed), {"my_credential": [unbound]}).ok


def test_no_claims_query_rejects_any_selective_disclosure() -> None:
    q = parse_dcql_query({"credentials": [{"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["t"]}}]})
    assert check_vp_token(q, {"pid": [sd({"vct": "t", "iss": "x"}, [], vct="t")]}).ok
    result = check_vp_token(q, {"pid": [sd({"vct": "t", "given_name": "x"}, [("given_name",)], vct="t")]})
    with pytest.raises(DcqlMismatch) as exc:
        result.raise_for_failure()
    assert exc.value.check == "no_extra_disclosure"


def test_same_credential_under_two_queries_may_carry_both_claim_lists() -> None:
    """§6.4: a presentation may hold more if the same credential is selected with those claims in another query."""
    q = parse_dcql_query(
        {
            "credentials": [
                {"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["t"]}, "claims": [{"path": ["x"]}]},
                {"id": "b", "format": "dc+sd-jwt", "meta": {"vct_values": ["t"]}, "claims": [{"path": ["y"]}]},
            ]
        }
    )
    both = sd({"x": 1, "y": 2}, [("x",), ("y",)], vct="t")
    assert check_vp_token(q, {"a": [both], "b": [both]}).ok
    # but not when the other query is not answered in this vp_token
    q_sets = q.to_json()
    q_sets["credential_sets"] = [{"options": [["a"]]}, {"options": [["b"]], "required": False}]
    result = check_vp_token(parse_dcql_query(q_sets), {"a": [both]})
    assert not result.ok


MDL_ITEMS = {"given_name": "O", "family_name": "N", "portrait": b"\x01"}


def test_complex_mdoc_required_and_optional() -> None:
    q = query("complex_mdoc.json")
    id_part = VerifiedPresentation.mdoc(MDL, {ISO: MDL_ITEMS}, holder_bound=True)
    address = VerifiedPresentation.mdoc(
        MDL, {ISO: {"resident_address": "A", "resident_country": "NO"}}, holder_bound=True
    )
    assert check_vp_token(q, {"mdl-id": [id_part]}).ok
    result = check_vp_token(q, {"mdl-id": [id_part], "mdl-address": [address]})
    assert result.ok
    assert result.options == (("mdl-id",), ("mdl-address",))


def test_mdoc_extra_element_and_wrong_doctype() -> None:
    q = query("complex_mdoc.json")
    extra = VerifiedPresentation.mdoc(MDL, {ISO: {**MDL_ITEMS, "birth_date": date(1990, 1, 1)}}, holder_bound=True)
    with pytest.raises(DcqlMismatch) as exc:
        check_vp_token(q, {"mdl-id": [extra]}).raise_for_failure()
    assert exc.value.check == "no_extra_disclosure"
    assert exc.value.path == (ISO, "birth_date")
    photo = VerifiedPresentation.mdoc("org.iso.23220.photoid.1", {ISO: MDL_ITEMS}, holder_bound=True)
    with pytest.raises(DcqlMismatch) as exc2:
        check_vp_token(q, {"mdl-id": [photo]}).raise_for_failure()
    assert exc2.value.check == "meta"


def test_empty_vp_token_for_required_query() -> None:
    result = check_vp_token(query("simple.json"), {})
    with pytest.raises(DcqlMismatch) as exc:
        result.raise_for_failure()
    assert exc.value.check == "required_credentials"
    assert exc.value.query_id == "my_credential"
