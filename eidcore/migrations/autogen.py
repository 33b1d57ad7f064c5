"""Write a new Alembic revision of one schema's branch by comparing its models with a scratch database.

Each service owns its tables and keeps their revisions on its own branch (label = the service's name) in its
own package (``<package>/migrations/versions``, registered by ``<package>/migrations/__init__.py``'s
``SCHEMA``); eidcore's register tables are the ``eidcore`` branch (``eidcore/migrations/versions``).

Usage::

    python -m eidcore.migrations.autogen --branch eidcore "message"
    python -m eidcore.migrations.autogen --branch issuer "message"

The scratch SQLite database is migrated to every head of every schema found, then only the tables of the
chosen schema's models are compared, so the revision never touches another branch's tables. A branch that has
no revision yet gets its base revision (labelled with its name). Review the file, then keep it PostgreSQL- and
SQLite-compatible (batch mode is on for SQLite).

Schemas are found by convention, not by name: every top-level package next to ``eidcore`` that has a
``migrations`` subpackage with a ``SCHEMA`` (:class:`eidcore.storage.ServiceSchema`).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import pkgutil
import tempfile
from pathlib import Path
from typing import Any

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from eidcore.storage import EIDCORE_SCHEMA, Database, ServiceSchema, alembic_config

ROOT = Path(__file__).resolve().parents[2]


def discover_schemas(root: Path = ROOT) -> list[ServiceSchema]:
    """eidcore's schema, then the ``SCHEMA`` of every ``<package>.migrations`` found under ``root``."""
    found = [EIDCORE_SCHEMA]
    for info in sorted(pkgutil.iter_modules([str(root)]), key=lambda i: i.name):
        if not info.ispkg or info.name == "eidcore" or not (root / info.name / "migrations" / "__init__.py").exists():
            continue
        schema = getattr(importlib.import_module(f"{info.name}.migrations"), "SCHEMA", None)
        if isinstance(schema, ServiceSchema):
            found.append(schema)
    return found


def main(message: str, *, branch: str) -> Path:
    """Write the revision; returns its path."""
    schemas = discover_schemas()
    chosen = [s for s in schemas if s.name == branch]
    if not chosen:
        raise SystemExit(f"no schema named {branch!r}; found {', '.join(s.name for s in schemas)}")
    schema = chosen[0]
    own = {t.name for t in schema.tables()}

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if type_ == "table":
            return name in own
        table = getattr(obj, "table", None)
        return table is None or str(table.name) in own

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'scratch.db'}"
        db = Database(url.replace("sqlite://", "sqlite+aiosqlite://"), schemas=schemas)
        asyncio.run(_migrate_and_dispose(db))
        cfg = alembic_config([schema])  # its own directory: the branch's heads are the version table's
        script = ScriptDirectory.from_config(cfg)
        labelled = [r for r in script.walk_revisions() if branch in (r.branch_labels or ())]
        kwargs: dict[str, Any] = (
            {"head": f"{branch}@head"} if labelled
            else {"head": "base", "branch_label": branch, "version_path": str(schema.versions_dir)}
        )
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                cfg.attributes.update(connection=conn, include_object=include_object,
                                      version_table=schema.version_table)
                written = command.revision(cfg, message=message, autogenerate=True, **kwargs)
        finally:
            engine.dispose()
    path = Path(written.path) if written is not None and not isinstance(written, list) else schema.versions_dir
    if path.is_file():  # the template's "Revises: " of a base revision ends in a space
        path.write_text("\n".join(line.rstrip() for line in path.read_text().split("\n")))
    print(path)
    return path


async def _migrate_and_dispose(db: Database) -> None:
    try:
        await db.migrate()
    finally:
        await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("message")
    parser.add_argument("--branch", required=True, help="the schema's branch label (eidcore, issuer, verifier, wallet)")
    args = parser.parse_args()
    main(args.message, branch=args.branch)
