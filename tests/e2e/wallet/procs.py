"""Real ``lommebok serve`` processes for the wallet's end-to-end tests (the all-in-one server, or one service)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

LOMMEBOK = [sys.executable, "-m", "lommebok"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any LOMMEBOK_ setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOMMEBOK_")}
    env.update(extra)
    return env


@contextmanager
def process(args: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    """A ``lommebok`` process, terminated (then killed) on exit."""
    proc = subprocess.Popen([*LOMMEBOK, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_healthy(proc: subprocess.Popen[str], url: str, timeout: float = 60) -> None:
    """Wait until ``<url>/health`` answers 200 (fails with the process's output if it exits first)."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"{url} exited: {proc.stdout.read() if proc.stdout else ''}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not come up in {timeout:.0f} s")
        time.sleep(0.2)


@contextmanager
def serving(tmp: Path, **extra: str) -> Iterator[str]:
    """``lommebok serve`` (all three services) on a free port with its data under ``tmp/var``; yields its URL."""
    port = free_port()
    with process(["serve", "--port", str(port)], clean_env(LOMMEBOK_DATA_DIR=str(tmp / "var"), **extra)) as proc:
        url = f"http://localhost:{port}"
        wait_healthy(proc, f"{url}/wallet")
        yield url
