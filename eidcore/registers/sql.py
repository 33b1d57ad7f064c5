"""Embedded registers in the SQL database: :class:`SqlPopulationRegister` and :class:`SqlOrganisationRegister`.

Implement the :mod:`eidcore.registers.protocols` interfaces over the ``reg_*`` tables
(:mod:`eidcore.registers.models`) with an injected :class:`~eidcore.clock.Clock` for "active today" decisions.
Identity numbers are validated with :func:`eidcore.identity.parse_national_id` (Skatteetaten rules, both
check-digit regimes) and organisation numbers with :func:`eidcore.identity.parse_orgnr` before any lookup.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from eidcore.clock import SYSTEM_CLOCK, Clock
from eidcore.errors import (
    Conflict,
    IdentityNumberError,
    InvalidRequest,
    UnknownOrganisation,
    UnknownPerson,
    UnknownRegisterRecord,
)
from eidcore.identity import IdentityKind, parse_national_id, parse_orgnr
from eidcore.registers.models import (
    RegEmployment,
    RegForeignIdentifier,
    RegGuardianship,
    RegIdentifier,
    RegOrganisation,
    RegParentalResponsibility,
    RegPerson,
)
from eidcore.registers.protocols import OrganisationRegister, PopulationRegister
from eidcore.registers.records import (
    ACCESS_PACKAGE_PREFIX,
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
)
from eidcore.storage import Database

__all__ = [
    "SqlOrganisationRegister",
    "SqlPopulationRegister",
    "employment_record",
    "guardianship_record",
    "responsibility_record",
    "validate_national_id",
]


def validate_national_id(value: str) -> str:
    """The digits of a valid F- or D-number; IdentityNumberError (with ``rule``) otherwise."""
    parsed = parse_national_id(value)
    if parsed.kind not in (IdentityKind.FNR, IdentityKind.DNR):
        raise IdentityNumberError("only F- and D-numbers identify a person in the register", rule="kind")
    return parsed.digits


def _identifier_type(digits: str) -> str:
    return "D" if parse_national_id(digits).is_d_number else "F"


def responsibility_record(row: RegParentalResponsibility) -> ParentalResponsibility:
    assert row.id is not None
    return ParentalResponsibility(
        id=row.id,
        parent_id=row.parent_id,
        child_id=row.child_id,
        kind=row.kind,  # type: ignore[arg-type]
        valid_from=row.valid_from,
        valid_to=row.valid_to,
    )


def guardianship_record(row: RegGuardianship) -> Guardianship:
    assert row.id is not None
    return Guardianship(
        id=row.id,
        guardian_id=row.guardian_id,
        ward_id=row.ward_id,
        kind=row.kind,  # type: ignore[arg-type]
        office=row.office,
        scope=tuple(ServiceArea(**s) for s in row.scope),
        valid_from=row.valid_from,
        valid_to=row.valid_to,
    )


def employment_record(row: RegEmployment) -> Employment:
    assert row.id is not None
    return Employment(
        id=row.id,
        person_id=row.person_id,
        orgnr=row.orgnr,
        title=row.title,
        roles=tuple(row.roles),
        access_packages=tuple(row.access_packages),
        active=row.active,
        start_date=row.start_date,
        end_date=row.end_date,
    )


async def _persons(session: AsyncSession, rows: Sequence[RegPerson]) -> list[Person]:
    """Records for person rows, with their identifiers, in the order given."""
    ids = [r.id for r in rows]
    if not ids:
        return []
    idents: dict[str, list[Identifier]] = {i: [] for i in ids}
    foreign: dict[str, list[ForeignIdentifier]] = {i: [] for i in ids}
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        for ident in (
            await session.exec(
                select(RegIdentifier).where(col(RegIdentifier.person_id).in_(chunk)).order_by(col(RegIdentifier.id))
            )
        ).all():
            idents[ident.person_id].append(
                Identifier(type=ident.type, value=ident.value, status=ident.status)  # type: ignore[arg-type]
            )
        for fi in (
            await session.exec(
                select(RegForeignIdentifier)
                .where(col(RegForeignIdentifier.person_id).in_(chunk))
                .order_by(col(RegForeignIdentifier.id))
            )
        ).all():
            foreign[fi.person_id].append(
                ForeignIdentifier(number=fi.number, type=fi.type, issuing_country=fi.issuing_country)
            )
    out = []
    for r in rows:
        # in-use identifiers first, then ceased, each in insertion order
        ordered = sorted(idents[r.id], key=lambda i: i.status != "in_use")
        out.append(
            Person(
                person_id=r.id,
                alias=r.alias,
                given_name=r.given_name,
                family_name=r.family_name,
                birth_date=r.birth_date,
                birth_place=BirthPlace(country=r.birth_country, region=r.birth_region, locality=r.birth_locality),
                nationalities=tuple(r.nationalities),
                address=Address(**r.address) if r.address else None,
                status=r.status,  # type: ignore[arg-type]
                identity_verification=r.identity_verification,  # type: ignore[arg-type]
                identifiers=tuple(ordered),
                foreign_identifiers=tuple(foreign[r.id]),
            )
        )
    return out


async def _person(session: AsyncSession, person_id: str) -> Person:
    row = await session.get(RegPerson, person_id)
    if row is None:
        raise UnknownPerson("no person with this person id")
    return (await _persons(session, [row]))[0]


async def _exists(session: AsyncSession, person_id: str) -> None:
    if await session.get(RegPerson, person_id) is None:
        raise UnknownPerson("no person with this person id")


async def _persons_by_id(session: AsyncSession, ids: Iterable[str]) -> dict[str, Person]:
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    rows = (await session.exec(select(RegPerson).where(col(RegPerson.id).in_(wanted)))).all()
    return {p.person_id: p for p in await _persons(session, rows)}


class SqlPopulationRegister:
    """The population register in the SQL database (implements :class:`PopulationRegister`)."""

    def __init__(self, db: Database, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.db = db
        self.clock = clock

    def _today(self) -> date:
        return self.clock.now().date()

    async def get_person(self, person_id: str) -> Person:
        """The person with this person id (PopulationRegister.get_person)."""
        async with self.db.session() as s:
            return await _person(s, person_id)

    async def get_by_alias(self, alias: str) -> Person:
        """A story person by alias (PopulationRegister.get_by_alias)."""
        async with self.db.session() as s:
            row = (await s.exec(select(RegPerson).where(RegPerson.alias == alias))).first()
            if row is None:
                raise UnknownPerson("no story person with this alias")
            return (await _persons(s, [row]))[0]

    async def find_by_identifier(self, value: str) -> Person:
        """Person by F-/D-number, in use or ceased (Folkeregisteret identifier history)."""
        digits = validate_national_id(value)
        async with self.db.session() as s:
            ident = (await s.exec(select(RegIdentifier).where(RegIdentifier.value == digits))).first()
            if ident is None:
                raise UnknownPerson("no person holds this identity number")
            return await _person(s, ident.person_id)

    async def find_by_foreign_identifier(self, issuing_country: str, number: str, type: str | None = None) -> Person:
        """Person by foreign identifier (``utenlandskPersonidentifikasjon``)."""
        async with self.db.session() as s:
            stmt = select(RegForeignIdentifier).where(
                RegForeignIdentifier.issuing_country == issuing_country.upper(),
                RegForeignIdentifier.number == number.strip(),
            )
            if type is not None:
                stmt = stmt.where(RegForeignIdentifier.type == type)
            rows = (await s.exec(stmt)).all()
            owners = {r.person_id for r in rows}
            if len(owners) != 1:
                raise UnknownPerson("no single person holds this foreign identifier")
            return await _person(s, owners.pop())

    async def search(self, query: str, *, limit: int = 20) -> list[Person]:
        """Name substring or identifier prefix search, for the test login page."""
        q = query.strip()
        if not q:
            return []
        async with self.db.session() as s:
            if q.isdigit():
                idrows = (
                    await s.exec(
                        select(RegIdentifier.person_id)
                        .where(col(RegIdentifier.value).startswith(q, autoescape=True))
                        .distinct()
                        .limit(limit)
                    )
                ).all()
                rows = (
                    await s.exec(
                        select(RegPerson)
                        .where(col(RegPerson.id).in_(list(idrows)))
                        .order_by(col(RegPerson.family_name), col(RegPerson.given_name), col(RegPerson.id))
                    )
                ).all()
            else:
                full = func.lower(col(RegPerson.given_name) + " " + col(RegPerson.family_name))
                rows = (
                    await s.exec(
                        select(RegPerson)
                        .where(
                            or_(
                                full.contains(q.lower(), autoescape=True), func.lower(col(RegPerson.alias)) == q.lower()
                            )
                        )
                        .order_by(col(RegPerson.family_name), col(RegPerson.given_name), col(RegPerson.id))
                        .limit(limit)
                    )
                ).all()
            return await _persons(s, rows)

    async def list_persons(self, *, limit: int | None = None) -> list[Person]:
        """All persons: story persons (by alias) first, then by name."""
        async with self.db.session() as s:
            stmt = select(RegPerson).order_by(
                col(RegPerson.alias).is_(None),
                col(RegPerson.alias),
                col(RegPerson.family_name),
                col(RegPerson.given_name),
                col(RegPerson.id),
            )
            if limit is not None:
                stmt = stmt.limit(limit)
            return await _persons(s, (await s.exec(stmt)).all())

    async def children_of(self, parent_id: str, *, include_ended: bool = False) -> list[Child]:
        """Children with the kind of responsibility (``foreldreansvar.ansvar``)."""
        today = self._today()
        async with self.db.session() as s:
            await _exists(s, parent_id)
            rows = (
                await s.exec(
                    select(RegParentalResponsibility)
                    .where(RegParentalResponsibility.parent_id == parent_id)
                    .order_by(col(RegParentalResponsibility.id))
                )
            ).all()
            recs = [responsibility_record(r) for r in rows]
            if not include_ended:
                recs = [r for r in recs if r.is_active(today)]
            persons = await _persons_by_id(s, (r.child_id for r in recs))
        children = [Child(person=persons[r.child_id], responsibility=r) for r in recs]
        children.sort(key=lambda c: (c.person.birth_date, c.person.person_id))
        return children

    async def responsible_for(self, person_id: str) -> list[Responsible]:
        """Parents with active responsibility and active guardians of the person."""
        today = self._today()
        async with self.db.session() as s:
            await _exists(s, person_id)
            prs = [
                responsibility_record(r)
                for r in (
                    await s.exec(
                        select(RegParentalResponsibility)
                        .where(RegParentalResponsibility.child_id == person_id)
                        .order_by(col(RegParentalResponsibility.id))
                    )
                ).all()
            ]
            gs = [
                guardianship_record(r)
                for r in (
                    await s.exec(
                        select(RegGuardianship)
                        .where(RegGuardianship.ward_id == person_id)
                        .order_by(col(RegGuardianship.id))
                    )
                ).all()
            ]
            prs = [p for p in prs if p.is_active(today)]
            gs = [g for g in gs if g.is_active(today)]
            persons = await _persons_by_id(s, [p.parent_id for p in prs] + [g.guardian_id for g in gs])
        out = [
            Responsible(person=persons[p.parent_id], basis="parental_responsibility", parental_responsibility=p)
            for p in prs
        ]
        out += [Responsible(person=persons[g.guardian_id], basis="guardianship", guardianship=g) for g in gs]
        return out

    async def guardianships_of(self, person_id: str) -> Guardianships:
        """Guardianships where the person is guardian and where they are ward."""
        async with self.db.session() as s:
            await _exists(s, person_id)
            rows = (
                await s.exec(
                    select(RegGuardianship)
                    .where(
                        or_(col(RegGuardianship.guardian_id) == person_id, col(RegGuardianship.ward_id) == person_id)
                    )
                    .order_by(col(RegGuardianship.id))
                )
            ).all()
        recs = [guardianship_record(r) for r in rows]
        return Guardianships(
            as_guardian=tuple(g for g in recs if g.guardian_id == person_id),
            as_ward=tuple(g for g in recs if g.ward_id == person_id),
        )

    async def create_person(self, new: NewPerson) -> Person:
        """Register a person; without an F/D-number the person id is their unique identity."""
        digits = validate_national_id(new.national_id) if new.national_id is not None else None
        person_id = str(uuid.uuid4())
        async with self.db.session() as s:
            if digits is not None:
                taken = (await s.exec(select(RegIdentifier).where(RegIdentifier.value == digits))).first()
                if taken is not None:
                    raise Conflict("this identity number is already registered")
            s.add(_person_row(person_id, new))
            await s.flush()  # no ORM relationships: insert the person before rows that reference it
            if digits is not None:
                s.add(RegIdentifier(person_id=person_id, type=_identifier_type(digits), value=digits, status="in_use"))
            for fi in new.foreign_identifiers:
                s.add(
                    RegForeignIdentifier(
                        person_id=person_id, number=fi.number, type=fi.type, issuing_country=fi.issuing_country
                    )
                )
            await s.commit()
            return await _person(s, person_id)

    async def end_parental_responsibility(self, parent_id: str, child_id: str, *, on: date) -> ParentalResponsibility:
        """End the responsibility from ``on`` (sets the exclusive end date)."""
        async with self.db.session() as s:
            rows = (
                await s.exec(
                    select(RegParentalResponsibility).where(
                        RegParentalResponsibility.parent_id == parent_id,
                        RegParentalResponsibility.child_id == child_id,
                    )
                )
            ).all()
            live = [r for r in rows if responsibility_record(r).is_active(self._today())]
            if not live:
                raise UnknownRegisterRecord("no parental responsibility in force between these persons")
            for row in live:
                row.valid_to = on
                s.add(row)
            await s.commit()
            return responsibility_record(live[0])

    async def end_guardianship(self, guardianship_id: int, *, on: date) -> None:
        """End the guardianship from ``on`` (sets the exclusive end date)."""
        async with self.db.session() as s:
            row = await s.get(RegGuardianship, guardianship_id)
            if row is None or not guardianship_record(row).is_active(self._today()):
                raise UnknownRegisterRecord("no guardianship in force with this id")
            row.valid_to = on
            s.add(row)
            await s.commit()


def _person_row(person_id: str, new: NewPerson) -> RegPerson:
    address: dict[str, Any] | None = new.address.model_dump() if new.address else None
    return RegPerson(
        id=person_id,
        alias=new.alias,
        given_name=new.given_name,
        family_name=new.family_name,
        birth_date=new.birth_date,
        birth_country=new.birth_place.country,
        birth_region=new.birth_place.region,
        birth_locality=new.birth_place.locality,
        nationalities=list(new.nationalities),
        address=address,
        status=new.status,
        identity_verification=new.identity_verification,
    )


class SqlOrganisationRegister:
    """Organisations and employee roles in the SQL database (implements :class:`OrganisationRegister`)."""

    def __init__(self, db: Database, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.db = db
        self.clock = clock

    async def get_organisation(self, orgnr: str) -> Organisation:
        """Organisation by number (validated: mod 11, Brønnøysundregistrene)."""
        digits = parse_orgnr(orgnr).digits
        async with self.db.session() as s:
            row = await s.get(RegOrganisation, digits)
            if row is None:
                raise UnknownOrganisation("no organisation with this number")
            return Organisation(orgnr=row.orgnr, name=row.name, form=row.form)

    async def list_organisations(self) -> list[Organisation]:
        """All organisations, by name."""
        async with self.db.session() as s:
            rows = (await s.exec(select(RegOrganisation).order_by(col(RegOrganisation.name)))).all()
        return [Organisation(orgnr=r.orgnr, name=r.name, form=r.form) for r in rows]

    async def employments_of(self, person_id: str, *, include_ended: bool = False) -> list[Employment]:
        """The person's employments."""
        async with self.db.session() as s:
            await _exists(s, person_id)
            stmt = select(RegEmployment).where(RegEmployment.person_id == person_id)
            if not include_ended:
                stmt = stmt.where(col(RegEmployment.active).is_(True))
            rows = (await s.exec(stmt.order_by(col(RegEmployment.id)))).all()
        return [employment_record(r) for r in rows]

    async def _active_row(self, s: AsyncSession, orgnr: str, person_id: str) -> RegEmployment:
        digits = parse_orgnr(orgnr).digits
        if await s.get(RegOrganisation, digits) is None:
            raise UnknownOrganisation("no organisation with this number")
        row = (
            await s.exec(
                select(RegEmployment).where(
                    RegEmployment.orgnr == digits,
                    RegEmployment.person_id == person_id,
                    col(RegEmployment.active).is_(True),
                )
            )
        ).first()
        if row is None:
            raise UnknownRegisterRecord("the person has no active employment with this organisation")
        return row

    async def employment(self, orgnr: str, person_id: str) -> Employment:
        """The active employment of the person with the organisation."""
        async with self.db.session() as s:
            return employment_record(await self._active_row(s, orgnr, person_id))

    async def employees_of(self, orgnr: str, *, include_ended: bool = False) -> list[Employee]:
        """Employees of the organisation with their employments."""
        digits = parse_orgnr(orgnr).digits
        async with self.db.session() as s:
            if await s.get(RegOrganisation, digits) is None:
                raise UnknownOrganisation("no organisation with this number")
            stmt = select(RegEmployment).where(RegEmployment.orgnr == digits)
            if not include_ended:
                stmt = stmt.where(col(RegEmployment.active).is_(True))
            rows = (await s.exec(stmt.order_by(col(RegEmployment.id)))).all()
            persons = await _persons_by_id(s, (r.person_id for r in rows))
        return [Employee(person=persons[r.person_id], employment=employment_record(r)) for r in rows]

    async def assign_role(self, orgnr: str, person_id: str, role: str) -> Employment:
        """Add a role code or access package to the active employment (idempotent)."""
        return await self._change_role(orgnr, person_id, role, add=True)

    async def remove_role(self, orgnr: str, person_id: str, role: str) -> Employment:
        """Remove a role code or access package from the active employment (idempotent)."""
        return await self._change_role(orgnr, person_id, role, add=False)

    async def _change_role(self, orgnr: str, person_id: str, role: str, *, add: bool) -> Employment:
        role = role.strip()
        if not role:
            raise InvalidRequest("a role code or access package is required")
        async with self.db.session() as s:
            row = await self._active_row(s, orgnr, person_id)
            field = "access_packages" if role.startswith(ACCESS_PACKAGE_PREFIX) else "roles"
            current: list[str] = list(getattr(row, field))
            if add and role not in current:
                current.append(role)
            elif not add and role in current:
                current.remove(role)
            setattr(row, field, current)  # a new list, so the JSON column is seen as changed
            s.add(row)
            await s.commit()
            return employment_record(row)

    async def end_employment(self, orgnr: str, person_id: str, *, on: date) -> Employment:
        """End the active employment from ``on``."""
        async with self.db.session() as s:
            row = await self._active_row(s, orgnr, person_id)
            row.active = False
            row.end_date = on
            s.add(row)
            await s.commit()
            return employment_record(row)


def _conforms(db: Database) -> tuple[PopulationRegister, OrganisationRegister]:
    """Static check (mypy): the SQL registers implement the register protocols."""
    return SqlPopulationRegister(db), SqlOrganisationRegister(db)
