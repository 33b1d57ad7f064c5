"""ver_transaction: keep only the public half of the direct_post.jwt response-encryption key

Older versions stored the ephemeral private key (``d``) in ``ver_transaction.enc_jwk``. It now lives only in
the transaction's single-use slot in the key-value store, which still holds it for open transactions, so the
database copy is reduced to the public members (data migration; no schema change).

Revision ID: 0f1f140dc6db
Revises: 227f64547221
Create Date: 2026-12-02 04:59:20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0f1f140dc6db'
down_revision = '227f64547221'
branch_labels = None
depends_on = None

PUBLIC = ("kty", "crv", "x", "y", "kid")


def upgrade() -> None:
    conn = op.get_bind()
    t = sa.table("ver_transaction", sa.column("id", sa.String), sa.column("enc_jwk", sa.JSON))
    for tx_id, jwk in conn.execute(sa.select(t.c.id, t.c.enc_jwk)).all():
        if isinstance(jwk, dict) and set(jwk) - set(PUBLIC):
            conn.execute(t.update().where(t.c.id == tx_id).values(enc_jwk={k: jwk[k] for k in PUBLIC if k in jwk}))


def downgrade() -> None:
    pass  # a private key removed from the database is not put back
