"""The CLI wallet against `lommebok serve` running as its own process (pre-authorized and authorization code
offers, wallet-initiated issuance with the loopback redirect, deferred issuance, backup and restore), and
`lommebok demo` in-process."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from lommebok.cli import main

from .procs import clean_env, serving

pytestmark = pytest.mark.slow  # the CLI wallet against a server in another process


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """One `lommebok serve` process for this module's CLI tests (status list ttl 2 s); its URL and data dir."""
    tmp = tmp_path_factory.mktemp("server")
    with serving(tmp, LOMMEBOK_STATUS_LIST_TTL="2") as url:
        yield url, tmp / "var"


def test_cli_wallet_against_a_running_server(server: tuple[str, Path], tmp_path: Path) -> None:
    url, data = server
    runner = CliRunner()

    def wallet(*args: str, input: str | None = None) -> str:
        r = runner.invoke(main, ["wallet", "--url", url, "--wallet-dir", str(tmp_path / "w"), "--data-dir",
                                 str(data), *args], input=input, catch_exceptions=False)
        assert r.exit_code == 0, r.output
        return r.output

    assert "registered wallet instance" in wallet("register")
    assert (tmp_path / "w" / "wallet.json").stat().st_mode & 0o077 == 0
    keys = list((tmp_path / "w" / "keys").iterdir())
    assert len(keys) == 1 and keys[0].stat().st_mode & 0o077 == 0

    admin = {"Authorization": f"Bearer {(data / 'secrets' / 'admin-token-issuer').read_text().strip()}"}
    offer = httpx.post(f"{url}/issuer/admin/offers", headers=admin,
                       json={"person": "kari", "credential_configuration_ids": ["pid_vc_sd_jwt"]}).json()
    out = wallet("receive", offer["offer_uri"], input=f"{offer['tx_code']}\n")
    assert "urn:eudi:pid:1" in out
    listing = wallet("list")
    assert "urn:eudi:pid:1" in listing
    cred_id = listing.split("urn:eudi:pid:1")[0].split("│")[-2].strip()
    assert "Fjellheim" in wallet("show", cred_id)
    assert '"person_bound": true' in wallet("show")

    rp = {"Authorization": f"Bearer {(data / 'secrets' / 'rp-demo').read_text().strip()}"}
    tx = httpx.post(f"{url}/verifier/rp/transactions", headers=rp, json={"profile": "age-over-18"}).json()
    declined = wallet("present", tx["authorization_request"], input="n\n")
    assert "age_equal_or_over.18" in declined and "declined" in declined
    tx = httpx.post(f"{url}/verifier/rp/transactions", headers=rp, json={"profile": "age-over-18"}).json()
    assert "shared" in wallet("present", "--yes", tx["authorization_request"])
    result = httpx.get(f"{url}/verifier/rp/transactions/{tx['transaction_id']}", headers=rp).json()
    assert result["status"] == "validated"
    log = wallet("log")
    assert "shared" in log and "declined" in log and "wallet provider" in log


def test_cli_wallet_without_server_fails_cleanly(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["wallet", "--url", "http://localhost:9", "--wallet-dir", str(tmp_path / "w"),
                                  "--data-dir", str(tmp_path), "register"])
    assert r.exit_code == 1
    assert "trust anchors" in r.output


DEMO_STEPS = (
    "1. Kari's phone: the wallet app registers at the wallet provider", "is active",
    "the wallet provider vouches for it: wallet attestation",
    "2. The issuer offers Kari a PID; the wallet receives it",
    "received a PID (urn:eudi:pid:1, dc+sd-jwt) for Kari Fjellheim",
    "the wallet instance now belongs to Kari (bound by pid",
    "3. A relying party asks: is Kari over 18?", "the wallet sends only: age_equal_or_over.18",
    "validated: age_equal_or_over = {'18': True}",
    "4. Kari loses her phone; the service desk revokes it at the wallet provider",
    "wallet instance revoked; the wallet provider told the issuer, which revoked 1 credential(s)",
    "is revoked", "the lost phone gets no more wallet attestations",
    "5. The relying party asks again", "refused: status.revoked: the credential is revoked",
    "The whole story ran.",
)


def _assert_story(output: str) -> None:
    out = " ".join(output.split())
    at = 0
    for text in DEMO_STEPS:  # each step's line, in order
        found = out.find(text, at)
        assert found >= 0, (text, output)
        at = found + len(text)


def test_demo_runs_in_process() -> None:
    r = CliRunner().invoke(main, ["demo", "--embedded"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    _assert_story(r.output)
    assert "moves its clock" in r.output


def test_demo_against_a_running_server(server: tuple[str, Path]) -> None:
    """`lommebok demo` against `lommebok serve` in another process: it waits out the status list's ttl for real."""
    url, data = server
    started = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "lommebok", "demo", "--url", url, "--data-dir", str(data), "--wait",
                        "30"], env=clean_env(), capture_output=True, text=True, timeout=120)
    took = time.monotonic() - started
    assert r.returncode == 0, r.stdout + r.stderr
    _assert_story(r.stdout)
    assert f"against {url}" in r.stdout and "waiting until it expires" in " ".join(r.stdout.split())
    assert took < 60

