"""The dev PKI (eidcore.keys) and certificate path validation (eidcore.trust.x509)."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest
from cryptography import x509

from eidcore.clock import FixedClock
from eidcore.errors import ConfigurationError, InvalidCertificate, ParsingError, UntrustedIssuer
from eidcore.keys import KeySet, load_or_create_dev_pki, make_leaf, make_root_ca
from eidcore.trust.x509 import validate_chain

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> KeySet:
    return load_or_create_dev_pki(tmp_path_factory.mktemp("keys"), "http://localhost:8000", clock=FixedClock(NOW))


def test_dev_pki_is_persisted_private_and_stable(tmp_path: Path) -> None:
    d = tmp_path / "keys"
    first = load_or_create_dev_pki(d, "http://localhost:8000")
    second = load_or_create_dev_pki(d, "http://localhost:8000")
    assert first.issuer.chain_der == second.issuer.chain_der
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    for f in d.glob("*.key.pem"):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600


def test_issuer_certificate_is_an_mdoc_document_signer(pki: KeySet) -> None:
    leaf = validate_chain(pki.issuer.chain, pki.trust_anchors, at=NOW, purpose="mdoc_ds")
    assert leaf == pki.issuer.certificate
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "http://localhost:8000/issuer" in san.get_values_for_type(x509.UniformResourceIdentifier)


def test_verifier_certificate_names_the_public_host(pki: KeySet) -> None:
    leaf = validate_chain(pki.verifier.chain, pki.trust_anchors, at=NOW, purpose="verifier_access")
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]


def test_only_the_document_signer_may_sign_mdocs(pki: KeySet) -> None:
    with pytest.raises(InvalidCertificate, match="EKU"):
        validate_chain(pki.wallet_provider.chain, pki.trust_anchors, at=NOW, purpose="mdoc_ds")


def test_chain_to_an_unknown_root_is_untrusted(pki: KeySet) -> None:
    _, other_root = make_root_ca("Other", now=NOW)
    with pytest.raises(UntrustedIssuer):
        validate_chain(pki.issuer.chain, [other_root], at=NOW)


def test_no_anchor_means_deny(pki: KeySet) -> None:
    with pytest.raises(UntrustedIssuer, match="no trust anchor"):
        validate_chain(pki.issuer.chain, [], at=NOW)


def test_expired_and_not_yet_valid(pki: KeySet) -> None:
    with pytest.raises(InvalidCertificate, match="expired"):
        validate_chain(pki.issuer.chain, pki.trust_anchors, at=NOW + dt.timedelta(days=500))
    with pytest.raises(InvalidCertificate, match="not yet valid"):
        validate_chain(pki.issuer.chain, pki.trust_anchors, at=NOW - dt.timedelta(days=1))


def test_self_signed_leaf_is_not_trusted_unless_pinned() -> None:
    _, root = make_root_ca("Self", now=NOW)
    _, anchor = make_root_ca("Anchor", now=NOW)
    with pytest.raises(UntrustedIssuer):
        validate_chain([root], [anchor], at=NOW)
    assert validate_chain([root], [root], at=NOW) == root


def test_leaf_used_as_intermediate_is_refused() -> None:
    root_key, root = make_root_ca("Root", now=NOW)
    mid_key, mid = make_leaf("Not a CA", root_key, root, now=NOW, days=30)
    _, leaf = make_leaf("Leaf", mid_key, mid, now=NOW, days=30)
    with pytest.raises(InvalidCertificate, match="not a CA"):
        validate_chain([leaf, mid], [root], at=NOW)


def test_broken_chain_is_refused(pki: KeySet) -> None:
    root_key, root = make_root_ca("Root2", now=NOW)
    _, stranger = make_leaf("Stranger", root_key, root, now=NOW, days=30)
    with pytest.raises(UntrustedIssuer):
        validate_chain([pki.issuer.certificate, stranger], pki.trust_anchors, at=NOW)


def test_empty_chain_is_a_parsing_error(pki: KeySet) -> None:
    with pytest.raises(ParsingError):
        validate_chain([], pki.trust_anchors, at=NOW)


def test_corrupt_key_file_is_a_clear_error(tmp_path: Path) -> None:
    d = tmp_path / "keys"
    load_or_create_dev_pki(d, "http://localhost:8000")
    (d / "issuer.key.pem").write_text("garbage")
    with pytest.raises(ConfigurationError, match=r"issuer\.key\.pem is corrupt"):
        load_or_create_dev_pki(d, "http://localhost:8000")


def test_incomplete_key_directory_is_refused(tmp_path: Path) -> None:
    d = tmp_path / "keys"
    load_or_create_dev_pki(d, "http://localhost:8000")
    (d / "trust-anchors.pem").unlink()
    with pytest.raises(ConfigurationError, match="incomplete"):
        load_or_create_dev_pki(d, "http://localhost:8000")


def test_key_and_certificate_must_match(tmp_path: Path) -> None:
    d = tmp_path / "keys"
    load_or_create_dev_pki(d, "http://localhost:8000")
    (d / "issuer.chain.pem").write_bytes((d / "verifier.chain.pem").read_bytes())
    with pytest.raises(ConfigurationError, match="does not belong"):
        load_or_create_dev_pki(d, "http://localhost:8000")


def test_lazily_malformed_certificate_is_invalid_certificate(pki: KeySet) -> None:
    """cryptography parses names lazily: a damaged issuer name must not escape as a bare ValueError."""
    der = pki.issuer.chain_der[0]
    start = der.index(pki.issuer.certificate.issuer.public_bytes())
    damaged = None
    for i in range(start, start + 40):  # zero one byte of the issuer Name until the DER loads but .issuer fails
        candidate = bytearray(der)
        candidate[i] = 0
        try:
            cert = x509.load_der_x509_certificate(bytes(candidate))
        except ValueError:
            continue
        try:
            _ = cert.issuer
        except ValueError:
            damaged = cert
            break
    assert damaged is not None
    with pytest.raises(InvalidCertificate, match="malformed"):
        validate_chain([damaged], pki.trust_anchors, at=NOW)
