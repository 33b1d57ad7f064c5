"""The issue's story (story.py) with the services started separately: ``lommebok serve --service issuer``,
``--service verifier`` and ``--service wallet`` as three processes on three ports, each told where the others are
(``LOMMEBOK_ISSUER_URL``, ``LOMMEBOK_VERIFIER_URL``, ``LOMMEBOK_WALLET_URL``), sharing the data directory (dev
PKI, secrets), PostgreSQL and Redis; the issuer requires wallet attestations. Then ``lommebok demo`` against them
(``--issuer-url``, ``--verifier-url``, ``--wallet-url``)."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from eidcore.clock import SYSTEM_CLOCK
from eidcore.keys import load_certificates
from wallet_api.device_attestation import load_or_create_device_maker

from .procs import LOMMEBOK, clean_env, free_port, process, wait_healthy
from .story import Deployment, run_story

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

#: the issuer's status list ttl in this deployment: the story waits it out for real (the verifier caches the list)
STATUS_TTL = 3


def test_the_issue_story_with_three_processes(tmp_path: Path, clean_postgres_url: str, redis_url: str) -> None:
    ports = {s: free_port() for s in ("issuer", "verifier", "wallet")}
    urls = {s: f"http://localhost:{p}/{s}" for s, p in ports.items()}
    data = tmp_path / "var"
    admin_token = secrets.token_urlsafe(32)
    env = clean_env(LOMMEBOK_DATA_DIR=str(data), LOMMEBOK_DATABASE_URL=clean_postgres_url,
                    LOMMEBOK_REDIS_URL=redis_url, LOMMEBOK_ISSUER_ADMIN_TOKEN=admin_token,
                    LOMMEBOK_ISSUER_URL=urls["issuer"], LOMMEBOK_VERIFIER_URL=urls["verifier"],
                    LOMMEBOK_WALLET_URL=urls["wallet"], LOMMEBOK_ISSUER__REQUIRE_WALLET_ATTESTATION="true",
                    LOMMEBOK_STATUS_LIST_TTL=str(STATUS_TTL))

    def serve(service: str) -> Any:
        return process(["serve", "--service", service, "--port", str(ports[service])], env)

    with ExitStack() as procs:
        # the issuer first: it creates the shared dev PKI and migrates the shared database; then the other two
        issuer = procs.enter_context(serve("issuer"))
        wait_healthy(issuer, urls["issuer"])
        others = {s: procs.enter_context(serve(s)) for s in ("verifier", "wallet")}
        for s, proc in others.items():
            wait_healthy(proc, urls[s])
        # each process serves only its own service
        assert httpx.get(f"http://localhost:{ports['issuer']}/wallet/health").status_code == 404
        assert httpx.get(f"http://localhost:{ports['wallet']}/issuer/health").status_code == 404

        async def main() -> None:
            async def really_wait(ttl: int) -> None:
                assert ttl == STATUS_TTL  # the issuer took LOMMEBOK_STATUS_LIST_TTL
                await asyncio.sleep(ttl + 1)  # the verifier's cached copy of the list expires

            async with httpx.AsyncClient(timeout=30) as http:
                d = Deployment(
                    http=http, issuer=urls["issuer"], verifier=urls["verifier"], wallet=urls["wallet"],
                    admin_token=admin_token, rp_key=(data / "secrets" / "rp-demo").read_text().strip(),
                    trust_anchors=load_certificates(data / "keys" / "trust-anchors.pem"), clock=SYSTEM_CLOCK,
                    device=load_or_create_device_maker(data / "keys", clock=SYSTEM_CLOCK),
                    wait_past_status_ttl=really_wait)
                await run_story(d, tmp_path)

        asyncio.run(main())

        # `lommebok demo` against the three processes
        demo = subprocess.run([*LOMMEBOK, "demo", "--url", "http://localhost:9", "--data-dir", str(data),
                               "--issuer-url", urls["issuer"], "--verifier-url", urls["verifier"],
                               "--wallet-url", urls["wallet"], "--wait", "20"],
                              env=clean_env(LOMMEBOK_ISSUER_ADMIN_TOKEN=admin_token), capture_output=True, text=True,
                              timeout=120)
        assert demo.returncode == 0, demo.stdout + demo.stderr
        out = " ".join(demo.stdout.split())
        assert "refused: status.revoked" in out and "The whole story ran." in out
