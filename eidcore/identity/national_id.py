"""Norwegian national identity numbers: fødselsnummer, D-, H- and FH-numbers, and synthetic test numbers.

Implements the 11-digit syntax ``DDMMYY III K1 K2`` as Skatteetaten publishes it for Folkeregisteret
(folkeregisterforskriften; "Nytt fødselsnummer fra 2032", Skatteetaten folkeregisteret-api-dokumentasjon,
2024-2026), with:

- both check-digit rules: the classic one, ``(Σ w1·d1..d9 + K1) mod 11 == 0``, and the 2032 rule, where that
  remainder may be 0, 1, 2 or 3 (K2 is unchanged: ``(Σ w2·d1..d10 + K2) mod 11 == 0``);
- D-numbers (first digit +4), H-numbers (third digit +4; KITH/HIS 1001:2010), FH-numbers (first digit 8 or 9,
  Norsk Helsenett "felles hjelpenummer"), Skatteetaten Tenor synthetic numbers (third digit +8) and NAV Dolly
  synthetic numbers (third digit +4), and their combinations (D + Tenor, D + H / D + Dolly).

Classification of "+40 on the month": NAV Dolly's synthetic numbers use the same offset as H-numbers, so the
digits alone cannot tell them apart. :func:`parse_national_id` reads them as H-numbers by default (the
documented production meaning) and as Dolly synthetic numbers when the caller says so with
``month_plus_40="dolly"``; either way the result has ``ambiguous_month_offset=True``.

Birth date: for numbers that satisfy the classic rule the century comes from the individnummer ranges
(000-499: 1900-1999; 500-749 with YY 54-99: 1854-1899; 500-999 with YY 00-39: 2000-2039; 900-999 with YY 40-99:
1940-1999). Numbers that satisfy only the 2032 rule do not encode the century: the birth date is returned only
when a single century is plausible, otherwise ``birth_date`` is ``None`` and ``birth_date_candidates`` lists the
possibilities. Note that one in four numbers assigned under the 2032 rule also satisfies the classic rule and is
indistinguishable from an old number; authoritative birth date and sex come from Folkeregisteret
(``foedsel/foedselsdato``, ``kjoenn``), never from the number.

Sex is never inferred from numbers that satisfy only the 2032 rule. For classic-rule numbers whose individnummer
gives a birth date before 2032-01-01 the parity of digit 9 is exposed as ``legacy_sex``, legacy information only.
A classic-rule number with a birth date from 2032 (e.g. Skatteetaten's example 02013299997, born 2 January 2032)
was necessarily assigned under the 2032 regime, so it gets no ``legacy_sex``; nor does a classic-rule number whose
individnummer lies outside the classic ranges (it was never assignable before 2032).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Final, Literal

from eidcore.errors import IdentityNumberError

__all__ = [
    "K1_WEIGHTS",
    "K2_WEIGHTS",
    "NEW_RULE_FROM",
    "BirthDateBasis",
    "CheckRule",
    "IdentityKind",
    "LegacySex",
    "MonthPlus40",
    "NationalIdentityNumber",
    "SyntheticSource",
    "century_from_individnummer",
    "check_digits",
    "is_valid_national_id",
    "parse_national_id",
]

K1_WEIGHTS: Final = (3, 7, 6, 1, 8, 9, 4, 5, 2)
"""Weights of the first check digit over d1..d9 (Skatteetaten)."""

K2_WEIGHTS: Final = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
"""Weights of the second check digit over d1..d9 and K1 (Skatteetaten)."""

NEW_RULE_FROM: Final = date(2032, 1, 1)
"""From this day new numbers are assigned under the 2032 rule and encode neither sex nor century."""

_K1_REMAINDERS_2032: Final = frozenset({0, 1, 2, 3})

MonthPlus40 = Literal["hnr", "dolly"]
"""How to read "+40 on the month": as an H-number (default) or as a NAV Dolly synthetic number."""


class IdentityKind(StrEnum):
    """The number series, read from the digits."""

    FNR = "fnr"
    """Fødselsnummer (Folkeregisteret ``foedselsnummer``)."""
    DNR = "dnr"
    """D-nummer: first digit +4 (Folkeregisteret ``dNummer``)."""
    HNR = "hnr"
    """H-nummer (hjelpenummer): third digit +4; local to a health enterprise, not in Folkeregisteret."""
    FHN = "fhn"
    """FH-nummer (felles hjelpenummer, Norsk Helsenett): first digit 8 or 9, the rest random, no date."""


class SyntheticSource(StrEnum):
    """Which test-data convention marks the number as synthetic (it represents no real person)."""

    TENOR = "tenor"
    """Skatteetaten Tenor / Test Norge synthetic Folkeregister: third digit +8 (month +80)."""
    DOLLY = "dolly"
    """NAV Dolly: third digit +4 (month +40), colliding with H-numbers; only when asked for."""


class CheckRule(StrEnum):
    """Which K1 rule the number satisfies.

    ``CLASSIC`` numbers (K1 remainder 0) satisfy both rules; ``RULE_2032`` numbers (remainder 1, 2 or 3) satisfy
    only the rule in force from 1 January 2032.
    """

    CLASSIC = "classic"
    RULE_2032 = "2032"


class BirthDateBasis(StrEnum):
    """Where ``birth_date`` comes from, or why there is none."""

    INDIVIDNUMMER = "individnummer"
    """Classic rule: the century follows from the individnummer range."""
    SINGLE_CANDIDATE = "single_candidate"
    """The century is not encoded, but only one century gives a plausible date."""
    AMBIGUOUS = "ambiguous"
    """The century is not encoded and more than one is plausible: ``birth_date`` is ``None``."""
    NOT_ENCODED = "not_encoded"
    """The number carries no date at all (FH-number)."""


class LegacySex(StrEnum):
    """Legacy: the parity of digit 9 of a classic-rule number (odd male, even female).

    Meaningless for numbers assigned from 2032; the authoritative value is Folkeregisteret's ``kjoenn``.
    """

    FEMALE = "female"
    MALE = "male"


_FREG_TYPE: Final = {IdentityKind.FNR: "foedselsnummer", IdentityKind.DNR: "dNummer"}
_FHIR_SYSTEM: Final = {
    IdentityKind.FNR: "urn:oid:2.16.578.1.12.4.1.4.1",
    IdentityKind.DNR: "urn:oid:2.16.578.1.12.4.1.4.2",
    IdentityKind.FHN: "urn:oid:2.16.578.1.12.4.1.4.3",
}


@dataclass(frozen=True, slots=True)
class NationalIdentityNumber:
    """A syntactically valid, classified national identity number (the result of :func:`parse_national_id`).

    ``repr`` leaves out the digits and the date so the object can be logged without personal data.
    """

    digits: str = field(repr=False)
    kind: IdentityKind
    """The primary series: FHN, else HNR, else DNR, else FNR."""
    kinds: frozenset[IdentityKind]
    """Every series the digits mark, e.g. ``{DNR, HNR}`` for a D-number with +40 on the month."""
    synthetic: SyntheticSource | None
    check_rule: CheckRule
    k1_remainder: int
    """``(Σ w1·d1..d9 + K1) mod 11``: 0 under the classic rule, 0-3 under the 2032 rule."""
    birth_date: date | None = field(repr=False)
    birth_date_candidates: tuple[date, ...] = field(repr=False)
    birth_date_basis: BirthDateBasis
    legacy_sex: LegacySex | None = field(repr=False)
    """Only for classic-rule F-, D- and H-numbers born before 2032; legacy, see :class:`LegacySex`."""
    ambiguous_month_offset: bool
    """True when the month carries +40, which is both the H-number and the Dolly convention."""

    @property
    def is_synthetic(self) -> bool:
        """True for Tenor numbers, and for +40 numbers read as Dolly."""
        return self.synthetic is not None

    @property
    def is_d_number(self) -> bool:
        return IdentityKind.DNR in self.kinds

    @property
    def is_h_number(self) -> bool:
        return IdentityKind.HNR in self.kinds

    @property
    def individnummer(self) -> str:
        """Digits 7-9."""
        return self.digits[6:9]

    @property
    def personnummer(self) -> str:
        """The last five digits (individnummer and check digits)."""
        return self.digits[6:]

    @property
    def folkeregister_identifier_type(self) -> str | None:
        """Folkeregisteret ``identifikatortype`` (``foedselsnummer`` / ``dNummer``), None for H- and FH-numbers."""
        return _FREG_TYPE.get(self.kind)

    @property
    def fhir_system(self) -> str | None:
        """The identifier-system OID used in Norwegian health FHIR profiles, None for H-numbers."""
        return _FHIR_SYSTEM.get(self.kind)

    def __str__(self) -> str:
        return self.digits


def _weighted(digits: str, weights: tuple[int, ...]) -> int:
    return sum(w * int(d) for w, d in zip(weights, digits, strict=False))


def check_digits(first_nine: str, *, k1_remainder: int = 0) -> str | None:
    """The two check digits for ``first_nine`` with the given K1 remainder (Skatteetaten, 2032 rule).

    ``k1_remainder=0`` is the classic rule; 1, 2 and 3 are the additional values the 2032 rule allows.
    Returns ``None`` when that combination is unassignable (K1 or K2 would be 10).
    """
    if len(first_nine) != 9 or not (first_nine.isascii() and first_nine.isdigit()):
        raise IdentityNumberError("check digits need exactly nine digits", rule="length")
    if k1_remainder not in _K1_REMAINDERS_2032:
        raise IdentityNumberError("the K1 remainder must be 0, 1, 2 or 3", rule="check_digit_1")
    k1 = (k1_remainder - _weighted(first_nine, K1_WEIGHTS)) % 11
    if k1 == 10:
        return None
    k2 = -_weighted(first_nine + str(k1), K2_WEIGHTS) % 11
    if k2 == 10:
        return None
    return f"{k1}{k2}"


def century_from_individnummer(individnummer: int, yy: int) -> int | None:
    """The century (1800, 1900, 2000) the classic individnummer ranges give, or None outside them.

    Ranges (Skatteetaten; folkeregisterforskriften): 000-499 → 1900-1999; 500-749 with YY 54-99 → 1854-1899;
    500-999 with YY 00-39 → 2000-2039; 900-999 with YY 40-99 → 1940-1999.
    """
    if 0 <= individnummer <= 499:
        return 1900
    if 500 <= individnummer <= 749 and yy >= 54:
        return 1800
    if 500 <= individnummer <= 999 and yy <= 39:
        return 2000
    if 900 <= individnummer <= 999 and yy >= 40:
        return 1900
    return None


def _date_or_none(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_national_id(
    value: str,
    *,
    month_plus_40: MonthPlus40 = "hnr",
    today: date | None = None,
) -> NationalIdentityNumber:
    """Validate and classify an 11-digit national identity number (Skatteetaten §1; 2032 rule).

    Checks, in order: ``length``, ``digits``, ``date_digits`` (day and month within the ranges the series allow),
    ``check_digit_1``, ``check_digit_2``, ``date`` (a real calendar date). The first broken rule raises
    :class:`~eidcore.errors.IdentityNumberError` with that ``rule``. Surrounding whitespace is ignored.

    ``month_plus_40`` chooses how "+40 on the month" reads (H-number or NAV Dolly). ``today`` (injected, never
    read from the clock here) drops future dates when choosing the century of a number that does not encode it.
    """
    if not isinstance(value, str):
        raise IdentityNumberError("an identity number must be a string", rule="digits")
    digits = value.strip()
    if len(digits) != 11:
        raise IdentityNumberError("an identity number has 11 digits", rule="length")
    if not (digits.isascii() and digits.isdigit()):
        raise IdentityNumberError("an identity number has only the digits 0-9", rule="digits")

    d1 = int(digits[0])
    d3 = int(digits[2])
    kinds: set[IdentityKind] = set()
    synthetic: SyntheticSource | None = None
    ambiguous = False
    fh = d1 >= 8
    day = int(digits[0:2])
    month = int(digits[2:4])
    if fh:
        kinds.add(IdentityKind.FHN)
    else:
        if d1 >= 4:
            kinds.add(IdentityKind.DNR)
            day -= 40
        if d3 >= 8:
            synthetic = SyntheticSource.TENOR
            month -= 80
        elif d3 >= 4:
            ambiguous = True
            month -= 40
            if month_plus_40 == "dolly":
                synthetic = SyntheticSource.DOLLY
            else:
                kinds.add(IdentityKind.HNR)
        if not kinds & {IdentityKind.DNR, IdentityKind.HNR}:
            kinds.add(IdentityKind.FNR)
        if not 1 <= day <= 31:
            raise IdentityNumberError("the day is out of range for the number series", rule="date_digits")
        if not 1 <= month <= 12:
            raise IdentityNumberError("the month is out of range for the number series", rule="date_digits")

    k1_remainder = (_weighted(digits[:9], K1_WEIGHTS) + int(digits[9])) % 11
    allowed = frozenset({0}) if fh else _K1_REMAINDERS_2032
    if k1_remainder not in allowed:
        raise IdentityNumberError("the first check digit is wrong", rule="check_digit_1")
    if (_weighted(digits[:10], K2_WEIGHTS) + int(digits[10])) % 11 != 0:
        raise IdentityNumberError("the second check digit is wrong", rule="check_digit_2")
    check_rule = CheckRule.CLASSIC if k1_remainder == 0 else CheckRule.RULE_2032

    if IdentityKind.FHN in kinds:
        kind = IdentityKind.FHN
    elif IdentityKind.HNR in kinds:
        kind = IdentityKind.HNR
    elif IdentityKind.DNR in kinds:
        kind = IdentityKind.DNR
    else:
        kind = IdentityKind.FNR

    birth_date: date | None = None
    candidates: tuple[date, ...] = ()
    legacy_sex: LegacySex | None = None
    if fh:
        basis = BirthDateBasis.NOT_ENCODED
    else:
        yy = int(digits[4:6])
        century = century_from_individnummer(int(digits[6:9]), yy) if check_rule is CheckRule.CLASSIC else None
        if century is not None:
            birth_date = _date_or_none(century + yy, month, day)
            if birth_date is None:
                raise IdentityNumberError("the digits do not form a calendar date", rule="date")
            candidates = (birth_date,)
            basis = BirthDateBasis.INDIVIDNUMMER
        else:
            valid = [d for c in (1900, 2000) if (d := _date_or_none(c + yy, month, day)) is not None]
            if not valid:
                raise IdentityNumberError("the digits do not form a calendar date", rule="date")
            plausible = [d for d in valid if today is None or d <= today]
            candidates = tuple(plausible or valid)
            if len(candidates) == 1:
                birth_date = candidates[0]
                basis = BirthDateBasis.SINGLE_CANDIDATE
            else:
                basis = BirthDateBasis.AMBIGUOUS
        if basis is BirthDateBasis.INDIVIDNUMMER and birth_date is not None and birth_date < NEW_RULE_FROM:
            legacy_sex = LegacySex.MALE if int(digits[8]) % 2 else LegacySex.FEMALE

    return NationalIdentityNumber(
        digits=digits,
        kind=kind,
        kinds=frozenset(kinds),
        synthetic=synthetic,
        check_rule=check_rule,
        k1_remainder=k1_remainder,
        birth_date=birth_date,
        birth_date_candidates=candidates,
        birth_date_basis=basis,
        legacy_sex=legacy_sex,
        ambiguous_month_offset=ambiguous,
    )


def is_valid_national_id(value: str, *, month_plus_40: MonthPlus40 = "hnr") -> bool:
    """True when :func:`parse_national_id` accepts ``value`` (Skatteetaten §1; 2032 rule)."""
    try:
        parse_national_id(value, month_plus_40=month_plus_40)
    except IdentityNumberError:
        return False
    return True
