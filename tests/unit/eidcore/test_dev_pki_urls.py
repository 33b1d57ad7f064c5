"""The dev PKI names the configured service URLs, and follows them when they change (same root, same keys)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from eidcore.errors import ConfigurationError
from eidcore.keys import ROLES, KeySet, SigningIdentity, load_or_create_dev_pki, names_url

OLD = "http://localhost:8000"
NEW = "https://id.example.no"


def _uris(ident: SigningIdentity) -> list[str]:
    san = ident.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return san.get_values_for_type(x509.UniformResourceIdentifier)


def _pub(ident: SigningIdentity) -> bytes:
    return ident.key.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)


def test_certificates_are_remade_when_the_public_url_changes(tmp_path: Path) -> None:
    d = tmp_path / "keys"
    old = load_or_create_dev_pki(d, OLD)
    anchors = (d / "trust-anchors.pem").read_bytes()
    new = load_or_create_dev_pki(d, NEW)
    assert _uris(new.issuer) == [f"{NEW}/issuer"] and _uris(new.wallet_provider) == [f"{NEW}/wallet"]
    san = new.verifier.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["id.example.no"]  # x509_san_dns client id (OpenID4VP §5.9.3)
    # same root and same keys: exported trust anchors and credentials signed before stay valid
    assert (d / "trust-anchors.pem").read_bytes() == anchors
    for role in ROLES:
        assert _pub(new.identity(role)) == _pub(old.identity(role))
        new.identity(role).certificate.verify_directly_issued_by(new.trust_anchors[0])
    # what was on disk is what the next start loads
    assert _uris(load_or_create_dev_pki(d, NEW).issuer) == [f"{NEW}/issuer"]


def test_nothing_is_rewritten_while_the_urls_match(tmp_path: Path) -> None:
    d = tmp_path / "keys"
    load_or_create_dev_pki(d, OLD)
    before = {p.name: p.read_bytes() for p in d.glob("*.pem")}
    load_or_create_dev_pki(d, OLD, service_urls={"issuer": f"{OLD}/issuer"})
    assert {p.name: p.read_bytes() for p in d.glob("*.pem")} == before


def test_only_the_service_whose_url_changed_is_remade(tmp_path: Path) -> None:
    d = tmp_path / "keys"
    load_or_create_dev_pki(d, OLD)
    issuer_chain = (d / "issuer.chain.pem").read_bytes()
    keys = load_or_create_dev_pki(d, OLD, service_urls={"verifier": "https://rp.example.no"})
    assert (d / "issuer.chain.pem").read_bytes() == issuer_chain
    assert _uris(keys.verifier) == ["https://rp.example.no"]
    assert names_url(keys.verifier.certificate, "https://rp.example.no")
    assert not names_url(keys.verifier.certificate, f"{OLD}/verifier")


def test_a_key_set_not_made_by_the_dev_pki_is_not_overwritten(tmp_path: Path) -> None:
    d = tmp_path / "keys"
    load_or_create_dev_pki(d, OLD)
    (d / "root.key.pem").unlink()  # laid out by hand: only keys, chains and anchors
    chains = {p.name: p.read_bytes() for p in d.glob("*.chain.pem")}
    with pytest.raises(ConfigurationError, match=r"do not name the configured service URLs.*id\.example\.no/issuer"):
        load_or_create_dev_pki(d, NEW)
    assert {p.name: p.read_bytes() for p in d.glob("*.chain.pem")} == chains
    assert load_or_create_dev_pki(d, OLD).issuer is not None  # still served for the URL it names


def test_workers_starting_together_make_one_key_set(tmp_path: Path) -> None:
    d = tmp_path / "keys"

    def start(url: str) -> KeySet:
        return load_or_create_dev_pki(d, url)

    with ThreadPoolExecutor(4) as pool:
        sets = list(pool.map(start, [NEW] * 8))
    roots = {s.trust_anchors[0].public_bytes(serialization.Encoding.DER) for s in sets}
    assert len(roots) == 1
    final = load_or_create_dev_pki(d, NEW)
    assert all(_pub(s.issuer) == _pub(final.issuer) for s in sets)
