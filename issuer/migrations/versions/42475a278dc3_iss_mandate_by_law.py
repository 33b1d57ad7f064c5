"""iss_mandate_by_law: the by-law mandates carry the service prefix (every issuer table is iss_*)

Revision ID: 42475a278dc3
Revises: 92c82d00de72
Create Date: 2026-12-02 11:20:00
"""

from __future__ import annotations

from alembic import op

revision = '42475a278dc3'
down_revision = '92c82d00de72'
branch_labels = None
depends_on = None

#: old table name -> (new table name, its indexed columns: ix_<table>_<column>, renamed with the table)
RENAMES: dict[str, tuple[str, tuple[str, ...]]] = {
    'mandate_by_law': ('iss_mandate_by_law', ('agent_id', 'principal_id')),
}


def _rename(renames: dict[str, tuple[str, tuple[str, ...]]]) -> None:
    # indexes first (SQLite cannot rename one), then the table; PostgreSQL keeps constraints and data as they are
    for old, (new, columns) in renames.items():
        for column in columns:
            op.drop_index(f"ix_{old}_{column}", table_name=old)
        op.rename_table(old, new)
        for column in columns:
            op.create_index(f"ix_{new}_{column}", new, [column], unique=False)


def upgrade() -> None:
    _rename(RENAMES)


def downgrade() -> None:
    _rename({new: (old, columns) for old, (new, columns) in RENAMES.items()})
