"""The issuance record writer on SQLite and PostgreSQL: one atomic multi-row INSERT, a clash reported as
:class:`DuplicateRecord` with nothing written, and (PostgreSQL) its pool closed when the engine is disposed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import func, select

from eidcore.storage import Database
from issuer.models import IssCredential, IssStatusList
from issuer.records import DuplicateRecord, RecordWriter


def _row(list_id: str, idx: int) -> dict[str, Any]:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return {"id": str(uuid.uuid4()), "type_id": "pid", "configuration_id": "pid_vc_sd_jwt", "format": "dc+sd-jwt",
            "subject": "s", "holder_jkt": "j", "instance_jkt": None, "client_id": None, "list_id": list_id,
            "idx": idx, "status": 0, "batch_id": "b", "loa": "high", "issued_at": now, "valid_from": now,
            "valid_until": now + timedelta(days=1), "updated_at": now}


async def _count(db: Database) -> int:
    async with db.session() as s:
        return int((await s.exec(select(func.count()).select_from(IssCredential))).one())


async def test_batch_insert_is_atomic_and_clashes_are_reported(db: Database) -> None:
    async with db.session() as s:
        s.add(IssStatusList(id="l1", type_id="pid", bits=2, size=64, created_at=datetime.now(UTC)))
        await s.commit()
    writer = RecordWriter(db)
    await writer.insert([_row("l1", 1), _row("l1", 2), _row("l1", 3)])
    assert await _count(db) == 3
    with pytest.raises(DuplicateRecord):
        await writer.insert([_row("l1", 4), _row("l1", 2)])  # idx 2 is taken: nothing of the batch is written
    assert await _count(db) == 3
    await writer.insert([_row("l1", 4)])
    assert await _count(db) == 4
    if not db.is_sqlite:
        assert writer._pool is not None
        await db.dispose()
        assert writer._pool is None, "disposing of the engine terminates the writer's pool"
        await writer.insert([_row("l1", 5)])  # and a new pool is made on demand
        assert await _count(db) == 5
    await writer.close()
