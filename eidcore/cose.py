"""CBOR Object Signing and Encryption: COSE_Sign1 and COSE_Mac0 (RFC 9052), algorithms (RFC 9053), x5chain (RFC 9360).

Implements, over :mod:`eidcore.cbor` and ``cryptography``:

- COSE_Sign1 (RFC 9052 §4.2) with ECDSA ES256 / ES384 / ES512 (RFC 9053 §2.1): the signature is the raw
  ``r || s`` concatenation, each integer left-padded to the curve's field size; attached or detached payloads;
  the exact ``Sig_structure = ["Signature1", body_protected, external_aad, payload]`` (RFC 9052 §4.4);
- COSE_Mac0 (RFC 9052 §6.2) with HMAC 256/256 (alg 5, RFC 9053 §3.1) and
  ``MAC_structure = ["MAC0", protected, external_aad, payload]`` (RFC 9052 §6.3);
- header rules of RFC 9052 §3: protected headers are a bstr-wrapped map (empty map as ``h''``), no label in
  both buckets, ``alg`` protected, ``crit`` (label 2) protected and only with labels this module understands;
- ``x5chain`` (label 33, RFC 9360 §2): a single DER certificate as bstr, or an array of them, leaf first;
- COSE_Key (RFC 9052 §7, RFC 9053 §7.1.1) for EC2 public keys <-> ``cryptography`` keys and JWKs (RFC 7518 §6.2).

Algorithms are always checked against an explicit allow-list given by the caller (default: ES256 only for
signatures, HMAC 256/256 for MACs). Tagged (18 / 17) and untagged messages are both accepted on input.
"""

from __future__ import annotations

import hmac
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from eidcore import cbor
from eidcore.cache import BoundedCache
from eidcore.encoding import b64u_decode, b64u_encode
from eidcore.errors import InvalidHeader, InvalidSignature, ParsingError, UnsupportedAlgorithm

__all__ = [
    "ALG_NAMES",
    "ES256",
    "ES384",
    "ES512",
    "HEADER_ALG",
    "HEADER_CONTENT_TYPE",
    "HEADER_CRIT",
    "HEADER_KID",
    "HEADER_TYP",
    "HEADER_X5CHAIN",
    "HMAC_256_256",
    "TAG_MAC0",
    "TAG_SIGN1",
    "CoseMac0",
    "CoseSign1",
    "cose_key_from_jwk",
    "cose_key_from_public_key",
    "decode_mac0",
    "decode_sign1",
    "jwk_from_cose_key",
    "mac0",
    "mac_structure",
    "public_key_from_cose_key",
    "sig_structure",
    "sign1",
    "verify_mac0",
    "verify_sign1",
]

# --- registered values (IANA COSE registries) --------------------------------------------------------------

ES256: Final = -7
ES384: Final = -35
ES512: Final = -36
HMAC_256_256: Final = 5
ALG_NAMES: Final[Mapping[int, str]] = {ES256: "ES256", ES384: "ES384", ES512: "ES512", HMAC_256_256: "HMAC 256/256"}

HEADER_ALG: Final = 1
HEADER_CRIT: Final = 2
HEADER_CONTENT_TYPE: Final = 3
HEADER_KID: Final = 4
HEADER_TYP: Final = 16  # RFC 9596
HEADER_X5CHAIN: Final = 33  # RFC 9360

TAG_SIGN1: Final = 18
TAG_MAC0: Final = 17

# Header labels whose semantics this module implements (a ``crit`` naming any other label is rejected).
_UNDERSTOOD: Final = frozenset({HEADER_ALG, HEADER_CRIT, HEADER_CONTENT_TYPE, HEADER_KID, HEADER_TYP, HEADER_X5CHAIN})

# COSE_Key labels (RFC 9052 §7.1, RFC 9053 §7.1.1)
KEY_KTY: Final = 1
KEY_KID: Final = 2
KEY_ALG: Final = 3
KTY_EC2: Final = 2
EC2_CRV: Final = -1
EC2_X: Final = -2
EC2_Y: Final = -3
EC2_D: Final = -4
CRV_P256: Final = 1
CRV_P384: Final = 2
CRV_P521: Final = 3


@dataclass(frozen=True)
class _Curve:
    name: str
    cose_crv: int
    jwk_crv: str
    size: int
    curve: type[ec.EllipticCurve]
    hash: type[hashes.HashAlgorithm]
    alg: int


