"""Every command that talks to a server is told which one (``--url`` / ``LOMMEBOK_URL``, or the service's own
URL): without it, it refuses before reading or sending a key or token; a wrong one is a clean error."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import httpx
import pytest
from click.testing import CliRunner
from lommebok_testing import free_port

from lommebok.cli import main


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean LOMMEBOK_ environment with an admin token set, and a relying-party key file."""
    for var in [v for v in os.environ if v.startswith("LOMMEBOK_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("LOMMEBOK_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("LOMMEBOK_ISSUER_ADMIN_TOKEN", "t" * 43)
    path = tmp_path / "rp-key"
    path.write_text("rp-secret\n")
    return path


@pytest.fixture
def no_requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    sent: list[str] = []

    def refuse(*args: Any, **kw: Any) -> httpx.Response:
        sent.append(str(args))
        raise AssertionError(f"a request was sent: {args}")

    monkeypatch.setattr(httpx, "post", refuse)
    monkeypatch.setattr(httpx, "request", refuse)
    yield sent
    assert not sent


COMMANDS = [
    ["issuer", "offer", "--person", "kari", "--credential", "pid_vc_sd_jwt"],
    ["issuer", "revoke", "--person", "kari"],
    ["issuer", "reconcile"],
    ["verifier", "request", "--profile", "age-over-18"],
    ["verifier", "result", "some-transaction"],
    ["wallet", "register"],
    ["wallet", "log"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_no_server_named_no_request(key_file: Path, no_requests: list[str], args: list[str]) -> None:
    if args[0] == "verifier":
        args = [*args, "--key-file", str(key_file)]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == click.UsageError.exit_code, r.output
    assert "pass --url (or set LOMMEBOK_URL)" in r.output
    assert "Traceback" not in r.output


def test_the_url_may_come_from_the_environment(key_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()  # nothing listens there
    monkeypatch.setenv("LOMMEBOK_URL", f"http://127.0.0.1:{port}")
    r = CliRunner().invoke(main, ["issuer", "offer", "--person", "kari", "--credential", "pid_vc_sd_jwt"])
    assert r.exit_code == 1
    assert f"cannot reach the issuer at http://127.0.0.1:{port}/issuer" in r.output


def test_the_deployments_configured_public_url_serves_on_its_machine(key_file: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A cron job sharing the server's environment: LOMMEBOK_PUBLIC_BASE_URL names the deployment (never a
    default: LOMMEBOK_PORT alone names no server)."""
    port = free_port()
    monkeypatch.setenv("LOMMEBOK_PORT", str(port))
    r = CliRunner().invoke(main, ["issuer", "reconcile"])
    assert r.exit_code == click.UsageError.exit_code and "pass --url" in r.output
    monkeypatch.setenv("LOMMEBOK_PUBLIC_BASE_URL", f"http://localhost:{port}")
    r = CliRunner().invoke(main, ["issuer", "reconcile"])
    assert r.exit_code == 1
    assert f"cannot reach the issuer at http://localhost:{port}/issuer" in r.output


def test_a_wrong_url_is_a_clean_error(key_file: Path) -> None:
    port = free_port()
    r = CliRunner().invoke(main, ["verifier", "request", "--profile", "age-over-18", "--key-file", str(key_file),
                                  "--verifier-url", f"http://127.0.0.1:{port}/verifier"])
    assert r.exit_code == 1
    assert f"the verifier at http://127.0.0.1:{port}/verifier/rp/transactions does not answer" in r.output
    assert "Traceback" not in r.output


def test_a_local_command_needs_no_server(key_file: Path, no_requests: list[str], tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["wallet", "--wallet-dir", str(tmp_path / "w"), "list"])
    assert r.exit_code == 0, r.output
    assert "no credentials yet" in r.output


def test_the_demo_names_its_server_or_stays_in_process(key_file: Path, no_requests: list[str]) -> None:
    r = CliRunner().invoke(main, ["demo", "--no-embedded"])
    assert r.exit_code == click.UsageError.exit_code and "pass --url" in r.output
    r = CliRunner().invoke(main, ["demo", "--no-embedded", "--issuer-url", "http://127.0.0.1:1/issuer"])
    assert r.exit_code == click.UsageError.exit_code and "--verifier-url" in r.output
