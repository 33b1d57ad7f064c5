"""Generators and property tests: generated numbers validate and classify as generated; single-digit changes
are caught; numbers that differ only in the 2032 rule's K1 choice classify consistently."""

from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eidcore.errors import IdentityNumberError
from eidcore.identity import (
    BirthDateBasis,
    CheckRule,
    IdentityKind,
    LegacySex,
    NationalIdentityNumber,
    SyntheticSource,
    check_digits,
    generate_orgnr,
    generate_synthetic,
    parse_national_id,
    parse_orgnr,
)

PROPS = settings(max_examples=150, deadline=None)

classic_dates = st.dates(min_value=date(1854, 1, 1), max_value=date(2039, 12, 31))
new_rule_dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))
kinds = st.sampled_from(["F", "D"])
seeds = st.integers(min_value=0, max_value=2**32)


def assert_consistent(p: NationalIdentityNumber) -> None:
    """The classification agrees with what the digits say."""
    d = p.digits
    d1, d3 = int(d[0]), int(d[2])
    assert (p.kind is IdentityKind.FHN) == (d1 >= 8)
    if p.kind is IdentityKind.FHN:
        assert p.birth_date is None and p.legacy_sex is None and p.synthetic is None
        return
    assert (IdentityKind.DNR in p.kinds) == (d1 >= 4)
    assert (p.synthetic is SyntheticSource.TENOR) == (d3 >= 8)
    assert p.ambiguous_month_offset == (4 <= d3 <= 5)
    assert (p.check_rule is CheckRule.CLASSIC) == (p.k1_remainder == 0)
    if p.legacy_sex is not None:
        assert p.check_rule is CheckRule.CLASSIC
        assert (p.legacy_sex is LegacySex.MALE) == (int(d[8]) % 2 == 1)
    if p.birth_date is not None:
        assert p.birth_date in p.birth_date_candidates
        assert p.birth_date.day == int(d[0:2]) - (40 if d1 >= 4 else 0)
        assert p.birth_date.month == int(d[2:4]) % 40
        assert p.birth_date.year % 100 == int(d[4:6])
    if p.check_rule is CheckRule.RULE_2032:
        assert p.legacy_sex is None
        assert p.birth_date_basis is not BirthDateBasis.INDIVIDNUMMER


@PROPS
@given(born=classic_dates, kind=kinds, seed=seeds, sex=st.sampled_from([None, LegacySex.FEMALE, LegacySex.MALE]))
def test_classic_generated_numbers_validate_and_classify_as_generated(
    born: date, kind: str, seed: int, sex: LegacySex | None
) -> None:
    if born >= date(2032, 1, 1):
        sex = None
    number = generate_synthetic(born, kind=kind, rng=random.Random(seed), sex=sex)  # type: ignore[arg-type]
    p = parse_national_id(number)
    assert p.synthetic is SyntheticSource.TENOR
    assert p.kind is (IdentityKind.DNR if kind == "D" else IdentityKind.FNR)
    assert p.check_rule is CheckRule.CLASSIC
    assert p.birth_date == born
    assert p.birth_date_basis is BirthDateBasis.INDIVIDNUMMER
    if sex is not None:
        assert p.legacy_sex is sex
    assert_consistent(p)


@PROPS
@given(born=new_rule_dates, kind=kinds, seed=seeds)
def test_2032_rule_generated_numbers_validate_only_under_the_new_rule(born: date, kind: str, seed: int) -> None:
    number = generate_synthetic(born, kind=kind, rng=random.Random(seed), rule="2032")  # type: ignore[arg-type]
    p = parse_national_id(number)
    assert p.synthetic is SyntheticSource.TENOR
    assert p.kind is (IdentityKind.DNR if kind == "D" else IdentityKind.FNR)
    assert p.check_rule is CheckRule.RULE_2032
    assert p.k1_remainder in (1, 2, 3)
    assert p.legacy_sex is None
    assert born in p.birth_date_candidates
    assert p.birth_date in (None, born)
    assert_consistent(p)


def _valid_numbers() -> st.SearchStrategy[str]:
    classic = st.builds(
        lambda b, k, s: generate_synthetic(b, kind=k, rng=random.Random(s)), classic_dates, kinds, seeds
    )
    new = st.builds(
        lambda b, k, s: generate_synthetic(b, kind=k, rng=random.Random(s), rule="2032"),
        new_rule_dates,
        kinds,
        seeds,
    )
    fixed = st.sampled_from(
        ["30108299939", "30108299920", "02013299997", "47906701517", "45840375084", "30458299915", "81234567802"]
    )
    return st.one_of(classic, new, fixed)


