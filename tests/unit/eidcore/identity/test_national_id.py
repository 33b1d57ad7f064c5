"""National identity numbers: Skatteetaten's 2032 examples, ID-porten test pids, variants and every error rule."""

from __future__ import annotations

from datetime import date

import pytest

from eidcore.errors import IdentityNumberError
from eidcore.identity import (
    BirthDateBasis,
    CheckRule,
    IdentityKind,
    LegacySex,
    SyntheticSource,
    check_digits,
    is_valid_national_id,
    parse_national_id,
)
from eidcore.identity.national_id import century_from_individnummer

TODAY = date(2026, 11, 28)


# --- Skatteetaten "Nytt fødselsnummer fra 2032" examples -----------------------------------------------------


def test_30108299939_is_valid_only_under_the_2032_rule() -> None:
    p = parse_national_id("30108299939", today=TODAY)
    assert p.check_rule is CheckRule.RULE_2032
    assert p.k1_remainder == 1
    # the classic K1 for the same nine digits is 2 (30108299920), so a classic-only validator rejects ...939
    assert check_digits("301082999") == "20"
    assert check_digits("301082999", k1_remainder=1) == "39"


def test_30108299939_never_yields_sex() -> None:
    assert parse_national_id("30108299939", today=TODAY).legacy_sex is None


def test_2032_rule_number_birth_date_is_ambiguous_without_today() -> None:
    p = parse_national_id("30108299939")
    assert p.birth_date is None
    assert p.birth_date_basis is BirthDateBasis.AMBIGUOUS
    assert p.birth_date_candidates == (date(1982, 10, 30), date(2082, 10, 30))


def test_2032_rule_number_birth_date_when_only_one_century_is_in_the_past() -> None:
    p = parse_national_id("30108299939", today=TODAY)
    assert p.birth_date == date(1982, 10, 30)
    assert p.birth_date_basis is BirthDateBasis.SINGLE_CANDIDATE


def test_30108299920_is_classic_with_century_from_individnummer() -> None:
    p = parse_national_id("30108299920")
    assert p.check_rule is CheckRule.CLASSIC
    assert p.kind is IdentityKind.FNR
    assert p.birth_date == date(1982, 10, 30)
    assert p.birth_date_basis is BirthDateBasis.INDIVIDNUMMER
    assert p.legacy_sex is LegacySex.MALE  # digit 9 = 9, odd; legacy information only


def test_02013299997_born_2032_has_date_but_no_sex() -> None:
    p = parse_national_id("02013299997")
    assert p.check_rule is CheckRule.CLASSIC
    assert p.birth_date == date(2032, 1, 2)
    # born after 1 Jan 2032, so assigned under the 2032 regime: digit 9 says nothing about sex
    assert p.legacy_sex is None


# --- ID-porten / Ansattporten / Skatteetaten test persons (synthetic) ----------------------------------------


def test_idporten_test_pid_is_d_number_and_tenor_synthetic() -> None:
    p = parse_national_id("47906701517")
    assert p.kind is IdentityKind.DNR
    assert p.kinds == frozenset({IdentityKind.DNR})
    assert p.synthetic is SyntheticSource.TENOR
    assert p.is_synthetic and p.is_d_number and not p.is_h_number
    assert p.birth_date == date(1967, 10, 7)
    assert p.folkeregister_identifier_type == "dNummer"
    assert p.fhir_system == "urn:oid:2.16.578.1.12.4.1.4.2"


def test_ansattporten_test_pid_is_d_number_and_tenor_synthetic() -> None:
    p = parse_national_id("45840375084")
    assert (p.kind, p.synthetic) == (IdentityKind.DNR, SyntheticSource.TENOR)
    assert p.birth_date == date(2003, 4, 5)  # individnummer 750 with YY 03 -> 2000s


def test_skatteetaten_vergemaal_test_person_is_tenor_fnr() -> None:
    p = parse_national_id("06916396390")
    assert (p.kind, p.synthetic) == (IdentityKind.FNR, SyntheticSource.TENOR)
    assert p.birth_date == date(1963, 11, 6)
    assert p.folkeregister_identifier_type == "foedselsnummer"


# --- classic numbers and centuries ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "born", "sex"),
    [
        ("01019012480", date(1990, 1, 1), LegacySex.FEMALE),
        ("15057541277", date(1975, 5, 15), LegacySex.FEMALE),
        ("31129956715", date(1899, 12, 31), LegacySex.MALE),  # fnrinfo.no worked example: 567 with YY 99 -> 1800s
    ],
)
def test_known_good_classic_numbers(number: str, born: date, sex: LegacySex) -> None:
    p = parse_national_id(number)
    assert (p.kind, p.synthetic, p.check_rule) == (IdentityKind.FNR, None, CheckRule.CLASSIC)
    assert p.birth_date == born
    assert p.legacy_sex is sex
    assert not p.is_synthetic


@pytest.mark.parametrize(
    ("individnummer", "yy", "century"),
    [
        (0, 99, 1900),
        (499, 0, 1900),
        (500, 54, 1800),
        (749, 99, 1800),
        (500, 0, 2000),
        (999, 39, 2000),
        (900, 40, 1900),
        (999, 99, 1900),
        (750, 54, None),
        (899, 40, None),
        (500, 40, None),
    ],
)
def test_century_from_individnummer_ranges(individnummer: int, yy: int, century: int | None) -> None:
    assert century_from_individnummer(individnummer, yy) == century


