"""What the runtime creates on disk is the owner's only, whatever the process umask: the data directory (0700)
and the SQLite database with its -wal and -shm files (0600), which hold every durable record."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import text

from eidcore.runtime import Runtime
from eidcore.settings import Settings
from eidcore.storage import Database


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


async def test_data_dir_and_sqlite_files_are_private_whatever_the_umask(tmp_path: Path, umask_000: None) -> None:
    settings = Settings(data_dir=tmp_path / "var", seed_register=False)
    rt = Runtime(settings)
    try:
        await rt.start()
        async with rt.db.engine.begin() as conn:  # a write, so SQLite has its -wal and -shm files
            await conn.execute(text("CREATE TABLE umask_probe (x INTEGER)"))
        var = tmp_path / "var"
        assert _mode(var) == 0o700
        files = [f for f in var.iterdir() if f.name.startswith("lommebok.db")]
        assert var / "lommebok.db" in files
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
        keys = settings.effective_keys_dir
        assert _mode(keys) == 0o700 and all(_mode(f) == 0o600 for f in keys.glob("*.key.pem"))
    finally:
        await rt.stop()


async def test_a_database_url_names_a_new_sqlite_file_private(tmp_path: Path, umask_000: None) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'new' / 'x.db'}")
    try:
        await db.ping()
    finally:
        await db.dispose()
    assert _mode(tmp_path / "new") == 0o700 and _mode(tmp_path / "new" / "x.db") == 0o600
