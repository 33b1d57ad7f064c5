"""eidcore.claims.validate_times: exp, nbf, iat (RFC 7519 §4.1.4-§4.1.6; CWT keys RFC 8392 §3.1.4-§3.1.6) with one
leeway, at its edges."""

from __future__ import annotations

from typing import Any

import pytest

from eidcore.claims import CWT_KEYS, DEFAULT_LEEWAY, TimeClaims, validate_times
from eidcore.errors import Expired, FormatError, InvalidClaim, MissingClaim, NotYetValid

NOW = 1_800_000_000
L = DEFAULT_LEEWAY


def test_the_leeway_is_the_one_the_code_used() -> None:
    assert DEFAULT_LEEWAY == 60


def test_valid_claims_come_back() -> None:
    assert validate_times({"iat": NOW, "nbf": NOW, "exp": NOW + 1}, now=NOW) == TimeClaims(NOW + 1, NOW, NOW)
    assert validate_times({"iat": NOW - 0.5}, now=NOW) == TimeClaims(None, None, NOW - 0.5)


# exp: refused on or after exp + leeway (RFC 7519 §4.1.4 "on or after")
@pytest.mark.parametrize(("exp", "ok"), [
    (NOW + 1, True), (NOW, True), (NOW - L + 1, True), (NOW - L + 0.001, True), (NOW - L, False), (NOW - L - 1, False),
])
def test_exp_edges(exp: float, ok: bool) -> None:
    claims = {"iat": NOW - 3600, "exp": exp}
    if ok:
        validate_times(claims, now=NOW)
    else:
        with pytest.raises(Expired, match=r"\(exp\)") as e:
            validate_times(claims, now=NOW)
        assert e.value.details == {"claim": "exp", "reason": "exp"}


def test_exactly_at_exp_without_leeway_is_expired() -> None:
    with pytest.raises(Expired):
        validate_times({"iat": NOW - 10, "exp": NOW}, now=NOW, leeway=0)
    validate_times({"iat": NOW - 10, "exp": NOW + 1}, now=NOW, leeway=0)


@pytest.mark.parametrize(("nbf", "ok"), [(NOW, True), (NOW + L, True), (NOW + L + 0.5, False), (NOW + 3600, False)])
def test_nbf_in_the_future(nbf: float, ok: bool) -> None:
    if ok:
        validate_times({"iat": NOW, "nbf": nbf}, now=NOW)
    else:
        with pytest.raises(NotYetValid, match="nbf"):
            validate_times({"iat": NOW, "nbf": nbf}, now=NOW)


@pytest.mark.parametrize(("iat", "ok"), [(NOW, True), (NOW + L, True), (NOW + L + 1, False)])
def test_iat_in_the_future(iat: float, ok: bool) -> None:
    if ok:
        validate_times({"iat": iat}, now=NOW)
    else:
        with pytest.raises(NotYetValid, match="iat") as e:
            validate_times({"iat": iat}, now=NOW)
        assert e.value.details["reason"] == "iat"


@pytest.mark.parametrize(("age", "max_age_leeway", "ok"), [
    (300, True, True), (300 + L, True, True), (300 + L + 1, True, False),
    (300, False, True), (301, False, False),
])
def test_max_age(age: int, max_age_leeway: bool, ok: bool) -> None:
    claims = {"iat": NOW - age}
    if ok:
        validate_times(claims, now=NOW, max_age=300, max_age_leeway=max_age_leeway)
    else:
        with pytest.raises(Expired, match="maximum age") as e:
            validate_times(claims, now=NOW, max_age=300, max_age_leeway=max_age_leeway)
        assert e.value.details == {"claim": "iat", "reason": "max_age"}


@pytest.mark.parametrize(("claims", "require", "missing"), [
    ({}, ("iat",), "iat"),
    ({"iat": NOW}, ("iat", "exp"), "exp"),
    ({"exp": NOW + 10}, ("exp", "nbf"), "nbf"),
])
def test_missing_required(claims: dict[str, Any], require: tuple[str, ...], missing: str) -> None:
    with pytest.raises(MissingClaim, match=f"has no {missing}") as e:
        validate_times(claims, now=NOW, require=require)
    assert e.value.details == {"claim": missing, "reason": "missing"}


def test_nothing_required() -> None:
    assert validate_times({}, now=NOW, require=()) == TimeClaims(None, None, None)


@pytest.mark.parametrize("value", ["1800000000", None, True, False, [NOW], {"t": NOW}, float("nan"), float("inf")])
@pytest.mark.parametrize("name", ["exp", "nbf", "iat"])
def test_not_a_numeric_date(name: str, value: Any) -> None:
    with pytest.raises(InvalidClaim, match=f"{name} must be a NumericDate"):
        validate_times({"iat": NOW, name: value}, now=NOW, require=())


def test_integers_only_when_asked() -> None:
    validate_times({"iat": NOW + 0.5}, now=NOW)
    with pytest.raises(InvalidClaim, match="integer"):
        validate_times({"iat": NOW + 0.5}, now=NOW, integers=True)


def test_cwt_keys() -> None:
    claims = {6: NOW, 4: NOW + 100, 5: NOW}
    assert validate_times(claims, now=NOW, keys=CWT_KEYS) == TimeClaims(NOW + 100, NOW, NOW)
    with pytest.raises(Expired):
        validate_times({6: NOW - 1000, 4: NOW - L}, now=NOW, keys=CWT_KEYS)
    with pytest.raises(NotYetValid):
        validate_times({6: NOW, 5: NOW + L + 1}, now=NOW, keys=CWT_KEYS)
    with pytest.raises(MissingClaim):
        validate_times({"iat": NOW}, now=NOW, keys=CWT_KEYS)  # a JWT name is not the CWT key


def test_order_exp_before_nbf_before_iat_and_typed_errors_only() -> None:
    with pytest.raises(Expired):
        validate_times({"iat": NOW + 999, "nbf": NOW + 999, "exp": NOW - 999}, now=NOW)
    with pytest.raises(NotYetValid, match="nbf"):
        validate_times({"iat": NOW + 999, "nbf": NOW + 999}, now=NOW)
    with pytest.raises(FormatError):
        validate_times({"iat": "x"}, now=NOW)


def test_what_names_the_token_and_no_value_leaks() -> None:
    with pytest.raises(Expired) as e:
        validate_times({"iat": NOW - 999, "exp": NOW - 999}, now=NOW, what="the DPoP proof")
    assert e.value.description == "the DPoP proof has expired (exp)"
    assert str(NOW - 999) not in e.value.description
