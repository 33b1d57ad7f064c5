"""JWS test vectors of RFC 7515 Appendix A and RFC 8037 Appendix A, for every algorithm eidcore.jose accepts.

- A.1 (HS256) and A.5 (``none``) are refused, whatever the policy says: a verifier that is handed a key must never
  treat it as a MAC secret or skip the signature (RFC 8725 §3.1, §3.2).
- A.2 (RS256, verify-only and opt-in per use), A.3 (ES256) and A.4 (ES512) verify with the RFC's keys; ECDSA uses a
  random ``k``, so the RFC's signatures are verified as published, and our own signatures with the RFC's private
  keys are checked over the RFC's signing input.
- RFC 8037 A.4 (EdDSA, deterministic) is reproduced byte for byte and validated (A.5); A.3 is the RFC 7638
  thumbprint of the A.2 key.

ES384 and PS256 are accepted too, but neither RFC (nor RFC 7520) publishes a vector for them; they are covered
by round trips in test_jose.py and test_rsa_verify.py. Vectors: tests/vectors/jose/ (provenance in PROVENANCE.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eidcore import jose
from eidcore.encoding import b64u_decode, b64u_encode
from eidcore.errors import InvalidHeader, InvalidSignature, ParsingError, UnsupportedAlgorithm

VECTORS = Path(__file__).parents[3] / "vectors" / "jose"
RFC7515: dict[str, Any] = json.loads((VECTORS / "rfc7515_appendix_a.json").read_text())
RFC8037: dict[str, Any] = json.loads((VECTORS / "rfc8037_appendix_a.json").read_text())

ALL_ACCEPTED = frozenset({"ES256", "ES384", "ES512", "EdDSA", "RS256", "PS256"})
EVERYTHING = jose.JwsPolicy(algorithms=ALL_ACCEPTED)


def _public(jwk: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in jwk.items() if k != "d"}


def _tamper(compact: str) -> str:
    h, p, s = compact.split(".")
    sig = bytearray(b64u_decode(s))
    sig[len(sig) // 2] ^= 0x01
    return f"{h}.{p}.{b64u_encode(bytes(sig))}"


@pytest.mark.parametrize("section", ["A.1", "A.2", "A.3", "A.4", "A.5"])
def test_the_vector_files_are_consistent(section: str) -> None:
    v = RFC7515[section]
    h, p, _ = v["compact"].split(".")
    assert b64u_decode(h).decode("utf-8") == v["protected_utf8"]
    assert b64u_decode(p).decode("utf-8") == v["payload_utf8"]
    assert json.loads(v["protected_utf8"])["alg"] == v["alg"]


# --- RFC 7515 A.1 (HS256) and A.5 (none): refused ------------------------------------------------------------------


def test_a1_hs256_is_refused() -> None:
    v = RFC7515["A.1"]
    parsed = jose.parse_jws(v["compact"])  # well formed ...
    assert parsed.header == {"typ": "JWT", "alg": "HS256"}
    with pytest.raises(UnsupportedAlgorithm, match="HMAC"):  # ... but never verified as a MAC
        jose.verify_jws(v["compact"], _public(RFC7515["A.3"]["jwk"]), EVERYTHING)
    with pytest.raises((InvalidHeader, UnsupportedAlgorithm)):  # the oct key is no verification key
        jose.verify_jws(v["compact"], v["jwk"], EVERYTHING)
    with pytest.raises((InvalidHeader, UnsupportedAlgorithm)):
        jose.public_key_from_jwk(v["jwk"])
    with pytest.raises(UnsupportedAlgorithm):  # and no policy can list HS256
        jose.JwsPolicy(algorithms=frozenset({"HS256"}))


def test_a5_unsecured_jws_is_refused() -> None:
    v = RFC7515["A.5"]
    with pytest.raises(ParsingError, match="signature is empty"):  # the empty signature is refused on parsing
        jose.verify_jws(v["compact"], _public(RFC7515["A.3"]["jwk"]), EVERYTHING)
    with pytest.raises(UnsupportedAlgorithm, match="none"):  # and alg none even with some signature bytes
        jose.verify_jws(v["compact"] + "AAAA", _public(RFC7515["A.3"]["jwk"]), EVERYTHING)
    with pytest.raises(UnsupportedAlgorithm):
        jose.JwsPolicy(algorithms=frozenset({"none"}))


# --- RFC 7515 A.2 (RS256), A.3 (ES256), A.4 (ES512): verify ------------------------------------------------------


@pytest.mark.parametrize("section", ["A.2", "A.3", "A.4"])
def test_rfc_signature_verifies_with_the_rfc_key(section: str) -> None:
    v = RFC7515[section]
    policy = jose.JwsPolicy(algorithms=frozenset({v["alg"]}))
    out = jose.verify_jws(v["compact"], _public(v["jwk"]), policy)
    assert out.payload == v["payload_utf8"].encode("utf-8")
    assert out.alg == v["alg"]
    if v["payload_utf8"].startswith("{"):
        claims = jose.verify_jwt(v["compact"], _public(v["jwk"]), policy).claims
        assert claims == {"iss": "joe", "exp": 1300819380, "http://example.com/is_root": True}


@pytest.mark.parametrize("section", ["A.2", "A.3", "A.4"])
def test_rfc_signature_tampered_or_other_key_fails(section: str) -> None:
    v = RFC7515[section]
    policy = jose.JwsPolicy(algorithms=frozenset({v["alg"]}))
    with pytest.raises(InvalidSignature):
        jose.verify_jws(_tamper(v["compact"]), _public(v["jwk"]), policy)
    other = jose.generate_signing_key(v["alg"]).public_jwk if v["alg"] != "RS256" else None
    if other is not None:
        with pytest.raises(InvalidSignature):
            jose.verify_jws(v["compact"], other, policy)


@pytest.mark.parametrize("section", ["A.2", "A.3", "A.4"])
def test_rfc_vector_needs_its_algorithm_in_the_policy(section: str) -> None:
    v = RFC7515[section]
    with pytest.raises(UnsupportedAlgorithm):
        jose.verify_jws(v["compact"], _public(v["jwk"]), jose.JwsPolicy(algorithms=ALL_ACCEPTED - {v["alg"]}))


@pytest.mark.parametrize("section", ["A.3", "A.4"])
def test_our_ecdsa_signature_with_the_rfc_private_key(section: str) -> None:
    v = RFC7515[section]
    key = jose.signing_key_from_jwk(v["jwk"])
    assert key.alg == v["alg"]
    assert jose.public_jwk(key.public_key) == _public(v["jwk"])
    payload = v["payload_utf8"].encode("utf-8")
    token = jose.sign_jws(payload, key, include_kid=False)
    rfc_h, rfc_p, rfc_s = v["compact"].split(".")
    h, p, s = token.split(".")
    assert (h, p) == (rfc_h, rfc_p)  # the same JWS Signing Input as the RFC
    assert len(b64u_decode(s)) == len(b64u_decode(rfc_s))  # R || S, each the curve size (RFC 7518 §3.4)
    assert jose.verify_jws(token, _public(v["jwk"]), jose.JwsPolicy(algorithms=frozenset({v["alg"]}))).payload \
        == payload


# --- RFC 8037: Ed25519 ------------------------------------------------------------------------------------------


def test_rfc8037_a3_thumbprint() -> None:
    assert jose.jwk_thumbprint_b64u(RFC8037["A.2"]["jwk"]) == RFC8037["A.3"]["thumbprint"]
    assert jose.jwk_thumbprint_b64u(RFC8037["A.1"]["jwk"]) == RFC8037["A.3"]["thumbprint"]  # d is not a member
    canonical = {k: RFC8037["A.2"]["jwk"][k] for k in ("crv", "kty", "x")}
    assert json.dumps(canonical, separators=(",", ":")) == RFC8037["A.3"]["canonical"]


def test_rfc8037_a1_a2_keys() -> None:
    key = jose.signing_key_from_jwk(RFC8037["A.1"]["jwk"])
    assert key.alg == "EdDSA"
    assert jose.public_jwk(key.public_key) == RFC8037["A.2"]["jwk"]
    assert key.private_jwk() == RFC8037["A.1"]["jwk"] | {"alg": "EdDSA"}


def test_rfc8037_a4_ed25519_signing_is_reproduced_byte_for_byte() -> None:
    v = RFC8037["A.4"]
    key = jose.signing_key_from_jwk(RFC8037["A.1"]["jwk"])
    assert jose.sign_jws(v["payload_utf8"].encode("utf-8"), key, include_kid=False) == v["compact"]


def test_rfc8037_a5_ed25519_validation() -> None:
    v = RFC8037["A.4"]
    policy = jose.JwsPolicy(algorithms=frozenset({"EdDSA"}))
    out = jose.verify_jws(v["compact"], RFC8037["A.2"]["jwk"], policy)
    assert out.payload == b"Example of Ed25519 signing"
    with pytest.raises(InvalidSignature):
        jose.verify_jws(_tamper(v["compact"]), RFC8037["A.2"]["jwk"], policy)
    with pytest.raises(UnsupportedAlgorithm):  # EdDSA is opt-in per use
        jose.verify_jws(v["compact"], RFC8037["A.2"]["jwk"], jose.ES256_ONLY)
