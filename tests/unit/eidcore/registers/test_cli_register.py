"""`lommebok register seed` and `lommebok register list` against the embedded SQLite default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from eidcore.registers import STORY_PERSONS
from lommebok.cli_register import register_group


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.delenv("LOMMEBOK_DATABASE_URL", raising=False)
    monkeypatch.setenv("LOMMEBOK_DATA_DIR", str(tmp_path / "var"))
    return CliRunner()


def test_seed_is_idempotent_and_list_prints_the_story_persons(runner: CliRunner) -> None:
    first = runner.invoke(register_group, ["seed"])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("seeded ")
    second = runner.invoke(register_group, ["seed"])
    assert second.exit_code == 0 and "already seeded" in second.output

    listed = runner.invoke(register_group, ["list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    by_alias = {r["alias"]: r for r in rows if r["alias"]}
    assert set(by_alias) == set(STORY_PERSONS)
    assert by_alias["amir"]["identifier"] is None
    assert "D-number" in by_alias["piotr"]["tags"]
    assert by_alias["emma"]["age"] == 10

    table = runner.invoke(register_group, ["list", "--limit", "3"], env={"COLUMNS": "250"})
    assert table.exit_code == 0 and "amir" in table.output and "unique identity" in table.output


def test_list_on_an_empty_register_says_how_to_seed(runner: CliRunner) -> None:
    result = runner.invoke(register_group, ["list"])
    assert result.exit_code == 0 and "register seed" in result.output


def test_bad_settings_exit_non_zero_with_a_message(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOMMEBOK_DATABASE_URL", "mysql://nope")
    result = runner.invoke(register_group, ["seed"])
    assert result.exit_code == 1
    assert "LOMMEBOK_DATABASE_URL" in result.output
