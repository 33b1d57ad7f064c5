"""``lommebok register``: seed and list the embedded synthetic registers.

- ``lommebok register seed [--seed N]``: fill an empty register with the synthetic population (idempotent: an
  already-seeded database is left alone, and the command says so).
- ``lommebok register list [--json] [--limit N]``: the persons, with identifier, name, age and what makes each
  one interesting (child, D-number, no number, guardianship, employee of ...).

Settings come from :func:`eidcore.settings.load_settings` (``LOMMEBOK_*``); the database is migrated first.
"""

from __future__ import annotations

import asyncio
import json
import sys

import click

from eidcore.clock import SYSTEM_CLOCK
from eidcore.errors import LommebokError
from eidcore.registers import (
    DEFAULT_SEED,
    SeedResult,
    SqlOrganisationRegister,
    SqlPopulationRegister,
    seed_register,
    summarise,
)
from eidcore.registers.overview import PersonSummary
from eidcore.settings import load_settings
from eidcore.storage import Database

__all__ = ["register_group"]


def _fail(exc: LommebokError) -> None:
    click.echo(f"error: {exc.description}", err=True)
    sys.exit(1)


async def _seed(seed: int) -> SeedResult:
    settings = load_settings()
    db = Database(settings.effective_database_url)
    try:
        await db.migrate()
        return await seed_register(db, seed=seed)
    finally:
        await db.dispose()


async def _list(limit: int | None) -> list[PersonSummary]:
    settings = load_settings()
    db = Database(settings.effective_database_url)
    try:
        await db.migrate()
        return await summarise(SqlPopulationRegister(db), SqlOrganisationRegister(db), clock=SYSTEM_CLOCK, limit=limit)
    finally:
        await db.dispose()


@click.group("register")
def register_group() -> None:
    """The synthetic population and organisation registers."""


@register_group.command("seed")
@click.option("--seed", "seed", type=int, default=DEFAULT_SEED, show_default=True, help="Random seed.")
def seed_command(seed: int) -> None:
    """Create the synthetic population (does nothing if the register is already seeded)."""
    try:
        result = asyncio.run(_seed(seed))
    except LommebokError as exc:
        _fail(exc)
        return
    click.echo(result.message)


@register_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one array of objects) for scripts.")
@click.option("--limit", type=int, default=None, help="At most this many persons.")
def list_command(as_json: bool, limit: int | None) -> None:
    """List persons: identifier, name, age and what makes each one interesting."""
    try:
        rows = asyncio.run(_list(limit))
    except LommebokError as exc:
        _fail(exc)
        return
    if as_json:
        click.echo(json.dumps([r.model_dump(mode="json") for r in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("the register is empty: run `lommebok register seed`")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Synthetic population ({len(rows)} persons)")
    table.add_column("alias")
    table.add_column("identifier")
    table.add_column("name")
    table.add_column("age", justify="right")
    table.add_column("interesting because")
    for r in rows:
        ident = r.identifier or f"uid:{r.person_id[:8]}"
        if r.identifier_type == "D":
            ident += " (D)"
        table.add_row(r.alias or "", ident, r.name, str(r.age), "; ".join(r.tags))
    Console().print(table)
