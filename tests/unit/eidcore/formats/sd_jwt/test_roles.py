"""SD-JWT issuer, holder and verifier (RFC 9901): the behaviours each role promises."""

from __future__ import annotations

import json
from typing import Any

import pytest

from eidcore import jose
from eidcore.clock import FixedClock
from eidcore.errors import InvalidClaim, KeyBindingFailed, MissingClaim
from eidcore.formats.sd_jwt import (
    ARRAY_DIGEST,
    MUST_NOT_BE_PRESENT,
    SD,
    Disclosure,
    KeyBinding,
    KeyBindingRequired,
    SdJwtHolder,
    SdJwtIssuer,
    SdJwtVerifier,
    resolve_claim_path,
    sd,
    split,
)

IK = jose.generate_signing_key()
HK = jose.generate_signing_key()
NOW = 1_800_000_000
CLOCK = FixedClock.at_timestamp(NOW)
KB = KeyBindingRequired(audience="aud-1", nonce="n-1")

CLAIMS: dict[str, Any] = {
    "iss": "https://issuer.example", "iat": NOW, "exp": NOW + 600,
    "given_name": "Kari", "family_name": "Nordmann",
    "address": {"street_address": "Storgata 1", "locality": "Oslo", "country": "NO"},
    "nationalities": ["NO", "SE"],
    "degrees": [{"type": "MSc", "year": 2010}, {"type": "PhD", "year": 2015}],
}


def issue(disclosable: list[list[Any]], claims: dict[str, Any] | None = None, **kw: Any) -> Any:
    return SdJwtIssuer(IK, typ="example+sd-jwt", **kw).issue(claims or CLAIMS, disclosable=disclosable,
                                                              holder_jwk=HK.public_jwk)


def verifier() -> SdJwtVerifier:
    return SdJwtVerifier(IK.public_key, clock=CLOCK, typ="example+sd-jwt")


def present(issued: Any, paths: list[list[Any]] | None, *, kb: bool = True) -> str:
    holder = SdJwtHolder(clock=CLOCK)
    out = holder.present(issued.compact, disclose=paths,
                         key_binding=KeyBinding(HK, "aud-1", "n-1") if kb else None)
    assert isinstance(out, str)
    return out


# ------------------------------------------------------------------------------------------------ issuer


def test_issued_payload_hides_disclosable_claims_and_keeps_the_rest() -> None:
    issued = issue([["given_name"], ["address", "locality"], ["nationalities", 1]])
    p = issued.payload
    assert "given_name" not in p and p["family_name"] == "Nordmann"
    assert len(p[SD]) == 1 and p["_sd_alg"] == "sha-256"
    assert "locality" not in p["address"] and len(p["address"][SD]) == 1
    assert p["nationalities"][0] == "NO" and set(p["nationalities"][1]) == {ARRAY_DIGEST}
    assert p["cnf"] == {"jwk": HK.public_jwk}
    assert {(d.name, json.dumps(d.value)) for d in issued.disclosures} == {
        ("given_name", '"Kari"'), ("locality", '"Oslo"'), (None, '"SE"')}


def test_salts_are_unique_22_char_base64url() -> None:
    issued = issue([["given_name"], ["family_name"], ["nationalities", None]])
    salts = [d.salt for d in issued.disclosures]
    assert len(set(salts)) == len(salts) == 4
    assert all(len(s) == 22 and set(s) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
               for s in salts)


def test_sd_arrays_are_sorted_and_hold_decoys() -> None:
    issued = issue([["given_name"], ["family_name"]], decoys=3, array_decoys=2)
    digests = issued.payload[SD]
    assert digests == sorted(digests) and len(digests) == 5
    # arrays get decoys only when they have a disclosable element
    assert issued.payload["nationalities"] == ["NO", "SE"]
    issued = issue([["nationalities", 0]], array_decoys=2)
    assert len(issued.payload["nationalities"]) == 4
    assert verifier().verify(issued.compact, MUST_NOT_BE_PRESENT).claims["nationalities"] == ["NO", "SE"]


def test_recursive_disclosure_and_marker_api_give_the_same_structure() -> None:
    by_path = issue([["address"], ["address", "street_address"], ["address", "country"]])
    by_marker = SdJwtIssuer(IK).issue({**CLAIMS, "address": sd({"street_address": sd("Storgata 1"),
                                                                 "locality": "Oslo", "country": sd("NO")})})
    for issued in (by_path, by_marker):
        outer = next(d for d in issued.disclosures if d.name == "address")
        assert set(outer.value) == {"locality", SD} and len(outer.value[SD]) == 2
        assert len(issued.disclosures) == 3


