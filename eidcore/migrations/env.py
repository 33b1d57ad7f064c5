"""Alembic environment: runs on the connection handed over by ``eidcore.storage.Database.migrate``.

``config.attributes`` carries the connection, the branch's ``version_table`` (each schema has its own), the
``target_metadata`` and ``include_object`` of an autogenerate run, and ``applied`` (a list collecting the
revisions this run applied).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from alembic import context
from alembic.runtime.migration import MigrationContext, MigrationInfo
from sqlmodel import SQLModel


def run() -> None:
    attributes = context.config.attributes
    connection = attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through eidcore.storage.Database.migrate()")
    applied: list[str] | None = attributes.get("applied")

    def on_version_apply(ctx: MigrationContext, step: MigrationInfo, heads: Collection[Any],
                         run_args: Mapping[str, Any]) -> None:
        if applied is not None and not step.is_stamp:
            applied.extend(step.up_revision_ids if step.is_upgrade else step.down_revision_ids)

    context.configure(
        connection=connection,
        target_metadata=attributes.get("target_metadata", SQLModel.metadata),
        version_table=attributes.get("version_table", "alembic_version"),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=attributes.get("include_object"),
        on_version_apply=on_version_apply,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
