"""The distribution's metadata builds without warnings (PEP 621 / PEP 639 as setuptools reads them)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_the_metadata_builds_without_warnings(tmp_path: Path) -> None:
    # a copy of what the build reads, so nothing is written into the working tree
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for pkg in ("lommebok", "eidcore", "issuer", "verifier", "wallet_api"):
        shutil.copytree(ROOT / pkg, src / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "meta").mkdir()
    code = ("from setuptools import build_meta; import sys; "
            "print(build_meta.prepare_metadata_for_build_wheel(sys.argv[1]))")
    out = subprocess.run([sys.executable, "-W", "always", "-c", code, str(tmp_path / "meta")], cwd=src,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Warning" not in out.stderr + out.stdout, out.stderr
    metadata = (tmp_path / "meta" / out.stdout.strip().splitlines()[-1] / "METADATA").read_text()
    assert "License-Expression: Apache-2.0" in metadata
