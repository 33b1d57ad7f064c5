"""Helpers shared by tests that run Lommebok as real processes (importable as ``lommebok_testing``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

LOMMEBOK = [sys.executable, "-m", "lommebok"]


def free_port() -> int:
    """A TCP port on the loopback interface that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(tmp: Path, **extra: str) -> dict[str, str]:
    """The process environment without the caller's LOMMEBOK_ settings, with a data dir under ``tmp``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOMMEBOK_")}
    env["LOMMEBOK_DATA_DIR"] = str(tmp / "var")
    env.update(extra)
    return env


@contextmanager
def serving(tmp: Path, *args: str, port: int | None = None, health: str = "/health",
            env: dict[str, str] | None = None, **extra: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Run ``lommebok serve --port P *args`` until the block ends; yields the base URL and the process."""
    port = port or free_port()
    proc = subprocess.Popen(
        [*LOMMEBOK, "serve", "--port", str(port), *args], env=env or env_for(tmp, **extra),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(proc, f"{base}{health}")
        yield base, proc
    finally:
        stop(proc)


def wait_healthy(proc: subprocess.Popen[str], url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stdout.read() if proc.stdout else ''}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"server did not answer {url} in {timeout:.0f} s")
        time.sleep(0.2)


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def run_cli(tmp: Path, *args: str, timeout: float = 120, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LOMMEBOK, *args], env=env_for(tmp, **extra), capture_output=True, text=True,
                          timeout=timeout)


def chromium_path(candidates: Sequence[str] = ("/usr/bin/chromium", "/usr/bin/chromium-browser")) -> str | None:
    for c in candidates:
        if os.access(c, os.X_OK):
            return c
    return None
