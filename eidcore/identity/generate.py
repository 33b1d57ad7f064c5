"""Generators for synthetic test identifiers: Tenor-style national identity numbers and organisation numbers.

Identity numbers follow Skatteetaten's Tenor / Test Norge convention (month +80, "dd8Myy" / "dd9Myy"), so a
generated number can never be a real person's: real F- and D-numbers have month 01-12. Check digits follow the
classic rule or, on request, the 2032 rule (K1 remainder 1, 2 or 3, so the number is valid only under the new
rule). Organisation numbers follow the Brønnøysundregistrene mod-11 rule.

Both take an injected :class:`random.Random`, so a seeded generator gives a reproducible population.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Final, Literal

from eidcore.errors import IdentityNumberError
from eidcore.identity.national_id import NEW_RULE_FROM, LegacySex, check_digits
from eidcore.identity.organisation import orgnr_check_digit

__all__ = ["generate_orgnr", "generate_synthetic"]

_MAX_ATTEMPTS: Final = 10_000


def _classic_individnummer_ranges(year: int) -> list[range]:
    """Individnummer ranges that encode ``year``'s century under the classic rule (Skatteetaten)."""
    if 1854 <= year <= 1899:
        return [range(500, 750)]
    if 1900 <= year <= 1939:
        return [range(0, 500)]
    if 1940 <= year <= 1999:
        return [range(0, 500), range(900, 1000)]
    if 2000 <= year <= 2039:
        return [range(500, 1000)]
    return []


def generate_synthetic(
    birth_date: date,
    *,
    kind: Literal["F", "D"] = "F",
    rng: random.Random,
    rule: Literal["classic", "2032"] = "classic",
    sex: LegacySex | None = None,
) -> str:
    """A valid Tenor-style synthetic F- or D-number for ``birth_date`` (Skatteetaten §1, Tenor +80 convention).

    ``rule="classic"``: the individnummer encodes the century (birth years 1854-2039 only) and, when ``sex`` is
    given (births before 2032 only), digit 9 has the legacy parity. ``rule="2032"``: the K1 remainder is 1, 2 or
    3, so the number validates only under the 2032 rule; the individnummer carries no century or sex, ``sex`` must
    be None, and birth years are limited to 1900-2099 (the centuries :func:`parse_national_id` considers).
    Raises :class:`~eidcore.errors.IdentityNumberError` (rule ``century`` or ``sex``) for impossible requests.
    """
    if sex is not None and (rule == "2032" or birth_date >= NEW_RULE_FROM):
        raise IdentityNumberError("numbers assigned from 2032 do not encode sex", rule="sex")
    if kind not in ("F", "D"):
        raise IdentityNumberError("kind must be F or D", rule="kind")
    if rule not in ("classic", "2032"):
        raise IdentityNumberError("rule must be classic or 2032", rule="check_rule")
    day = birth_date.day + (40 if kind == "D" else 0)
    prefix = f"{day:02d}{birth_date.month + 80:02d}{birth_date.year % 100:02d}"
    if rule == "classic":
        ranges = _classic_individnummer_ranges(birth_date.year)
        if not ranges:
            raise IdentityNumberError(
                "the classic individnummer ranges cover birth years 1854-2039 only", rule="century"
            )
        remainders: tuple[int, ...] = (0,)
    else:
        if not 1900 <= birth_date.year <= 2099:
            raise IdentityNumberError("2032-rule numbers are generated for birth years 1900-2099", rule="century")
        ranges = [range(0, 1000)]
        remainders = (1, 2, 3)
    for _ in range(_MAX_ATTEMPTS):
        individ = rng.choice(rng.choice(ranges))
        if sex is not None and (individ % 2 == 1) != (sex is LegacySex.MALE):
            continue
        first_nine = f"{prefix}{individ:03d}"
        checks = check_digits(first_nine, k1_remainder=rng.choice(remainders))
        if checks is not None:
            return first_nine + checks
    raise IdentityNumberError("no assignable number found", rule="exhausted")  # pragma: no cover


def generate_orgnr(rng: random.Random, *, first_digits: str = "23") -> str:
    """A valid organisation number (mod 11, Brønnøysundregistrene) whose first digit is one of ``first_digits``.

    The default first digits 2 and 3 keep generated numbers apart from the 8xx/9xx series that production
    Enhetsregisteret numbers use [unverified / general knowledge].
    """
    if not first_digits or not all(c in "0123456789" for c in first_digits):
        raise IdentityNumberError("first_digits must be digits", rule="digits")
    for _ in range(_MAX_ATTEMPTS):
        first_eight = rng.choice(first_digits) + "".join(rng.choice("0123456789") for _ in range(7))
        check = orgnr_check_digit(first_eight)
        if check is not None:
            return f"{first_eight}{check}"
    raise IdentityNumberError("no assignable number found", rule="exhausted")  # pragma: no cover
