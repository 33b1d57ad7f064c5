"""RS256 / PS256 verification (RFC 7518 §3.3, §3.5): verify-only, opt-in per use, at least 2048 bits."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from eidcore import jose
from eidcore.encoding import b64u_encode
from eidcore.errors import InvalidSignature, UnsupportedAlgorithm

RSA_POLICY = jose.JwsPolicy(algorithms=frozenset({"RS256", "PS256"}))


def _token(key: rsa.RSAPrivateKey, alg: str, claims: dict[str, object]) -> str:
    h = b64u_encode(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    p = b64u_encode(json.dumps(claims).encode())
    pad: padding.AsymmetricPadding = (
        padding.PKCS1v15() if alg == "RS256" else padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    )
    sig = key.sign(f"{h}.{p}".encode(), pad, hashes.SHA256())
    return f"{h}.{p}.{b64u_encode(sig)}"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize("alg", ["RS256", "PS256"])
def test_rsa_signature_verifies_with_jwk_when_allowed(key: rsa.RSAPrivateKey, alg: str) -> None:
    jwk = jose.public_jwk(key.public_key())
    assert jwk["kty"] == "RSA"
    out = jose.verify_jwt(_token(key, alg, {"sub": "x"}), jwk, RSA_POLICY)
    assert out.claims == {"sub": "x"}


def test_rsa_is_refused_by_the_default_policy(key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(UnsupportedAlgorithm):
        jose.verify_jwt(_token(key, "RS256", {}), key.public_key())


def test_tampered_rsa_signature_fails(key: rsa.RSAPrivateKey) -> None:
    h, _p, s = _token(key, "RS256", {"sub": "a"}).split(".")
    forged = f"{h}.{b64u_encode(json.dumps({'sub': 'b'}).encode())}.{s}"
    with pytest.raises(InvalidSignature):
        jose.verify_jwt(forged, key.public_key(), RSA_POLICY)


def test_short_rsa_keys_are_refused() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the point of the test
    with pytest.raises(UnsupportedAlgorithm, match="2048"):
        jose.public_key_from_jwk(jose.public_jwk(small.public_key()))
    with pytest.raises(UnsupportedAlgorithm, match="2048"):
        jose.verify_jwt(_token(small, "RS256", {}), small.public_key(), RSA_POLICY)


def test_rs256_with_an_ec_key_is_refused(key: rsa.RSAPrivateKey) -> None:
    ec_key = jose.generate_signing_key()
    with pytest.raises(UnsupportedAlgorithm):
        jose.verify_jwt(_token(key, "RS256", {}), ec_key.public_key, RSA_POLICY)
