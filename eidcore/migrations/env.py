"""Alembic environment: runs on the connection handed over by ``eidcore.storage.Database.migrate``."""

from __future__ import annotations

from alembic import context

from eidcore.storage import import_models

target_metadata = import_models().metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through eidcore.storage.Database.migrate()")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=context.config.attributes.get("include_object"),
    )
    with context.begin_transaction():
        context.run_migrations()


run()