def test_wildcard_path_makes_every_array_element_disclosable() -> None:
    issued = issue([["degrees", None, "year"]])
    assert all(set(x) == {"type", SD} for x in issued.payload["degrees"])
    assert sorted(d.value for d in issued.disclosures) == [2010, 2015]


def test_wildcard_on_empty_array_is_not_an_error() -> None:
    issued = issue([["nationalities", None]], claims={**CLAIMS, "nationalities": []})
    assert issued.payload["nationalities"] == []


def test_json_serialization_roundtrip() -> None:
    issued = issue([["given_name"]])
    doc = issued.to_json()
    assert set(doc) == {"protected", "payload", "signature", "header"}
    assert verifier().verify(doc, MUST_NOT_BE_PRESENT).claims["given_name"] == "Kari"
    assert verifier().verify(json.dumps(doc), MUST_NOT_BE_PRESENT).claims["given_name"] == "Kari"
    holder = SdJwtHolder(clock=CLOCK)
    pres = holder.present(holder.load(doc), disclose=[["given_name"]], key_binding=KeyBinding(HK, "aud-1", "n-1"),
                          serialization="json")
    assert isinstance(pres, dict) and "kb_jwt" in pres["header"]
    assert verifier().verify(pres, KB).claims["given_name"] == "Kari"


def test_no_disclosable_claims_means_no_sd_and_no_disclosures() -> None:
    issued = issue([])
    assert SD not in issued.payload and issued.disclosures == ()
    assert issued.compact.endswith("~") and issued.compact.count("~") == 1


def test_disclosure_create_refuses_forbidden_names() -> None:
    from eidcore.errors import InvalidDisclosure

    with pytest.raises(InvalidDisclosure):
        Disclosure.create("salt", "_sd", 1)


# ------------------------------------------------------------------------------------------------ holder


def test_holder_sends_parents_with_a_nested_claim_and_the_subtree_with_a_parent() -> None:
    issued = issue([["address"], ["address", "street_address"], ["address", "locality"]])
    nested = verifier().verify(present(issued, [["address", "street_address"]]), KB).claims
    assert nested["address"] == {"country": "NO", "street_address": "Storgata 1"}
    whole = verifier().verify(present(issued, [["address"]]), KB).claims
    assert whole["address"] == CLAIMS["address"]


def test_holder_selects_array_elements_by_index_and_wildcard() -> None:
    issued = issue([["nationalities", None], ["degrees", 1]])
    assert verifier().verify(present(issued, [["nationalities", 1]]), KB).claims["nationalities"] == ["SE"]
    assert verifier().verify(present(issued, [["nationalities", None]]), KB).claims["nationalities"] == ["NO",
                                                                                                          "SE"]
    claims = verifier().verify(present(issued, [["degrees", None, "type"]]), KB).claims
    assert claims["degrees"] == CLAIMS["degrees"]
    assert verifier().verify(present(issued, []), KB).claims["degrees"] == [CLAIMS["degrees"][0]]


def test_holder_reveals_nothing_it_was_not_asked_for() -> None:
    issued = issue([["given_name"], ["family_name"], ["address"]])
    pres = present(issued, [["family_name"]])
    assert len(split(pres, max_bytes=10**6).disclosures) == 1
    claims = verifier().verify(pres, KB).claims
    assert "given_name" not in claims and "address" not in claims and claims["family_name"] == "Nordmann"


def test_holder_disclose_none_sends_everything_and_no_kb_when_not_asked() -> None:
    issued = issue([["given_name"], ["family_name"]])
    pres = present(issued, None, kb=False)
    assert pres == issued.compact
    assert verifier().verify(pres, MUST_NOT_BE_PRESENT).claims["given_name"] == "Kari"


def test_holder_missing_claim_path() -> None:
    issued = issue([["given_name"]])
    with pytest.raises(MissingClaim):
        present(issued, [["no_such"]])


