"""DCQL query parsing (OpenID4VP 1.0 §6): the spec's example queries, defaults, unknown members, the wire form."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from eidcore.dcql import DcqlQuery, parse_dcql_query
from eidcore.errors import InvalidRequest

VECTORS = Path(__file__).parents[3] / "vectors" / "dcql"
EXAMPLES = [
    "simple.json",
    "simple_mdoc.json",
    "credentials_alternatives.json",
    "claims_alternatives.json",
    "value_matching_simple.json",
    "complex_mdoc.json",
]


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text())
    return data


@pytest.mark.parametrize("name", EXAMPLES)
def test_spec_example_parses_from_text_and_dict(name: str) -> None:
    text = (VECTORS / name).read_text()
    from_text = parse_dcql_query(text)
    from_bytes = DcqlQuery.parse(text.encode())
    from_dict = parse_dcql_query(json.loads(text))
    assert from_text == from_dict == from_bytes
    assert from_text.ids == tuple(c["id"] for c in json.loads(text)["credentials"])


@pytest.mark.parametrize("name", EXAMPLES)
def test_wire_form_round_trips(name: str) -> None:
    q = parse_dcql_query(load(name))
    again = parse_dcql_query(json.dumps(q.to_json()))
    assert again == q
    # explicit members keep their values
    original = load(name)
    for c_in, c_out in zip(original["credentials"], q.to_json()["credentials"], strict=True):
        assert c_out["meta"] == c_in["meta"]
        assert [c["path"] for c in c_out.get("claims", [])] == [c["path"] for c in c_in.get("claims", [])]


def test_simple_example_model() -> None:
    q = parse_dcql_query(load("simple.json"))
    (c,) = q.credentials
    assert c.id == "my_credential"
    assert c.format == "dc+sd-jwt"
    assert c.meta.vct_values == ("https://credentials.example.com/identity_credential",)
    assert c.multiple is False
    assert c.require_cryptographic_holder_binding is True
    assert [x.path for x in c.claims or ()] == [("last_name",), ("first_name",), ("address", "street_address")]
    assert c.claim_sets is None
    assert q.credential_sets is None


def test_simple_mdoc_example_model() -> None:
    c = parse_dcql_query(load("simple_mdoc.json")).credential("my_credential")
    assert c.format == "mso_mdoc"
    assert c.meta.doctype_value == "org.iso.7367.1.mVRC"
    assert [x.path for x in c.claims or ()] == [
        ("org.iso.7367.1", "vehicle_holder"),
        ("org.iso.18013.5.1", "given_name"),
    ]


def test_value_matching_example_values() -> None:
    c = parse_dcql_query(load("value_matching_simple.json")).credentials[0]
    claims = c.claims or ()
    assert claims[0].values == ("Doe",)
    assert claims[3].values == ("90210", "90211")
    assert claims[1].values is None


def test_claims_alternatives_options_in_preference_order() -> None:
    c = parse_dcql_query(load("claims_alternatives.json")).credential("pid")
    assert c.claim_sets == (("a", "c", "d", "e"), ("a", "b", "e"))
    options = c.claim_options()
    assert [[x.id for x in o] for o in options] == [["a", "c", "d", "e"], ["a", "b", "e"]]


def test_credential_sets_required_defaults_to_true() -> None:
    q = parse_dcql_query(load("credentials_alternatives.json"))
    sets = q.credential_sets or ()
    assert [s.required for s in sets] == [True, False]
    assert sets[0].options == (("pid",), ("other_pid",), ("pid_reduced_cred_1", "pid_reduced_cred_2"))


def test_unknown_members_are_ignored_everywhere() -> None:
    """§6: "Implementations MUST ignore any unknown properties"."""
    q = parse_dcql_query(
        {
            "credentials": [
                {
                    "id": "pid",
                    "format": "dc+sd-jwt",
                    "meta": {"vct_values": ["urn:eudi:pid:1"], "future_meta": 1},
                    "trusted_authorities": [{"type": "aki", "values": ["s9tIpPmhxdiuNkHMEWNpYim8S8Y"], "x": 1}],
                    "claims": [{"path": ["given_name"], "purpose": "x"}],
                    "future": {"a": 1},
                }
            ],
            "credential_sets": [{"options": [["pid"]], "purpose": "x"}],
            "future_top_level": [1, 2],
        }
    )
    assert q.credentials[0].claims is not None
    assert "future" not in q.credentials[0].to_json()
    assert "future_top_level" not in q.to_json()


def test_intent_to_retain_kept_for_mdoc_and_dropped_for_sd_jwt() -> None:
    q = parse_dcql_query(
        {
            "credentials": [
                {
                    "id": "mdl",
                    "format": "mso_mdoc",
                    "meta": {"doctype_value": "org.iso.18013.5.1.mDL"},
                    "claims": [{"path": ["org.iso.18013.5.1", "portrait"], "intent_to_retain": True}],
                },
                {
                    "id": "pid",
                    "format": "dc+sd-jwt",
                    "meta": {"vct_values": ["urn:eudi:pid:1"]},
                    "claims": [{"path": ["given_name"], "intent_to_retain": "not even a bool"}],
                },
            ]
        }
    )
    assert (q.credential("mdl").claims or ())[0].intent_to_retain is True
    assert (q.credential("pid").claims or ())[0].intent_to_retain is None


def test_values_keep_json_types_apart() -> None:
    c = parse_dcql_query(
        {
            "credentials": [
                {
                    "id": "x",
                    "format": "dc+sd-jwt",
                    "meta": {"vct_values": ["t"]},
                    "claims": [{"path": ["a"], "values": [True, 1, "1", False, 0]}],
                }
            ]
        }
    ).credentials[0]
    values = (c.claims or ())[0].values or ()
    assert [type(v) for v in values] == [bool, int, str, bool, int]


def test_models_are_frozen() -> None:
    q = parse_dcql_query(load("simple.json"))
    with pytest.raises(ValidationError) as exc:
        q.credentials[0].id = "other"
    assert exc.value.errors()[0]["type"] == "frozen_instance"


def test_query_too_large_is_refused() -> None:
    big = json.dumps(load("simple.json")) + " " * 70_000
    with pytest.raises(InvalidRequest, match="too large"):
        parse_dcql_query(big)


def test_error_description_names_member_and_query_id() -> None:
    with pytest.raises(InvalidRequest) as exc:
        parse_dcql_query(
            {
                "credentials": [
                    {"id": "ok", "format": "dc+sd-jwt", "meta": {"vct_values": ["t"]}},
                    {
                        "id": "bad",
                        "format": "dc+sd-jwt",
                        "meta": {"vct_values": ["t"]},
                        "claims": [{"path": ["a", -1]}],
                    },
                ]
            }
        )
    assert exc.value.description == (
        "dcql_query.credentials[1] (id 'bad').claims[0].path: component 1 is a negative integer"
    )
    assert exc.value.code == "invalid_request"


def test_error_description_does_not_echo_claim_values() -> None:
    secret = "01017012345"
    with pytest.raises(InvalidRequest) as exc:
        parse_dcql_query(
            {
                "credentials": [
                    {
                        "id": "x",
                        "format": "dc+sd-jwt",
                        "meta": {"vct_values": ["t"]},
                        "claims": [{"path": ["pid"], "values": [secret, 1.5]}],
                    }
                ]
            }
        )
    assert secret not in exc.value.description
    assert "values" in exc.value.description
