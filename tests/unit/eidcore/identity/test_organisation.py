"""Organisation numbers: Brønnøysundregistrene mod 11, ISO 6523 form, and each error rule."""

from __future__ import annotations

import pytest

from eidcore.errors import IdentityNumberError
from eidcore.identity import is_valid_orgnr, orgnr_check_digit, parse_iso6523_orgnr, parse_orgnr


@pytest.mark.parametrize("number", ["974760673", "991825827"])  # Brønnøysundregistrene, Digdir
def test_real_organisation_numbers_validate(number: str) -> None:
    org = parse_orgnr(number)
    assert org.digits == number
    assert str(org) == number
    assert is_valid_orgnr(number)


def test_iso6523_form() -> None:
    assert parse_orgnr("991825827").iso6523 == "0192:991825827"
    assert parse_iso6523_orgnr("0192:991825827").digits == "991825827"


@pytest.mark.parametrize("value", ["9908:991825827", "991825827", "0192991825827"])
def test_iso6523_needs_the_0192_prefix(value: str) -> None:
    with pytest.raises(IdentityNumberError) as exc:
        parse_iso6523_orgnr(value)
    assert exc.value.rule == "iso6523_prefix"


def test_check_digit_computation() -> None:
    assert orgnr_check_digit("97476067") == 3
    assert orgnr_check_digit("10000013") is None  # 11 - remainder would be 10


@pytest.mark.parametrize(
    ("value", "rule", "reason"),
    [
        ("97476067", "length", None),
        ("9747606730", "length", None),
        ("97476067a", "digits", None),
        ("974760674", "check_digit", "mismatch"),
        ("100000130", "check_digit", "unassignable"),
    ],
)
def test_invalid_organisation_numbers_name_the_rule(value: str, rule: str, reason: str | None) -> None:
    with pytest.raises(IdentityNumberError) as exc:
        parse_orgnr(value)
    assert exc.value.rule == rule
    assert exc.value.details.get("reason") == reason
    assert not is_valid_orgnr(value)
