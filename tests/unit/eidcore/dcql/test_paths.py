"""Claims path pointers (OpenID4VP 1.0 §7, OpenID4VCI 1.0 Appendix C) and value matching (§6.3)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eidcore.dcql import cbor_to_json, matches_values, parse_claims_path, select_json, select_mdoc
from eidcore.errors import ClaimsPathError, InvalidRequest

# §7.4, the spec's claims path pointer example credential
CREDENTIAL: dict[str, Any] = {
    "name": "Arthur Dent",
    "address": {"street_address": "42 Market Street", "locality": "Milliways", "postal_code": "12345"},
    "degrees": [
        {"type": "Bachelor of Science", "university": "University of Betelgeuse"},
        {"type": "Master of Science", "university": "University of Betelgeuse"},
    ],
    "nationalities": ["British", "Betelgeusian"],
}


def values(path: list[Any]) -> list[Any]:
    return [s.value for s in select_json(CREDENTIAL, path)]


def test_spec_example_name() -> None:
    assert values(["name"]) == ["Arthur Dent"]


def test_spec_example_address_object() -> None:
    assert values(["address"]) == [CREDENTIAL["address"]]


def test_spec_example_street_address() -> None:
    (sel,) = select_json(CREDENTIAL, ["address", "street_address"])
    assert sel.path == ("address", "street_address")
    assert sel.value == "42 Market Street"


def test_spec_example_all_degree_types() -> None:
    sel = select_json(CREDENTIAL, ["degrees", None, "type"])
    assert [s.value for s in sel] == ["Bachelor of Science", "Master of Science"]
    assert [s.path for s in sel] == [("degrees", 0, "type"), ("degrees", 1, "type")]


def test_spec_example_second_nationality() -> None:
    assert values(["nationalities", 1]) == ["Betelgeusian"]


def test_missing_key_and_index_mean_not_found() -> None:
    assert select_json(CREDENTIAL, ["birthdate"]) == []
    assert select_json(CREDENTIAL, ["nationalities", 5]) == []
    assert select_json(CREDENTIAL, ["address", "country"]) == []


def test_wildcard_keeps_elements_that_have_the_key() -> None:
    claims = {"a": [{"x": 1}, {"y": 2}, {"x": 3}]}
    assert [s.path for s in select_json(claims, ["a", None, "x"])] == [("a", 0, "x"), ("a", 2, "x")]


@pytest.mark.parametrize(
    "path",
    [["name", "first"], ["nationalities", "first"], ["name", None], ["address", 0], ["degrees", None, "type", 0]],
)
def test_step_on_wrong_type_is_an_error(path: list[Any]) -> None:
    with pytest.raises(ClaimsPathError):
        select_json(CREDENTIAL, path)


@pytest.mark.parametrize("path", [[], ["a", -1], ["a", True], ["a", 1.0], [{"a": 1}], "name", None])
def test_malformed_pointer_is_invalid_request(path: Any) -> None:
    with pytest.raises(InvalidRequest):
        select_json(CREDENTIAL, path)
    with pytest.raises(InvalidRequest):
        parse_claims_path(path)


NAMESPACES: dict[str, dict[str, Any]] = {
    "org.iso.18013.5.1": {
        "given_name": "Ola",
        "birth_date": date(1990, 1, 2),
        "age_over_18": True,
        "driving_privileges": [{"vehicle_category_code": "B"}],
    },
}


def test_mdoc_selects_namespace_and_element() -> None:
    (sel,) = select_mdoc(NAMESPACES, ["org.iso.18013.5.1", "given_name"])
    assert sel.path == ("org.iso.18013.5.1", "given_name")
    assert sel.value == "Ola"


def test_mdoc_missing_namespace_or_element_is_not_found() -> None:
    assert select_mdoc(NAMESPACES, ["org.iso.18013.5.1", "portrait"]) == []
    assert select_mdoc(NAMESPACES, ["eu.europa.ec.eudi.pid.1", "given_name"]) == []


def test_mdoc_deeper_steps_follow_vci_appendix_c() -> None:
    sel = select_mdoc(NAMESPACES, ["org.iso.18013.5.1", "driving_privileges", None, "vehicle_category_code"])
    assert [s.value for s in sel] == ["B"]


@pytest.mark.parametrize("path", [["org.iso.18013.5.1"], [0, "given_name"], ["org.iso.18013.5.1", None]])
def test_mdoc_pointer_must_start_with_two_strings(path: list[Any]) -> None:
    with pytest.raises(ClaimsPathError):
        select_mdoc(NAMESPACES, path)


def test_cbor_to_json_follows_rfc8949_section_6_1() -> None:
    assert cbor_to_json(date(1990, 1, 2)) == "1990-01-02"
    assert cbor_to_json(datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2025-01-02T03:04:05Z"
    assert cbor_to_json(b"\xff\xfe") == "__4"
    assert cbor_to_json(True) is True
    assert cbor_to_json(18) == 18


def test_values_need_type_and_value_equal() -> None:
    assert matches_values(True, [True])
    assert not matches_values(True, [1])
    assert not matches_values(1, [True])
    assert not matches_values("1", [1])
    assert matches_values("90211", ["90210", "90211"])
    assert matches_values(date(1990, 1, 2), ["1990-01-02"], mdoc=True)
    assert not matches_values(date(1990, 1, 2), ["1990-01-02"])
    assert not matches_values(object(), ["x"], mdoc=True)


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5))
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)),
    max_leaves=12,
)
pointer = st.lists(st.one_of(st.none(), st.integers(0, 3), st.sampled_from(["a", "b", ""])), min_size=1, max_size=4)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(claims=st.dictionaries(st.sampled_from(["a", "b", ""]), json_value, max_size=3), path=pointer)
def test_selected_paths_lead_to_the_selected_values(claims: dict[str, Any], path: list[Any]) -> None:
    """Every result is reachable: following its concrete path from the root gives its value; or the pointer errs."""
    try:
        selected = select_json(claims, path)
    except ClaimsPathError:
        return
    for sel in selected:
        assert len(sel.path) == len(path)
        node: Any = claims
        for step, concrete in zip(path, sel.path, strict=True):
            if step is not None:
                assert step == concrete
            node = node[concrete]
        assert node == sel.value