@PROPS
@given(number=_valid_numbers(), position=st.integers(min_value=0, max_value=10), delta=st.integers(1, 9))
def test_every_single_digit_change_is_caught(number: str, position: int, delta: int) -> None:
    # K2 weighs all eleven digits (5,4,3,2,7,6,5,4,3,2 and 1 for K2 itself), each weight non-zero mod 11, so a
    # single substitution always changes the K2 sum by a non-multiple of 11: it can never become another
    # valid number, under either rule. The error names a rule from the parse order.
    changed = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    with pytest.raises(IdentityNumberError) as exc:
        parse_national_id(changed)
    assert exc.value.rule in {"date_digits", "check_digit_1", "check_digit_2", "date"}


@PROPS
@given(number=_valid_numbers(), remainder=st.integers(min_value=0, max_value=3))
def test_k1_variants_of_a_valid_number_classify_consistently(number: str, remainder: int) -> None:
    # The 2032 rule allows up to four K1 values per date and individnummer: changing K1 (and recomputing K2)
    # gives another valid number, which must classify like the original except for the check rule.
    original = parse_national_id(number)
    checks = check_digits(number[:9], k1_remainder=remainder)
    if checks is None or (original.kind is IdentityKind.FHN and remainder != 0):
        return
    variant = parse_national_id(number[:9] + checks)
    assert_consistent(variant)
    assert variant.k1_remainder == remainder
    assert (variant.kind, variant.kinds, variant.synthetic) == (original.kind, original.kinds, original.synthetic)
    assert variant.check_rule is (CheckRule.CLASSIC if remainder == 0 else CheckRule.RULE_2032)

    # same DDMMYY; the century may differ (the 2032 rule does not encode it)
    def ddmmyy(q: NationalIdentityNumber) -> set[tuple[int, int, int]]:
        return {(d.day, d.month, d.year % 100) for d in q.birth_date_candidates}

    assert ddmmyy(variant) == ddmmyy(original)
    assert (variant.kind is IdentityKind.FHN) or len(ddmmyy(variant)) == 1


@PROPS
@given(first_nine=st.text(alphabet="0123456789", min_size=9, max_size=9), remainder=st.integers(0, 3))
def test_any_number_with_valid_check_digits_is_rejected_on_its_date_or_classified(
    first_nine: str, remainder: int
) -> None:
    checks = check_digits(first_nine, k1_remainder=remainder)
    if checks is None:
        return
    try:
        p = parse_national_id(first_nine + checks)
    except IdentityNumberError as exc:
        assert exc.rule in {"date_digits", "date", "check_digit_1"}
        if exc.rule == "check_digit_1":
            assert int(first_nine[0]) >= 8 and remainder != 0  # FH-numbers take only the classic rule
        return
    assert_consistent(p)


@PROPS
@given(seed=seeds)
def test_generated_orgnr_validates(seed: int) -> None:
    number = generate_orgnr(random.Random(seed))
    assert parse_orgnr(number).digits == number
    assert number[0] in "23"


@PROPS
@given(seed=seeds, position=st.integers(min_value=0, max_value=8), delta=st.integers(1, 9))
def test_every_single_digit_change_of_an_orgnr_is_caught(seed: int, position: int, delta: int) -> None:
    number = generate_orgnr(random.Random(seed))
    changed = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    with pytest.raises(IdentityNumberError) as exc:
        parse_orgnr(changed)
    assert exc.value.rule == "check_digit"


def test_generator_is_reproducible_with_a_seed() -> None:
    a = [generate_synthetic(date(1990, 5, 17), rng=random.Random(7)) for _ in range(3)]
    b = [generate_synthetic(date(1990, 5, 17), rng=random.Random(7)) for _ in range(3)]
    assert a == b
    assert generate_orgnr(random.Random(7)) == generate_orgnr(random.Random(7))


def test_generated_numbers_are_tenor_style() -> None:
    number = generate_synthetic(date(1990, 11, 3), kind="D", rng=random.Random(1))
    assert number[:6] == "439190"  # day 03 + 40, month 11 + 80, year 90


@pytest.mark.parametrize(
    ("born", "options", "rule"),
    [
        (date(1853, 12, 31), {}, "century"),
        (date(2040, 1, 1), {}, "century"),
        (date(2100, 1, 1), {"rule": "2032"}, "century"),
        (date(1990, 1, 1), {"rule": "2032", "sex": LegacySex.MALE}, "sex"),
        (date(2033, 1, 1), {"sex": LegacySex.FEMALE}, "sex"),
        (date(1990, 1, 1), {"kind": "H"}, "kind"),
        (date(1990, 1, 1), {"rule": "2031"}, "check_rule"),
    ],
)
def test_generator_rejects_impossible_requests(born: date, options: dict[str, object], rule: str) -> None:
    with pytest.raises(IdentityNumberError) as exc:
        generate_synthetic(born, rng=random.Random(0), **options)  # type: ignore[arg-type]
    assert exc.value.rule == rule


def test_generate_orgnr_rejects_bad_first_digits() -> None:
    with pytest.raises(IdentityNumberError) as exc:
        generate_orgnr(random.Random(0), first_digits="")
    assert exc.value.rule == "digits"
    assert parse_orgnr(generate_orgnr(random.Random(0), first_digits="9")).digits[0] == "9"
