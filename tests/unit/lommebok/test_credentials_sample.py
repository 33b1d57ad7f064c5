"""`lommebok credentials sample`: what it writes verifies with nothing but the files it wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509

from eidcore import jose
from eidcore.clock import SYSTEM_CLOCK
from eidcore.formats.mdoc import MdocVerifier, openid4vp_session_transcript
from eidcore.formats.sd_jwt import KeyBindingRequired, SdJwtHolder
from eidcore.formats.sd_jwt_vc import SdJwtVcVerifier, X5cIssuerKey
from lommebok.cli import main


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LOMMEBOK_DATA_DIR", str(tmp_path / "var"))

    def go(*args: str) -> tuple[Path, dict[str, object]]:
        out = tmp_path / "out"
        result = CliRunner().invoke(main, ["credentials", "sample", "--out", str(out), *args])
        assert result.exit_code == 0, result.output
        return out, json.loads((out / "manifest.json").read_text())

    return go


def anchors(out: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates((out / "trust_anchor.pem").read_bytes())


def test_sd_jwt_vc_sample_verifies_with_key_binding(run) -> None:  # type: ignore[no-untyped-def]
    out, manifest = run("--person", "kari", "--nonce", "n-1", "--client-id", "x509_hash:abc",
                        "--claim", "given_name", "--claim", "age_equal_or_over.18")
    assert set(manifest["files"]) == {  # type: ignore[arg-type]
        "credential.txt", "presentation.txt", "holder_key.jwk.json", "issuer_chain.pem", "trust_anchor.pem",
        "manifest.json"}
    verifier = SdJwtVcVerifier(X5cIssuerKey(anchors(out), SYSTEM_CLOCK), clock=SYSTEM_CLOCK,
                               accepted_vcts={"urn:eudi:pid:1"})
    result = verifier.verify((out / "presentation.txt").read_text(),
                             KeyBindingRequired(audience="x509_hash:abc", nonce="n-1"))
    claims = result.claims
    assert claims["given_name"] and claims["age_equal_or_over"] == {"18": True}
    assert "family_name" not in claims
    holder = jose.signing_key_from_jwk(json.loads((out / "holder_key.jwk.json").read_text()))
    assert result.holder_jwk is not None
    assert jose.jwk_thumbprint(result.holder_jwk) == jose.jwk_thumbprint(holder.public_jwk)
    assert (out / "holder_key.jwk.json").stat().st_mode & 0o077 == 0


def test_person_without_number_gets_no_personal_administrative_number(run) -> None:  # type: ignore[no-untyped-def]
    out, _ = run("--person", "amir")
    held = SdJwtHolder().load((out / "credential.txt").read_text())
    assert "personal_administrative_number" not in held.claims
    assert held.claims["family_name"]


def test_mdoc_sample_verifies_over_its_transcript(run) -> None:  # type: ignore[no-untyped-def]
    out, manifest = run("--format", "mso_mdoc", "--person", "emma", "--nonce", "n-2",
                        "--claim", "age_over_13", "--claim", "age_over_18")
    t = openid4vp_session_transcript(str(manifest["client_id"]), "n-2", str(manifest["response_uri"]), None)
    assert t.encoded == (out / "session_transcript.cbor").read_bytes()
    docs = MdocVerifier(anchors(out), clock=SYSTEM_CLOCK).verify_device_response(
        (out / "device_response.b64u").read_text(), t)
    claims = docs[0].claims["eu.europa.ec.eudi.pid.1"]
    assert claims == {"age_over_13": False, "age_over_18": False}  # emma is 10


def test_unknown_person_is_a_clean_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOMMEBOK_DATA_DIR", str(tmp_path / "var"))
    result = CliRunner().invoke(main, ["credentials", "sample", "--person", "nobody", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "Error:" in result.output