_CURVES: Final[Mapping[int, _Curve]] = {
    CRV_P256: _Curve("secp256r1", CRV_P256, "P-256", 32, ec.SECP256R1, hashes.SHA256, ES256),
    CRV_P384: _Curve("secp384r1", CRV_P384, "P-384", 48, ec.SECP384R1, hashes.SHA384, ES384),
    CRV_P521: _Curve("secp521r1", CRV_P521, "P-521", 66, ec.SECP521R1, hashes.SHA512, ES512),
}
_BY_CURVE_NAME: Final = {c.name: c for c in _CURVES.values()}
_BY_JWK_CRV: Final = {c.jwk_crv: c for c in _CURVES.values()}
_BY_ALG: Final = {c.alg: c for c in _CURVES.values()}
_ECDSA_BY_ALG: Final = {c.alg: ec.ECDSA(c.hash()) for c in _CURVES.values()}

_ALG_ONLY: Final = {alg: cbor.dumps({HEADER_ALG: alg}) for alg in (ES256, ES384, ES512)}
DEFAULT_SIGN_ALGS: Final = frozenset({ES256})
DEFAULT_MAC_ALGS: Final = frozenset({HMAC_256_256})


# --- messages -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoseSign1:
    """A COSE_Sign1 message (RFC 9052 §4.2), kept with its exact protected-header bytes.

    ``payload`` is ``None`` when the payload is detached (it travels elsewhere and is supplied to
    :func:`verify_sign1`). ``protected`` is the bstr content exactly as received or produced.
    """

    protected: bytes
    protected_header: Mapping[Any, Any]
    unprotected: Mapping[Any, Any]
    payload: bytes | None
    signature: bytes
    tagged: bool = False

    @property
    def alg(self) -> int | str | None:
        """The ``alg`` header parameter (label 1) from the protected header."""
        alg = self.protected_header.get(HEADER_ALG)
        return alg if isinstance(alg, int | str) else None

    def header(self, label: int) -> Any:
        """The value of header ``label``, from the protected bucket first, else the unprotected one."""
        if label in self.protected_header:
            return self.protected_header[label]
        return self.unprotected.get(label)

    def x5chain(self) -> list[bytes]:
        """The ``x5chain`` certificates (RFC 9360 §2), DER, leaf first; empty when absent."""
        return _x5chain(self.header(HEADER_X5CHAIN))

    def to_array(self) -> list[Any]:
        """The untagged COSE_Sign1 array ``[protected, unprotected, payload, signature]`` for embedding."""
        return [self.protected, dict(self.unprotected), self.payload, self.signature]

    def encode(self, *, tag: bool = False) -> bytes:
        """The CBOR encoding, tagged 18 when ``tag`` (RFC 9052 §2)."""
        arr = self.to_array()
        return cbor.dumps(cbor.CBORTag(TAG_SIGN1, arr) if tag else arr)


@dataclass(frozen=True)
class CoseMac0:
    """A COSE_Mac0 message (RFC 9052 §6.2), kept with its exact protected-header bytes."""

    protected: bytes
    protected_header: Mapping[Any, Any]
    unprotected: Mapping[Any, Any]
    payload: bytes | None
    tag: bytes
    tagged: bool = field(default=False)

    @property
    def alg(self) -> int | str | None:
        """The ``alg`` header parameter (label 1) from the protected header."""
        alg = self.protected_header.get(HEADER_ALG)
        return alg if isinstance(alg, int | str) else None

    def to_array(self) -> list[Any]:
        """The untagged COSE_Mac0 array ``[protected, unprotected, payload, tag]`` for embedding."""
        return [self.protected, dict(self.unprotected), self.payload, self.tag]

    def encode(self, *, tag: bool = False) -> bytes:
        """The CBOR encoding, tagged 17 when ``tag`` (RFC 9052 §2)."""
        arr = self.to_array()
        return cbor.dumps(cbor.CBORTag(TAG_MAC0, arr) if tag else arr)


# --- structures (RFC 9052 §4.4 and §6.3), encoded by hand: this is the hot path ------------------------------


