"""The dev PKI (eidcore.keys) and certificate path validation (eidcore.trust.x509)."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path
from typing import get_args

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from eidcore.clock import FixedClock
from eidcore.errors import ConfigurationError, InvalidCertificate, ParsingError, UntrustedIssuer
from eidcore.keys import KeySet, load_or_create_dev_pki, make_leaf, make_root_ca
from eidcore.trust.x509 import PROFILES, Purpose, validate_chain

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


# --------------------------------------------------------------------------------------------------
# cryptography.x509.verification profiles: unknown critical extensions, validity at the configured clock, order
# --------------------------------------------------------------------------------------------------

PRIVATE_OID = x509.ObjectIdentifier("1.3.6.1.4.1.55555.1")
Three = tuple[ec.EllipticCurvePrivateKey, x509.Certificate, ec.EllipticCurvePrivateKey, x509.Certificate]


def _ca(cn: str, key: ec.EllipticCurvePrivateKey, issuer_key: ec.EllipticCurvePrivateKey, issuer: x509.Name, *,
        now: dt.datetime, days: int = 365, critical_private: bool = False,
        path_length: int | None = None) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    b = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer).public_key(key.public_key())
         .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
         .not_valid_after(now + dt.timedelta(days=days))
         .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
         .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                      data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                      crl_sign=True, encipher_only=False, decipher_only=False), critical=True))
    if critical_private:
        b = b.add_extension(x509.UnrecognizedExtension(PRIVATE_OID, b"\x05\x00"), critical=True)
    return b.sign(issuer_key, hashes.SHA256())


def _signer(issuer_key: ec.EllipticCurvePrivateKey, issuer: x509.Certificate, *, now: dt.datetime, days: int = 30,
            private: bool | None = None) -> x509.Certificate:
    """A signing leaf; ``private`` adds the private extension (True: critical, False: not critical)."""
    key = ec.generate_private_key(ec.SECP256R1())
    b = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Signer")]))
         .issuer_name(issuer.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days))
         .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                      data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                      crl_sign=False, encipher_only=False, decipher_only=False), critical=True))
    if private is not None:
        b = b.add_extension(x509.UnrecognizedExtension(PRIVATE_OID, b"\x05\x00"), critical=private)
    return b.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def three() -> Three:
    """A root (no path length limit) and an intermediate below it."""
    root_key, mid_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Three Root")])
    root = _ca("Three Root", root_key, root_key, root_name, now=NOW, days=3650)
    mid = _ca("Three Intermediate", mid_key, root_key, root_name, now=NOW, days=365)
    return root_key, root, mid_key, mid


@pytest.mark.parametrize("purpose", ["any", "mdoc_ds", "sd_jwt_vc_issuer", "wallet_provider", "verifier_access",
                                     "status_list", "key_attestation"])
def test_unknown_critical_extension_in_the_leaf_is_refused(three: Three, purpose: Purpose) -> None:
    _, root, mid_key, mid = three
    with pytest.raises(InvalidCertificate, match=r"unknown critical extension 1\.3\.6\.1\.4\.1\.55555\.1"):
        validate_chain([_signer(mid_key, mid, now=NOW, private=True), mid], [root], at=NOW, purpose=purpose)


def test_unknown_non_critical_extension_is_ignored(three: Three) -> None:
    _, root, mid_key, mid = three
    leaf = _signer(mid_key, mid, now=NOW, private=False)
    assert validate_chain([leaf, mid], [root], at=NOW, purpose="sd_jwt_vc_issuer") == leaf


def test_unknown_critical_extension_in_an_intermediate_is_refused(three: Three) -> None:
    root_key, root, _, _ = three
    mid_key = ec.generate_private_key(ec.SECP256R1())
    mid = _ca("Odd Intermediate", mid_key, root_key, root.subject, now=NOW, critical_private=True)
    with pytest.raises(InvalidCertificate, match="unknown critical extension"):
        validate_chain([_signer(mid_key, mid, now=NOW), mid], [root], at=NOW, purpose="wallet_provider")


def test_unknown_critical_extension_in_the_anchor_is_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Odd Root")])
    root = _ca("Odd Root", key, key, name, now=NOW, critical_private=True)
    with pytest.raises(InvalidCertificate, match="unknown critical extension"):
        validate_chain([_signer(key, root, now=NOW)], [root], at=NOW, purpose="status_list")


def test_validity_is_judged_at_the_configured_clock_not_the_wall_clock() -> None:
    then = dt.datetime(2020, 3, 1, 12, 0, tzinfo=dt.UTC)  # long before the wall clock
    root_key, mid_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "2020 Root")])
    root = _ca("2020 Root", root_key, root_key, root_name, now=then, days=400)
    mid = _ca("2020 Intermediate", mid_key, root_key, root_name, now=then, days=60)
    leaf = _signer(mid_key, mid, now=then, days=30)
    assert validate_chain([leaf, mid], [root], at=then, purpose="wallet_provider") == leaf
    with pytest.raises(InvalidCertificate, match="the signing certificate has expired"):
        validate_chain([leaf, mid], [root], at=then + dt.timedelta(days=31), purpose="wallet_provider")
    with pytest.raises(InvalidCertificate, match="not yet valid"):
        validate_chain([leaf, mid], [root], at=then - dt.timedelta(days=1), purpose="wallet_provider")
    with pytest.raises(InvalidCertificate, match="expired"):  # the wall clock is years past every certificate
        validate_chain([leaf, mid], [root], at=dt.datetime.now(dt.UTC), purpose="wallet_provider")


def test_an_expired_intermediate_or_anchor_is_refused() -> None:
    then = dt.datetime(2020, 3, 1, 12, 0, tzinfo=dt.UTC)
    root_key, mid_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Short Root")])
    root = _ca("Short Root", root_key, root_key, root_name, now=then, days=20)
    mid = _ca("Short Intermediate", mid_key, root_key, root_name, now=then, days=10)
    leaf = _signer(mid_key, mid, now=then, days=30)  # outlives its issuers
    with pytest.raises(InvalidCertificate, match="an intermediate certificate has expired"):
        validate_chain([leaf, mid], [root], at=then + dt.timedelta(days=15))
    mid2 = _ca("Short Intermediate", mid_key, root_key, root_name, now=then, days=30)
    with pytest.raises(InvalidCertificate, match="the trust anchor certificate has expired"):
        validate_chain([leaf, mid2], [root], at=then + dt.timedelta(days=25))


def test_chain_out_of_order_is_refused(three: Three) -> None:
    _, root, mid_key, mid = three
    leaf = _signer(mid_key, mid, now=NOW)
    assert validate_chain([leaf, mid, root], [root], at=NOW, purpose="sd_jwt_vc_issuer") == leaf
    with pytest.raises(UntrustedIssuer, match="broken"):
        validate_chain([leaf, root, mid], [root], at=NOW, purpose="sd_jwt_vc_issuer")


def test_path_length_constraint_is_enforced(pki: KeySet) -> None:
    root_key, root = make_root_ca("PathLen Root", now=NOW)  # pathLenConstraint 0: signs leaves only
    mid_key = ec.generate_private_key(ec.SECP256R1())
    mid = _ca("Too Deep", mid_key, root_key, root.subject, now=NOW)
    with pytest.raises(InvalidCertificate, match="pathLenConstraint"):
        validate_chain([_signer(mid_key, mid, now=NOW), mid], [root], at=NOW)


def test_signing_profiles_need_digital_signature(three: Three) -> None:
    _, root, mid_key, mid = three
    key = ec.generate_private_key(ec.SECP256R1())
    no_ku = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "No KU")]))
             .issuer_name(mid.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(NOW - dt.timedelta(minutes=5)).not_valid_after(NOW + dt.timedelta(days=5))
             .sign(mid_key, hashes.SHA256()))
    signing: list[Purpose] = ["mdoc_ds", "sd_jwt_vc_issuer", "wallet_provider", "verifier_access", "status_list"]
    for purpose in signing:
        with pytest.raises(InvalidCertificate, match="digitalSignature"):
            validate_chain([no_ku, mid], [root], at=NOW, purpose=purpose)
    unconstrained: list[Purpose] = ["any", "key_attestation"]  # an Android Keystore leaf states no usage of its own
    for purpose in unconstrained:
        assert validate_chain([no_ku, mid], [root], at=NOW, purpose=purpose) == no_ku


def test_every_purpose_has_a_profile() -> None:
    assert set(PROFILES) == set(get_args(Purpose))
