"""`lommebok serve` as a real process over HTTP, and the CLI's clear failures on bad configuration."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from lommebok_testing import LOMMEBOK, env_for, free_port, run_cli, serving, stop, wait_healthy

ISSUER_METADATA = "/.well-known/openid-credential-issuer/issuer"


def test_serve_runs_all_three_services(tmp_path: Path) -> None:
    with serving(tmp_path) as (base, proc):
        for service in ("issuer", "verifier", "wallet"):
            assert httpx.get(f"{base}/{service}/health").json() == {"status": "ok"}
            assert httpx.get(f"{base}/{service}/ready").json()["status"] == "ok"
        assert "Lommebok" in httpx.get(f"{base}/").text
    banner = proc.stdout.read() if proc.stdout else ""
    for service in ("issuer", "verifier", "wallet"):  # one admin token per service, each in its own 0600 file
        token_file = tmp_path / "var" / "secrets" / f"admin-token-{service}"
        assert f"{service} admin API bearer token: {token_file}" in banner
        assert token_file.stat().st_mode & 0o077 == 0
    assert f"relying-party API key: {tmp_path / 'var' / 'secrets' / 'rp-demo'}" in banner
    assert (tmp_path / "var" / "lommebok.db").exists()
    assert (tmp_path / "var" / "keys" / "trust-anchors.pem").exists()


def test_serve_one_service_alone(tmp_path: Path) -> None:
    with serving(tmp_path, "--service", "verifier") as (base, _):
        assert httpx.get(f"{base}/verifier/health").status_code == 200
        assert httpx.get(f"{base}/issuer/health").status_code == 404


def test_serve_announces_the_public_url_whatever_it_binds(tmp_path: Path) -> None:
    """Behind a proxy: `LOMMEBOK_PUBLIC_BASE_URL=https://id.example.no lommebok serve --port P` names the public
    URL in its metadata and certificates, not the address it listens on; dev certificates made for another URL
    are re-made."""
    assert run_cli(tmp_path, "keys", "show").returncode == 0  # the dev PKI, made for http://localhost:8000
    with serving(tmp_path, LOMMEBOK_PUBLIC_BASE_URL="https://id.example.no") as (base, proc):
        meta = httpx.get(f"{base}{ISSUER_METADATA}").json()
        assert meta["credential_issuer"] == "https://id.example.no/issuer"
        assert meta["credential_endpoint"] == "https://id.example.no/issuer/credential"
        r = httpx.get(f"{base}/.well-known/oauth-authorization-server/issuer")
        assert r.json()["issuer"] == "https://id.example.no/issuer"
    banner = proc.stdout.read() if proc.stdout else ""
    assert "public URL https://id.example.no" in banner
    issuer_cert = x509.load_pem_x509_certificates((tmp_path / "var" / "keys" / "issuer.chain.pem").read_bytes())[0]
    san = issuer_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == ["https://id.example.no/issuer"]


def test_serve_takes_the_port_from_the_environment(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([*LOMMEBOK, "serve"], env=env_for(tmp_path, LOMMEBOK_PORT=str(port)),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_healthy(proc, f"http://127.0.0.1:{port}/issuer/health")
        meta = httpx.get(f"http://127.0.0.1:{port}{ISSUER_METADATA}").json()
        assert meta["credential_issuer"] == f"http://localhost:{port}/issuer"  # the default public URL follows
    finally:
        stop(proc)


@pytest.mark.postgres
@pytest.mark.redis
def test_serve_on_postgres_and_redis(tmp_path: Path, clean_postgres_url: str, redis_url: str) -> None:
    # a clean database: secrets another test's runtime wrapped under its own dev KEK cannot unwrap here
    env = {"LOMMEBOK_DATABASE_URL": clean_postgres_url, "LOMMEBOK_REDIS_URL": redis_url}
    with serving(tmp_path, "--workers", "2", **env) as (base, _):
        port = base.rsplit(":", 1)[1]
        for _ in range(4):  # several requests, so both workers answer
            assert httpx.get(f"{base}/issuer/ready").json()["checks"] == {"database": "ok", "store": "ok"}
            # the workers build their app themselves: the port the command line chose reached them
            meta = httpx.get(f"{base}{ISSUER_METADATA}").json()
            assert meta["credential_issuer"] == f"http://localhost:{port}/issuer"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"LOMMEBOK_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}, "database unreachable"),
        ({"LOMMEBOK_REDIS_URL": "redis://127.0.0.1:1/0"}, "redis unreachable"),
        ({"LOMMEBOK_CONSENT_AGE": "old"}, "LOMMEBOK_CONSENT_AGE"),
        ({"LOMMEBOK_WORKERS": "4"}, "LOMMEBOK_REDIS_URL"),
        # production: one shared admin token is refused, naming the per-service variables; a weak one by its name
        ({"LOMMEBOK_ENVIRONMENT": "production", "LOMMEBOK_ADMIN_TOKEN": "x"}, "LOMMEBOK_VERIFIER_ADMIN_TOKEN"),
        ({"LOMMEBOK_ENVIRONMENT": "production", "LOMMEBOK_ISSUER_ADMIN_TOKEN": "x",
          "LOMMEBOK_VERIFIER_ADMIN_TOKEN": "x" * 43, "LOMMEBOK_WALLET_ADMIN_TOKEN": "x" * 43},
         "LOMMEBOK_ISSUER_ADMIN_TOKEN is too weak"),
    ],
)
def test_serve_refuses_bad_configuration_clearly(tmp_path: Path, extra: dict[str, str], message: str) -> None:
    out = run_cli(tmp_path, "serve", "--port", str(free_port()), **extra)
    assert out.returncode != 0
    assert message in out.stderr
    assert "Traceback" not in out.stderr


def test_serve_refuses_a_corrupt_key_file(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "keys", "show").returncode == 0
    (tmp_path / "var" / "keys" / "verifier.key.pem").write_text("-----BEGIN PRIVATE KEY-----\nnope\n")
    out = run_cli(tmp_path, "serve", "--port", str(free_port()))
    assert out.returncode != 0
    assert "verifier.key.pem is corrupt" in out.stderr
    assert "Traceback" not in out.stderr


def test_keys_show_and_export_trust(tmp_path: Path) -> None:
    out = run_cli(tmp_path, "keys", "show")
    assert out.returncode == 0, out.stderr
    assert "JWK thumbprint (RFC 7638)" in out.stdout and "Lommebok Dev Root CA" in out.stdout
    anchor = tmp_path / "anchor.pem"
    out = run_cli(tmp_path, "keys", "export-trust", "--out", str(anchor))
    assert out.returncode == 0, out.stderr
    root = x509.load_pem_x509_certificate(anchor.read_bytes())
    assert root.subject == root.issuer
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_scripts_exist_and_are_executable() -> None:
    root = Path(__file__).resolve().parents[2]
    for name in ("serve", "test", "bench"):
        assert os.access(root / "scripts" / name, os.X_OK)
    assert shutil.which("bash")


async def test_stack_fixture_serves_every_service(stack: Any) -> None:
    for service in ("issuer", "verifier", "wallet"):
        r = await stack.client.get(f"/{service}/ready")
        assert r.json()["checks"] == {"database": "ok", "store": "ok"}
    # outbound HTTP of the services is routed to the same in-process app
    r = await stack.runtime.http.get(stack.url("/verifier/health"))
    assert r.status_code == 200
