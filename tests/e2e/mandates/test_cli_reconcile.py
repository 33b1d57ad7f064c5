"""``lommebok issuer reconcile`` against ``lommebok serve --service issuer`` as a real process over HTTP: the
first run records the seeded mandates by law (terje's guardianship for sigrid, and every parental responsibility
for a child under 18, e.g. kari and ola for emma and jonas), the second changes nothing."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

LOMMEBOK = [sys.executable, "-m", "lommebok"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_reconcile_command_is_idempotent(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOMMEBOK_")}
    env.update(LOMMEBOK_DATA_DIR=str(tmp_path / "var"), LOMMEBOK_PUBLIC_BASE_URL=f"http://localhost:{port}")
    proc = subprocess.Popen([*LOMMEBOK, "serve", "--port", str(port), "--service", "issuer"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                if httpx.get(f"http://localhost:{port}/issuer/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.2)

        def run() -> str:
            done = subprocess.run([*LOMMEBOK, "issuer", "reconcile"], env=env, capture_output=True, text=True,
                                  timeout=60, check=False)
            assert done.returncode == 0, done.stderr
            return done.stdout.strip()

        first = re.fullmatch(r"mandates by law in force: (\d+), new: (\d+), ended: 0, credentials revoked: 0", run())
        assert first is not None and first[1] == first[2] and int(first[1]) >= 5
        assert run() == f"mandates by law in force: {first[1]}, new: 0, ended: 0, credentials revoked: 0"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