def _login_in_browser(url: str, person: str) -> None:
    """What the user does in the browser: the test login page, then the redirect to the CLI's loopback listener."""
    from wallet_api.holder.login import TestLoginForm

    async def go() -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            location = await TestLoginForm(http, person).authorize(url)
            assert location.startswith("http://127.0.0.1:") and "code=" in location
            back = await http.get(location)
            assert back.status_code == 200 and "logged in" in back.text

    asyncio.run(go())


def _wallet_process(url: str, data: Path, wdir: Path, *args: str) -> subprocess.Popen[str]:
    env = clean_env(PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "lommebok", "wallet", "--url", url, "--wallet-dir", str(wdir),
                             "--data-dir", str(data), *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _with_browser_login(proc: subprocess.Popen[str], person: str) -> str:
    """Read the CLI's output until it shows the authorization URL, log in, and return the whole output."""
    assert proc.stdout is not None
    seen: list[str] = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("http") and "/authorize?" in line:
            _login_in_browser(line.strip(), person)
            break
    rest, _ = proc.communicate(timeout=60)
    out = "".join(seen) + rest
    assert proc.returncode == 0, out
    return out


def test_cli_wallet_login_flows_deferred_backup_and_restore(server: tuple[str, Path], tmp_path: Path) -> None:
    url, data = server
    runner = CliRunner()

    def wallet(wdir: str, *args: str, input: str | None = None) -> str:
        r = runner.invoke(main, ["wallet", "--url", url, "--wallet-dir", str(tmp_path / wdir), "--data-dir",
                                 str(data), *args], input=input, catch_exceptions=False)
        assert r.exit_code == 0, r.output
        return r.output

    admin = {"Authorization": f"Bearer {(data / 'secrets' / 'admin-token-issuer').read_text().strip()}"}

    def offer(**body: object) -> dict[str, object]:
        r = httpx.post(f"{url}/issuer/admin/offers", headers=admin, json={"person": "kari", **body})
        assert r.status_code == 201, r.text
        out: dict[str, object] = r.json()
        return out

    wallet("phone", "register")
    # an offer with the authorization code grant: log in at the issuer, redirect back to 127.0.0.1
    o = offer(credential_configuration_ids=["pid_vc_sd_jwt"], grant="authorization_code")
    out = _with_browser_login(_wallet_process(url, data, tmp_path / "phone", "receive", str(o["offer_uri"])),
                              "kari")
    assert "Log in at the issuer" in out and "urn:eudi:pid:1" in out
    # wallet-initiated: the mdoc PID
    out = _with_browser_login(_wallet_process(url, data, tmp_path / "phone", "request", f"{url}/issuer",
                                              "pid_mso_mdoc"), "kari")
    assert "eu.europa.ec.eudi.pid.1" in out and "(mso_mdoc)" in out
    # deferred: pending until an officer approves, then collected by `poll`
    o = offer(credential_configuration_ids=["pid_vc_sd_jwt"], require_approval=True)
    out = wallet("phone", "receive", str(o["offer_uri"]), "--tx-code", str(o["tx_code"]), "--wait", "0")
    assert "deferred by the issuer" in out
    assert "deferred" in wallet("phone", "list")
    assert "nothing is pending" not in wallet("phone", "poll")
    pending = json.loads((tmp_path / "phone" / "wallet.json").read_text())["pending"]
    assert len(pending) == 1
    r = httpx.post(f"{url}/issuer/admin/deferred/{pending[0]['transaction_id']}/approve", headers=admin)
    assert r.status_code == 204
    assert "urn:eudi:pid:1" in wallet("phone", "poll")
    assert "nothing is pending" in wallet("phone", "poll")

    # backup from the phone; a new tablet of the same person (bound by its own PID) restores it
    out = " ".join(wallet("phone", "backup", input="correct horse battery\ncorrect horse battery\n").split())
    assert "backup version 1 stored" in out and "3 credential(s)" in out
    wallet("tablet", "register")
    o = offer(credential_configuration_ids=["pid_vc_sd_jwt"])
    wallet("tablet", "receive", str(o["offer_uri"]), "--tx-code", str(o["tx_code"]))
    bad = runner.invoke(main, ["wallet", "--url", url, "--wallet-dir", str(tmp_path / "tablet"), "--data-dir",
                               str(data), "restore"], input="wrong passphrase\n")
    assert bad.exit_code == 1 and "passphrase is wrong" in bad.output
    assert "restored 3 credential(s)" in wallet("tablet", "restore", input="correct horse battery\n")
    assert wallet("tablet", "list").count("urn:eudi:pid:1") == 3
