"""wallet profiles on transactions and backups

Every transaction-log entry and backup belongs to a wallet profile (``private``, the default for existing rows,
or ``work``); a backup is kept per (owner, profile), so the primary key of ``wal_backup`` becomes both columns
(the table is copied into a new one with that key, the same way on SQLite and PostgreSQL).

Revision ID: 5e067f94c78e
Revises: e8804eb253a9
Create Date: 2026-11-28 12:58:18.794860
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '5e067f94c78e'
down_revision = 'e8804eb253a9'
branch_labels = None
depends_on = None


def _profile() -> sa.Column[str]:
    return sa.Column('profile', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                     server_default='private')


def _backup_table(name: str, *, with_profile: bool) -> None:
    key = ['owner', 'profile'] if with_profile else ['owner']
    op.create_table(name,
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    *([_profile()] if with_profile else []),
    sa.Column('ciphertext', sa.Text(), nullable=False),
    sa.Column('media_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.PrimaryKeyConstraint(*key, name='wal_backup_pkey')
    )


def upgrade() -> None:
    with op.batch_alter_table('wal_transaction', schema=None) as batch_op:
        batch_op.add_column(_profile())
        batch_op.create_index(batch_op.f('ix_wal_transaction_profile'), ['profile'], unique=False)

    # the primary key becomes (owner, profile): copy into a new table (no in-place key change on SQLite)
    if not _sqlite():
        op.drop_constraint('wal_backup_pkey', 'wal_backup', type_='primary')
    _backup_table('wal_backup_new', with_profile=True)
    op.execute("INSERT INTO wal_backup_new (profile, owner, ciphertext, media_type, version, size, updated_at, "
               "updated_by) SELECT 'private', owner, ciphertext, media_type, version, size, updated_at, updated_by "
               "FROM wal_backup")
    op.drop_table('wal_backup')
    op.rename_table('wal_backup_new', 'wal_backup')


def downgrade() -> None:
    with op.batch_alter_table('wal_transaction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wal_transaction_profile'))
        batch_op.drop_column('profile')

    if not _sqlite():
        op.drop_constraint('wal_backup_pkey', 'wal_backup', type_='primary')
    _backup_table('wal_backup_old', with_profile=False)
    op.execute("INSERT INTO wal_backup_old (owner, ciphertext, media_type, version, size, updated_at, updated_by) "
               "SELECT owner, ciphertext, media_type, version, size, updated_at, updated_by FROM wal_backup "
               "WHERE profile = 'private'")  # the work backups have no place in the old table
    op.drop_table('wal_backup')
    op.rename_table('wal_backup_old', 'wal_backup')


def _sqlite() -> bool:
    """PostgreSQL constraint names are per schema: the old key is dropped before the new table takes its name."""
    return bool(op.get_bind().dialect.name == 'sqlite')
