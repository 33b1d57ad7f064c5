"""RFC 9449 DPoP proof verification."""

from __future__ import annotations

import json

import pytest

from eidcore import jose
from eidcore.clock import FixedClock
from eidcore.encoding import b64u_decode, b64u_encode
from eidcore.errors import InvalidDPoPProof, UseDPoPNonce
from eidcore.oauth import dpop

CLOCK = FixedClock.at_timestamp(1_800_000_000)
URL = "https://id.example.no/issuer/token"


@pytest.fixture(scope="module")
def key() -> jose.SigningKey:
    return jose.generate_signing_key()


def test_valid_proof_gives_thumbprint_and_jti(key: jose.SigningKey) -> None:
    proof = dpop.make_proof(key, htm="POST", htu=URL, clock=CLOCK)
    out = dpop.verify_proof(proof, htm="POST", htu=URL, clock=CLOCK)
    assert out.jkt == jose.jwk_thumbprint_b64u(jose.public_jwk(key.public_key))
    assert len(out.jti) >= 16 and out.iat == 1_800_000_000


def test_htu_ignores_query_fragment_and_default_port(key: jose.SigningKey) -> None:
    proof = dpop.make_proof(key, htm="POST", htu="https://ID.example.no:443/issuer/token", clock=CLOCK)
    dpop.verify_proof(proof, htm="post", htu=URL + "?x=1#f", clock=CLOCK)


def test_access_token_hash_is_checked(key: jose.SigningKey) -> None:
    proof = dpop.make_proof(key, htm="GET", htu=URL, clock=CLOCK, access_token="tok-1")
    dpop.verify_proof(proof, htm="GET", htu=URL, clock=CLOCK, access_token="tok-1")
    with pytest.raises(InvalidDPoPProof, match="ath"):
        dpop.verify_proof(proof, htm="GET", htu=URL, clock=CLOCK, access_token="tok-2")


def test_server_nonce(key: jose.SigningKey) -> None:
    without = dpop.make_proof(key, htm="POST", htu=URL, clock=CLOCK)
    with pytest.raises(UseDPoPNonce):
        dpop.verify_proof(without, htm="POST", htu=URL, clock=CLOCK, expected_nonce="n1", nonce_required=True)
    stale = dpop.make_proof(key, htm="POST", htu=URL, clock=CLOCK, nonce="n0")
    with pytest.raises(UseDPoPNonce):
        dpop.verify_proof(stale, htm="POST", htu=URL, clock=CLOCK, expected_nonce="n1", nonce_required=True)
    good = dpop.make_proof(key, htm="POST", htu=URL, clock=CLOCK, nonce="n1")
    assert dpop.verify_proof(good, htm="POST", htu=URL, clock=CLOCK, expected_nonce="n1",
                             nonce_required=True).nonce == "n1"


def _forge(key: jose.SigningKey, header: dict[str, object], claims: dict[str, object]) -> str:
    return jose.sign_jws(json.dumps(claims).encode(), key, header=header, include_kid=False)


def _claims(**over: object) -> dict[str, object]:
    base: dict[str, object] = {"jti": "abcdefgh12345678", "htm": "POST", "htu": URL, "iat": 1_800_000_000}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize(
    ("name", "header_over", "claims"),
    [
        ("wrong typ", {"typ": "jwt"}, _claims()),
        ("no typ", {"typ": None}, _claims()),
        ("no jwk", {"jwk": None}, _claims()),
        ("private jwk", {"jwk": "private"}, _claims()),
        ("missing jti", {}, _claims(jti=None)),
        ("short jti", {}, _claims(jti="a")),
        ("wrong htm", {}, _claims(htm="GET")),
        ("wrong htu", {}, _claims(htu="https://id.example.no/issuer/credential")),
        ("other host", {}, _claims(htu="https://evil.example/issuer/token")),
        ("missing htu", {}, _claims(htu=None)),
        ("missing iat", {}, _claims(iat=None)),
        ("string iat", {}, _claims(iat="1800000000")),
        ("iat in future", {}, _claims(iat=1_800_000_000 + 120)),
        ("iat too old", {}, _claims(iat=1_800_000_000 - 301)),
        ("non-string nonce", {}, _claims(nonce=5)),
    ],
)
def test_bad_proofs_are_invalid_dpop_proof(
    key: jose.SigningKey, name: str, header_over: dict[str, object], claims: dict[str, object]
) -> None:
    header: dict[str, object] = {"typ": "dpop+jwt", "jwk": jose.public_jwk(key.public_key)}
    for k, v in header_over.items():
        if v is None:
            header.pop(k)
        elif v == "private":
            header[k] = key.private_jwk()
        else:
            header[k] = v
    try:
        token = _forge(key, header, claims)
    except Exception:  # the signer itself refuses private material in headers: forge the header by hand
        h = b64u_encode(json.dumps({"alg": "ES256", **header}).encode())
        p = b64u_encode(json.dumps(claims).encode())
        sig = jose.sign_jws(b"x", key).split(".")[2]
        token = f"{h}.{p}.{sig}"
    with pytest.raises(InvalidDPoPProof):
        dpop.verify_proof(token, htm="POST", htu=URL, clock=CLOCK)


def test_signature_by_another_key_is_refused(key: jose.SigningKey) -> None:
    other = jose.generate_signing_key()
    header = {"typ": "dpop+jwt", "jwk": jose.public_jwk(key.public_key)}
    token = _forge(other, header, _claims())
    with pytest.raises(InvalidDPoPProof):
        dpop.verify_proof(token, htm="POST", htu=URL, clock=CLOCK)


def test_alg_none_and_hs256_are_refused(key: jose.SigningKey) -> None:
    proof = dpop.make_proof(key, htm="POST", htu=URL, clock=CLOCK)
    h, p, _ = proof.split(".")
    for alg in ("none", "HS256"):
        header = json.loads(b64u_decode(h))
        header["alg"] = alg
        forged = f"{b64u_encode(json.dumps(header).encode())}.{p}."
        with pytest.raises(InvalidDPoPProof):
            dpop.verify_proof(forged, htm="POST", htu=URL, clock=CLOCK)
        with pytest.raises(InvalidDPoPProof):
            dpop.verify_proof(forged + "c2ln", htm="POST", htu=URL, clock=CLOCK)


@pytest.mark.parametrize("garbage", [None, "", "a.b", "not a jwt", "a.b.c.d", "eyJ9.e30.AA"])
def test_garbage_is_invalid_dpop_proof(garbage: str | None) -> None:
    with pytest.raises(InvalidDPoPProof):
        dpop.verify_proof(garbage, htm="POST", htu=URL, clock=CLOCK)
