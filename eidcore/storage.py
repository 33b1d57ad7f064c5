"""Durable and short-lived storage.

- :class:`Database`: SQLModel on SQLAlchemy's asyncio engine; SQLite (aiosqlite) by default, PostgreSQL
  (asyncpg) by URL; Alembic migrations run on start and in tests, one branch per :class:`ServiceSchema`
  (eidcore's registers and each service's tables, registered by the service), under a migration lock
  (see ``eidcore/migrations/README.md``).
- :class:`KeyValueStore`: single-use values with a TTL and **atomic consume** (get-and-delete in one step):
  :class:`MemoryStore` by default, :class:`RedisStore` (``GETDEL``, ``SET NX``) by URL. A value consumed by
  one worker is gone for every other worker sharing the Redis server.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from alembic.util import CommandError
from sqlalchemy import Table, event, inspect, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from eidcore.errors import ConfigurationError, StorageUnavailable

log = logging.getLogger("lommebok.storage")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
#: the single Alembic chain every table was migrated by before each service had its own branch (frozen)
LEGACY_VERSIONS_DIR = MIGRATIONS_DIR / "legacy" / "versions"
#: the version table of that single chain; a database that has one was migrated by it
LEGACY_VERSION_TABLE = "alembic_version"
#: the PostgreSQL advisory lock key under which every process migrates (``pg_advisory_xact_lock``): arbitrary,
#: fixed, and the same in every version (a signed 64-bit integer: the bytes of "lommebok")
MIGRATION_LOCK_KEY = 0x6C6F6D6D65626F6B

#: What a schema's ``models`` may be: the module(s) defining its SQLModel tables, or a callable returning them
#: (imported when the schema is first used: the module may import ``eidcore.storage`` itself).
ModelsSource = ModuleType | Sequence[ModuleType] | Callable[[], ModuleType | Sequence[ModuleType]]


@dataclass(frozen=True)
class ServiceSchema:
    """The tables one service owns and the Alembic branch that migrates them.

    ``name`` is the branch label (the service's name) and names the branch's own version table
    (``alembic_version_<name>``), so branches migrate independently: a process migrates the schemas registered
    with it (:meth:`Database.add_schema`) and leaves the other services' branches alone. ``versions_dir`` holds
    the branch's revisions, ``models`` the module(s) defining its tables. The service passes its schema to
    ``eidcore.web.service_app(..., schema=...)``; eidcore never names a service's modules.
    """

    name: str
    versions_dir: Path
    models: ModelsSource = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,30}", self.name):
            raise ConfigurationError(f"schema name {self.name!r}: lower-case letters, digits and _ only")

    @property
    def version_table(self) -> str:
        """The table holding this branch's current revision."""
        return f"alembic_version_{self.name}"

    def modules(self) -> tuple[ModuleType, ...]:
        """The modules defining this schema's tables (imported now if ``models`` is a callable)."""
        source: Any = self.models
        if callable(source) and not isinstance(source, ModuleType):
            source = source()
        if isinstance(source, ModuleType):
            return (source,)
        return tuple(source)

    def tables(self) -> tuple[Table, ...]:
        """The tables of the SQLModel classes defined in :meth:`modules` (not those they import)."""
        found: dict[str, Table] = {}
        for module in self.modules():
            for obj in vars(module).values():
                if isinstance(obj, type) and issubclass(obj, SQLModel) and obj.__module__ == module.__name__:
                    table = getattr(obj, "__table__", None)
                    if isinstance(table, Table):
                        found[table.name] = table
        return tuple(found.values())


def _register_models() -> ModuleType:
    from eidcore.registers import models

    return models


#: eidcore's own tables: the population and organisation registers (``reg_*``)
EIDCORE_SCHEMA = ServiceSchema("eidcore", MIGRATIONS_DIR / "versions", _register_models)


def private_dir(path: Path) -> None:
    """Create ``path`` (and its parents) for the owner only: mode 0700 whatever the umask.

    An existing directory is left as it is (it may be the operator's).
    """
    if path.is_dir():
        return
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def private_file(path: Path) -> None:
    """Create an empty ``path`` with mode 0600 whatever the umask (before SQLite creates it 0644 & ~umask).

    SQLite gives its ``-wal`` and ``-shm`` files the mode of the database file, so they follow.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


class Database:
    """An async SQL database (SQLite by default, PostgreSQL by URL)."""

    def __init__(self, url: str, *, echo: bool = False, schemas: Iterable[ServiceSchema] = ()) -> None:
        self.url = url
        self._schemas: dict[str, ServiceSchema] = {EIDCORE_SCHEMA.name: EIDCORE_SCHEMA}
        for schema in schemas:
            self.add_schema(schema)
        # hide_parameters: a failed statement's error (and so every log line quoting it) carries no bound values,
        # which are personal data (national identity numbers, names); the statement text itself is kept
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if url.startswith("sqlite"):
            path = url.split("///", 1)[1].split("?", 1)[0] if "///" in url else ""
            if path and path != ":memory:" and not path.startswith("file:"):
                private_dir(Path(path).parent)
                private_file(Path(path))
            kwargs["connect_args"] = {"timeout": 30}
        else:
            # No pre-ping: on asyncpg it costs three extra round trips per checkout (about 40 % of a short
            # write). A connection broken by a server restart is detected on use instead: SQLAlchemy then
            # discards the whole pool and the request answers 503 (eidcore.web), the next one reconnects.
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=False, pool_recycle=1800)
        try:
            self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        except (SQLAlchemyError, ValueError, ModuleNotFoundError) as exc:
            raise ConfigurationError(f"cannot use database URL: {exc}") from exc
        if url.startswith("sqlite"):
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            # aiosqlite logs every call with its arguments (the bound values) at DEBUG: never let it
            logging.getLogger("aiosqlite").setLevel(logging.INFO)
        event.listen(self.engine.sync_engine, "handle_error", _scrub_driver_error)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session; commit explicitly. Rolled back if the block raises."""
        async with AsyncSession(self.engine, expire_on_commit=False) as s:
            try:
                yield s
            except BaseException:
                await s.rollback()
                raise

    async def ping(self) -> None:
        """Raise :class:`StorageUnavailable` unless the database answers ``SELECT 1``."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError) as exc:
            raise StorageUnavailable(f"database unreachable: {type(exc).__name__}") from exc

    def add_schema(self, schema: ServiceSchema) -> None:
        """Migrate ``schema`` too (idempotent); two different schemas under one name are a configuration error."""
        existing = self._schemas.get(schema.name)
        if existing is not None and existing != schema:
            raise ConfigurationError(f"two schemas are named {schema.name!r}: {existing.versions_dir}, "
                                     f"{schema.versions_dir}")
        self._schemas[schema.name] = schema

    @property
    def schemas(self) -> tuple[ServiceSchema, ...]:
        """The registered schemas, eidcore's first."""
        return tuple(self._schemas.values())

    def tables(self) -> list[Table]:
        """Every table of the registered schemas, parents before the tables referring to them."""
        tables = {t.name: t for schema in self.schemas for t in schema.tables()}
        return [t for t in SQLModel.metadata.sorted_tables if t.name in tables]

    async def migrate(self) -> list[str]:
        """Bring every registered schema to its newest revision (idempotent; safe to run on every start).

        Several processes may start at once: on PostgreSQL the whole upgrade runs in one transaction under a
        transaction-level advisory lock (``pg_advisory_xact_lock``), on SQLite in a ``BEGIN IMMEDIATE``
        transaction (the database's write lock), so one process migrates and the others then find the schema
        at its heads. A database migrated by the former single chain is first brought to that chain's heads and
        each branch stamped at its baseline, which creates exactly those tables. Returns the revisions this
        call applied (empty when the schema was already current).
        """
        schemas = self.schemas
        for schema in schemas:
            schema.modules()  # import the models: their tables are the autogenerate target and the test fixtures'
        applied: list[str] = []
        try:
            async with self.engine.begin() as conn:
                if self.is_sqlite:
                    await conn.exec_driver_sql("BEGIN IMMEDIATE")
                else:  # released by the commit (or the rollback) of this transaction
                    await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
                await conn.run_sync(_upgrade, schemas, applied)
        except (SQLAlchemyError, OSError) as exc:
            raise StorageUnavailable(f"cannot migrate the database: {redact_db_message(str(exc))}") from exc
        except CommandError as exc:  # e.g. a version table naming a revision of a newer release
            raise ConfigurationError(f"cannot migrate the database: {exc}") from exc
        if applied:
            log.info("migrated the database: %s", ", ".join(applied))
        return applied

    async def dispose(self) -> None:
        await self.engine.dispose()


def alembic_config(schemas: Sequence[ServiceSchema], *, legacy: bool = False) -> Any:
    """An Alembic config whose ``version_locations`` are the schemas' directories (or the legacy chain's).

    ``script_location`` is ``eidcore/migrations`` (its ``env.py`` runs on the connection in
    ``config.attributes["connection"]``).
    """
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    dirs = [LEGACY_VERSIONS_DIR] if legacy else [s.versions_dir for s in schemas]
    cfg.set_main_option("version_locations", os.pathsep.join(str(d) for d in dirs))
    return cfg


def baseline(script: Any, schema: ServiceSchema) -> Any:
    """The first revision of ``schema``'s branch (the one carrying its label)."""
    roots = [r for r in script.get_bases() if schema.name in (script.get_revision(r).branch_labels or ())]
    if len(roots) != 1:
        raise ConfigurationError(f"schema {schema.name!r}: expected one base revision labelled {schema.name!r} "
                                 f"in {schema.versions_dir}, found {len(roots)}")
    return script.get_revision(roots[0])


def _upgrade(connection: Any, schemas: Sequence[ServiceSchema], applied: list[str]) -> None:
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = alembic_config(schemas)
    cfg.attributes.update(connection=connection, applied=applied)
    script = ScriptDirectory.from_config(cfg)
    legacy_done = False
    for schema in schemas:
        if not any(schema.name in (script.get_revision(r).branch_labels or ()) for r in script.get_bases()):
            continue  # a branch without revisions yet (its first is being written)
        cfg.attributes["version_table"] = schema.version_table
        current = MigrationContext.configure(connection, opts={"version_table": schema.version_table})
        if not current.get_current_heads() and _has_legacy_chain(connection):
            if not legacy_done:
                legacy = alembic_config((), legacy=True)
                legacy.attributes.update(connection=connection, applied=applied, version_table=LEGACY_VERSION_TABLE)
                try:  # an older database: first to the single chain's heads, which every baseline equals
                    command.upgrade(legacy, "heads")
                except CommandError as exc:
                    raise ConfigurationError(f"the database's {LEGACY_VERSION_TABLE} names a revision this "
                                             f"version does not know: {exc}") from exc
                legacy_done = True
            base = baseline(script, schema)
            if getattr(base.module, "legacy_baseline", False):
                command.stamp(cfg, base.revision)
        command.upgrade(cfg, f"{schema.name}@head")


def _has_legacy_chain(connection: Any) -> bool:
    if not inspect(connection).has_table(LEGACY_VERSION_TABLE):
        return False
    rows = connection.execute(text(f"SELECT count(*) FROM {LEGACY_VERSION_TABLE}")).scalar_one()  # noqa: S608
    return bool(rows > 0)


#: values a database or driver quotes in its error messages (PostgreSQL DETAIL ``Key (col)=(value)``,
#: ``invalid input syntax for type integer: "value"``, asyncpg's ``invalid input for query argument $1: 'value'``)
_QUOTED_VALUES = (
    (re.compile(r"=\(.*?\)(?= already exists| is not present| is still referenced|\.|$)", re.S), "=(…)"),
    (re.compile(r"(Failing row contains )\(.*\)", re.S), r"\1(…)"),
    (re.compile(r"'[^']*'"), "'…'"),
    (re.compile(r'((?:: |value |input |string |literal )")[^"]*"'), r'\1…"'),
    (re.compile(r"\d{6,}"), "…"),
)


def redact_db_message(message: str) -> str:
    """A driver or server error message without the values it quotes (identifiers and codes are kept)."""
    for pattern, repl in _QUOTED_VALUES:
        message = pattern.sub(repl, message)
    return message


def _scrub_driver_error(context: Any) -> None:
    """SQLAlchemy ``handle_error``: take personal data out of the driver's exceptions before anyone logs them.

    ``hide_parameters`` keeps the bound values out of SQLAlchemy's own text, but the driver's messages quote
    them too (PostgreSQL's ``DETAIL``, a bad cast, asyncpg's argument errors), in the exception and in the
    chained exceptions a traceback prints. Their type, SQLSTATE and constraint name stay, so callers still
    tell a unique violation from a lost connection.
    """
    seen: set[int] = set()
    wrapper: BaseException | None = context.sqlalchemy_exception  # its message was built from the driver's
    if wrapper is not None and wrapper.args and isinstance(wrapper.args[0], str):
        wrapper.args = (redact_db_message(wrapper.args[0]), *wrapper.args[1:])
    exc: BaseException | None = context.original_exception
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if exc.args and isinstance(exc.args[0], str):
            exc.args = (redact_db_message(exc.args[0]), *exc.args[1:])
        for attr in ("detail", "hint"):  # asyncpg's PostgresMessage prints them after the message
            if isinstance(getattr(exc, attr, None), str):
                try:
                    setattr(exc, attr, None)
                except AttributeError:  # pragma: no cover - a read-only attribute of another driver
                    pass
        exc = exc.__cause__ or exc.__context__


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


# --------------------------------------------------------------------------------------------------
# Key-value store for single-use values
# --------------------------------------------------------------------------------------------------


class KeyValueStore(Protocol):
    """Short-lived values with a TTL. ``consume`` is atomic across every worker sharing the store."""

    async def put(self, key: str, value: bytes, ttl: int, *, only_if_absent: bool = False) -> bool:
        """Store ``value`` for ``ttl`` seconds; with ``only_if_absent`` returns False if the key exists."""
        ...

    async def get(self, key: str) -> bytes | None: ...

    async def consume(self, key: str) -> bytes | None:
        """Get and delete in one atomic step: at most one caller ever receives the value."""
        ...

    async def delete(self, key: str) -> None: ...

    async def incr(self, key: str, ttl: int) -> int:
        """Increment a counter (created at 1 with ``ttl``); returns the new value."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


@dataclass
class MemoryStore:
    """In-process store (the embedded default; only valid with a single worker)."""

    namespace: str = "lommebok"
    _data: dict[str, tuple[bytes, float]] = field(default_factory=dict)
    _now: Any = time.monotonic

    def _k(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    def _live(self, k: str) -> bytes | None:
        item = self._data.get(k)
        if item is None:
            return None
        if item[1] <= self._now():
            del self._data[k]
            return None
        return item[0]

    async def put(self, key: str, value: bytes, ttl: int, *, only_if_absent: bool = False) -> bool:
        k = self._k(key)
        if only_if_absent and self._live(k) is not None:
            return False
        self._data[k] = (bytes(value), self._now() + ttl)
        if len(self._data) % 1024 == 0:
            self._sweep()
        return True

    async def get(self, key: str) -> bytes | None:
        return self._live(self._k(key))

    async def consume(self, key: str) -> bytes | None:
        # No await between read and delete: atomic within the event loop.
        k = self._k(key)
        value = self._live(k)
        if value is not None:
            del self._data[k]
        return value

    async def delete(self, key: str) -> None:
        self._data.pop(self._k(key), None)

    async def incr(self, key: str, ttl: int) -> int:
        k = self._k(key)
        current = self._live(k)
        n = int(current or b"0") + 1
        expires = self._data[k][1] if current is not None else self._now() + ttl
        self._data[k] = (str(n).encode(), expires)
        return n

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._data.clear()

    def _sweep(self) -> None:
        now = self._now()
        for k in [k for k, (_, exp) in self._data.items() if exp <= now]:
            del self._data[k]


class RedisStore:
    """Redis-backed store; ``consume`` is ``GETDEL`` (Redis >= 6.2), so it is atomic across processes."""

    def __init__(self, url: str, *, namespace: str = "lommebok") -> None:
        import redis.asyncio as aioredis

        self.namespace = namespace
        self._redis = aioredis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
        self._url = url

    def _k(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    async def _call(self, coro: Any) -> Any:
        from redis.exceptions import RedisError

        try:
            return await coro
        except (TimeoutError, RedisError, OSError) as exc:
            raise StorageUnavailable(f"redis unreachable: {type(exc).__name__}") from exc

    async def put(self, key: str, value: bytes, ttl: int, *, only_if_absent: bool = False) -> bool:
        ok = await self._call(self._redis.set(self._k(key), value, ex=ttl, nx=only_if_absent))
        return bool(ok)

    async def get(self, key: str) -> bytes | None:
        value = await self._call(self._redis.get(self._k(key)))
        return bytes(value) if value is not None else None

    async def consume(self, key: str) -> bytes | None:
        value = await self._call(self._redis.getdel(self._k(key)))
        return bytes(value) if value is not None else None

    async def delete(self, key: str) -> None:
        await self._call(self._redis.delete(self._k(key)))

    async def incr(self, key: str, ttl: int) -> int:
        k = self._k(key)
        pipe = self._redis.pipeline(transaction=True)
        pipe.incr(k)
        pipe.expire(k, ttl, nx=True)
        n, _ = await self._call(pipe.execute())
        return int(n)

    async def ping(self) -> None:
        await self._call(self._redis.ping())

    async def close(self) -> None:
        await self._redis.aclose()


def open_store(redis_url: str | None, *, namespace: str = "lommebok") -> KeyValueStore:
    """The Redis store when a URL is given, else the in-memory store."""
    if redis_url:
        return RedisStore(redis_url, namespace=namespace)
    return MemoryStore(namespace=namespace)