def _to_be_authenticated(context: bytes, protected: bytes, payload: bytes, external_aad: bytes) -> bytes:
    """``[context, protected, external_aad, payload]`` as CBOR; ``context`` is the array header and context text."""
    return b"".join(
        (
            context,
            cbor.bstr_header(len(protected)),
            protected,
            cbor.bstr_header(len(external_aad)),
            external_aad,
            cbor.bstr_header(len(payload)),
            payload,
        )
    )


def sig_structure(protected: bytes, payload: bytes, external_aad: bytes = b"") -> bytes:
    """``Sig_structure`` for COSE_Sign1 (RFC 9052 §4.4): ``["Signature1", protected, external_aad, payload]``."""
    return _to_be_authenticated(b"\x84\x6aSignature1", protected, payload, external_aad)


def mac_structure(protected: bytes, payload: bytes, external_aad: bytes = b"") -> bytes:
    """``MAC_structure`` for COSE_Mac0 (RFC 9052 §6.3): ``["MAC0", protected, external_aad, payload]``."""
    return _to_be_authenticated(b"\x84\x64MAC0", protected, payload, external_aad)


# --- headers ------------------------------------------------------------------------------------------------


def _encode_protected(header: Mapping[Any, Any]) -> bytes:
    """RFC 9052 §3: the protected bucket is ``bstr .cbor header_map``, and ``h''`` when the map is empty."""
    return cbor.dumps(dict(header)) if header else b""


def _decode_protected(raw: Any) -> Mapping[Any, Any]:
    if not isinstance(raw, bytes):
        raise ParsingError("COSE protected header is not a byte string")
    if raw == b"":
        return _EMPTY
    cached = _PROTECTED_CACHE.get(raw)
    if cached is not None:
        return cached
    header = cbor.loads(raw, max_depth=8, what="COSE protected header")
    if not isinstance(header, Mapping):
        raise ParsingError("COSE protected header is not a map")
    frozen = MappingProxyType(header)
    if len(raw) <= 64:  # the few distinct small headers (e.g. {1: -7}) are decoded once
        _PROTECTED_CACHE.set(raw, frozen)
    return frozen


_EMPTY: Final[Mapping[Any, Any]] = MappingProxyType({})
#: decoded small protected headers (immutable views), by their bytes
_PROTECTED_CACHE: BoundedCache[bytes, Mapping[Any, Any]] = BoundedCache(256)


def _check_headers(protected: Mapping[Any, Any], unprotected: Any) -> None:
    if not isinstance(unprotected, Mapping):
        raise ParsingError("COSE unprotected header is not a map")
    for bucket in (protected, unprotected):
        for label in bucket:
            if type(label) is not int and type(label) is not str:
                raise InvalidHeader("COSE header label is neither an integer nor a text string")
    both = set(protected).intersection(unprotected)
    if both:
        raise InvalidHeader(f"COSE header labels {sorted(map(str, both))} appear in both buckets")
    if HEADER_ALG in unprotected:
        raise InvalidHeader("COSE alg must be in the protected header")
    if HEADER_CRIT in unprotected:
        raise InvalidHeader("COSE crit must be in the protected header")
    crit = protected.get(HEADER_CRIT)
    if crit is not None:
        if not isinstance(crit, list) or not crit:
            raise InvalidHeader("COSE crit must be a non-empty array")
        for label in crit:
            if label not in _UNDERSTOOD or label not in protected:
                raise InvalidHeader(f"COSE crit names a header this verifier does not process: {label!r}")


def _x5chain(value: Any) -> list[bytes]:
    if value is None:
        return []
    if isinstance(value, bytes):
        return [value]
    if isinstance(value, list) and value and all(isinstance(c, bytes) for c in value):
        return list(value)
    raise InvalidHeader("x5chain must be a certificate byte string or a non-empty array of them")


def _check_alg(alg: Any, allowed: Collection[int]) -> int:
    if alg is None:
        raise InvalidHeader("COSE alg is missing from the protected header")
    if not isinstance(alg, int) or isinstance(alg, bool) or alg not in allowed:
        name = ALG_NAMES.get(alg, repr(alg)) if isinstance(alg, int) else repr(alg)
        raise UnsupportedAlgorithm(f"COSE alg {name} is not allowed here")
    return alg


# --- decoding -----------------------------------------------------------------------------------------------


