"""Conformance: the Token Status List examples (draft-ietf-oauth-status-list, ``examples/`` @ 2fb61cd5).

Every list is compared after decompression (compressed bytes depend on the zlib build and level), entry by
entry against the values the spec's generator set. The JWT and CWT Status List Tokens verify with the
example key (kid "12") at a pinned time; the referenced-token CWT parses and verifies.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from eidcore import cbor, cose, jose
from eidcore.clock import FixedClock
from eidcore.errors import Expired, StatusInvalid
from eidcore.status_list import (
    CWT_STATUS_CLAIM,
    StatusList,
    StatusReference,
    StatusValue,
    check_status,
    inflate,
    status_from_cwt_claims,
    verify_cwt,
    verify_jwt,
)

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "status_list"
URI = "https://example.com/statuslists/1"
EXAMPLE_JWK = {"kty": "EC", "crv": "P-256", "x": "I3HWm_0Ds1dPMI-IWmf4mBmH-YaeAVbPVu7vB27CxXo",
               "y": "6N_d5Elj9bs1htgV3okJKIdbHEpkgTmAluYKJemzn1M"}
IAT, EXP = 1686920170, 2291720170
CLOCK = FixedClock.at_timestamp(1_700_000_000)
SHORT_1BIT = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
SHORT_2BIT = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]


def _text(name: str) -> str:
    text = (VECTORS / name).read_text()
    return text.split("encoded:", 1)[1] if "encoded:" in text else text


def _hex(name: str) -> bytes:
    return bytes.fromhex(re.sub(r"\s", "", _text(name)))


def _json(name: str) -> Any:
    return json.loads(re.sub(r"\s", "", _text(name)))


def _key() -> jose.PublicKey:
    return jose.public_key_from_jwk(EXAMPLE_JWK)


# -- short lists (§ "Status List" examples) ---------------------------------------------------------------


@pytest.mark.parametrize(("json_name", "cbor_name", "bits", "raw", "values"), [
    ("status_list_encoding_json.md", "status_list_encoding_cbor.md", 1, bytes([0xB9, 0xA3]), SHORT_1BIT),
    ("status_list_encoding2_json.md", "status_list_encoding2_cbor.md", 2, bytes([0xC9, 0x44, 0xF9]), SHORT_2BIT),
])
def test_short_examples_decode_entry_by_entry(json_name: str, cbor_name: str, bits: int, raw: bytes,
                                              values: list[int]) -> None:
    from_json = StatusList.from_json(_json(json_name))
    from_cbor = StatusList.from_cbor_map(cbor.loads(_hex(cbor_name)))
    for lst in (from_json, from_cbor):
        assert lst.bits == bits
        assert lst.to_bytes() == raw
        assert [lst.get(i) for i in range(len(lst))] == values


@pytest.mark.parametrize(("bits", "values", "raw"), [
    (1, SHORT_1BIT, bytes([0xB9, 0xA3])),
    (2, SHORT_2BIT, bytes([0xC9, 0x44, 0xF9])),
])
def test_we_encode_the_short_examples(bits: int, values: list[int], raw: bytes) -> None:
    lst = StatusList(len(values), bits)
    for i, v in enumerate(values):
        lst.set(i, v)
    assert lst.to_bytes() == raw
    # our JSON and CBOR forms decode (with any inflater) to the spec's byte array
    js = lst.to_json()
    assert js["bits"] == bits and StatusList.from_json(js).to_bytes() == raw
    encoded = cbor.dumps(lst.to_cbor_map())
    decoded = cbor.loads(encoded)
    assert list(decoded) == ["bits", "lst"]
    assert inflate(decoded["lst"]) == raw
    # the CBOR map has the spec's shape: {"bits": uint, "lst": bstr}, same keys in the same order
    spec = cbor.loads(_hex("status_list_encoding_cbor.md" if bits == 1 else "status_list_encoding2_cbor.md"))
    assert list(spec) == list(decoded)
    assert inflate(spec["lst"]) == inflate(decoded["lst"])


def test_cbor_diagnostic_files_match_the_encodings() -> None:
    for enc, diag in (("status_list_encoding_cbor.md", "status_list_encoding_cbor_diag.md"),
                      ("status_list_encoding2_cbor.md", "status_list_encoding2_cbor_diag.md"),
                      ("status_list_cwt.md", "status_list_cwt_diag.md"),
                      ("referenced_token_cwt.md", "referenced_token_cwt_diag.md")):
        lines = (VECTORS / diag).read_text().splitlines()
        hex_from_diag = "".join(line.split("#")[0].replace(" ", "") for line in lines)
        assert bytes.fromhex(hex_from_diag) == _hex(enc)


# -- the 2^20-entry lists (Test Vectors appendix) -----------------------------------------------------------

EXPECTED = json.loads((VECTORS / "long_lists_expected.json").read_text())
LONG = [
    (1, "status_list_encoding1_long_json.md", "status_list_encoding1_long_cbor.md"),
    (2, "status_list_encoding2_long_json.md", "status_list_encoding2_long_cbor.md"),
    (4, "status_list_encoding4_json.md", "status_list_encoding4_cbor.md"),
    (8, "status_list_encoding8_json.md", "status_list_encoding8_cbor.md"),
]


def _expected_list(bits: int) -> tuple[dict[int, int], bytes]:
    entries = {int(k): v for k, v in EXPECTED[str(bits)].items()}
    ref = bytearray(EXPECTED["size"] * bits // 8)
    for idx, value in entries.items():  # built independently of StatusList, with the spec's formula
        ref[idx * bits // 8] |= value << ((idx * bits) % 8)
    return entries, bytes(ref)


@pytest.mark.parametrize(("bits", "json_name", "cbor_name"), LONG)
def test_long_lists_entry_by_entry(bits: int, json_name: str, cbor_name: str) -> None:
    entries, ref = _expected_list(bits)
    assert len(entries) == (255 if bits == 8 else 11 if bits < 4 else 15)
    from_json = StatusList.from_json(_json(json_name))
    from_cbor = StatusList.from_cbor_map(cbor.loads(_hex(cbor_name)))
    for lst in (from_json, from_cbor):
        assert lst.bits == bits
        assert len(lst) == EXPECTED["size"] == 2**20
        # every entry: the whole array equals the reference built from the generator's (index, value) pairs
        assert lst.to_bytes() == ref
        for idx, value in entries.items():
            assert lst.get(idx) == value
            if idx + 1 < len(lst) and idx + 1 not in entries:
                assert lst.get(idx + 1) == 0
    # the non-zero entries, read one by one through get(), are exactly the expected set
    raw = from_json.view()
    per_byte = 8 // bits
    nonzero = {}
    for byte_index in (i for i, b in enumerate(raw) if b):
        for k in range(per_byte):
            v = from_json.get(byte_index * per_byte + k)
            if v:
                nonzero[byte_index * per_byte + k] = v
    assert nonzero == entries


def test_long_two_bit_values_from_standards_digest() -> None:
    lst = StatusList.from_json(_json("status_list_encoding2_long_json.md"))
    idx = [0, 1993, 25460, 159495, 495669, 554353, 645645, 723232, 854545, 934534, 1000345]
    assert [lst.get(i) for i in idx] == [1, 2, 1, 3, 1, 1, 2, 1, 1, 2, 3]


@pytest.mark.parametrize(("bits", "json_name", "cbor_name"), LONG)
def test_we_reencode_the_long_lists(bits: int, json_name: str, cbor_name: str) -> None:
    _, ref = _expected_list(bits)
    ours = StatusList.from_bytes(ref, bits)
    assert inflate(cbor.loads(cbor.dumps(ours.to_cbor_map()))["lst"]) == ref
    assert StatusList.from_json(ours.to_json()).to_bytes() == ref


# -- Status List Tokens ---------------------------------------------------------------------------------------


def test_jwt_example_verifies_with_the_example_key() -> None:
    token = re.sub(r"\s", "", _text("status_list_jwt_raw.md"))
    v = verify_jwt(token, uri=URI, clock=CLOCK, keys={"12": _key()})
    assert (v.uri, v.iat, v.exp, v.ttl, v.iss, v.kid, v.form) == (URI, IAT, EXP, 43200, "https://example.com",
                                                                  "12", "jwt")
    assert v.status_list.bits == 1
    assert [v.get(i) for i in range(16)] == SHORT_1BIT
    # the pretty-printed example shows the same header and claims (without iss, see standards.md §8.5)
    header_text, payload_text = _text("status_list_jwt.md").split("\n.\n")
    parsed = jose.parse_jws(token)
    assert parsed.header == json.loads(header_text)
    claims = json.loads(parsed.payload)
    claims.pop("iss")
    assert claims == json.loads(payload_text)


def test_jwt_example_verifies_with_a_key_list_too() -> None:
    token = re.sub(r"\s", "", _text("status_list_jwt_raw.md"))
    assert verify_jwt(token, uri=URI, clock=CLOCK, keys=[_key()]).uri == URI


def test_jwt_example_expires_at_its_exp() -> None:
    token = re.sub(r"\s", "", _text("status_list_jwt_raw.md"))
    with pytest.raises(Expired):
        verify_jwt(token, uri=URI, clock=FixedClock.at_timestamp(EXP + 3600), keys=[_key()])


def test_cwt_example_verifies_with_the_example_key() -> None:
    v = verify_cwt(_hex("status_list_cwt.md"), uri=URI, clock=CLOCK, keys={"12": _key()})
    assert (v.uri, v.iat, v.exp, v.ttl, v.iss, v.kid, v.form) == (URI, IAT, EXP, 43200, None, "12", "cwt")
    assert [v.get(i) for i in range(16)] == SHORT_1BIT


def test_cwt_example_headers_and_claims() -> None:
    msg = cose.decode_sign1(_hex("status_list_cwt.md"))
    assert msg.tagged
    assert msg.protected_header == {1: -7, 16: "application/statuslist+cwt"}
    assert msg.unprotected == {4: b"12"}
    assert msg.payload is not None
    claims = cbor.loads(msg.payload)
    assert set(claims) == {2, 6, 4, 65534, 65533}
    assert claims[65534] == 43200
    assert inflate(claims[65533]["lst"]) == bytes([0xB9, 0xA3])
    # our protected header for the same parameters is byte-identical
    assert cbor.dumps({1: -7, 16: "application/statuslist+cwt"}) == msg.protected


def test_referenced_token_cwt_parses_and_verifies() -> None:
    msg = cose.decode_sign1(_hex("referenced_token_cwt.md"))
    key = _key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    payload = cose.verify_sign1(msg, key)
    claims = cbor.loads(payload)
    assert claims[2] == "12345" and claims[1] == "https://example.com"
    assert claims[CWT_STATUS_CLAIM] == {"status_list": {"idx": 0, "uri": URI}}
    ref = status_from_cwt_claims(claims)
    assert ref == StatusReference(uri=URI, idx=0)
    # entry 0 of the example list is 1: the referenced token is revoked
    lst = verify_cwt(_hex("status_list_cwt.md"), uri=ref.uri, clock=CLOCK, keys=[_key()])
    with pytest.raises(StatusInvalid):
        check_status(ref, lst)
    assert check_status(StatusReference(uri=URI, idx=1), lst) is StatusValue.VALID
