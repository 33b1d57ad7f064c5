"""A one-line summary of every person in the registers: what makes each one interesting for a demo or a test.

Used by ``lommebok register list``. Reads the registers through their interfaces only (population and
organisation register, :mod:`eidcore.registers.protocols`), so it works with any implementation.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from eidcore.clock import Clock
from eidcore.registers.protocols import OrganisationRegister, PopulationRegister
from eidcore.registers.records import Person

__all__ = ["PersonSummary", "person_tags", "summarise"]


class PersonSummary(BaseModel):
    """One row of ``register list``."""

    model_config = ConfigDict(frozen=True)

    person_id: str
    alias: str | None
    identifier: str | None
    identifier_type: str | None
    name: str
    age: int
    status: str
    tags: tuple[str, ...]


async def person_tags(
    person: Person, population: PopulationRegister, organisations: OrganisationRegister, *, clock: Clock
) -> tuple[str, ...]:
    """What is interesting about ``person``: child/youth, D-number, no number, guardianship, employee of ..."""
    tags: list[str] = []
    age = person.age(clock)
    if age < 13:
        tags.append("child under 13")
    elif age < 18:
        tags.append("youth 13-17")
    if person.national_id is None:
        tags.append("no Norwegian number (unique identity only)")
    elif person.national_id_type == "D":
        tags.append("D-number")
    if any(i.type == "D" for i in person.ceased_identifiers):
        tags.append("ceased D-number, now F-number")
    for fi in person.foreign_identifiers:
        tags.append(f"foreign id ({fi.issuing_country} {fi.type})")
    if person.status != "resident":
        tags.append(person.status)
    today = clock.now().date()
    children = await population.children_of(person.person_id)
    if children:
        kinds = sorted({c.responsibility.kind for c in children})
        tags.append(f"parental responsibility for {len(children)} ({', '.join(kinds)})")
    if age < 18:
        responsible = await population.responsible_for(person.person_id)
        if not responsible:
            tags.append("no one with parental responsibility")
    guardianships = await population.guardianships_of(person.person_id)
    if any(g.is_active(today) for g in guardianships.as_ward):
        tags.append("under guardianship")
    if any(g.is_active(today) for g in guardianships.as_guardian):
        tags.append("guardian")
    for employment in await organisations.employments_of(person.person_id):
        org = await organisations.get_organisation(employment.orgnr)
        extra = " (administrator)" if employment.can_administer_roles else ""
        tags.append(f"employee of {org.name}: {employment.title}{extra}")
    return tuple(tags)


async def summarise(
    population: PopulationRegister, organisations: OrganisationRegister, *, clock: Clock, limit: int | None = None
) -> list[PersonSummary]:
    """Summaries of every person (story persons first)."""
    out = []
    for person in await population.list_persons(limit=limit):
        out.append(
            PersonSummary(
                person_id=person.person_id,
                alias=person.alias,
                identifier=person.national_id,
                identifier_type=person.national_id_type,
                name=person.full_name,
                age=person.age(clock),
                status=person.status,
                tags=await person_tags(person, population, organisations, clock=clock),
            )
        )
    return out
