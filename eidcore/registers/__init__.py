"""Registers: the authentic sources behind typed interfaces, with an embedded SQL implementation.

- :mod:`eidcore.registers.records`: frozen records (Person, Identifier, Guardianship, Employment, ...), modelled on
  Folkeregisteret (Skatteetaten, PersondokumentMedHistorikk) and Enhetsregisteret / Altinn 3 roles and access packages.
- :mod:`eidcore.registers.protocols`: :class:`PopulationRegister`, :class:`OrganisationRegister`.
- :mod:`eidcore.registers.sql`: :class:`SqlPopulationRegister`, :class:`SqlOrganisationRegister` over the ``reg_*``
  tables of :mod:`eidcore.registers.models`.
- :mod:`eidcore.registers.synthetic`: the deterministic synthetic population (Tenor numbers only) and its idempotent
  seeder, with the story persons (:data:`STORY_PERSONS`).
- :mod:`eidcore.registers.overview`: one-line summaries for ``lommebok register list``.
"""

from typing import TYPE_CHECKING, Any

from eidcore.registers.protocols import OrganisationRegister, PopulationRegister
from eidcore.registers.records import (
    ACCESS_PACKAGE_PREFIX,
    ADMIN_ACCESS_PACKAGES,
    Address,
    BirthPlace,
    Child,
    Employee,
    Employment,
    ForeignIdentifier,
    Guardianship,
    Guardianships,
    Identifier,
    NewPerson,
    Organisation,
    ParentalResponsibility,
    Person,
    Responsible,
    ServiceArea,
    age_on,
)

if TYPE_CHECKING:
    from eidcore.registers.overview import PersonSummary, person_tags, summarise
    from eidcore.registers.sql import SqlOrganisationRegister, SqlPopulationRegister, validate_national_id
    from eidcore.registers.synthetic import (
        DEFAULT_SEED,
        STORY_ORGANISATIONS,
        STORY_PERSONS,
        SeedResult,
        generate_population,
        seed_register,
    )

# The database-backed parts load on first use, so importing the records (e.g. from eidcore.credential_types)
# does not pull in SQLAlchemy.
_LAZY = {
    "PersonSummary": "overview",
    "person_tags": "overview",
    "summarise": "overview",
    "SqlOrganisationRegister": "sql",
    "SqlPopulationRegister": "sql",
    "validate_national_id": "sql",
    "DEFAULT_SEED": "synthetic",
    "STORY_ORGANISATIONS": "synthetic",
    "STORY_PERSONS": "synthetic",
    "SeedResult": "synthetic",
    "generate_population": "synthetic",
    "seed_register": "synthetic",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'eidcore.registers' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"eidcore.registers.{module}"), name)


__all__ = [
    "ACCESS_PACKAGE_PREFIX",
    "ADMIN_ACCESS_PACKAGES",
    "DEFAULT_SEED",
    "STORY_ORGANISATIONS",
    "STORY_PERSONS",
    "Address",
    "BirthPlace",
    "Child",
    "Employee",
    "Employment",
    "ForeignIdentifier",
    "Guardianship",
    "Guardianships",
    "Identifier",
    "NewPerson",
    "Organisation",
    "OrganisationRegister",
    "ParentalResponsibility",
    "Person",
    "PersonSummary",
    "PopulationRegister",
    "Responsible",
    "SeedResult",
    "ServiceArea",
    "SqlOrganisationRegister",
    "SqlPopulationRegister",
    "age_on",
    "generate_population",
    "person_tags",
    "seed_register",
    "summarise",
    "validate_national_id",
]
