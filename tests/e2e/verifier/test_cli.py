"""`lommebok verifier request/result` against `lommebok serve --service verifier` as a real process over HTTP."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from eidcore.clock import SYSTEM_CLOCK
from eidcore.credential_types import load_credential_types
from eidcore.formats.mdoc import issue_mdoc, status_list_reference
from eidcore.keys import SigningIdentity, load_keyset
from eidcore.status_list import JWT_MEDIA_TYPE, StatusList, StatusReference, issue_jwt
from wallet_api.holder import vp

LOMMEBOK = [sys.executable, "-m", "lommebok"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _StatusServer:
    """A status list token (one valid entry, signed by the dev issuer key) at ``http://127.0.0.1:<port>/status/1``:
    the PID carries status, so the verifier refuses one without a status reference."""

    def __init__(self) -> None:
        self.token = b""
        token = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", JWT_MEDIA_TYPE)
                self.end_headers()
                self.wfile.write(token.token)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.prefix = f"http://127.0.0.1:{self.server.server_address[1]}/status/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def sign(self, issuer: SigningIdentity) -> StatusReference:
        uri = f"{self.prefix}1"
        self.token = issue_jwt(StatusList(16, 2), uri=uri, key=issuer.signing_key(), clock=SYSTEM_CLOCK, ttl=300,
                               include_x5c=True).encode()
        return StatusReference(uri=uri, idx=3)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _env(tmp: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOMMEBOK_")}
    env.update(LOMMEBOK_DATA_DIR=str(tmp / "var"), LOMMEBOK_PUBLIC_BASE_URL=f"http://localhost:{port}",
               LOMMEBOK_SEED_REGISTER="false")
    return env


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LOMMEBOK, "verifier", *args], env=env, capture_output=True, text=True, timeout=60,
                          check=False)


@pytest.mark.slow
async def test_cli_request_then_result_over_http(tmp_path: Path) -> None:
    port = _free_port()
    env = _env(tmp_path, port)
    base = f"http://localhost:{port}"
    status = _StatusServer()
    (tmp_path / "var" / "verifier").mkdir(parents=True)
    (tmp_path / "var" / "verifier" / "config.json").write_text(json.dumps({"status_list_prefixes": [status.prefix]}))
    proc = subprocess.Popen([*LOMMEBOK, "serve", "--port", str(port), "--service", "verifier"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                if httpx.get(f"{base}/verifier/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.2)
        created = _cli(env, "request", "--profile", "age-over-18", "--param", "format=mso_mdoc",
                       "--response-mode", "direct_post")
        assert created.returncode == 0, created.stderr
        uri, tx_line = created.stdout.strip().splitlines()
        assert uri.startswith("openid4vp://?client_id=redirect_uri%3A")
        tx_id = tx_line.removeprefix("transaction: ")
        pending = _cli(env, "result", tx_id)
        assert pending.returncode == 0 and json.loads(pending.stdout)["status"] == "pending"

        keys = load_keyset(tmp_path / "var" / "keys")
        ref = status.sign(keys.issuer)
        ct = load_credential_types().get("pid")
        device = ec.generate_private_key(ec.SECP256R1())
        issued = issue_mdoc(doc_type=ct.doctype, name_spaces=ct.mdoc_namespaces(ct.example),
                            device_key=device.public_key(), issuer_key=keys.issuer.key,
                            issuer_chain=list(keys.issuer.chain),
                            valid_until=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
                            status=status_list_reference(ref.idx, ref.uri))
        async with httpx.AsyncClient() as http:
            answer = await vp.present(http, uri, [vp.HeldMdoc(issued.to_b64u(), device)],
                                      trust_anchors=keys.trust_anchors)
        assert answer.status_code == 200, answer.body
        done = _cli(env, "result", tx_id, "--wait", "--timeout", "20")
        assert done.returncode == 0, done.stderr
        outcome = json.loads(done.stdout)
        assert outcome["status"] == "validated"
        assert outcome["result"]["pid_mdoc"][0]["claims"] == {"eu.europa.ec.eudi.pid.1": {"age_over_18": True}}
        missing = _cli(env, "result", "no-such-transaction")
        assert missing.returncode == 1 and "404" in missing.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        status.close()
