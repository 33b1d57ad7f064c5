"""registers: the embedded population and organisation registers (reg_* tables of eidcore.registers.models)

Persons with identifiers (F/D/other, in use / ceased) and foreign identifiers, parental responsibility,
guardianship (scope as JSON service areas), organisations, employments (roles and access packages as JSON),
and reg_meta (the seed marker). Plain types only (VARCHAR, DATE, BOOLEAN, JSON): runs on SQLite and PostgreSQL.

Revision ID: 92b9bbf9e6eb
Revises:
Create Date: 2026-11-28 10:56:50.391309
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "92b9bbf9e6eb"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reg_meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=1000), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "reg_organisation",
        sa.Column("orgnr", sa.String(length=9), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("form", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("orgnr"),
    )
    op.create_table(
        "reg_person",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("alias", sa.String(length=64), nullable=True),
        sa.Column("given_name", sa.String(length=200), nullable=False),
        sa.Column("family_name", sa.String(length=200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("birth_country", sa.String(length=2), nullable=True),
        sa.Column("birth_region", sa.String(length=200), nullable=True),
        sa.Column("birth_locality", sa.String(length=200), nullable=True),
        sa.Column("nationalities", sa.JSON(), nullable=False),
        sa.Column("address", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("identity_verification", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reg_person", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reg_person_alias"), ["alias"], unique=True)
        batch_op.create_index(batch_op.f("ix_reg_person_family_name"), ["family_name"], unique=False)

    op.create_table(
        "reg_employment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("orgnr", sa.String(length=9), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("access_packages", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["orgnr"],
            ["reg_organisation.orgnr"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["reg_person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reg_employment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reg_employment_orgnr"), ["orgnr"], unique=False)
        batch_op.create_index(batch_op.f("ix_reg_employment_person_id"), ["person_id"], unique=False)

    op.create_table(
        "reg_foreign_identifier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("issuing_country", sa.String(length=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["reg_person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("issuing_country", "type", "number", name="uq_reg_foreign_identifier"),
    )
    with op.batch_alter_table("reg_foreign_identifier", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reg_foreign_identifier_number"), ["number"], unique=False)
        batch_op.create_index(batch_op.f("ix_reg_foreign_identifier_person_id"), ["person_id"], unique=False)

    op.create_table(
        "reg_guardianship",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guardian_id", sa.String(length=36), nullable=False),
        sa.Column("ward_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("office", sa.String(length=100), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["guardian_id"],
            ["reg_person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ward_id"],
            ["reg_person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reg_guardianship", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reg_guardianship_guardian_id"), ["guardian_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reg_guardianship_ward_id"), ["ward_id"], unique=False)

    op.create_table(
        "reg_identifier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["reg_person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reg_identifier", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reg_identifier_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reg_identifier_value"), ["value"], unique=True)

    op.create_table(
        "reg_parental_responsibility",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.String(length=36), nullable=False),
        sa.Column("child_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["reg_person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["reg_person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reg_parental_responsibility", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reg_parental_responsibility_child_id"), ["child_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reg_parental_responsibility_parent_id"), ["parent_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reg_parental_responsibility", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reg_parental_responsibility_parent_id"))
        batch_op.drop_index(batch_op.f("ix_reg_parental_responsibility_child_id"))

    op.drop_table("reg_parental_responsibility")
    with op.batch_alter_table("reg_identifier", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reg_identifier_value"))
        batch_op.drop_index(batch_op.f("ix_reg_identifier_person_id"))

    op.drop_table("reg_identifier")
    with op.batch_alter_table("reg_guardianship", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reg_guardianship_ward_id"))
        batch_op.drop_index(batch_op.f("ix_reg_guardianship_guardian_id"))

    op.drop_table("reg_guardianship")
    with op.batch_alter_table("reg_foreign_identifier", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reg_foreign_identifier_person_id"))
        batch_op.drop_index(batch_op.f("ix_reg_foreign_identifier_number"))

    op.drop_table("reg_foreign_identifier")
    with op.batch_alter_table("reg_employment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reg_employment_person_id"))
        batch_op.drop_index(batch_op.f("ix_reg_employment_orgnr"))

    op.drop_table("reg_employment")
    with op.batch_alter_table("reg_person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reg_person_family_name"))
        batch_op.drop_index(batch_op.f("ix_reg_person_alias"))

    op.drop_table("reg_person")
    op.drop_table("reg_organisation")
    op.drop_table("reg_meta")
