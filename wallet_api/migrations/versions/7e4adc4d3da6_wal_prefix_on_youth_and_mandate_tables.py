"""wal_ prefix on the youth and mandate-grant tables (every wallet table is wal_*)

Revision ID: 7e4adc4d3da6
Revises: f02e720b63a0
Create Date: 2026-12-02 11:20:00
"""

from __future__ import annotations

from alembic import op

revision = '7e4adc4d3da6'
down_revision = 'f02e720b63a0'
branch_labels = None
depends_on = None

#: old table name -> (new table name, its indexed columns: ix_<table>_<column>, renamed with the table)
RENAMES: dict[str, tuple[str, tuple[str, ...]]] = {
    'youth_wallet': ('wal_youth_wallet', ('child_id',)),
    'youth_request': ('wal_youth_request', ('child_id', 'status')),
    'youth_relying_party': ('wal_youth_relying_party', ('category',)),
    'youth_credential_request': ('wal_youth_credential_request', ('child_id', 'status')),
    'youth_rule': ('wal_youth_rule', ('child_id',)),
    'mandate_grant': ('wal_mandate_grant', ('agent_id', 'principal_id')),
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
