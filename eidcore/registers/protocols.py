"""The register interfaces the services call: population register and organisation register.

Typed ``Protocol`` s, so the embedded SQL implementation (:mod:`eidcore.registers.sql`) and a production
adapter (Folkeregisteret via Maskinporten, Enhetsregisteret / Altinn Authorization) are interchangeable.
Every method returns frozen records (:mod:`eidcore.registers.records`); lookups that find nothing raise
:class:`~eidcore.errors.UnknownPerson` / :class:`~eidcore.errors.UnknownOrganisation`, a malformed
identity or organisation number raises :class:`~eidcore.errors.IdentityNumberError` with the broken rule.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from eidcore.registers.records import (
    Child,
    Employee,
    Employment,
    Guardianships,
    NewPerson,
    Organisation,
    ParentalResponsibility,
    Person,
    Responsible,
)

__all__ = ["OrganisationRegister", "PopulationRegister"]


class PopulationRegister(Protocol):
    """Persons, identifiers, parental responsibility and guardianship (Folkeregisteret's role)."""

    async def get_person(self, person_id: str) -> Person:
        """The person with this stable person id (their unique identity)."""
        ...

    async def get_by_alias(self, alias: str) -> Person:
        """A fixed story person of the synthetic register, e.g. ``kari``."""
        ...

    async def find_by_identifier(self, value: str) -> Person:
        """The person holding this F- or D-number, in use or ceased; the result lists current identifiers.

        Raises IdentityNumberError when ``value`` is not a syntactically valid number, UnknownPerson when
        nobody holds it.
        """
        ...

    async def find_by_foreign_identifier(self, issuing_country: str, number: str, type: str | None = None) -> Person:
        """The person with this foreign identifier (e.g. a Swedish personnummer or a passport number)."""
        ...

    async def search(self, query: str, *, limit: int = 20) -> list[Person]:
        """Persons whose name contains ``query``, or whose identifier starts with it (test login page)."""
        ...

    async def list_persons(self, *, limit: int | None = None) -> list[Person]:
        """All persons, story persons first (aliases), then by family and given name."""
        ...

    async def children_of(self, parent_id: str, *, include_ended: bool = False) -> list[Child]:
        """Children the person has parental responsibility for, with the kind of responsibility."""
        ...

    async def responsible_for(self, person_id: str) -> list[Responsible]:
        """Who may act for this person by law today: parents with responsibility and active guardians."""
        ...

    async def guardianships_of(self, person_id: str) -> Guardianships:
        """The person's guardianships as guardian and as ward (ended ones included; see ``is_active``)."""
        ...

    async def create_person(self, new: NewPerson) -> Person:
        """Register a person; one without F/D-number gets only the unique identity (the person id)."""
        ...

    async def end_parental_responsibility(self, parent_id: str, child_id: str, *, on: date) -> ParentalResponsibility:
        """End the parent's responsibility for the child from ``on`` (exclusive end date)."""
        ...

    async def end_guardianship(self, guardianship_id: int, *, on: date) -> None:
        """End a guardianship from ``on`` (exclusive end date)."""
        ...


class OrganisationRegister(Protocol):
    """Organisations, employments and employee roles (Enhetsregisteret and Altinn Authorization's role)."""

    async def get_organisation(self, orgnr: str) -> Organisation:
        """The organisation with this number; IdentityNumberError if the number is malformed."""
        ...

    async def list_organisations(self) -> list[Organisation]: ...

    async def employments_of(self, person_id: str, *, include_ended: bool = False) -> list[Employment]:
        """The person's employments (active only unless ``include_ended``)."""
        ...

    async def employment(self, orgnr: str, person_id: str) -> Employment:
        """The person's active employment with the organisation (UnknownRegisterRecord if none)."""
        ...

    async def employees_of(self, orgnr: str, *, include_ended: bool = False) -> list[Employee]:
        """The organisation's employees with their employments."""
        ...

    async def assign_role(self, orgnr: str, person_id: str, role: str) -> Employment:
        """Give a role code or an access package (``urn:altinn:accesspackage:...``); idempotent."""
        ...

    async def remove_role(self, orgnr: str, person_id: str, role: str) -> Employment:
        """Take away a role code or an access package; idempotent."""
        ...

    async def end_employment(self, orgnr: str, person_id: str, *, on: date) -> Employment:
        """End the active employment from ``on``; its roles no longer count."""
        ...
