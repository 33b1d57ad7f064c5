"""ver_oidc_client: the bridge's clients carry the service prefix (every verifier table is ver_*)

Revision ID: 540ed6dd1891
Revises: ce1fbd9ad07e
Create Date: 2026-12-02 11:03:07.965866
"""

from __future__ import annotations

from alembic import op

revision = '540ed6dd1891'
down_revision = 'ce1fbd9ad07e'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.rename_table('oidc_client', 'ver_oidc_client')


def downgrade() -> None:
    op.rename_table('ver_oidc_client', 'oidc_client')
