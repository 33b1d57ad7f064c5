"""SQL tables of the embedded registers (SQLModel; every table name starts with ``reg_``).

The shape follows Folkeregisteret (identifiers as a list with status, foreign identifiers, parental
responsibility, guardianship with service-area scope) and Enhetsregisteret / Altinn 3 (organisations,
employments with role codes and access packages). Lists are JSON columns. Rows never leave
:mod:`eidcore.registers.sql`: callers get the frozen records of :mod:`eidcore.registers.records`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "RegEmployment",
    "RegForeignIdentifier",
    "RegGuardianship",
    "RegIdentifier",
    "RegMeta",
    "RegOrganisation",
    "RegParentalResponsibility",
    "RegPerson",
]


class RegPerson(SQLModel, table=True):
    """A person. ``id`` is the stable unique identity (a UUID string), also for people without a number."""

    __tablename__ = "reg_person"

    id: str = Field(primary_key=True, max_length=36)
    alias: str | None = Field(default=None, max_length=64, unique=True, index=True)
    given_name: str = Field(max_length=200)
    family_name: str = Field(max_length=200, index=True)
    birth_date: date
    birth_country: str | None = Field(default=None, max_length=2)
    birth_region: str | None = Field(default=None, max_length=200)
    birth_locality: str | None = Field(default=None, max_length=200)
    nationalities: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    address: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    status: str = Field(max_length=32)
    identity_verification: str = Field(max_length=32)


class RegIdentifier(SQLModel, table=True):
    """A Norwegian identifier of a person (F / D / other), in use or ceased."""

    __tablename__ = "reg_identifier"

    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(foreign_key="reg_person.id", index=True, max_length=36)
    type: str = Field(max_length=8)
    value: str = Field(max_length=32, unique=True, index=True)
    status: str = Field(max_length=16)


class RegForeignIdentifier(SQLModel, table=True):
    """A foreign identifier: number, type, issuing country (alpha-2)."""

    __tablename__ = "reg_foreign_identifier"
    __table_args__ = (UniqueConstraint("issuing_country", "type", "number", name="uq_reg_foreign_identifier"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(foreign_key="reg_person.id", index=True, max_length=36)
    number: str = Field(max_length=64, index=True)
    type: str = Field(max_length=32)
    issuing_country: str = Field(max_length=2)


class RegParentalResponsibility(SQLModel, table=True):
    """Parental responsibility: ``parent_id`` is responsible for ``child_id`` (kind joint/mother/...)."""

    __tablename__ = "reg_parental_responsibility"

    id: int | None = Field(default=None, primary_key=True)
    parent_id: str = Field(foreign_key="reg_person.id", index=True, max_length=36)
    child_id: str = Field(foreign_key="reg_person.id", index=True, max_length=36)
    kind: str = Field(max_length=16)
    valid_from: date | None = None
    valid_to: date | None = None


class RegGuardianship(SQLModel, table=True):
    """Guardianship: guardian, ward, kind, office, scope (JSON list of {agency, task}), validity."""

    __tablename__ = "reg_guardianship"

    id: int | None = Field(default=None, primary_key=True)
    guardian_id: str = Field(foreign_key="reg_person.id", index=True, max_length=36)
    ward_id: str = Field(foreign_key="reg_person.id", index=True, max_length=36)
    kind: str = Field(max_length=48)
    office: str = Field(max_length=100)
    scope: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    valid_from: date
    valid_to: date | None = None


class RegOrganisation(SQLModel, table=True):
    """An organisation (Enhetsregisteret): number, name, organisational form."""

    __tablename__ = "reg_organisation"

    orgnr: str = Field(primary_key=True, max_length=9)
    name: str = Field(max_length=200)
    form: str = Field(max_length=8)


class RegEmployment(SQLModel, table=True):
    """An employment with Altinn-style role codes and access packages (JSON lists)."""

    __tablename__ = "reg_employment"

    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(foreign_key="reg_person.id", index=True, max_length=36)
    orgnr: str = Field(foreign_key="reg_organisation.orgnr", index=True, max_length=9)
    title: str = Field(max_length=200)
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    access_packages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    start_date: date
    end_date: date | None = None


class RegMeta(SQLModel, table=True):
    """Register bookkeeping, e.g. ``seed`` = the seed the synthetic population was made from."""

    __tablename__ = "reg_meta"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=1000)
