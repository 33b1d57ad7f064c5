"""Norwegian identity rules: national identity numbers, organisation numbers, levels of assurance.

- :mod:`eidcore.identity.national_id`: F-, D-, H-, FH-numbers and Tenor / Dolly synthetic numbers, the classic
  and the 2032 check-digit rule (Skatteetaten, "Nytt fødselsnummer fra 2032").
- :mod:`eidcore.identity.organisation`: organisation numbers (Brønnøysundregistrene, mod 11).
- :mod:`eidcore.identity.loa`: eIDAS levels of assurance and ID-porten / Ansattporten acr values.
- :mod:`eidcore.identity.generate`: synthetic numbers for test populations.

Invalid numbers raise :class:`eidcore.errors.IdentityNumberError` whose ``rule`` names the broken rule.
"""

from eidcore.identity.generate import generate_orgnr, generate_synthetic
from eidcore.identity.loa import (
    LevelOfAssurance,
    acr_values_at_least,
    loa_from_acr,
    loa_from_helseid_security_level,
    satisfies,
    to_eidas_acr,
    to_idporten_acr,
)
from eidcore.identity.national_id import (
    BirthDateBasis,
    CheckRule,
    IdentityKind,
    LegacySex,
    MonthPlus40,
    NationalIdentityNumber,
    SyntheticSource,
    check_digits,
    is_valid_national_id,
    parse_national_id,
)
from eidcore.identity.organisation import (
    OrganisationNumber,
    is_valid_orgnr,
    orgnr_check_digit,
    parse_iso6523_orgnr,
    parse_orgnr,
)

__all__ = [
    "BirthDateBasis",
    "CheckRule",
    "IdentityKind",
    "LegacySex",
    "LevelOfAssurance",
    "MonthPlus40",
    "NationalIdentityNumber",
    "OrganisationNumber",
    "SyntheticSource",
    "acr_values_at_least",
    "check_digits",
    "generate_orgnr",
    "generate_synthetic",
    "is_valid_national_id",
    "is_valid_orgnr",
    "loa_from_acr",
    "loa_from_helseid_security_level",
    "orgnr_check_digit",
    "parse_iso6523_orgnr",
    "parse_national_id",
    "parse_orgnr",
    "satisfies",
    "to_eidas_acr",
    "to_idporten_acr",
]
