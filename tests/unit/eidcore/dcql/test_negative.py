"""Negative corpus: malformed DCQL queries (each InvalidRequest naming the member) and vp_tokens that do not answer
the query (each DcqlMismatch naming the failed check). None may pass, none may escape as another exception."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from eidcore.dcql import VerifiedPresentation, check_vp_token, parse_dcql_query
from eidcore.errors import DcqlMismatch, InvalidRequest

SD = {"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:eudi:pid:1"]}}
MD = {"id": "mdl", "format": "mso_mdoc", "meta": {"doctype_value": "org.iso.18013.5.1.mDL"}}


def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(base)
    out.update(changes)
    return out


def without(base: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in copy.deepcopy(base).items() if k != key}


def q(*creds: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"credentials": list(creds), **top}


# (case id, query, expected fragment of the description)
MALFORMED: list[tuple[str, Any, str]] = [
    ("no-credentials", {}, "dcql_query.credentials: is required"),
    ("credentials-empty", q(), "credentials: must not be empty"),
    ("credentials-object", {"credentials": {"pid": SD}}, "credentials: must be an array"),
    ("credentials-null", {"credentials": None}, "credentials: must be an array"),
    ("credential-not-object", {"credentials": ["pid"]}, "credentials[0]: must be an object"),
    ("id-missing", q(without(SD, "id")), ".id: is required"),
    ("id-empty", q(with_(SD, id="")), ".id: must be a non-empty string"),
    ("id-space", q(with_(SD, id="my cred")), ".id: must be a non-empty string"),
    ("id-dot", q(with_(SD, id="a.b")), ".id: must be a non-empty string"),
    ("id-unicode", q(with_(SD, id="pid\u00e6")), ".id: must be a non-empty string"),
    ("id-trailing-newline", q(with_(SD, id="pid\n")), ".id: must be a non-empty string"),
    ("id-int", q(with_(SD, id=7)), ".id: must be a string"),
    ("id-duplicate", q(SD, with_(SD, meta={"vct_values": ["x"]})), "credentials[1].id 'pid' is not unique"),
    ("format-missing", q(without(SD, "format")), ".format: is required"),
    ("format-jwt-vc", q(with_(SD, format="jwt_vc_json")), "format 'jwt_vc_json' is not supported"),
    ("format-pre-final-vc-sd-jwt", q(with_(SD, format="vc+sd-jwt")), "format 'vc+sd-jwt' is not supported"),
    ("format-ldp", q(with_(SD, format="ldp_vc")), "format 'ldp_vc' is not supported"),
    ("format-not-string", q(with_(SD, format=["dc+sd-jwt"])), "format must be a string"),
    ("meta-missing", q(without(SD, "meta")), ".meta: is required"),
    ("meta-null", q(with_(SD, meta=None)), "meta must not be null"),
    ("meta-array", q(with_(SD, meta=[])), ".meta: must be an object"),
    ("vct-values-missing", q(with_(SD, meta={})), "meta.vct_values is required for format dc+sd-jwt"),
    ("vct-values-empty", q(with_(SD, meta={"vct_values": []})), "meta.vct_values: must not be empty"),
    ("vct-values-string", q(with_(SD, meta={"vct_values": "urn:x"})), "meta.vct_values: must be an array"),
    ("vct-values-int", q(with_(SD, meta={"vct_values": [1]})), "element 0 must be a non-empty string"),
    ("doctype-missing", q(with_(MD, meta={})), "meta.doctype_value is required for format mso_mdoc"),
    ("doctype-only-vct", q(with_(MD, meta={"vct_values": ["x"]})), "meta.doctype_value is required"),
    ("doctype-empty", q(with_(MD, meta={"doctype_value": ""})), "meta.doctype_value must not be empty"),
    ("doctype-list", q(with_(MD, meta={"doctype_value": ["x"]})), "meta.doctype_value: must be a string"),
    ("multiple-string", q(with_(SD, multiple="true")), ".multiple: must be a boolean"),
    ("multiple-int", q(with_(SD, multiple=1)), ".multiple: must be a boolean"),
    ("multiple-null", q(with_(SD, multiple=None)), "multiple must not be null"),
    ("binding-string", q(with_(SD, require_cryptographic_holder_binding="false")), "must be a boolean"),
    ("ta-empty", q(with_(SD, trusted_authorities=[])), "trusted_authorities: must not be empty"),
    ("ta-unknown-type", q(with_(SD, trusted_authorities=[{"type": "x509", "values": ["a"]}])), "'x509' is not"),
    ("ta-values-empty", q(with_(SD, trusted_authorities=[{"type": "aki", "values": []}])), "values: must not be"),
    ("ta-values-missing", q(with_(SD, trusted_authorities=[{"type": "aki"}])), ".values: is required"),
    ("ta-type-missing", q(with_(SD, trusted_authorities=[{"values": ["a"]}])), ".type: is required"),
    ("ta-value-empty-string", q(with_(SD, trusted_authorities=[{"type": "aki", "values": [""]}])), "element 0"),
    ("claims-empty", q(with_(SD, claims=[])), ".claims: must not be empty"),
    ("claims-null", q(with_(SD, claims=None)), "claims must not be null"),
    ("claims-object", q(with_(SD, claims={"path": ["a"]})), ".claims: must be an array"),
    ("claim-path-missing", q(with_(SD, claims=[{"id": "a"}])), "claims[0].path: is required"),
    ("claim-path-empty", q(with_(SD, claims=[{"path": []}])), "claims[0].path: must not be empty"),
    ("claim-path-string", q(with_(SD, claims=[{"path": "a.b"}])), "path: must be an array"),
    ("claim-path-negative", q(with_(SD, claims=[{"path": ["a", -1]}])), "component 1 is a negative integer"),
    ("claim-path-bool", q(with_(SD, claims=[{"path": ["a", False]}])), "component 1 must be a string, null"),
    ("claim-path-float", q(with_(SD, claims=[{"path": ["a", 0.0]}])), "component 1 must be a string, null"),
    ("claim-path-object", q(with_(SD, claims=[{"path": [{"a": 1}]}])), "component 0 must be a string, null"),
    ("claim-path-duplicate", q(with_(SD, claims=[{"path": ["a"]}, {"path": ["a"]}])), "the same claim twice"),
    ("claim-id-bad", q(with_(SD, claims=[{"id": "a b", "path": ["a"]}])), "claims[0].id: must be a non-empty"),
    ("claim-id-dup", q(with_(SD, claims=[{"id": "a", "path": ["a"]}, {"id": "a", "path": ["b"]}])), "not unique"),
    ("claim-values-empty", q(with_(SD, claims=[{"path": ["a"], "values": []}])), "values: must not be empty"),
    ("claim-values-float", q(with_(SD, claims=[{"path": ["a"], "values": [1.5]}])), "element 0 must be a string"),
    ("claim-values-null", q(with_(SD, claims=[{"path": ["a"], "values": [None]}])), "element 0 must be a string"),
    ("claim-values-object", q(with_(SD, claims=[{"path": ["a"], "values": [{}]}])), "element 0 must be a string"),
    ("claim-values-scalar", q(with_(SD, claims=[{"path": ["a"], "values": "x"}])), "values: must be an array"),
    ("mdoc-path-one", q(with_(MD, claims=[{"path": ["org.iso.18013.5.1"]}])), "[namespace, element identifier]"),
    ("mdoc-path-three", q(with_(MD, claims=[{"path": ["ns", "el", 0]}])), "[namespace, element identifier]"),
    ("mdoc-path-null", q(with_(MD, claims=[{"path": ["ns", None]}])), "[namespace, element identifier]"),
    ("mdoc-retain-string", q(with_(MD, claims=[{"path": ["ns", "e"], "intent_to_retain": "yes"}])), "boolean"),
    ("claim-sets-without-claims", q(with_(SD, claim_sets=[["a"]])), "claim_sets must not be present without"),
    ("claim-sets-empty", q(with_(SD, claims=[{"id": "a", "path": ["a"]}], claim_sets=[])), "must not be empty"),
    ("claim-set-empty", q(with_(SD, claims=[{"id": "a", "path": ["a"]}], claim_sets=[[]])), "element 0 must not"),
    ("claim-sets-unknown-id", q(with_(SD, claims=[{"id": "a", "path": ["a"]}], claim_sets=[["b"]])), "unknown claim"),
    ("claim-sets-id-missing", q(with_(SD, claims=[{"path": ["a"]}], claim_sets=[["a"]])), "claims[0].id is required"),
    ("claim-sets-flat", q(with_(SD, claims=[{"id": "a", "path": ["a"]}], claim_sets=["a"])), "array of identifiers"),
    ("sets-empty", q(SD, credential_sets=[]), "credential_sets: must not be empty"),
    ("sets-null", q(SD, credential_sets=None), "credential_sets must not be null"),
    ("set-options-missing", q(SD, credential_sets=[{"required": True}]), "options: is required"),
    ("set-options-empty", q(SD, credential_sets=[{"options": []}]), "options: must not be empty"),
    ("set-option-empty", q(SD, credential_sets=[{"options": [[]]}]), "element 0 must not be empty"),
    ("set-option-unknown", q(SD, credential_sets=[{"options": [["pid", "mdl"]]}]), "unknown credential id 'mdl'"),
    ("set-required-string", q(SD, credential_sets=[{"options": [["pid"]], "required": "no"}]), "must be a boolean"),
    ("set-options-flat", q(SD, credential_sets=[{"options": ["pid"]}]), "array of identifiers"),
]


@pytest.mark.parametrize(("query", "fragment"), [(c[1], c[2]) for c in MALFORMED], ids=[c[0] for c in MALFORMED])
def test_malformed_query_is_invalid_request(query: Any, fragment: str) -> None:
    with pytest.raises(InvalidRequest) as exc:
        parse_dcql_query(query)
    assert fragment in exc.value.description
    assert exc.value.description.startswith("dcql_query")
    assert exc.value.to_oauth()["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "not valid JSON"),
        ("{", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ('"credentials"', "must be a JSON object"),
        ('{"credentials": [], "credentials": []}', "duplicate member 'credentials'"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_malformed_json_text_is_invalid_request(text: str | bytes, fragment: str) -> None:
    with pytest.raises(InvalidRequest) as exc:
        parse_dcql_query(text)
    assert fragment in exc.value.description


# ------------------------------------------------------------------------------------------------ responses

QUERY = parse_dcql_query(
    {
        "credentials": [
            {
                "id": "pid",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": ["urn:eudi:pid:1"]},
                "claims": [
                    {"id": "gn", "path": ["given_name"]},
                    {"id": "fn", "path": ["family_name"]},
                    {"id": "o18", "path": ["age_equal_or_over", "18"], "values": [True]},
                    {"id": "bd", "path": ["birthdate"]},
                ],
                "claim_sets": [["gn", "fn", "o18"], ["gn", "fn", "bd"]],
            },
            {
                "id": "mdl",
                "format": "mso_mdoc",
                "meta": {"doctype_value": "org.iso.18013.5.1.mDL"},
                "claims": [{"path": ["org.iso.18013.5.1", "age_over_18"], "values": [True]}],
            },
            {
                "id": "role",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": ["urn:lommebok:employee:1"]},
                "multiple": True,
                "require_cryptographic_holder_binding": False,
                "claims": [{"path": ["organisation_number"], "values": ["974760673"]}, {"path": ["roles", None]}],
            },
        ],
        "credential_sets": [{"options": [["pid"], ["mdl"]]}, {"options": [["role"]], "required": False}],
    }
)

PID_CLAIMS = {
    "vct": "urn:eudi:pid:1",
    "given_name": "Kari",
    "family_name": "Nordmann",
    "age_equal_or_over": {"18": True},
}
PID_DISCLOSED = [("given_name",), ("family_name",), ("age_equal_or_over", "18")]
ROLE_CLAIMS = {"vct": "urn:lommebok:employee:1", "organisation_number": "974760673", "roles": ["nurse", "admin"]}
ROLE_DISCLOSED = [("organisation_number",), ("roles", 0), ("roles", 1)]


def pid(claims: dict[str, Any] = PID_CLAIMS, disclosed: list[Any] = PID_DISCLOSED, **kw: Any) -> VerifiedPresentation:
    args: dict[str, Any] = {"holder_bound": True, **kw}
    return VerifiedPresentation.sd_jwt_vc(
        claims.get("vct", "urn:eudi:pid:1"), claims, disclosed_paths=disclosed, **args
    )


def mdl(items: dict[str, Any] | None = None, doctype: str = "org.iso.18013.5.1.mDL", bound: bool = True) -> Any:
    return VerifiedPresentation.mdoc(
        doctype, {"org.iso.18013.5.1": items if items is not None else {"age_over_18": True}}, holder_bound=bound
    )


def role(claims: dict[str, Any] = ROLE_CLAIMS, disclosed: list[Any] = ROLE_DISCLOSED) -> VerifiedPresentation:
    return VerifiedPresentation.sd_jwt_vc(claims["vct"], claims, disclosed_paths=disclosed, holder_bound=False)


def test_reference_responses_pass() -> None:
    for token in ({"pid": [pid()]}, {"mdl": [mdl()]}, {"pid": [pid()], "role": [role(), role()]}):
        result = check_vp_token(QUERY, token)
        assert result.ok, result.failure


# (case id, vp_token factory, expected check, expected query id, expected path)
MISMATCHED: list[tuple[str, Callable[[], dict[str, Any]], str, str | None, Any]] = [
    ("empty-token", lambda: {}, "required_credentials", "pid", None),
    ("only-optional", lambda: {"role": [role()]}, "required_credentials", "pid", None),
    ("unknown-key", lambda: {"pid": [pid()], "passport": [pid()]}, "vp_token_keys", None, None),
    ("empty-array", lambda: {"pid": []}, "presentation_count", "pid", None),
    ("two-without-multiple", lambda: {"pid": [pid(), pid()]}, "presentation_count", "pid", None),
    ("mdoc-under-sd-jwt-id", lambda: {"pid": [mdl()]}, "format", "pid", None),
    ("sd-jwt-under-mdoc-id", lambda: {"mdl": [pid()]}, "format", "mdl", None),
    ("wrong-vct", lambda: {"pid": [pid({**PID_CLAIMS, "vct": "urn:other"})]}, "meta", "pid", None),
    ("wrong-doctype", lambda: {"mdl": [mdl(doctype="org.iso.23220.photoid.1")]}, "meta", "mdl", None),
    ("pid-not-holder-bound", lambda: {"pid": [pid(holder_bound=False)]}, "holder_binding", "pid", None),
    ("mdl-not-holder-bound", lambda: {"mdl": [mdl(bound=False)]}, "holder_binding", "mdl", None),
    (
        "missing-given-name",
        lambda: {"pid": [pid({k: v for k, v in PID_CLAIMS.items() if k != "given_name"}, PID_DISCLOSED[1:])]},
        "claims",
        "pid",
        ("given_name",),
    ),
    (
        "age-false-no-birthdate",
        lambda: {"pid": [pid({**PID_CLAIMS, "age_equal_or_over": {"18": False}})]},
        "values",
        "pid",
        ("age_equal_or_over", "18"),
    ),
    (
        "age-as-string",
        lambda: {"pid": [pid({**PID_CLAIMS, "age_equal_or_over": {"18": "true"}})]},
        "values",
        "pid",
        ("age_equal_or_over", "18"),
    ),
    (
        "age-under-wrong-structure",
        lambda: {"pid": [pid({**PID_CLAIMS, "age_equal_or_over": [True]})]},
        "claims",
        "pid",
        ("age_equal_or_over", "18"),
    ),
    ("mdl-age-false", lambda: {"mdl": [mdl({"age_over_18": False})]}, "values", "mdl", None),
    ("mdl-age-int", lambda: {"mdl": [mdl({"age_over_18": 1})]}, "values", "mdl", None),
    ("mdl-age-missing", lambda: {"mdl": [mdl({})]}, "claims", "mdl", ("org.iso.18013.5.1", "age_over_18")),
    (
        "pid-extra-birthdate",
        lambda: {"pid": [pid({**PID_CLAIMS, "birthdate": "1990-01-01"}, [*PID_DISCLOSED, ("birthdate",)])]},
        "no_extra_disclosure",
        "pid",
        ("birthdate",),
    ),
    (
        "pid-extra-nested",
        lambda: {
            "pid": [
                pid(
                    {**PID_CLAIMS, "age_equal_or_over": {"18": True, "65": False}},
                    [*PID_DISCLOSED, ("age_equal_or_over", "65")],
                )
            ]
        },
        "no_extra_disclosure",
        "pid",
        ("age_equal_or_over", "65"),
    ),
    (
        "mdl-extra-element",
        lambda: {"mdl": [mdl({"age_over_18": True, "family_name": "N"})]},
        "no_extra_disclosure",
        "mdl",
        ("org.iso.18013.5.1", "family_name"),
    ),
    (
        "mdl-extra-namespace",
        lambda: {
            "mdl": [
                VerifiedPresentation.mdoc(
                    "org.iso.18013.5.1.mDL",
                    {"org.iso.18013.5.1": {"age_over_18": True}, "org.iso.18013.5.1.aamva": {"dhs_compliance": "F"}},
                    holder_bound=True,
                )
            ]
        },
        "no_extra_disclosure",
        "mdl",
        ("org.iso.18013.5.1.aamva", "dhs_compliance"),
    ),
    (
        "role-wrong-org-breaks-nothing-required",
        lambda: {"role": [role({**ROLE_CLAIMS, "organisation_number": "123456785"})]},
        "required_credentials",
        "pid",
        None,
    ),
]


@pytest.mark.parametrize(
    ("token", "check", "query_id", "path"),
    [(c[1], c[2], c[3], c[4]) for c in MISMATCHED],
    ids=[c[0] for c in MISMATCHED],
)
def test_mismatched_response_names_the_check(
    token: Callable[[], dict[str, Any]], check: str, query_id: str | None, path: Any
) -> None:
    result = check_vp_token(QUERY, token())
    assert not result.ok
    with pytest.raises(DcqlMismatch) as exc:
        result.raise_for_failure()
    assert exc.value.check == check
    assert exc.value.query_id == query_id
    if path is not None:
        assert exc.value.path == path
    if query_id is not None:
        assert repr(query_id) in exc.value.description


@pytest.mark.parametrize(
    ("token", "check"),
    [
        ({"pid": [pid()], "role": [role({**ROLE_CLAIMS, "organisation_number": "123456785"})]}, "values"),
        ({"pid": [pid()], "role": [role(disclosed=[*ROLE_DISCLOSED, ("vct",)])]}, "no_extra_disclosure"),
        ({"pid": [pid()], "role": [role({**ROLE_CLAIMS, "x": 1}, [*ROLE_DISCLOSED, ("x",)])]}, "no_extra_disclosure"),
    ],
)
def test_optional_presentation_failures_discard_only_that_presentation(token: Any, check: str) -> None:
    result = check_vp_token(QUERY, token)
    assert result.ok
    assert "pid" in result.accepted
    assert "role" not in result.accepted
    assert [f.name for f in result.failures] == [check]


def test_corpus_is_at_least_forty_cases() -> None:
    assert len(MALFORMED) + len(MISMATCHED) >= 40
