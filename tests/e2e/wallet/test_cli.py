"""The CLI wallet against `lommebok serve` running as its own process, and `lommebok demo` in-process."""

from __future__ import annotations

from pathlib import Path

import httpx
from click.testing import CliRunner

from lommebok.cli import main
from tests.e2e.test_cli_serve import serving


def test_cli_wallet_against_a_running_server(tmp_path: Path) -> None:
    with serving(tmp_path) as (base, _):
        port = base.rsplit(":", 1)[1]
        url = f"http://localhost:{port}"
        data = tmp_path / "var"
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

        admin = {"Authorization": f"Bearer {(data / 'secrets' / 'admin-token').read_text().strip()}"}
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


def test_demo_runs_in_process(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["demo", "--embedded"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    out = " ".join(r.output.split())
    for text in ("is active", "received urn:eudi:pid:1 (dc+sd-jwt) for Kari Fjellheim", "validated",
                 "issuer update: done, 1 credential(s) revoked", "gets no more attestations",
                 "refused (failed): status.revoked: the credential is revoked", "The whole story ran."):
        assert text in out, (text, r.output)