def _as_array(data: bytes | list[Any] | cbor.CBORTag, tag: int, name: str) -> tuple[list[Any], bool]:
    obj: Any = cbor.loads(data, what=name) if isinstance(data, bytes | bytearray) else data
    tagged = False
    if isinstance(obj, cbor.CBORTag):
        if obj.tag != tag:
            raise ParsingError(f"{name} has CBOR tag {obj.tag}, expected {tag}")
        obj, tagged = obj.value, True
    if not isinstance(obj, list) or len(obj) != 4:
        raise ParsingError(f"{name} is not a 4-element array")
    return obj, tagged


def decode_sign1(data: bytes | list[Any] | cbor.CBORTag) -> CoseSign1:
    """Parse a COSE_Sign1 (RFC 9052 §4.2), tagged 18 or untagged, from bytes or an already decoded array.

    Checks the structure and the header rules (RFC 9052 §3); it does not verify the signature.
    """
    arr, tagged = _as_array(data, TAG_SIGN1, "COSE_Sign1")
    protected_raw, unprotected, payload, signature = arr
    protected = _decode_protected(protected_raw)
    _check_headers(protected, unprotected)
    if payload is not None and not isinstance(payload, bytes):
        raise ParsingError("COSE_Sign1 payload is neither a byte string nor null")
    if not isinstance(signature, bytes):
        raise ParsingError("COSE_Sign1 signature is not a byte string")
    return CoseSign1(protected_raw, protected, unprotected, payload, signature, tagged)


def decode_mac0(data: bytes | list[Any] | cbor.CBORTag) -> CoseMac0:
    """Parse a COSE_Mac0 (RFC 9052 §6.2), tagged 17 or untagged; it does not verify the tag."""
    arr, tagged = _as_array(data, TAG_MAC0, "COSE_Mac0")
    protected_raw, unprotected, payload, tag = arr
    protected = _decode_protected(protected_raw)
    _check_headers(protected, unprotected)
    if payload is not None and not isinstance(payload, bytes):
        raise ParsingError("COSE_Mac0 payload is neither a byte string nor null")
    if not isinstance(tag, bytes):
        raise ParsingError("COSE_Mac0 tag is not a byte string")
    return CoseMac0(protected_raw, protected, unprotected, payload, tag, tagged)


# --- signing and verification -------------------------------------------------------------------------------


def sign1(
    payload: bytes,
    key: ec.EllipticCurvePrivateKey,
    *,
    alg: int | None = None,
    protected: Mapping[int | str, Any] | None = None,
    unprotected: Mapping[int | str, Any] | None = None,
    x5chain: Sequence[bytes] | None = None,
    detached: bool = False,
    external_aad: bytes = b"",
) -> CoseSign1:
    """Make a COSE_Sign1 over ``payload`` (RFC 9052 §4.4) with an ECDSA key (RFC 9053 §2.1).

    ``alg`` defaults to the key's curve (P-256 -> ES256). It goes into the protected header together with
    ``protected``; ``x5chain`` (DER, leaf first) goes into the unprotected header as RFC 9360 §2 shapes it
    (one bstr for a single certificate, else an array). With ``detached`` the message carries ``null``.
    """
    curve = _curve_of(key)
    alg = curve.alg if alg is None else alg
    if alg != curve.alg:
        raise UnsupportedAlgorithm(f"{ALG_NAMES.get(alg, alg)} does not match a {curve.jwk_crv} key")
    prot_map: dict[Any, Any] = {HEADER_ALG: alg}
    if protected:
        prot_map.update(protected)
        prot_raw = _encode_protected(prot_map)
    else:
        prot_raw = _ALG_ONLY[alg]
    unprot_map: dict[Any, Any] = dict(unprotected or {})
    if x5chain:
        unprot_map[HEADER_X5CHAIN] = bytes(x5chain[0]) if len(x5chain) == 1 else [bytes(c) for c in x5chain]
    der = key.sign(sig_structure(prot_raw, payload, external_aad), _ECDSA_BY_ALG[alg])
    r, s = decode_dss_signature(der)
    signature = r.to_bytes(curve.size, "big") + s.to_bytes(curve.size, "big")
    return CoseSign1(prot_raw, prot_map, unprot_map, None if detached else payload, signature)


