"""COSE_Sign1 / COSE_Mac0 (RFC 9052), ECDSA and HMAC (RFC 9053), x5chain (RFC 9360), COSE_Key conversions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from eidcore import cbor, cose
from eidcore.encoding import b64u_decode
from eidcore.errors import FormatError, InvalidHeader, InvalidSignature, ParsingError, UnsupportedAlgorithm

VECTORS = json.loads((Path(__file__).parents[3] / "vectors" / "mdoc" / "cose_wg_examples.json").read_text())
CONTENT = b"This is the content."


def _wg_key() -> ec.EllipticCurvePublicKey:
    return cose.public_key_from_cose_key(cose.cose_key_from_jwk(VECTORS["sign1_key"]))


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


# --- published examples --------------------------------------------------------------------------------------


def test_cose_wg_sign1_with_external_aad_verifies() -> None:
    v = VECTORS["sign_pass_02"]
    data = bytes.fromhex(v["cbor_hex"])
    msg = cose.decode_sign1(data)
    assert msg.tagged and msg.header(cose.HEADER_KID) == b"11"
    aad = bytes.fromhex(v["external_aad_hex"])
    assert cose.sig_structure(msg.protected, CONTENT, aad) == bytes.fromhex(v["to_be_signed_hex"])
    assert cose.verify_sign1(data, _wg_key(), external_aad=aad) == CONTENT
    with pytest.raises(InvalidSignature):
        cose.verify_sign1(data, _wg_key())  # without the external AAD


def test_cose_wg_alg_in_unprotected_bucket_is_refused() -> None:
    with pytest.raises(InvalidHeader, match="alg must be in the protected header"):
        cose.verify_sign1(bytes.fromhex(VECTORS["sign_pass_01_alg_unprotected"]["cbor_hex"]), _wg_key())


def test_cose_wg_hmac_is_byte_identical() -> None:
    v = VECTORS["hmac_01"]
    key = b64u_decode(v["key_b64u"])
    assert cose.mac_structure(b"\xa1\x01\x05", CONTENT) == bytes.fromhex(v["to_mac_hex"])
    assert cose.mac0(CONTENT, key).encode(tag=True) == bytes.fromhex(v["cbor_hex"])
    assert cose.verify_mac0(bytes.fromhex(v["cbor_hex"]), key) == CONTENT
    with pytest.raises(InvalidSignature):
        cose.verify_mac0(bytes.fromhex(v["cbor_hex"]), b"\x00" * 32)


# --- round trips -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("curve", "alg", "size"),
    [(ec.SECP256R1(), cose.ES256, 64), (ec.SECP384R1(), cose.ES384, 96), (ec.SECP521R1(), cose.ES512, 132)],
    ids=["ES256", "ES384", "ES512"],
)
def test_sign1_round_trip_per_curve(curve: ec.EllipticCurve, alg: int, size: int) -> None:
    k = ec.generate_private_key(curve)
    msg = cose.sign1(b"payload", k)
    assert msg.alg == alg and len(msg.signature) == size
    assert msg.protected == cbor.dumps({1: alg})
    assert cose.verify_sign1(msg.encode(tag=True), k.public_key(), allowed_algs={alg}) == b"payload"


def test_detached_payload(key) -> None:
    msg = cose.sign1(b"detached", key, detached=True)
    assert msg.payload is None and cbor.loads(msg.encode())[2] is None
    assert cose.verify_sign1(msg.encode(), key.public_key(), detached_payload=b"detached") == b"detached"
    with pytest.raises(InvalidSignature):
        cose.verify_sign1(msg.encode(), key.public_key(), detached_payload=b"other")


def test_x5chain_single_is_bstr_and_many_is_array(key) -> None:
    one = cose.sign1(b"p", key, x5chain=[b"leaf"])
    assert one.unprotected[33] == b"leaf" and one.x5chain() == [b"leaf"]
    two = cose.decode_sign1(cose.sign1(b"p", key, x5chain=[b"leaf", b"ca"]).encode())
    assert two.unprotected[33] == [b"leaf", b"ca"] and two.x5chain() == [b"leaf", b"ca"]


def test_protected_and_unprotected_headers(key) -> None:
    msg = cose.sign1(
        b"p", key, protected={cose.HEADER_TYP: "application/example"}, unprotected={cose.HEADER_KID: b"k1"}
    )
    parsed = cose.decode_sign1(msg.encode())
    assert parsed.protected_header == {1: -7, 16: "application/example"}
    assert parsed.header(cose.HEADER_KID) == b"k1"
    cose.verify_sign1(parsed, key.public_key())


def test_mac0_round_trip_detached() -> None:
    msg = cose.mac0(b"data", b"k" * 32, detached=True, external_aad=b"aad")
    assert cose.verify_mac0(msg.encode(), b"k" * 32, detached_payload=b"data", external_aad=b"aad") == b"data"


def test_cose_key_jwk_round_trip(key) -> None:
    ck = cose.cose_key_from_public_key(key.public_key(), kid=b"dev")
    assert ck[1] == 2 and ck[-1] == 1 and len(ck[-2]) == 32 and ck[2] == b"dev"
    jwk = cose.jwk_from_cose_key(ck)
    assert jwk["kty"] == "EC" and jwk["crv"] == "P-256"
    assert cose.cose_key_from_jwk(jwk) == {k: v for k, v in ck.items() if k != 2}
    assert cose.public_key_from_cose_key(ck).public_numbers() == key.public_key().public_numbers()


def test_compressed_point_cose_key(key) -> None:
    nums = key.public_key().public_numbers()
    ck = {1: 2, -1: 1, -2: nums.x.to_bytes(32, "big"), -3: bool(nums.y & 1)}
    assert cose.public_key_from_cose_key(ck).public_numbers() == nums


# --- negative corpus ---------------------------------------------------------------------------------------


def _signed(key: ec.EllipticCurvePrivateKey, **kw: Any) -> list[Any]:
    return cose.sign1(b"payload", key, **kw).to_array()


def _mutated(key: ec.EllipticCurvePrivateKey, change: Any) -> bytes:
    arr = _signed(key)
    change(arr)
    return cbor.dumps(arr)


NEGATIVE_SIGN1: list[tuple[str, Any, type[Exception]]] = [
    ("not_cbor", lambda k: b"\x00\xff", ParsingError),
    ("not_array", lambda k: cbor.dumps({"a": 1}), ParsingError),
    ("three_elements", lambda k: cbor.dumps(_signed(k)[:3]), ParsingError),
    ("wrong_tag", lambda k: cbor.dumps(cbor.CBORTag(17, _signed(k))), ParsingError),
    ("protected_not_bstr", lambda k: _mutated(k, lambda a: a.__setitem__(0, {1: -7})), ParsingError),
    ("protected_not_map", lambda k: _mutated(k, lambda a: a.__setitem__(0, cbor.dumps([1]))), ParsingError),
    ("protected_bad_cbor", lambda k: _mutated(k, lambda a: a.__setitem__(0, b"\xa1\x01")), ParsingError),
    ("unprotected_not_map", lambda k: _mutated(k, lambda a: a.__setitem__(1, [])), ParsingError),
    ("payload_not_bstr", lambda k: _mutated(k, lambda a: a.__setitem__(2, "text")), ParsingError),
    ("signature_not_bstr", lambda k: _mutated(k, lambda a: a.__setitem__(3, 5)), ParsingError),
    ("label_in_both_buckets", lambda k: _mutated(k, lambda a: a[1].__setitem__(1, -7)), InvalidHeader),
    ("float_label", lambda k: _mutated(k, lambda a: a[1].__setitem__(1.5, 0)), InvalidHeader),
    ("crit_unprotected", lambda k: _mutated(k, lambda a: a[1].__setitem__(2, [4])), InvalidHeader),
    ("crit_unknown_label", lambda k: cbor.dumps(_signed(k, protected={2: [77], 77: 1})), InvalidHeader),
    ("crit_empty", lambda k: cbor.dumps(_signed(k, protected={2: []})), InvalidHeader),
    ("alg_missing", lambda k: _mutated(k, lambda a: a.__setitem__(0, b"")), InvalidHeader),
    ("alg_text", lambda k: _mutated(k, lambda a: a.__setitem__(0, cbor.dumps({1: "ES256"}))), UnsupportedAlgorithm),
    ("alg_not_allowed", lambda k: _mutated(k, lambda a: a.__setitem__(0, cbor.dumps({1: -35}))), UnsupportedAlgorithm),
    ("alg_eddsa", lambda k: _mutated(k, lambda a: a.__setitem__(0, cbor.dumps({1: -8}))), UnsupportedAlgorithm),
    ("alg_hmac_on_signature", lambda k: _mutated(k, lambda a: a.__setitem__(0, cbor.dumps({1: 5}))),
     UnsupportedAlgorithm),
    ("signature_flipped", lambda k: _mutated(k, lambda a: a.__setitem__(3, bytes([a[3][0] ^ 1]) + a[3][1:])),
     InvalidSignature),
    ("signature_short", lambda k: _mutated(k, lambda a: a.__setitem__(3, a[3][:63])), InvalidSignature),
    ("signature_der", lambda k: _mutated(k, lambda a: a.__setitem__(3, b"\x30\x44" + a[3] + b"\x00\x00")),
     InvalidSignature),
    ("payload_changed", lambda k: _mutated(k, lambda a: a.__setitem__(2, b"payloaD")), InvalidSignature),
    ("protected_changed", lambda k: _mutated(k, lambda a: a.__setitem__(0, cbor.dumps({1: -7, 4: b"x"}))),
     InvalidSignature),
    ("x5chain_text", lambda k: cbor.dumps(_signed(k, unprotected={33: "pem"})), InvalidHeader),
    ("x5chain_empty_array", lambda k: cbor.dumps(_signed(k, unprotected={33: []})), InvalidHeader),
    ("detached_without_payload", lambda k: cose.sign1(b"p", k, detached=True).encode(), ParsingError),
]


@pytest.mark.parametrize(("name", "build", "error"), NEGATIVE_SIGN1, ids=[n for n, _, _ in NEGATIVE_SIGN1])
def test_sign1_rejected(key, name: str, build: Any, error: type[Exception]) -> None:
    with pytest.raises(FormatError) as info:  # the exact class is asserted below
        msg = cose.decode_sign1(build(key))
        if name == "x5chain_text" or name == "x5chain_empty_array":
            msg.x5chain()
        cose.verify_sign1(msg, key.public_key())
    assert type(info.value) is error, f"{name}: {type(info.value).__name__}: {info.value}"


def test_key_curve_must_match_alg(key) -> None:
    other = ec.generate_private_key(ec.SECP384R1())
    msg = cose.sign1(b"p", key)
    with pytest.raises(UnsupportedAlgorithm):
        cose.verify_sign1(msg, other.public_key(), allowed_algs={cose.ES256, cose.ES384})
    with pytest.raises(UnsupportedAlgorithm):
        cose.sign1(b"p", key, alg=cose.ES384)


def test_attached_payload_refuses_a_detached_one(key) -> None:
    with pytest.raises(ParsingError):
        cose.verify_sign1(cose.sign1(b"p", key), key.public_key(), detached_payload=b"p")


NEGATIVE_MAC0: list[tuple[str, Any, type[Exception]]] = [
    ("wrong_key", lambda: (cose.mac0(b"d", b"a" * 32).encode(), b"b" * 32), InvalidSignature),
    ("tag_truncated", lambda: (cbor.dumps([b"\xa1\x01\x05", {}, b"d", cose.mac0(b"d", b"a" * 32).tag[:16]]), b"a" * 32),
     InvalidSignature),
    ("alg_hmac_256_64", lambda: (cose.mac0(b"d", b"a" * 32, protected={1: 4}).encode(), b"a" * 32),
     UnsupportedAlgorithm),
    ("alg_es256", lambda: (cose.mac0(b"d", b"a" * 32, protected={1: -7}).encode(), b"a" * 32), UnsupportedAlgorithm),
    ("tagged_as_sign1", lambda: (cbor.dumps(cbor.CBORTag(18, cose.mac0(b"d", b"a" * 32).to_array())), b"a" * 32),
     ParsingError),
    ("tag_not_bstr", lambda: (cbor.dumps([b"\xa1\x01\x05", {}, b"d", "tag"]), b"a" * 32), ParsingError),
]


@pytest.mark.parametrize(("name", "build", "error"), NEGATIVE_MAC0, ids=[n for n, _, _ in NEGATIVE_MAC0])
def test_mac0_rejected(name: str, build: Any, error: type[Exception]) -> None:
    data, key = build()
    with pytest.raises(FormatError) as info:  # the exact class is asserted below
        cose.verify_mac0(data, key)
    assert type(info.value) is error, f"{name}: {type(info.value).__name__}: {info.value}"


NEGATIVE_KEYS: list[tuple[str, Any]] = [
    ("not_a_map", [1, 2]),
    ("kty_okp", {1: 1, -1: 6, -2: b"\x00" * 32}),
    ("unknown_curve", {1: 2, -1: 8, -2: b"\x00" * 32, -3: b"\x00" * 32}),
    ("short_x", {1: 2, -1: 1, -2: b"\x00" * 31, -3: b"\x00" * 32}),
    ("y_text", {1: 2, -1: 1, -2: b"\x00" * 32, -3: "y"}),
    ("off_curve", {1: 2, -1: 1, -2: b"\x01" * 32, -3: b"\x01" * 32}),
    ("private_part", {1: 2, -1: 1, -2: b"\x00" * 32, -3: b"\x00" * 32, -4: b"\x01" * 32}),
    ("crv_bool", {1: 2, -1: True, -2: b"\x00" * 32, -3: b"\x00" * 32}),
]


@pytest.mark.parametrize(("name", "value"), NEGATIVE_KEYS, ids=[n for n, _ in NEGATIVE_KEYS])
def test_cose_key_rejected(name: str, value: Any) -> None:
    with pytest.raises(InvalidHeader):
        cose.public_key_from_cose_key(value)


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "RSA", "n": "x", "e": "AQAB"},
        {"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"},
        {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"},
        {"kty": "EC", "crv": "P-256", "x": 1, "y": 2},
        {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "d": "AA"},
    ],
    ids=["rsa", "secp256k1", "short", "numbers", "private"],
)
def test_jwk_to_cose_key_rejected(jwk: dict[str, Any]) -> None:
    with pytest.raises(InvalidHeader):
        cose.cose_key_from_jwk(jwk)
