"""SD-JWT VC: issuance shape, issuer key resolution (x5c chain, JWT VC issuer metadata), type metadata."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from eidcore import jose
from eidcore.clock import FixedClock
from eidcore.errors import InvalidCertificate, InvalidClaim, StatusListError, TypeMetadataError, UntrustedIssuer
from eidcore.formats.sd_jwt import MUST_NOT_BE_PRESENT, KeyBinding, KeyBindingRequired, SdJwtHolder
from eidcore.formats.sd_jwt_vc import (
    NEVER_DISCLOSABLE,
    JwtVcIssuerMetadataKey,
    SdJwtVcIssuer,
    SdJwtVcVerifier,
    StatusReference,
    TypeMetadata,
    X5cIssuerKey,
    check_integrity,
    effective_claim_metadata,
    jwt_vc_issuer_metadata_url,
    resolve_type_metadata,
)
from eidcore.status_list import parse_status_claim

NOW = 1_800_000_000
CLOCK = FixedClock.at_timestamp(NOW)
HK = jose.generate_signing_key()
VCT = "urn:eudi:pid:no:1"
ISS = "https://issuer.example.no/pid"
PID = {"given_name": "Kari", "family_name": "Nordmann", "birthdate": "1984-05-17",
       "address": {"locality": "Oslo", "country": "NO"}, "issuing_country": "NO"}


def _ca(now: dt.datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Lommebok Test Root")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=30)).not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), True)
            .sign(key, hashes.SHA256()))
    return key, cert


def _issuer_chain() -> tuple[jose.SigningKey, x509.Certificate]:
    """Root -> intermediate -> issuer leaf; the signing key carries [leaf, intermediate] as x5c."""
    now = dt.datetime.fromtimestamp(NOW, dt.UTC)
    root_key, root = _ca(now)
    inter_key = ec.generate_private_key(ec.SECP256R1())
    inter_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Lommebok Test Issuing CA")])
    inter = (x509.CertificateBuilder().subject_name(inter_name).issuer_name(root.subject)
             .public_key(inter_key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - dt.timedelta(days=10)).not_valid_after(now + dt.timedelta(days=100))
             .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
             .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), True)
             .sign(root_key, hashes.SHA256()))
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "PID Issuer")]))
            .issuer_name(inter_name).public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), True)
            .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(ISS)]), False)
            .sign(inter_key, hashes.SHA256()))
    key = jose.SigningKey(leaf_key, "ES256", None, (leaf.public_bytes(Encoding.DER), inter.public_bytes(Encoding.DER)))
    return key, root


KEY, ROOT = _issuer_chain()


def _issue(**kw: Any) -> Any:
    return SdJwtVcIssuer(KEY, iss=ISS, clock=CLOCK).issue(
        PID, vct=VCT, holder_jwk=HK.public_jwk,
        disclosable=kw.pop("disclosable", [["given_name"], ["family_name"], ["birthdate"], ["address"]]), **kw)


def test_issued_vc_has_typ_x5c_and_plaintext_protocol_claims() -> None:
    issued = _issue(status=StatusReference(uri="https://issuer.example.no/status/1", idx=7), expires_in=3600,
                    not_before=NOW - 10, vct_integrity="sha256-AAAA")
    header = jose.parse_jws(issued.jwt).header
    assert header["typ"] == "dc+sd-jwt" and header["alg"] == "ES256"
    assert [base64.b64decode(c) for c in header["x5c"]] == list(KEY.x5c)
    p = issued.payload
    assert p["vct"] == VCT and p["iss"] == ISS and p["iat"] == NOW and p["exp"] == NOW + 3600
    assert p["nbf"] == NOW - 10 and p["vct#integrity"] == "sha256-AAAA"
    assert p["cnf"] == {"jwk": HK.public_jwk}
    assert p["status"] == {"status_list": {"idx": 7, "uri": "https://issuer.example.no/status/1"}}
    assert p["issuing_country"] == "NO" and "given_name" not in p
    assert NEVER_DISCLOSABLE.isdisjoint({d.name for d in issued.disclosures})


def test_x5c_chain_validated_with_trust_x509_and_presentation_verifies() -> None:
    issued = _issue()
    holder = SdJwtHolder(clock=CLOCK)
    pres = holder.present(holder.load(issued.compact), disclose=[["given_name"], ["address", "locality"]],
                          key_binding=KeyBinding(HK, "x509_hash:abc", "n"))
    assert isinstance(pres, str)
    verifier = SdJwtVcVerifier(X5cIssuerKey([ROOT], clock=CLOCK), clock=CLOCK, accepted_vcts={VCT})
    result = verifier.verify(pres, KeyBindingRequired(audience="x509_hash:abc", nonce="n"))
    assert result.claims["given_name"] == "Kari" and result.claims["address"] == PID["address"]
    assert "family_name" not in result.claims
    assert [c.public_bytes(Encoding.DER) for c in result.issuer_certificates] == list(KEY.x5c)
    assert result.status is None and result.holder_jwk == HK.public_jwk


def test_x5c_cache_rechecks_validity_window() -> None:
    resolver = X5cIssuerKey([ROOT], clock=CLOCK)
    issued = _issue()
    SdJwtVcVerifier(resolver, clock=CLOCK).verify(issued.compact, MUST_NOT_BE_PRESENT)
    assert len(resolver._cache) == 1
    later = FixedClock.at_timestamp(NOW + 40 * 86400)
    resolver.clock = later
    with pytest.raises(InvalidCertificate):
        SdJwtVcVerifier(resolver, clock=CLOCK).verify(issued.compact, MUST_NOT_BE_PRESENT)


def test_x5c_chain_to_unconfigured_anchor_is_untrusted() -> None:
    _, other_root = _ca(dt.datetime.fromtimestamp(NOW, dt.UTC))
    with pytest.raises(UntrustedIssuer):
        SdJwtVcVerifier(X5cIssuerKey([other_root], clock=CLOCK), clock=CLOCK).verify(
            _issue().compact, MUST_NOT_BE_PRESENT)


def test_metadata_url_rule() -> None:
    assert jwt_vc_issuer_metadata_url("https://example.com") == "https://example.com/.well-known/jwt-vc-issuer"
    assert (jwt_vc_issuer_metadata_url("https://example.com/tenant/1/")
            == "https://example.com/.well-known/jwt-vc-issuer/tenant/1")
    for bad in ("http://example.com", "https://example.com/?q=1", "https://example.com/#f", "example.com"):
        with pytest.raises(UntrustedIssuer):
            jwt_vc_issuer_metadata_url(bad)


def test_metadata_resolver_follows_jwks_uri_over_https_only() -> None:
    key = jose.generate_signing_key(kid="k-2")
    calls: list[str] = []
    docs = {"https://issuer.example.no/.well-known/jwt-vc-issuer/pid": {"issuer": ISS,
                                                                         "jwks_uri": "https://issuer.example.no/jwks"},
            "https://issuer.example.no/jwks": {"keys": [jose.generate_signing_key(kid="k-1").public_jwk,
                                                        key.public_jwk]}}

    def fetch(url: str) -> Any:
        calls.append(url)
        return docs[url]

    issued = SdJwtVcIssuer(key, iss=ISS, clock=CLOCK).issue(PID, vct=VCT, disclosable=[["given_name"]])
    result = SdJwtVcVerifier(JwtVcIssuerMetadataKey(fetch), clock=CLOCK).verify(issued.compact, MUST_NOT_BE_PRESENT)
    assert result.iss == ISS and result.claims["given_name"] == "Kari"
    assert calls == list(docs)


def test_status_reference_is_the_status_list_one_and_unknown_mechanisms_are_refused() -> None:
    ref = StatusReference(uri="https://x/1", idx=0)
    issued = _issue(status=ref, expires_in=3600)
    result = SdJwtVcVerifier(X5cIssuerKey([ROOT], clock=CLOCK), clock=CLOCK).verify(issued.compact,
                                                                                   MUST_NOT_BE_PRESENT)
    assert result.status == ref
    # a status that names only another mechanism cannot be checked: refused rather than ignored
    with pytest.raises(StatusListError):
        parse_status_claim({"identifier_list": {}})


# ------------------------------------------------------------------------------------------------ type metadata


def _sri(data: bytes, alg: str = "sha256") -> str:
    return f"{alg}-" + base64.b64encode(hashlib.new(alg, data).digest()).decode()


def test_integrity_accepts_matching_and_strongest_wins() -> None:
    data = b'{"vct":"urn:x"}'
    check_integrity(data, _sri(data))
    check_integrity(data, f"{_sri(b'other')} {_sri(data, 'sha384')}")  # sha384 decides and matches
    check_integrity(data, f"{_sri(data, 'sha512')} {_sri(data, 'sha512')[:-4]}AAA=")
    with pytest.raises(TypeMetadataError):
        check_integrity(data, f"{_sri(data)} {_sri(b'other', 'sha384')}")


def test_type_metadata_chain_with_integrity_and_effective_claims() -> None:
    base = json.dumps({"vct": "urn:eudi:pid:1", "claims": [
        {"path": ["given_name"], "sd": "always", "mandatory": True}, {"path": ["issuing_country"], "sd": "never"},
        {"path": ["address"], "sd": "allowed"}]}).encode()
    child = json.dumps({"vct": VCT, "extends": "urn:eudi:pid:1", "extends#integrity": _sri(base),
                        "claims": [{"path": ["address"], "sd": "always"}]}).encode()
    docs = {"urn:eudi:pid:1": base, VCT: child}
    chain = resolve_type_metadata(VCT, docs.__getitem__, integrity=_sri(child))
    assert [t.vct for t in chain] == [VCT, "urn:eudi:pid:1"]
    eff = effective_claim_metadata(chain)
    assert eff[("address",)].sd == "always" and eff[("given_name",)].mandatory
    issued = _issue(disclosable=[["given_name"], ["address"]], type_metadata=chain)
    result = SdJwtVcVerifier(KEY.public_key, clock=CLOCK).verify(issued.compact, MUST_NOT_BE_PRESENT,
                                                                 type_metadata=chain)
    assert result.vct == VCT
    with pytest.raises(InvalidClaim):  # sd: never on issuing_country
        _issue(disclosable=[["given_name"], ["address"], ["issuing_country"]], type_metadata=chain)


def test_type_metadata_parse_keeps_fields() -> None:
    t = TypeMetadata.parse({"vct": "urn:x", "name": "X", "claims": [{"path": ["a", None, 0]}],
                            "display": [{"locale": "nb", "name": "X"}]})
    assert t.name == "X" and t.claims[0].path == ("a", None, 0) and t.claims[0].sd == "allowed"
    assert t.raw["display"][0]["locale"] == "nb"


def test_absolute_expiry() -> None:
    assert _issue(expires_at=NOW + 99).payload["exp"] == NOW + 99
    with pytest.raises(InvalidClaim):
        _issue(expires_at=NOW + 99, expires_in=5)


def test_iss_must_match_a_san_of_the_x5c_leaf() -> None:
    """§3.5: iss equals a URI SAN of the leaf, or its host equals a dNSName SAN; anything else is untrusted."""
    key, root = _issuer_chain()
    resolver = X5cIssuerKey([root], CLOCK)
    verifier = SdJwtVcVerifier(resolver, clock=CLOCK)
    good = SdJwtVcIssuer(key, iss=ISS, clock=CLOCK, include_x5c=True).issue(PID, vct=VCT)
    verifier.verify(good.compact, MUST_NOT_BE_PRESENT)
    forged = SdJwtVcIssuer(key, iss="https://other-issuer.example/pid", clock=CLOCK, include_x5c=True).issue(
        PID, vct=VCT)
    with pytest.raises(UntrustedIssuer, match="subjectAltName"):
        verifier.verify(forged.compact, MUST_NOT_BE_PRESENT)  # cached chain: still checked
    with pytest.raises(UntrustedIssuer, match="subjectAltName"):
        SdJwtVcVerifier(X5cIssuerKey([root], CLOCK), clock=CLOCK).verify(forged.compact, MUST_NOT_BE_PRESENT)
