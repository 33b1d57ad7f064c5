"""Norwegian organisation numbers (organisasjonsnummer, Enhetsregisteret / Brønnøysundregistrene).

Nine digits, the last a mod-11 check digit over the first eight with weights 3, 2, 7, 6, 5, 4, 3, 2
(``k = 11 - (sum mod 11)``; 11 becomes 0; 10 means the number cannot be assigned). The ISO 6523 form used in
ID-porten, Maskinporten and Ansattporten tokens is ``0192:<orgno>`` (ICD 0192 = Enhetsregisteret).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from eidcore.errors import IdentityNumberError

__all__ = [
    "ISO6523_ICD",
    "ORGNR_WEIGHTS",
    "OrganisationNumber",
    "is_valid_orgnr",
    "orgnr_check_digit",
    "parse_iso6523_orgnr",
    "parse_orgnr",
]

ORGNR_WEIGHTS: Final = (3, 2, 7, 6, 5, 4, 3, 2)
"""Weights of the organisation-number check digit over digits 1-8 (Brønnøysundregistrene)."""

ISO6523_ICD: Final = "0192"
"""ISO 6523 ICD of Enhetsregisteret, as in ``{"authority": "iso6523-actorid-upis", "ID": "0192:<orgno>"}``."""


@dataclass(frozen=True, slots=True)
class OrganisationNumber:
    """A valid organisation number (the result of :func:`parse_orgnr`)."""

    digits: str

    @property
    def iso6523(self) -> str:
        """``0192:<orgno>``, the form ID-porten and Ansattporten tokens carry."""
        return f"{ISO6523_ICD}:{self.digits}"

    def __str__(self) -> str:
        return self.digits


def orgnr_check_digit(first_eight: str) -> int | None:
    """The check digit for ``first_eight`` (mod 11, weights 3,2,7,6,5,4,3,2), or None when unassignable."""
    if len(first_eight) != 8 or not (first_eight.isascii() and first_eight.isdigit()):
        raise IdentityNumberError("a check digit needs exactly eight digits", rule="length")
    k = -sum(w * int(d) for w, d in zip(ORGNR_WEIGHTS, first_eight, strict=True)) % 11
    return None if k == 10 else k


def parse_orgnr(value: str) -> OrganisationNumber:
    """Validate an organisation number (Brønnøysundregistrene, mod 11).

    Rules, in order: ``length`` (9 digits), ``digits`` (0-9 only), ``check_digit`` (``details['reason']`` is
    ``unassignable`` when the weighted sum leaves remainder 1, else ``mismatch``). Surrounding whitespace is ignored.
    """
    if not isinstance(value, str):
        raise IdentityNumberError("an organisation number must be a string", rule="digits")
    digits = value.strip()
    if len(digits) != 9:
        raise IdentityNumberError("an organisation number has 9 digits", rule="length")
    if not (digits.isascii() and digits.isdigit()):
        raise IdentityNumberError("an organisation number has only the digits 0-9", rule="digits")
    expected = orgnr_check_digit(digits[:8])
    if expected is None:
        raise IdentityNumberError(
            "no check digit exists for these eight digits", rule="check_digit", reason="unassignable"
        )
    if expected != int(digits[8]):
        raise IdentityNumberError("the check digit is wrong", rule="check_digit", reason="mismatch")
    return OrganisationNumber(digits)


def parse_iso6523_orgnr(value: str) -> OrganisationNumber:
    """Parse ``0192:<orgno>`` (ISO 6523 actor id, as in ID-porten ``consumer``/``supplier`` claims)."""
    icd, sep, rest = value.partition(":")
    if not sep or icd != ISO6523_ICD:
        raise IdentityNumberError("expected the ISO 6523 prefix 0192:", rule="iso6523_prefix")
    return parse_orgnr(rest)


def is_valid_orgnr(value: str) -> bool:
    """True when :func:`parse_orgnr` accepts ``value``."""
    try:
        parse_orgnr(value)
    except IdentityNumberError:
        return False
    return True