def test_classic_number_outside_individnummer_ranges_has_no_century_and_no_sex() -> None:
    p = parse_national_id("01014580049")  # YY 45, individnummer 800: never assignable before 2032
    assert p.check_rule is CheckRule.CLASSIC
    assert p.birth_date is None
    assert p.birth_date_basis is BirthDateBasis.AMBIGUOUS
    assert p.legacy_sex is None
    assert parse_national_id("01014580049", today=TODAY).birth_date == date(1945, 1, 1)


def test_2032_rule_makes_a_classically_unassignable_individnummer_usable() -> None:
    assert check_digits("010190123") is None  # classic K1 would be 10
    p = parse_national_id("01019012308")
    assert (p.check_rule, p.k1_remainder) == (CheckRule.RULE_2032, 1)
    assert p.legacy_sex is None


def test_2032_rule_leap_day_of_year_00_fixes_the_century() -> None:
    p = parse_national_id("29020051203")  # 29.02.00 is a date in 2000 only
    assert p.birth_date == date(2000, 2, 29)
    assert p.birth_date_basis is BirthDateBasis.SINGLE_CANDIDATE


# --- H-numbers, Dolly, FH-numbers ----------------------------------------------------------------------------


def test_month_plus_40_is_an_h_number_by_default() -> None:
    p = parse_national_id("30458299915")
    assert p.kind is IdentityKind.HNR
    assert p.synthetic is None
    assert p.ambiguous_month_offset
    assert p.birth_date == date(1982, 5, 30)
    assert p.folkeregister_identifier_type is None


def test_month_plus_40_reads_as_dolly_when_asked() -> None:
    p = parse_national_id("30458299915", month_plus_40="dolly")
    assert p.kind is IdentityKind.FNR
    assert p.synthetic is SyntheticSource.DOLLY
    assert p.ambiguous_month_offset
    assert p.birth_date == date(1982, 5, 30)


def test_d_number_with_month_plus_40_is_d_and_h() -> None:
    p = parse_national_id("70458299909")
    assert p.kinds == frozenset({IdentityKind.DNR, IdentityKind.HNR})
    assert p.kind is IdentityKind.HNR
    assert p.birth_date == date(1982, 5, 30)
    dolly = parse_national_id("70458299909", month_plus_40="dolly")
    assert (dolly.kind, dolly.synthetic) == (IdentityKind.DNR, SyntheticSource.DOLLY)


def test_fh_number_has_no_date_and_no_sex() -> None:
    p = parse_national_id("81234567802")
    assert p.kind is IdentityKind.FHN
    assert p.birth_date is None
    assert p.birth_date_basis is BirthDateBasis.NOT_ENCODED
    assert p.legacy_sex is None
    assert p.fhir_system == "urn:oid:2.16.578.1.12.4.1.4.3"


def test_fh_number_accepts_only_the_classic_rule() -> None:
    with pytest.raises(IdentityNumberError) as exc:
        parse_national_id("81234567810")  # K1 remainder 1
    assert exc.value.rule == "check_digit_1"


# --- errors ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("", "length"),
        ("3010829993", "length"),
        ("301082999390", "length"),
        ("3010829993a", "digits"),
        ("30108299٣39", "digits"),  # non-ASCII digit
        ("00019012480", "date_digits"),  # day 00
        ("32019012480", "date_digits"),  # day 32
        ("72019012480", "date_digits"),  # D-number day 32
        ("01139012480", "date_digits"),  # month 13
        ("01219012480", "date_digits"),  # third digit 2: no series
        ("01739012480", "date_digits"),  # third digit 7: no series
        ("01939012480", "date_digits"),  # Tenor month 13
        ("01019012410", "check_digit_1"),  # K1 remainder outside 0-3
        ("01019012481", "check_digit_2"),
        ("31029012302", "date"),  # 31 February 1990
        ("29020001281", "date"),  # 29 February 1900 (individnummer 012 -> 1900s)
        ("29020199995", "date"),  # 2032 rule, 29.02.01 is no date in any century
    ],
)
def test_invalid_numbers_name_the_rule(value: str, rule: str) -> None:
    with pytest.raises(IdentityNumberError) as exc:
        parse_national_id(value)
    assert exc.value.rule == rule
    assert exc.value.details["rule"] == rule
    assert not is_valid_national_id(value)


def test_non_string_is_rejected_as_digits() -> None:
    with pytest.raises(IdentityNumberError) as exc:
        parse_national_id(30108299920)  # type: ignore[arg-type]
    assert exc.value.rule == "digits"


def test_error_description_carries_no_number() -> None:
    with pytest.raises(IdentityNumberError) as exc:
        parse_national_id("01019012481")
    assert "0101901248" not in str(exc.value)
    assert "0101901248" not in exc.value.to_oauth()["error_description"]


def test_surrounding_whitespace_is_ignored() -> None:
    assert parse_national_id(" 30108299920\n").digits == "30108299920"


def test_repr_leaves_out_personal_data() -> None:
    p = parse_national_id("30108299920")
    assert "30108299920" not in repr(p)
    assert "1982" not in repr(p)
    assert str(p) == "30108299920"
    assert (p.individnummer, p.personnummer) == ("999", "99920")


def test_check_digits_rejects_bad_input() -> None:
    with pytest.raises(IdentityNumberError) as exc:
        check_digits("12345678")
    assert exc.value.rule == "length"
    with pytest.raises(IdentityNumberError) as exc:
        check_digits("123456789", k1_remainder=4)
    assert exc.value.rule == "check_digit_1"