def test_kb_jwt_carries_iat_aud_nonce_sd_hash_and_extra_claims() -> None:
    issued = issue([["given_name"]])
    holder = SdJwtHolder(clock=CLOCK)
    kb = KeyBinding(HK, "aud-1", "n-1", extra_claims={"transaction_data_hashes": ["abc"]})
    pres = holder.present(holder.load(issued.compact), disclose=[["given_name"]], key_binding=kb)
    assert isinstance(pres, str)
    result = verifier().verify(pres, KB)
    assert result.key_binding is not None
    assert result.key_binding.header == {"alg": "ES256", "typ": "kb+jwt"}
    assert set(result.key_binding.claims) == {"iat", "aud", "nonce", "sd_hash", "transaction_data_hashes"}
    assert result.key_binding.claims["iat"] == NOW
    with pytest.raises(InvalidClaim):
        holder.present(holder.load(issued.compact), disclose=None,
                       key_binding=KeyBinding(HK, "a", "n", extra_claims={"nonce": "x"}))


def test_resolve_claim_path() -> None:
    claims = {"a": [{"b": 1}, {"b": 2}, {"c": 3}], "d": "x"}
    assert resolve_claim_path(claims, ["a", None, "b"]) == [("a", 0, "b"), ("a", 1, "b")]
    assert resolve_claim_path(claims, ["a", 2]) == [("a", 2)]
    assert resolve_claim_path(claims, ["d", "x"]) == []
    assert resolve_claim_path(claims, ["a", 9]) == []
    with pytest.raises(InvalidClaim):
        resolve_claim_path(claims, [])
    with pytest.raises(InvalidClaim):
        resolve_claim_path(claims, ["a", -1])


# ------------------------------------------------------------------------------------------------ verifier


def test_verified_result_names_the_disclosed_paths() -> None:
    issued = issue([["given_name"], ["address", "locality"], ["nationalities", 1]])
    result = verifier().verify(issued.compact, MUST_NOT_BE_PRESENT)
    assert set(result.disclosed_paths) == {("given_name",), ("address", "locality"), ("nationalities", 1)}
    assert result.signed_payload == issued.payload
    assert not _keys_named(result.claims, {SD, ARRAY_DIGEST})


def _keys_named(node: object, names: set[str]) -> list[str]:
    """Every object key in ``node`` (at any depth) that is one of ``names``; values are not searched."""
    if isinstance(node, dict):
        return [k for k in node if k in names] + [x for v in node.values() for x in _keys_named(v, names)]
    if isinstance(node, list):
        return [x for v in node for x in _keys_named(v, names)]
    return []


def test_kb_iat_window_and_clock_skew() -> None:
    issued = issue([["given_name"]])
    pres = present(issued, [["given_name"]])
    for offset in (-300 - 60, 59):  # max_age plus skew in the past, just under the skew in the future
        clock = FixedClock.at_timestamp(NOW - offset)
        SdJwtVerifier(IK.public_key, clock=clock, typ="example+sd-jwt").verify(pres, KB)
    late = SdJwtVerifier(IK.public_key, clock=FixedClock.at_timestamp(NOW + 361), typ="example+sd-jwt")
    with pytest.raises(KeyBindingFailed) as err:
        late.verify(pres, KB)
    assert err.value.reason == "iat"


def test_exp_within_clock_skew_is_accepted() -> None:
    issued = issue([], claims={**CLAIMS, "exp": NOW - 59})
    assert verifier().verify(issued.compact, MUST_NOT_BE_PRESENT).claims["exp"] == NOW - 59


def test_verifier_with_resolver_sees_header_and_claims() -> None:
    seen: dict[str, Any] = {}

    def resolver(jws: jose.UnverifiedJws, claims: Any) -> jose.PublicKey:
        seen["iss"], seen["typ"] = claims["iss"], jws.header["typ"]
        return IK.public_key

    issued = issue([["given_name"]])
    SdJwtVerifier(resolver, clock=CLOCK).verify(issued.compact, MUST_NOT_BE_PRESENT)
    assert seen == {"iss": "https://issuer.example", "typ": "example+sd-jwt"}


def test_other_sd_alg_when_accepted() -> None:
    issued = issue([["given_name"]], sd_alg="sha-512")
    assert issued.payload["_sd_alg"] == "sha-512"
    v = SdJwtVerifier(IK.public_key, clock=CLOCK, sd_algorithms=frozenset({"sha-512"}))
    holder = SdJwtHolder(clock=CLOCK)
    pres = holder.present(holder.load(issued.compact), disclose=[["given_name"]],
                          key_binding=KeyBinding(HK, "aud-1", "n-1"))
    assert v.verify(pres, KB).claims["given_name"] == "Kari"
