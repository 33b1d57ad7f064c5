"""A failed SQL statement never puts its bound values in an error or a log line.

A security test found a national identity number in a log: SQLAlchemy quotes a failed statement's parameters in
the exception text, and the web layer logs unhandled exceptions with their traceback. The engine hides them.
"""

from __future__ import annotations

import logging
import traceback
from datetime import date
from typing import Any, cast

import httpx
import pytest
from litestar import Litestar, post
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from eidcore.registers.models import RegIdentifier, RegPerson
from eidcore.storage import Database
from eidcore.web import error_handlers

NIN = "17912099997"  # a synthetic national identity number (Tenor style)


async def _insert_orphan_identifier(db: Database) -> None:
    """An identifier of a person who does not exist: the foreign key fails, with the number as a parameter."""
    async with db.session() as s:
        s.add(RegIdentifier(person_id="no-such-person", type="F", value=NIN, status="in_use"))
        await s.commit()


async def test_an_integrity_error_does_not_carry_the_national_identity_number(db: Database) -> None:
    with pytest.raises(IntegrityError) as caught:
        await _insert_orphan_identifier(db)
    rendered = "".join(traceback.format_exception(caught.value))
    assert NIN not in rendered
    assert "hidden" in str(caught.value)  # the statement is still there, its values are not


async def test_a_unique_violation_does_not_carry_the_national_identity_number(db: Database) -> None:
    async with db.session() as s:
        s.add(RegPerson(id="p1", given_name="Test", family_name="Person", birth_date=date(1999, 12, 17),
                        status="bosatt", identity_verification="verified"))
        await s.commit()
    async with db.session() as s:
        s.add(RegIdentifier(person_id="p1", type="F", value=NIN, status="in_use"))
        await s.commit()
    with pytest.raises(IntegrityError) as caught:
        async with db.session() as s:
            s.add(RegIdentifier(person_id="p1", type="F", value=NIN, status="in_use"))
            await s.commit()
    rendered = "".join(traceback.format_exception(caught.value))
    assert NIN not in rendered and "unique" in rendered.lower()


@pytest.mark.parametrize("sql", [
    "SELECT CAST(:v AS INTEGER)",  # asyncpg refuses the argument, quoting it
    "SELECT CAST(CAST(:v AS TEXT) AS INTEGER)",  # the server refuses the cast, quoting the value
    "SELECT CAST(CAST(:v AS TEXT) AS DATE)",
    "SELECT no_such_function(:v)",
])
async def test_a_bad_value_error_does_not_carry_the_national_identity_number(db: Database, sql: str) -> None:
    if db.is_sqlite and "no_such_function" not in sql:
        pytest.skip("SQLite casts anything")
    async with db.engine.connect() as conn:
        with pytest.raises(DBAPIError) as caught:
            await conn.execute(text(sql), {"v": NIN})
    assert NIN not in "".join(traceback.format_exception(caught.value))


class _Collect(logging.Handler):
    """Every record as a log file would hold it: message and formatted traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


async def test_the_web_layer_logs_no_national_identity_number_from_a_database_error(db: Database) -> None:
    @post("/identifiers")
    async def add() -> None:
        await _insert_orphan_identifier(db)

    app = Litestar([add], exception_handlers=error_handlers("oauth"))
    collect = _Collect()
    root = logging.getLogger()
    root.addHandler(collect)
    old_level = root.level
    root.setLevel(logging.DEBUG)  # even at DEBUG (aiosqlite logs every call with its arguments there)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=cast(Any, app)),
                                     base_url="http://test") as client:
            r = await client.post("/identifiers")
    finally:
        root.removeHandler(collect)
        root.setLevel(old_level)
    assert r.status_code == 500 and NIN not in r.text
    logged = "\n".join(collect.lines)
    assert "IntegrityError" in logged  # the failure is logged, with its traceback...
    assert NIN not in logged  # ...without the number