def verify_sign1(
    message: CoseSign1 | bytes,
    key: ec.EllipticCurvePublicKey,
    *,
    allowed_algs: Collection[int] = DEFAULT_SIGN_ALGS,
    detached_payload: bytes | None = None,
    external_aad: bytes = b"",
) -> bytes:
    """Verify a COSE_Sign1 (RFC 9052 §4.4) with ``key``; returns the payload that was verified.

    The ``alg`` must be in ``allowed_algs`` (:class:`UnsupportedAlgorithm`) and match the key's curve;
    a detached message needs ``detached_payload``, an attached one must not get it (:class:`ParsingError`).
    A wrong signature, or one that is not ``2 * field size`` bytes, is :class:`InvalidSignature`.
    """
    msg = decode_sign1(message) if isinstance(message, bytes) else message
    alg = _check_alg(msg.alg, allowed_algs)
    if msg.payload is None:
        if detached_payload is None:
            raise ParsingError("COSE_Sign1 payload is detached and none was supplied")
        payload = detached_payload
    else:
        if detached_payload is not None:
            raise ParsingError("COSE_Sign1 payload is attached; a detached payload was also supplied")
        payload = msg.payload
    curve = _BY_ALG.get(alg)
    if curve is None:
        raise UnsupportedAlgorithm(f"COSE alg {alg} is not a signature algorithm")
    if key.curve.name != curve.name:
        raise UnsupportedAlgorithm(f"COSE alg {ALG_NAMES[alg]} does not match the key's curve")
    sig = msg.signature
    size = curve.size
    if len(sig) != 2 * size:
        raise InvalidSignature(f"COSE {ALG_NAMES[alg]} signature must be {2 * size} bytes")
    der = encode_dss_signature(int.from_bytes(sig[:size], "big"), int.from_bytes(sig[size:], "big"))
    try:
        key.verify(der, sig_structure(msg.protected, payload, external_aad), _ECDSA_BY_ALG[alg])
    except _CryptoInvalidSignature:
        raise InvalidSignature("COSE_Sign1 signature does not verify") from None
    return payload


def mac0(
    payload: bytes,
    key: bytes,
    *,
    protected: Mapping[int | str, Any] | None = None,
    unprotected: Mapping[int | str, Any] | None = None,
    detached: bool = False,
    external_aad: bytes = b"",
) -> CoseMac0:
    """Make a COSE_Mac0 with HMAC 256/256 (RFC 9052 §6.3, RFC 9053 §3.1) over ``payload``."""
    prot_map: dict[Any, Any] = {HEADER_ALG: HMAC_256_256}
    if protected:
        prot_map.update(protected)
    prot_raw = _encode_protected(prot_map)
    tag = hmac.digest(key, mac_structure(prot_raw, payload, external_aad), "sha256")
    return CoseMac0(prot_raw, prot_map, dict(unprotected or {}), None if detached else payload, tag)


def verify_mac0(
    message: CoseMac0 | bytes,
    key: bytes,
    *,
    allowed_algs: Collection[int] = DEFAULT_MAC_ALGS,
    detached_payload: bytes | None = None,
    external_aad: bytes = b"",
) -> bytes:
    """Verify a COSE_Mac0 with HMAC 256/256 (RFC 9052 §6.3) in constant time; returns the verified payload."""
    msg = decode_mac0(message) if isinstance(message, bytes) else message
    alg = _check_alg(msg.alg, allowed_algs)
    if alg != HMAC_256_256:
        raise UnsupportedAlgorithm(f"COSE alg {alg} is not a MAC algorithm this verifier implements")
    if msg.payload is None:
        if detached_payload is None:
            raise ParsingError("COSE_Mac0 payload is detached and none was supplied")
        payload = detached_payload
    else:
        if detached_payload is not None:
            raise ParsingError("COSE_Mac0 payload is attached; a detached payload was also supplied")
        payload = msg.payload
    expected = hmac.digest(key, mac_structure(msg.protected, payload, external_aad), "sha256")
    if not hmac.compare_digest(expected, msg.tag):
        raise InvalidSignature("COSE_Mac0 tag does not verify")
    return payload


# --- keys ---------------------------------------------------------------------------------------------------


