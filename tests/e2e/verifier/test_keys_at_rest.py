"""The verifier's database holds no private key: a ``direct_post.jwt`` transaction stores only the public half
of its response-encryption key (the private half lives in the single-use response slot of the store), so a read
of ``ver_transaction`` cannot decrypt a wallet's response carrying PID claims."""

from __future__ import annotations

import json
from typing import Any

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from eidcore.storage import LEGACY_VERSION_TABLE, Database, alembic_config, baseline
from tests.e2e.verifier.conftest import VerifierEnv
from wallet_api.holder import vp


async def _stored_jwk(env: VerifierEnv, tx_id: str) -> Any:
    from verifier.models import VerTransaction

    async with env.stack.runtime.db.session() as s:
        tx = await s.get(VerTransaction, tx_id)
    assert tx is not None
    return tx.enc_jwk


async def test_an_encrypted_response_transaction_stores_no_private_key(env: VerifierEnv) -> None:
    pid = env.sd_jwt("pid", status=env.status.new(env.stack.url("")))
    created = await env.create(profile="pid-basic", params={"format": "dc+sd-jwt"}, response_mode="direct_post.jwt")
    jwk = await _stored_jwk(env, created["transaction_id"])
    assert jwk is not None and "d" not in jwk and {"kty", "crv", "x", "y"} <= jwk.keys()
    # the wallet still encrypts to it and the verifier still decrypts (with the key from the response slot)
    result = await vp.present(env.client, created["authorization_request"], [pid], trust_anchors=env.anchors)
    assert result.status_code == 200
    assert (await env.read(created["transaction_id"]))["status"] == "validated"


def _as_left_by_the_former_chain(connection: Any, db: Database, target: str) -> None:
    """The database as a release before per-service migrations left it: each branch taken back to its baseline
    (undoing what came after, such as the service-prefix renames), then the single chain's version table (its
    schema is the baselines'), taken back to ``target``."""
    script = ScriptDirectory.from_config(alembic_config(db.schemas))
    for schema in db.schemas:
        branch = alembic_config(db.schemas)
        branch.attributes.update(connection=connection, version_table=schema.version_table)
        command.downgrade(branch, baseline(script, schema).revision)
        connection.execute(text(f"DROP TABLE {schema.version_table}"))
    cfg = alembic_config((), legacy=True)
    cfg.attributes.update(connection=connection, version_table=LEGACY_VERSION_TABLE)
    command.stamp(cfg, "heads")
    command.downgrade(cfg, target)


async def test_the_migration_drops_private_keys_stored_by_older_versions(env: VerifierEnv) -> None:
    created = await env.create(profile="pid-basic", params={"format": "dc+sd-jwt"}, response_mode="direct_post.jwt")
    tx_id = created["transaction_id"]
    public = await _stored_jwk(env, tx_id)
    db = env.stack.runtime.db
    async with db.engine.begin() as conn:  # the verifier's schema before the migration
        await conn.run_sync(_as_left_by_the_former_chain, db, "verifier@-2")
    legacy = {**public, "d": "c2VjcmV0LXByaXZhdGUta2V5LW9mLWFuLW9sZGVyLXZlcnNpb24"}
    async with db.engine.begin() as conn:
        await conn.execute(text("UPDATE ver_transaction SET enc_jwk = :j WHERE id = :i"),
                           {"j": json.dumps(legacy), "i": tx_id})
    await db.migrate()
    assert await _stored_jwk(env, tx_id) == public
