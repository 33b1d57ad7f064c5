"""Writing issuance records (OpenID4VCI 1.0 §8: each issued credential, recorded before the response).

The credential endpoint's one durable write is a single multi-row ``INSERT`` into ``iss_credential`` (atomic on
its own, so no ``BEGIN``/``COMMIT`` round trips). On PostgreSQL it goes through a small asyncpg pool of the
issuer's own (no pre-ping, no per-checkout reset: only these single autocommit statements run on it), which costs
about a quarter of a SQLAlchemy session's CPU time; the pool is terminated when the runtime disposes of its
engine. On SQLite it goes through the shared SQLAlchemy engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from eidcore.errors import StorageUnavailable
from eidcore.storage import Database
from issuer.models import IssCredential

__all__ = ["COLUMNS", "DuplicateRecord", "RecordWriter"]

COLUMNS: tuple[str, ...] = (
    "id", "type_id", "configuration_id", "format", "subject", "holder_jkt", "instance_jkt", "client_id", "list_id",
    "idx", "status", "batch_id", "loa", "issued_at", "valid_from", "valid_until", "updated_at",
)


class DuplicateRecord(Exception):
    """An index (or id) was already taken: the caller draws again."""


class RecordWriter:
    """Inserts a batch of issuance records with one statement (one round trip, durable when it returns)."""

    def __init__(self, db: Database, *, max_connections: int = 8) -> None:
        self.db = db
        self.max_connections = max_connections
        self._pool: Any = None
        self._sql: dict[int, str] = {}
        self._listening = False

    def _statement(self, n: int) -> str:
        sql = self._sql.get(n)
        if sql is None:
            width = len(COLUMNS)
            rows = ", ".join(
                "(" + ", ".join(f"${r * width + c + 1}" for c in range(width)) + ")" for r in range(n))
            # only constant column names and numbered placeholders: the values travel as bind parameters
            sql = f"INSERT INTO iss_credential ({', '.join(COLUMNS)}) VALUES {rows}"  # noqa: S608
            self._sql[n] = sql
        return sql

    async def _asyncpg_pool(self) -> Any:
        if self._pool is None:
            import asyncpg

            url = make_url(self.db.url).set(drivername="postgresql")
            self._pool = await asyncpg.create_pool(
                url.render_as_string(hide_password=False), min_size=1, max_size=self.max_connections,
                max_inactive_connection_lifetime=60.0, reset=_no_reset)
            if not self._listening:
                event.listen(self.db.engine.sync_engine, "engine_disposed", self._on_dispose)
                self._listening = True
        return self._pool

    def _on_dispose(self, _engine: Any) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.terminate()

    async def insert(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert ``rows`` (dicts keyed by :data:`COLUMNS`) atomically; :class:`DuplicateRecord` on a clash."""
        if not rows:
            return
        if self.db.is_sqlite or not self.db.url.startswith("postgresql"):
            try:
                async with self.db.engine.begin() as conn:
                    await conn.execute(insert(IssCredential.__table__), [dict(r) for r in rows])  # type: ignore[attr-defined]
            except IntegrityError as exc:
                raise DuplicateRecord(str(exc.orig)[:200]) from exc
            except (OSError, SQLAlchemyError) as exc:
                raise StorageUnavailable(f"cannot record the issuance: {type(exc).__name__}") from exc
            return
        import asyncpg

        args = [r[c] for r in rows for c in COLUMNS]
        try:
            pool = await self._asyncpg_pool()
            await pool.execute(self._statement(len(rows)), *args)
        except asyncpg.UniqueViolationError as exc:
            raise DuplicateRecord(type(exc).__name__) from exc
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StorageUnavailable(f"cannot record the issuance: {type(exc).__name__}") from exc

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()


async def _no_reset(_conn: Any) -> None:
    """Only single autocommit statements run on the pool: there is no session state to reset."""
