"""eidcore.jsonutil: the one JSON (RFC 8259) with the strictness JOSE (RFC 7515 §4, §5.2), JWT (RFC 7519 §4) and
SD-JWT disclosures (RFC 9901 §4.2.1) need."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eidcore import jose, jsonutil
from eidcore.errors import ParsingError

SAMPLES: list[Any] = [
    {"alg": "ES256", "typ": "dc+sd-jwt", "kid": "k-1"},
    {"iss": "https://issuer.example.no", "iat": 1_800_000_000, "exp": 1_800_003_600, "nbf": 1.5,
     "cnf": {"jwk": {"kty": "EC", "crv": "P-256", "x": "abc", "y": "def"}}, "given_name": "Åse Ødegård",
     "nested": [1, -2, 3.25, True, False, None, "tab\tquote\"back\\slash", "\u2028\x00\x7f"],
     "big": 2**63 - 1, "neg": -(2**63), "float": 1e16, "tiny": 5e-324},
    [],
    {},
    "text",
    0,
]


def _stdlib_compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


@pytest.mark.parametrize("value", SAMPLES)
def test_dumps_is_the_compact_form(value: Any) -> None:
    assert jsonutil.dumps(value) == _stdlib_compact(value)
    assert jose.json_dumps(value) == _stdlib_compact(value)


@pytest.mark.parametrize("value", SAMPLES)
def test_dumps_spaced_is_json_dumps_defaults_byte_for_byte(value: Any) -> None:
    assert jsonutil.dumps_spaced(value) == json.dumps(value, ensure_ascii=False).encode("utf-8")


def test_dumps_sorted_orders_members() -> None:
    assert jsonutil.dumps_sorted({"y": "2", "crv": "P-256", "x": "1", "kty": "EC"}) == \
        b'{"crv":"P-256","kty":"EC","x":"1","y":"2"}'


@pytest.mark.parametrize("value", [
    float("nan"), float("inf"), {"a": [1, {"b": float("-inf")}]}, [None, float("nan")],
    datetime(2026, 1, 1, tzinfo=UTC), {"x": object()}, {1.5, 2.5}, dataclasses.make_dataclass("D", [])(),
])
def test_dumps_refuses_what_is_not_json(value: Any) -> None:
    with pytest.raises(ParsingError):
        jsonutil.dumps(value)
    with pytest.raises(ParsingError):
        jsonutil.dumps_sorted(value)
    with pytest.raises(ParsingError):
        jsonutil.dumps_spaced(value)


def test_dumps_refuses_a_cycle() -> None:
    a: list[Any] = []
    a.append(a)
    with pytest.raises(ParsingError):
        jsonutil.dumps(a)


def test_dumps_keeps_what_the_stdlib_wrote_beyond_orjson() -> None:
    # integers beyond 64 bits and non-string keys: the earlier encoder wrote them, so the output stays
    assert jsonutil.dumps({"n": 2**80, 1: True}) == b'{"n":1208925819614629174706176,"1":true}'
    assert jsonutil.dumps([None, 1.0]) == b"[null,1.0]"  # a null next to finite floats is fine


def test_loads_any_value_and_last_duplicate_wins() -> None:
    assert jsonutil.loads(b' {"a": 1, "a": 2} ') == {"a": 2}
    assert jsonutil.loads("[1,\"x\"]") == [1, "x"]
    assert jsonutil.loads_object(b'{"a":1,"a":2}', what="payload", reject_duplicates=False) == {"a": 2}


@pytest.mark.parametrize("text", [
    b"NaN", b"[Infinity]", b"[-Infinity]", b'{"a":NaN}', b"[1e400]", b"\xff", b'"\xed\xa0\x80"', b"", b"{",
    b"[1,]", b"'a'", b"[" * (jsonutil.MAX_DEPTH + 1) + b"]" * (jsonutil.MAX_DEPTH + 1),
])
def test_loads_refuses(text: bytes) -> None:
    with pytest.raises(ParsingError, match="thing is not valid JSON"):
        jsonutil.loads(text, what="thing")


def test_loads_object_refuses_duplicate_names_by_default() -> None:
    with pytest.raises(ParsingError, match="JOSE header has a duplicate member name"):
        jsonutil.loads_object(b'{"alg":"ES256","alg":"none"}', what="JOSE header")
    with pytest.raises(ParsingError, match="duplicate"):  # at any depth
        jsonutil.loads_object(b'{"cnf":{"jwk":{"x":"1","x":"2"}}}', what="JWT claims set")


@pytest.mark.parametrize("reject", [True, False])
@pytest.mark.parametrize("text", [
    b"NaN", b'{"a":NaN}', b'{"a":Infinity}', b'{"a":-Infinity}', b"[]", b'"s"', b"1", b"\xff{}", b"{",
    b'{"a":' * 5000 + b"1" + b"}" * 5000,
])
def test_loads_object_refuses_non_objects_nan_and_deep_nesting(text: bytes, reject: bool) -> None:
    with pytest.raises(ParsingError):
        jsonutil.loads_object(text, what="x", reject_duplicates=reject)


def test_loads_object_accepts_the_depth_limit() -> None:
    depth = 500
    text = b'{"a":' * depth + b"1" + b"}" * depth
    for reject in (True, False):
        assert isinstance(jsonutil.loads_object(text, what="x", reject_duplicates=reject), dict)


def test_jws_with_duplicate_header_names_is_refused() -> None:
    key = jose.generate_signing_key()
    token = jose.sign_jws(b"{}", key)
    h = jose.b64url_encode(b'{"alg":"ES256","alg":"ES256"}')
    with pytest.raises(ParsingError, match="duplicate"):
        jose.parse_jws(h + token[token.index("."):])


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_every_json_value_is_written_as_the_stdlib_writes_it(value: Any) -> None:
    try:
        expected_spaced = json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: not JSON text
        with pytest.raises(ParsingError):
            jsonutil.dumps_spaced(value)
        return
    assert jsonutil.dumps_spaced(value) == expected_spaced
    assert jsonutil.loads(jsonutil.dumps(value)) == jsonutil.loads(_stdlib_compact(value))


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_dumps_string_is_the_stdlib_string(text: str) -> None:
    try:
        expected = json.dumps(text, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        with pytest.raises(TypeError):
            jsonutil.dumps_string(text)
        return
    assert jsonutil.dumps_string(text) == expected