def _curve_of(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> _Curve:
    curve = _BY_CURVE_NAME.get(key.curve.name)
    if curve is None:
        raise UnsupportedAlgorithm(f"curve {key.curve.name} is not supported")
    return curve


def cose_key_from_public_key(key: ec.EllipticCurvePublicKey, *, kid: bytes | None = None) -> dict[int, Any]:
    """The COSE_Key of an EC2 public key (RFC 9053 §7.1.1): ``{1: 2, -1: crv, -2: x, -3: y}``."""
    curve = _curve_of(key)
    nums = key.public_numbers()
    out: dict[int, Any] = {
        KEY_KTY: KTY_EC2,
        EC2_CRV: curve.cose_crv,
        EC2_X: nums.x.to_bytes(curve.size, "big"),
        EC2_Y: nums.y.to_bytes(curve.size, "big"),
    }
    if kid is not None:
        out[KEY_KID] = kid
    return out


def public_key_from_cose_key(cose_key: Any) -> ec.EllipticCurvePublicKey:
    """An EC2 COSE_Key (RFC 9053 §7.1.1) as a ``cryptography`` public key, strictly.

    Rejects (:class:`InvalidHeader`) a key that is not a map, not kty EC2, on an unsupported curve, whose
    coordinates have the wrong length or are not on the curve, or that carries private material (``-4``).
    ``y`` may be the compressed-point sign bit (bool), as RFC 9053 allows.
    """
    if not isinstance(cose_key, Mapping):
        raise InvalidHeader("COSE_Key is not a map")
    if cose_key.get(KEY_KTY) != KTY_EC2:
        raise InvalidHeader("COSE_Key kty is not EC2")
    if EC2_D in cose_key:
        raise InvalidHeader("COSE_Key carries private key material")
    crv = cose_key.get(EC2_CRV)
    curve = _CURVES.get(crv) if isinstance(crv, int) and not isinstance(crv, bool) else None
    if curve is None:
        raise InvalidHeader("COSE_Key curve is not supported")
    x, y = cose_key.get(EC2_X), cose_key.get(EC2_Y)
    if not isinstance(x, bytes) or len(x) != curve.size:
        raise InvalidHeader(f"COSE_Key x must be {curve.size} bytes")
    if isinstance(y, bool):
        point = (b"\x03" if y else b"\x02") + x
    elif isinstance(y, bytes) and len(y) == curve.size:
        point = b"\x04" + x + y
    else:
        raise InvalidHeader(f"COSE_Key y must be {curve.size} bytes or a sign bit")
    return _load_point(curve, point)


def _load_point(curve: _Curve, point: bytes) -> ec.EllipticCurvePublicKey:
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(curve.curve(), point)
    except ValueError:
        raise InvalidHeader("COSE_Key point is not on the curve") from None


def cose_key_from_jwk(jwk: Mapping[str, Any]) -> dict[int, Any]:
    """A public EC JWK (RFC 7518 §6.2) as a COSE_Key (RFC 9053 §7.1.1), e.g. an OpenID4VCI proof key.

    Rejects (:class:`InvalidHeader`) anything but a public EC key on P-256/384/521 with valid coordinates.
    """
    if jwk.get("kty") != "EC":
        raise InvalidHeader("JWK kty is not EC")
    if "d" in jwk:
        raise InvalidHeader("JWK carries private key material")
    crv = jwk.get("crv")
    curve = _BY_JWK_CRV.get(crv) if isinstance(crv, str) else None
    if curve is None:
        raise InvalidHeader("JWK curve is not supported")
    x, y = jwk.get("x"), jwk.get("y")
    if not isinstance(x, str) or not isinstance(y, str):
        raise InvalidHeader("JWK x and y must be strings")
    xb, yb = b64u_decode(x, what="JWK x"), b64u_decode(y, what="JWK y")
    if len(xb) != curve.size or len(yb) != curve.size:
        raise InvalidHeader(f"JWK coordinates must be {curve.size} bytes")
    _load_point(curve, b"\x04" + xb + yb)
    return {KEY_KTY: KTY_EC2, EC2_CRV: curve.cose_crv, EC2_X: xb, EC2_Y: yb}


def jwk_from_cose_key(cose_key: Any) -> dict[str, str]:
    """An EC2 COSE_Key as a public JWK (RFC 7518 §6.2) with the required members only."""
    key = public_key_from_cose_key(cose_key)
    curve = _curve_of(key)
    nums = key.public_numbers()
    return {
        "kty": "EC",
        "crv": curve.jwk_crv,
        "x": b64u_encode(nums.x.to_bytes(curve.size, "big")),
        "y": b64u_encode(nums.y.to_bytes(curve.size, "big")),
    }
