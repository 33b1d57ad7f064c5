"""SD-JWT VC draft §2.3 example (``typ`` ``dc+sd-jwt``): digests, issuer signature, KB and no-KB presentations.

Vectors: tests/vectors/sd_jwt/sdjwtvc_*.txt (see tests/vectors/PROVENANCE.md); issuer key = RFC 9901 example key
(kid ``doc-signer-05-25-2022``), holder key = RFC 9901 example holder key (standards.md §8.3).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from eidcore.clock import FixedClock
from eidcore.errors import InvalidClaim, KeyBindingFailed
from eidcore.formats.sd_jwt import MUST_NOT_BE_PRESENT, Disclosure, KeyBindingRequired, digest, split
from eidcore.formats.sd_jwt_vc import JwksIssuerKey, SdJwtVcVerifier

VECTORS = Path(__file__).parents[2] / "vectors" / "sd_jwt"
ISSUER_JWK = {"kty": "EC", "crv": "P-256", "x": "b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ",
              "y": "Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8"}
HOLDER_JWK = {"kty": "EC", "crv": "P-256", "x": "TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc",
              "y": "ZxjiWWbZMQGHVWKVQ4hbSIirsVfuecCE6t4jT9F2HZQ"}
VCT = "https://credentials.example.com/identity_credential"
KB_IAT = 1787325881
ADDRESS = {"street_address": "123 Main St", "locality": "Anytown", "region": "Anystate", "country": "US"}
FULL_CLAIMS = {
    "iss": "https://example.com/issuer", "iat": 1683000000, "exp": 1883000000, "vct": VCT,
    "cnf": {"jwk": HOLDER_JWK}, "given_name": "John", "family_name": "Doe", "email": "johndoe@example.com",
    "phone_number": "+1-202-555-0101", "address": ADDRESS, "birthdate": "1940-01-01", "is_over_18": True,
    "is_over_21": True, "is_over_65": True,
}


def _read(name: str) -> str:
    return (VECTORS / name).read_text().strip()


def _verifier(at: int = KB_IAT) -> SdJwtVcVerifier:
    return SdJwtVcVerifier(ISSUER_JWK, clock=FixedClock.at_timestamp(at), accepted_vcts={VCT})


def test_every_disclosure_digest_is_referenced_and_prefixes_match_the_draft() -> None:
    issuance = _read("sdjwtvc_issuance.txt")
    parts = split(issuance, max_bytes=10**6)
    from eidcore import jose

    payload = jose.parse_json_object(jose.parse_jws(parts.jwt).payload, what="payload")
    digests = {Disclosure.parse(d).name: digest(d) for d in parts.disclosures}
    assert set(digests.values()) == set(payload["_sd"])
    # the digests standards.md §8.3 lists as differing from the RFC 9901 example
    assert digests["address"].startswith("IlDzIKei") and digests["address"].endswith("XCiw")
    assert digests["birthdate"].startswith("jdrTE8Yc") and digests["birthdate"].endswith("QqxI")
    assert digests["is_over_18"].startswith("09vKrJMO") and digests["is_over_18"].endswith("kpY")
    assert digests["is_over_21"].startswith("2rsjGbaC") and digests["is_over_21"].endswith("CwbI")
    assert digests["is_over_65"].startswith("EkO8dhW0") and digests["is_over_65"].endswith("UTtA")


def test_issued_sd_jwt_vc_verifies_and_processes_to_all_claims() -> None:
    result = _verifier(1700000000).verify(_read("sdjwtvc_issuance.txt"), MUST_NOT_BE_PRESENT)
    assert result.vct == VCT
    assert result.iss == "https://example.com/issuer"
    assert result.status is None
    assert result.claims == FULL_CLAIMS
    assert result.holder_jwk == HOLDER_JWK
    assert result.sd_jwt.header == {"alg": "ES256", "typ": "dc+sd-jwt", "kid": "doc-signer-05-25-2022"}


def test_key_bound_presentation_verifies_with_pinned_clock() -> None:
    policy = KeyBindingRequired(audience="https://example.com/verifier", nonce="1234567890")
    result = _verifier().verify(_read("sdjwtvc_presentation_kb.txt"), policy)
    assert result.claims == {
        "iss": "https://example.com/issuer", "iat": 1683000000, "exp": 1883000000, "vct": VCT,
        "cnf": {"jwk": HOLDER_JWK}, "address": ADDRESS, "is_over_65": True,
    }
    assert result.sd_jwt.key_binding is not None
    assert result.sd_jwt.key_binding.claims["sd_hash"] == "-soLuoqaoR1yNYVz7k0Y4XuWyQhVErNoeDqhLdjsyw8"


def test_key_bound_presentation_is_stale_an_hour_later() -> None:
    policy = KeyBindingRequired(audience="https://example.com/verifier", nonce="1234567890")
    with pytest.raises(KeyBindingFailed) as err:
        _verifier(KB_IAT + 3600).verify(_read("sdjwtvc_presentation_kb.txt"), policy)
    assert err.value.reason == "iat"


def test_presentation_without_key_binding_verifies_under_must_not_be_present() -> None:
    result = _verifier().verify(_read("sdjwtvc_presentation_nokb.txt"), MUST_NOT_BE_PRESENT)
    assert result.claims == {"iss": "https://example.com/issuer", "iat": 1683000000, "exp": 1883000000,
                             "vct": VCT, "address": ADDRESS, "is_over_65": True}
    assert result.holder_jwk is None


def test_presentation_without_key_binding_is_refused_when_binding_is_required() -> None:
    policy = KeyBindingRequired(audience="https://example.com/verifier", nonce="1234567890")
    with pytest.raises(KeyBindingFailed) as err:
        _verifier().verify(_read("sdjwtvc_presentation_nokb.txt"), policy)
    assert err.value.reason == "missing"


def test_issuer_key_by_kid_from_the_published_jwks() -> None:
    keys = [{**ISSUER_JWK, "kid": "doc-signer-05-25-2022"}]
    verifier = SdJwtVcVerifier(JwksIssuerKey("https://example.com/issuer", keys),
                               clock=FixedClock.at_timestamp(1700000000))
    assert verifier.verify(_read("sdjwtvc_issuance.txt"), MUST_NOT_BE_PRESENT).vct == VCT


def test_vct_outside_the_accepted_set_is_refused() -> None:
    verifier = SdJwtVcVerifier(ISSUER_JWK, clock=FixedClock.at_timestamp(1700000000),
                               accepted_vcts={"urn:eudi:pid:1"})
    with pytest.raises(InvalidClaim):
        verifier.verify(_read("sdjwtvc_issuance.txt"), MUST_NOT_BE_PRESENT)
