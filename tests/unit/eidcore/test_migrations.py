"""Migrations per service: each schema has its own Alembic branch and version table; the baselines create
exactly what the former single chain created; a database migrated by that chain is stamped, not changed; and
several processes starting at once migrate once (PostgreSQL advisory lock, SQLite ``BEGIN IMMEDIATE``).

Every test runs on SQLite and on a scratch PostgreSQL database of its own.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import os
import secrets
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, text
from sqlmodel import SQLModel

from eidcore.errors import ConfigurationError
from eidcore.storage import (
    EIDCORE_SCHEMA,
    LEGACY_VERSION_TABLE,
    Database,
    ServiceSchema,
    alembic_config,
    baseline,
)
from issuer.migrations import SCHEMA as ISSUER_SCHEMA
from verifier.migrations import SCHEMA as VERIFIER_SCHEMA
from wallet_api.migrations import SCHEMA as WALLET_SCHEMA

SERVICES = (ISSUER_SCHEMA, VERIFIER_SCHEMA, WALLET_SCHEMA)
ALL = (EIDCORE_SCHEMA, *SERVICES)
#: the former single chain's heads (eidcore/migrations/legacy): a database holding them was migrated by it
#: tables renamed by revisions after the baselines (old name -> new name): the service prefixes
RENAMED = {"oidc_client": "ver_oidc_client", "mandate_by_law": "iss_mandate_by_law",
           **{t: f"wal_{t}" for t in ("youth_wallet", "youth_request", "youth_relying_party",
                                       "youth_credential_request", "youth_rule", "mandate_grant")}}
LEGACY_HEADS = {"e28b9aaae056", "c64346f0463f", "5e067f94c78e", "6d911a8d795b", "57f25d0578c6", "d8e67d3e8cd9"}


def _admin_url() -> str:
    return os.environ.get("LOMMEBOK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test").replace(
        "postgresql+asyncpg://", "postgresql://")


def _run_admin(sql: str) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(_admin_url())
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # an event loop may already run in this thread
        pool.submit(asyncio.run, run()).result()


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL with nothing in it yet: a new SQLite file, or a new PostgreSQL database (dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    request.getfixturevalue("postgres_url")  # skips (or fails in CI) when PostgreSQL does not answer
    name = f"lommebok_mig_{secrets.token_hex(4)}"
    _run_admin(f'CREATE DATABASE "{name}"')
    parts = urlsplit(_admin_url())
    try:
        yield urlunsplit(("postgresql+asyncpg", parts.netloc, f"/{name}", "", ""))
    finally:
        _run_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def legacy_db(empty_url: str) -> AsyncIterator[Database]:
    """A database migrated by the former single chain to its heads (as every release before this one left it)."""
    db = Database(empty_url, schemas=SERVICES)
    async with db.engine.begin() as conn:
        await conn.run_sync(_legacy_upgrade, "heads")
    try:
        yield db
    finally:
        await db.dispose()


def _legacy_upgrade(conn: Any, target: str) -> None:
    cfg = alembic_config((), legacy=True)
    cfg.attributes.update(connection=conn, version_table=LEGACY_VERSION_TABLE)
    command.upgrade(cfg, target)


def _legacy_downgrade(conn: Any, target: str) -> None:
    cfg = alembic_config((), legacy=True)
    cfg.attributes.update(connection=conn, version_table=LEGACY_VERSION_TABLE)
    command.downgrade(cfg, target)


def _reflect(conn: Any) -> MetaData:
    md = MetaData()
    md.reflect(conn)
    for table in list(md.tables.values()):
        if table.name.startswith("alembic_"):
            md.remove(table)
    return md


def _not_alembic(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (type_ == "table" and name is not None and name.startswith("alembic_"))


def _diff(conn: Any, target: MetaData) -> list[Any]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _not_alembic})
    return list(compare_metadata(ctx, target))


def _heads(conn: Any, table: str) -> set[str]:
    if not inspect(conn).has_table(table):
        return set()
    return {row[0] for row in conn.execute(text(f"SELECT version_num FROM {table}"))}  # noqa: S608


def _renamed(md: MetaData, mapping: dict[str, str]) -> MetaData:
    """``md`` with the tables of ``mapping`` under their new names (what the renaming revisions do)."""
    out = MetaData()
    for table in md.tables.values():
        new = mapping.get(table.name, table.name)
        copy = table.to_metadata(out, name=new)
        for index in copy.indexes:  # ix_<table>_<column> follows its table
            if index.name and index.name.startswith(f"ix_{table.name}_"):
                index.name = f"ix_{new}_" + index.name[len(f"ix_{table.name}_"):]
    return out


def _heads_of_branches() -> dict[str, str]:
    script = ScriptDirectory.from_config(alembic_config(ALL))
    return {s.name: script.get_revision(f"{s.name}@head").revision for s in ALL}


def _revisions(*names: str) -> set[str]:
    """Every revision of the named branches (baseline to head)."""
    script = ScriptDirectory.from_config(alembic_config(ALL))
    out: set[str] = set()
    for name in names:
        out |= {r.revision for r in script.iterate_revisions(f"{name}@head", "base")}
    return out


def _after_baselines() -> set[str]:
    """The revisions that come after the baselines (what a database of the former chain still needs)."""
    return _revisions(*(s.name for s in ALL)) - set(_baselines().values())


def _baselines() -> dict[str, str]:
    script = ScriptDirectory.from_config(alembic_config(ALL))
    return {s.name: baseline(script, s).revision for s in ALL}


def test_every_table_is_owned_by_exactly_one_schema() -> None:
    import issuer.app  # noqa: F401  (every table module the services use is imported)
    import verifier.app  # noqa: F401
    import wallet_api.app  # noqa: F401

    owners: dict[str, list[str]] = {}
    for schema in ALL:
        for table in schema.tables():
            owners.setdefault(table.name, []).append(schema.name)
    assert {n: o for n, o in owners.items() if len(o) != 1} == {}
    assert set(owners) == set(SQLModel.metadata.tables)
    assert {t for t in owners if t.startswith("reg_")} == {t for t in owners if owners[t] == ["eidcore"]}


def test_each_branch_is_labelled_with_its_schema_and_starts_at_a_legacy_baseline() -> None:
    script = ScriptDirectory.from_config(alembic_config(ALL))
    for schema in ALL:
        base = baseline(script, schema)
        assert base.branch_labels == {schema.name}
        assert base.down_revision is None and not base.dependencies
        assert getattr(base.module, "legacy_baseline", False) is True
        assert Path(base.path).parent == schema.versions_dir
    assert len(script.get_heads()) == len(ALL)


async def test_the_baselines_create_what_the_former_single_chain_created(
        legacy_db: Database, empty_url: str, tmp_path: Path) -> None:
    """Compared both ways with alembic's autogenerate compare: tables, columns, types, nullability, indexes,
    unique and foreign key constraints."""
    async with legacy_db.engine.connect() as conn:
        legacy = await conn.run_sync(_reflect)
    other_url = (f"sqlite+aiosqlite:///{tmp_path / 'baselines.db'}" if legacy_db.is_sqlite else None)
    if other_url is None:  # a second scratch PostgreSQL database for the new branches
        name = f"lommebok_mig_{secrets.token_hex(4)}"
        _run_admin(f'CREATE DATABASE "{name}"')
        parts = urlsplit(empty_url)
        other_url = urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))
    fresh = Database(other_url, schemas=SERVICES)
    try:
        applied = await fresh.migrate()
        assert set(_baselines().values()) <= set(applied)
        async with fresh.engine.connect() as conn:
            assert await conn.run_sync(_diff, _renamed(legacy, RENAMED)) == []
            baselined = await conn.run_sync(_reflect)
            assert await conn.run_sync(_diff, SQLModel.metadata) == []  # and the models agree
        async with legacy_db.engine.connect() as conn:
            back = {new: old for old, new in RENAMED.items()}
            assert await conn.run_sync(_diff, _renamed(baselined, back)) == []
    finally:
        await fresh.dispose()
        if not fresh.is_sqlite:
            _run_admin(f'DROP DATABASE IF EXISTS "{urlsplit(other_url).path[1:]}" WITH (FORCE)')


async def test_a_database_of_the_former_chain_is_stamped_without_changes(legacy_db: Database) -> None:
    async with legacy_db.engine.begin() as conn:
        assert await conn.run_sync(_heads, LEGACY_VERSION_TABLE) == LEGACY_HEADS
        before = await conn.run_sync(lambda c: sorted((t.name, sorted(t.c.keys())) for t in _reflect(c).sorted_tables))
        await conn.execute(text("INSERT INTO reg_meta (key, value) VALUES ('kept', 'yes')"))
    applied = await legacy_db.migrate()  # the baselines stamped, only the revisions after them applied
    assert not set(applied) & set(_baselines().values())
    async with legacy_db.engine.connect() as conn:
        after = await conn.run_sync(lambda c: sorted((t.name, sorted(t.c.keys())) for t in _reflect(c).sorted_tables))
        assert after == sorted((RENAMED.get(name, name), cols) for name, cols in before)
        for schema in ALL:
            assert await conn.run_sync(_heads, schema.version_table) == {_heads_of_branches()[schema.name]}
        assert await conn.run_sync(_heads, LEGACY_VERSION_TABLE) == LEGACY_HEADS  # left as it was
        assert (await conn.execute(text("SELECT value FROM reg_meta WHERE key = 'kept'"))).scalar_one() == "yes"
    assert await legacy_db.migrate() == []


async def test_a_service_registered_later_on_a_converted_database_is_stamped_too(legacy_db: Database) -> None:
    """One process (e.g. ``lommebok register seed``) converts with eidcore's schema alone; a service started later
    on the same database finds its tables there and is stamped, not created again."""
    alone = Database(legacy_db.url)
    try:
        assert await alone.migrate() == []
    finally:
        await alone.dispose()
    async with legacy_db.engine.connect() as conn:
        assert await conn.run_sync(_heads, ISSUER_SCHEMA.version_table) == set()
    assert set(await legacy_db.migrate()) == _after_baselines()
    async with legacy_db.engine.connect() as conn:
        assert await conn.run_sync(_heads, ISSUER_SCHEMA.version_table) == {_heads_of_branches()["issuer"]}


async def test_an_older_database_of_the_former_chain_is_brought_to_its_heads_first(legacy_db: Database) -> None:
    async with legacy_db.engine.begin() as conn:
        await conn.run_sync(_legacy_downgrade, "verifier@-2")  # the verifier's branch before two revisions
        await conn.run_sync(_legacy_downgrade, "mandates@-2")  # a release before mandates
        assert not await conn.run_sync(lambda c: inspect(c).has_table("mandate_grant"))
        older = LEGACY_HEADS - {"c64346f0463f", "d8e67d3e8cd9"} | {"227f64547221"}
        assert await conn.run_sync(_heads, LEGACY_VERSION_TABLE) == older
    applied = await legacy_db.migrate()
    assert {"0f1f140dc6db", "c64346f0463f", "aea97490b77a", "d8e67d3e8cd9"} <= set(applied)
    async with legacy_db.engine.connect() as conn:
        assert await conn.run_sync(_heads, LEGACY_VERSION_TABLE) == LEGACY_HEADS
        assert await conn.run_sync(_diff, SQLModel.metadata) == []
        for schema in ALL:
            assert await conn.run_sync(_heads, schema.version_table) == {_heads_of_branches()[schema.name]}


async def test_an_unknown_revision_in_the_former_version_table_is_refused(legacy_db: Database) -> None:
    async with legacy_db.engine.begin() as conn:
        await conn.execute(text(f"UPDATE {LEGACY_VERSION_TABLE} SET version_num = 'ffffffffffff' "  # noqa: S608
                                "WHERE version_num = 'e28b9aaae056'"))
    with pytest.raises(ConfigurationError, match="does not know"):
        await legacy_db.migrate()


async def test_a_process_migrates_its_own_schemas_and_leaves_the_others_alone(empty_url: str) -> None:
    issuer_only = Database(empty_url, schemas=[ISSUER_SCHEMA])
    everything = Database(empty_url, schemas=SERVICES)
    try:
        assert set(await issuer_only.migrate()) == _revisions("eidcore", "issuer")
        async with issuer_only.engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert "iss_credential" in names and "ver_transaction" not in names
        assert set(await everything.migrate()) == _revisions("verifier", "wallet")
        assert await issuer_only.migrate() == []  # the other branches' versions do not trouble it
    finally:
        await issuer_only.dispose()
        await everything.dispose()


def test_two_schemas_under_one_name_are_refused(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    db.add_schema(ISSUER_SCHEMA)
    db.add_schema(ServiceSchema("issuer", ISSUER_SCHEMA.versions_dir))  # the same one again: fine
    with pytest.raises(ConfigurationError, match="two schemas"):
        db.add_schema(ServiceSchema("issuer", tmp_path))
    with pytest.raises(ConfigurationError):
        ServiceSchema("Issuer; drop", tmp_path)


# --------------------------------------------------------------------------------------------------
# Several workers starting together
# --------------------------------------------------------------------------------------------------

WORKERS = 4


def _worker(url: str, start_at: float) -> list[str]:
    """One worker process: wait for the common start, then migrate every schema (returns what it applied)."""
    import issuer.migrations
    import verifier.migrations
    import wallet_api.migrations

    schemas = (issuer.migrations.SCHEMA, verifier.migrations.SCHEMA, wallet_api.migrations.SCHEMA)

    async def run() -> list[str]:
        db = Database(url, schemas=schemas)
        try:
            time.sleep(max(0.0, start_at - time.time()))
            return await db.migrate()
        finally:
            await db.dispose()

    return asyncio.run(run())


def _concurrently(url: str, n: int) -> Sequence[list[str]]:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(n) as pool:
        start_at = time.time() + 8  # after every interpreter has started and imported
        return pool.starmap(_worker, [(url, start_at)] * n, chunksize=1)


@pytest.mark.slow
async def test_workers_starting_together_migrate_once(empty_url: str) -> None:
    results = await asyncio.to_thread(_concurrently, empty_url, WORKERS)
    assert len(results) == WORKERS
    ran = [r for r in results if r]
    assert len(ran) == 1, results  # one worker migrated, the others found the schema current
    assert set(ran[0]) == _revisions(*(s.name for s in ALL))
    db = Database(empty_url, schemas=SERVICES)
    try:
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_diff, SQLModel.metadata) == []
            for schema in ALL:
                assert await conn.run_sync(_heads, schema.version_table) == {_heads_of_branches()[schema.name]}
        assert await db.migrate() == []
    finally:
        await db.dispose()


@pytest.mark.slow
async def test_workers_starting_together_on_a_former_chain_database_stamp_once(legacy_db: Database) -> None:
    results = await asyncio.to_thread(_concurrently, legacy_db.url, WORKERS)
    ran = [r for r in results if r]  # one worker stamped and applied what came after the baselines
    assert len(results) == WORKERS and len(ran) <= 1 and set(ran[0] if ran else []) == _after_baselines()
    async with legacy_db.engine.connect() as conn:
        for schema in ALL:
            assert await conn.run_sync(_heads, schema.version_table) == {_heads_of_branches()[schema.name]}


def test_the_autogen_tool_finds_every_schema_by_convention() -> None:
    from eidcore.migrations.autogen import discover_schemas

    assert [s.name for s in discover_schemas()] == ["eidcore", "issuer", "verifier", "wallet"]


async def test_a_branch_at_a_revision_this_version_does_not_know_is_a_clear_error(empty_url: str) -> None:
    db = Database(empty_url, schemas=[ISSUER_SCHEMA])
    try:
        await db.migrate()
        async with db.engine.begin() as conn:  # as a newer release would leave it
            await conn.execute(text(f"UPDATE {ISSUER_SCHEMA.version_table} SET version_num = 'ffffffffffff'"))  # noqa: S608
        with pytest.raises(ConfigurationError, match="cannot migrate the database"):
            await db.migrate()
    finally:
        await db.dispose()
