"""RFC 9901 §5 main example (fixed salts): digests, issuer signature, key-bound presentation, processed payload.

Vectors: tests/vectors/sd_jwt/sdjwt_rfc_main_*.txt (see tests/vectors/PROVENANCE.md); keys from the RFC's
examples/settings.yml as written out in standards.md §8.2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eidcore import jose
from eidcore.clock import FixedClock
from eidcore.errors import KeyBindingFailed
from eidcore.formats.sd_jwt import (
    MUST_NOT_BE_PRESENT,
    Disclosure,
    KeyBinding,
    KeyBindingRequired,
    SdJwtHolder,
    SdJwtIssuer,
    SdJwtVerifier,
    digest,
    sd,
    split,
)

VECTORS = Path(__file__).parents[2] / "vectors" / "sd_jwt"
ISSUER_JWK = {"kty": "EC", "crv": "P-256", "x": "b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ",
              "y": "Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8"}
ISSUER_D = "Ur2bNKuBPOrAaxsRnbSH6hIhmNTxSGXshDSUD1a1y7g"
HOLDER_JWK = {"kty": "EC", "crv": "P-256", "x": "TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc",
              "y": "ZxjiWWbZMQGHVWKVQ4hbSIirsVfuecCE6t4jT9F2HZQ"}
HOLDER_D = "5K5SCos8zf9zRemGGUl6yfok-_NiiryNZsvANWMhF-I"
KB_IAT = 1748536865
ADDRESS = {"street_address": "123 Main St", "locality": "Anytown", "region": "Anystate", "country": "US"}

# (claim name or None for an array element, salt, value, digest) as published (standards.md §8.2).
DISCLOSURES: list[tuple[str | None, str, Any, str]] = [
    ("given_name", "2GLC42sKQveCfGfryNRN9w", "John", "jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4"),
    ("family_name", "eluV5Og3gSNII8EYnsxA_A", "Doe", "TGf4oLbgwd5JQaHyKVQZU9UdGE0w5rtDsrZzfUaomLo"),
    ("email", "6Ij7tM-a5iVPGboS5tmvVA", "johndoe@example.com", "JzYjH4svliH0R3PyEMfeZu6Jt69u5qehZo7F7EPYlSE"),
    ("phone_number", "eI8ZWm9QnKPpNPeNenHdhQ", "+1-202-555-0101", "PorFbpKuVu6xymJagvkFsFXAbRoc2JGlAUA2BA4o7cI"),
    ("phone_number_verified", "Qg_O64zqAxe412a108iroA", True, "XQ_3kPKt1XyX7KANkqVR6yZ2Va5NrPIvPYbyMvRKBMM"),
    ("address", "AJx-095VPrpTtN4QMOqROA", ADDRESS, "XzFrzwscM6Gn6CJDc6vVK8BkMnfG8vOSKfpPIZdAfdE"),
    ("birthdate", "Pc33JM2LchcU_lHggv_ufQ", "1940-01-01", "gbOsI4Edq2x2Kw-w5wPEzakob9hV1cRD0ATN3oQL9JM"),
    ("updated_at", "G02NSrQfjFXQ7Io09syajA", 1570000000, "CrQe7S5kqBAHt-nMYXgc6bdt2SH5aTY1sU_M-PgkjPI"),
    (None, "lklxF5jMYlGTPUovMNIvCA", "US", "pFndjkZ_VCzmyTa6UjlZo3dh-ko8aIKQc9DlGzhaVYo"),
    (None, "nPuoQnkRFq3BIeAm7AnXFA", "DE", "7Cf6JkPudry3lcbwHgeZ8khAv1U1OSlerP0VkBJrWZ0"),
]


def _read(name: str) -> str:
    return (VECTORS / name).read_text().strip()


@pytest.fixture(scope="module")
def issuance() -> str:
    return _read("sdjwt_rfc_main_issuance.txt")


@pytest.fixture(scope="module")
def presentation() -> str:
    return _read("sdjwt_rfc_main_presentation.txt")


def _verifier() -> SdJwtVerifier:
    return SdJwtVerifier(ISSUER_JWK, clock=FixedClock.at_timestamp(KB_IAT), typ="example+sd-jwt")


@pytest.mark.parametrize(("name", "salt", "value", "expected"), DISCLOSURES, ids=[f"{d[0] or 'array'}-{d[2]}"
                                                                                  if d[0] is None else d[0]
                                                                                  for d in DISCLOSURES])
def test_every_disclosure_digest_recomputed_from_published_salt(
    issuance: str, name: str | None, salt: str, value: Any, expected: str
) -> None:
    made = Disclosure.create(salt, name, value)
    assert made.encoded in split(issuance, max_bytes=10**6).disclosures
    assert made.digest() == expected
    assert digest(made.encoded) == expected


def test_small_spec_vectors_moebius_and_fr() -> None:
    moebius = Disclosure.create("_26bc4LT-ac6q2KI6cBW5es", "family_name", "Möbius")
    assert moebius.encoded == "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0"
    assert moebius.digest() == "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0"
    fr = Disclosure.create("lklxF5jMYlGTPUovMNIvCA", None, "FR")
    assert fr.encoded == "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIkZSIl0"
    assert fr.digest() == "w0I8EKcdCtUPkGCNUrfwVp2xEgNjtoIDlOxc9-PlOhs"
    assert Disclosure.parse(moebius.encoded) == moebius


def test_issued_sd_jwt_verifies_with_example_issuer_key(issuance: str) -> None:
    result = _verifier().verify(issuance, MUST_NOT_BE_PRESENT)
    assert result.header == {"alg": "ES256", "typ": "example+sd-jwt"}
    assert result.claims == {
        "iss": "https://issuer.example.com", "iat": 1683000000, "exp": 1883000000, "sub": "user_42",
        "given_name": "John", "family_name": "Doe", "email": "johndoe@example.com",
        "phone_number": "+1-202-555-0101", "phone_number_verified": True, "address": ADDRESS,
        "birthdate": "1940-01-01", "updated_at": 1570000000, "nationalities": ["US", "DE"],
        "cnf": {"jwk": HOLDER_JWK},
    }
    assert len(result.disclosures) == 10


def test_key_bound_presentation_verifies_and_processed_payload_matches(presentation: str) -> None:
    policy = KeyBindingRequired(audience="https://verifier.example.org", nonce="1234567890")
    result = _verifier().verify(presentation, policy)
    assert result.claims == {
        "iss": "https://issuer.example.com", "iat": 1683000000, "exp": 1883000000, "sub": "user_42",
        "nationalities": ["US"], "family_name": "Doe", "address": ADDRESS, "given_name": "John",
        "cnf": {"jwk": HOLDER_JWK},
    }
    assert result.key_binding is not None
    assert result.key_binding.claims == {"nonce": "1234567890", "aud": "https://verifier.example.org",
                                         "iat": KB_IAT, "sd_hash": "fMV05vuMARs3uG0Dg0BYd_7mQR9EGBkRof0cTZyuqXE"}
    parts = split(presentation, max_bytes=10**6)
    assert digest(parts.sd_jwt) == "fMV05vuMARs3uG0Dg0BYd_7mQR9EGBkRof0cTZyuqXE"


@pytest.mark.parametrize(("aud", "nonce", "reason"), [
    ("https://other.example.org", "1234567890", "aud"),
    ("https://verifier.example.org", "0987654321", "nonce"),
])
def test_presentation_with_other_aud_or_nonce_is_refused(presentation: str, aud: str, nonce: str,
                                                         reason: str) -> None:
    with pytest.raises(KeyBindingFailed) as err:
        _verifier().verify(presentation, KeyBindingRequired(audience=aud, nonce=nonce))
    assert err.value.reason == reason


def test_issuer_reproduces_published_payload_digests_with_fixed_salts(issuance: str) -> None:
    """Same salts, same claims: our issuer yields the RFC's disclosures and `_sd` / array digests byte for byte."""
    salts = iter([d[1] for d in DISCLOSURES])
    key = jose.signing_key_from_jwk({**ISSUER_JWK, "d": ISSUER_D})
    claims = {"sub": "user_42", "given_name": "John", "family_name": "Doe", "email": "johndoe@example.com",
              "phone_number": "+1-202-555-0101", "phone_number_verified": True, "address": ADDRESS,
              "birthdate": "1940-01-01", "updated_at": 1570000000, "nationalities": [sd("US"), sd("DE")]}
    disclosable = [[n] for n in ("given_name", "family_name", "email", "phone_number", "phone_number_verified",
                                 "address", "birthdate", "updated_at")]
    ours = SdJwtIssuer(key, typ="example+sd-jwt", salt=lambda: next(salts)).issue(
        {"iss": "https://issuer.example.com", "iat": 1683000000, "exp": 1883000000, **claims},
        disclosable=disclosable, holder_jwk=HOLDER_JWK)
    published = json.loads(jose.parse_jws(split(issuance, max_bytes=10**6).jwt).payload)
    assert ours.payload == published
    assert [d.encoded for d in ours.disclosures] == list(split(issuance, max_bytes=10**6).disclosures)
    # and our own signature over it verifies with the published key
    _verifier().verify(ours.compact, MUST_NOT_BE_PRESENT)


def test_holder_rebuilds_the_published_presentation_up_to_kb_signature(issuance: str, presentation: str) -> None:
    holder = SdJwtHolder(clock=FixedClock.at_timestamp(KB_IAT))
    held = holder.load(issuance)
    key = jose.signing_key_from_jwk({**HOLDER_JWK, "d": HOLDER_D})
    ours = holder.present(held, disclose=[["family_name"], ["address"], ["given_name"], ["nationalities", 0]],
                          key_binding=KeyBinding(key, "https://verifier.example.org", "1234567890"))
    assert isinstance(ours, str)
    mine, theirs = split(ours, max_bytes=10**6), split(presentation, max_bytes=10**6)
    assert set(mine.disclosures) == set(theirs.disclosures)
    # disclosure order is the issuance order in ours; the RFC's presentation uses another order, so sd_hash differs
    policy = KeyBindingRequired(audience="https://verifier.example.org", nonce="1234567890")
    assert _verifier().verify(ours, policy).claims == _verifier().verify(presentation, policy).claims
