"""JOSE: JWS (RFC 7515), JWE (RFC 7516), JWK (RFC 7517), JWA (RFC 7518), JWK thumbprint (RFC 7638), EdDSA (RFC 8037).

The only module in Lommebok that imports jwcrypto. Everything else signs, verifies, encrypts and parses keys
through the small typed API below:

- JWS in compact serialization with an explicit :class:`JwsPolicy` per use: algorithm allow-list
  (ES256 required; ES384, ES512 and EdDSA optional), ``typ`` check, size limit, ``crit`` handling. ``none`` and
  every HMAC algorithm are refused (a verifier that is handed a public key must never treat it as a MAC secret),
  and a ``jwk`` or ``x5c`` header that holds private material or a key of the wrong type for ``alg`` is refused.
  Verification returns a :class:`VerifiedJws` (header, payload, key); it never "returns None unless it raises".
- The ES256/ES384/ES512/EdDSA signatures are made and checked with ``cryptography`` directly (raw ``r || s``
  to and from DER, RFC 7518 §3.4): jwcrypto's JWS path costs about half the raw verify rate.
- JWE in compact serialization with ``ECDH-ES`` key agreement and ``A128GCM`` / ``A256GCM`` content encryption
  (OpenID4VP 1.0 §8.3 ``direct_post.jwt``, OpenID4VCI 1.0 §10 credential response encryption, HAIP 1.0), with its
  own allow-list (:class:`JwePolicy`).
- JWK helpers: key generation, public/private JWK import and export, RFC 7638 thumbprints.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import json.encoder
import json.scanner
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from jwcrypto import jwe as _jwe
from jwcrypto import jwk as _jwk
from jwcrypto.common import JWException

from eidcore.encoding import b64u_decode, b64u_encode
from eidcore.errors import (
    EncryptionError,
    InvalidHeader,
    InvalidSignature,
    ParsingError,
    UnsupportedAlgorithm,
)

__all__ = [
    "DEFAULT_JWE_POLICY",
    "ES256_ONLY",
    "DecryptedJwe",
    "JwePolicy",
    "JwsPolicy",
    "JwsSigner",
    "KeyLike",
    "PrivateKey",
    "PublicKey",
    "SigningKey",
    "UnverifiedJws",
    "VerifiedJws",
    "VerifiedJwt",
    "as_public_key",
    "b64url_decode",
    "b64url_encode",
    "decrypt_jwe",
    "encrypt_jwe",
    "fast_json_loads",
    "generate_signing_key",
    "json_dumps",
    "jwk_thumbprint",
    "jwk_thumbprint_b64u",
    "parse_json_object",
    "parse_jws",
    "public_jwk",
    "public_key_from_jwk",
    "sign_jws",
    "sign_jwt",
    "signing_key_from_jwk",
    "signing_key_from_pem",
    "to_jwcrypto_jwk",
    "verify_jws",
    "verify_jws_with_header_jwk",
    "verify_jwt",
    "x5c_certificates",
    "x5c_leaf_key",
]

PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey
PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
KeyLike = PublicKey | Mapping[str, Any]

SignatureAlgorithm = Literal["ES256", "ES384", "ES512", "EdDSA"]

# alg -> (curve name in cryptography, JWK crv, hash, coordinate size in bytes)
_EC_ALGS: dict[str, tuple[str, str, type[hashes.HashAlgorithm], int]] = {
    "ES256": ("secp256r1", "P-256", hashes.SHA256, 32),
    "ES384": ("secp384r1", "P-384", hashes.SHA384, 48),
    "ES512": ("secp521r1", "P-521", hashes.SHA512, 66),
}
_CRV_TO_CURVE: dict[str, ec.EllipticCurve] = {
    "P-256": ec.SECP256R1(),
    "P-384": ec.SECP384R1(),
    "P-521": ec.SECP521R1(),
}
_CURVE_TO_CRV = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
_CRV_SIZE = {"P-256": 32, "P-384": 48, "P-521": 66}
_EC_ALG_FOR_CRV = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
#: RSA (RFC 7518 §3.3, §3.5) is verify-only, for peers such as ID-porten that sign ID tokens with RS256;
#: no use accepts it unless its JwsPolicy lists it.
_RSA_ALGS: dict[str, tuple[padding.AsymmetricPadding, hashes.HashAlgorithm]] = {
    "RS256": (padding.PKCS1v15(), hashes.SHA256()),
    "PS256": (padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256()),
}
_RSA_MIN_BITS = 2048
_SUPPORTED_SIGNATURE_ALGS = frozenset({"ES256", "ES384", "ES512", "EdDSA", *_RSA_ALGS})
_HMAC_ALGS = frozenset({"HS256", "HS384", "HS512"})
_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"})
# Header parameters registered by RFC 7515/7516/7518 that may never be listed in "crit" (RFC 7515 §4.1.11).
_REGISTERED_HEADERS = frozenset(
    {"alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit",
     "enc", "zip", "epk", "apu", "apv", "iv", "tag", "p2s", "p2c"}
)
_ECDSA: dict[str, ec.ECDSA] = {alg: ec.ECDSA(h()) for alg, (_, _, h, _) in _EC_ALGS.items()}


# --------------------------------------------------------------------------------------------------
# JSON helpers
# --------------------------------------------------------------------------------------------------


def _not_json(value: Any) -> Any:
    raise TypeError("not a JSON value")


# json.dumps(value, separators=(",", ":"), ensure_ascii=False) with its C encoder built once, NaN refused.
_COMPACT_JSON: Any = json.encoder.c_make_encoder(  # type: ignore[attr-defined]
    None, _not_json, json.encoder.encode_basestring, None, ":", ",", False, False, False)


def json_dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON (RFC 8259) as used for JOSE headers and JWT claims sets.

    :class:`ParsingError` when ``value`` is not JSON (a non-JSON type, NaN or infinity, a cycle).
    """
    try:
        return "".join(_COMPACT_JSON(value, 0)).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        raise ParsingError("the value is not JSON-serializable") from exc


_scan_json = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


def fast_json_loads(text: str | bytes) -> Any:
    """``json.loads`` for the hot paths: the C scanner when the whole input is one JSON value with no surrounding
    whitespace (identical result), ``json.loads`` otherwise (identical result and errors)."""
    try:
        s = text.decode("utf-8") if isinstance(text, bytes) else text
        value, end = _scan_json(s, 0)
        if end == len(s):
            return value
    except (StopIteration, ValueError, UnicodeDecodeError):
        pass
    return json.loads(text)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        raise _DuplicateMember
    return d


class _DuplicateMember(ValueError):
    pass


def parse_json_object(data: bytes, *, what: str, reject_duplicates: bool = True) -> dict[str, Any]:
    """Parse a JSON object (RFC 8259).

    Duplicate member names are rejected by default (RFC 7515 §5.2 step 4, RFC 7519 §4); with
    ``reject_duplicates=False`` the lexically last one wins, the other behaviour those sections allow (used on
    hot paths for signed payloads).
    """
    try:
        value = json.loads(data, object_pairs_hook=_no_duplicates) if reject_duplicates else fast_json_loads(data)
    except _DuplicateMember as exc:
        raise ParsingError(f"{what} has a duplicate member name") from exc
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ParsingError(f"{what} is not valid JSON") from exc
    if not isinstance(value, dict):
        raise ParsingError(f"{what} is not a JSON object")
    return value


_URLSAFE_TO_STD = bytes.maketrans(b"-_", b"+/")
_STD_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url (RFC 7515 §2); the same output as :func:`eidcore.encoding.b64u_encode`, faster."""
    return binascii.b2a_base64(data, newline=False).rstrip(b"=").translate(_STD_TO_URLSAFE).decode("ascii")



def b64url_decode(text: str, *, what: str = "value") -> bytes:
    """Strict unpadded base64url decoding (RFC 7515 §2), the fast path of the JOSE and SD-JWT parsers.

    Same rules as :func:`eidcore.encoding.b64u_decode`: padding, whitespace or characters outside the URL-safe
    alphabet are a :class:`ParsingError` naming ``what``.
    """
    try:
        raw = text.encode("ascii")
    except (UnicodeEncodeError, AttributeError) as exc:
        raise ParsingError(f"{what} is not base64url") from exc
    if b"+" in raw or b"/" in raw or b"=" in raw or len(raw) % 4 == 1:
        raise ParsingError(f"{what} is not unpadded base64url")
    try:
        return binascii.a2b_base64(raw.translate(_URLSAFE_TO_STD) + b"=" * (-len(raw) % 4), strict_mode=True)
    except binascii.Error as exc:
        raise ParsingError(f"{what} is not base64url") from exc


@functools.lru_cache(maxsize=512)
def _parse_header_segment(segment: str) -> dict[str, Any]:
    return parse_json_object(b64u_decode(segment, what="JOSE header"), what="JOSE header")


# --------------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    """A private signing key with its JWS algorithm, optional ``kid`` and optional ``x5c`` chain (DER, leaf first)."""

    private_key: PrivateKey
    alg: str = "ES256"
    kid: str | None = None
    x5c: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        _check_key_for_alg(self.private_key.public_key(), self.alg, error=UnsupportedAlgorithm)

    @functools.cached_property
    def public_key(self) -> PublicKey:
        """The matching public key."""
        return self.private_key.public_key()

    @functools.cached_property
    def _public_jwk(self) -> dict[str, Any]:
        return public_jwk(self.public_key, kid=self.kid, alg=self.alg)

    @property
    def public_jwk(self) -> dict[str, Any]:
        """The public JWK (RFC 7517) with ``kid`` and ``alg`` when known; a fresh dict on every access."""
        return dict(self._public_jwk)

    def private_jwk(self) -> dict[str, Any]:
        """The private JWK (RFC 7517 / RFC 7518 §6.2.2): for dev keys and test fixtures only."""
        jwk = dict(self.public_jwk)
        key = self.private_key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            size = _CRV_SIZE[jwk["crv"]]
            jwk["d"] = b64u_encode(key.private_numbers().private_value.to_bytes(size, "big"))
        else:
            jwk["d"] = b64u_encode(
                key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                  serialization.NoEncryption())
            )
        return jwk

    def x5c_header(self) -> list[str]:
        """The ``x5c`` header value (RFC 7515 §4.1.6): standard base64 DER certificates, leaf first."""
        return [base64.b64encode(der).decode("ascii") for der in self.x5c]


def generate_signing_key(alg: SignatureAlgorithm = "ES256", *, kid: str | None = None) -> SigningKey:
    """Generate a fresh key for ``alg`` (P-256 for ES256, RFC 7518 §3.4; Ed25519 for EdDSA, RFC 8037)."""
    if alg == "EdDSA":
        return SigningKey(ed25519.Ed25519PrivateKey.generate(), alg, kid)
    if alg not in _EC_ALGS:
        raise UnsupportedAlgorithm(f"cannot generate a key for {alg!r}")
    return SigningKey(ec.generate_private_key(_CRV_TO_CURVE[_EC_ALGS[alg][1]]), alg, kid)


def signing_key_from_pem(
    pem: bytes, *, alg: str | None = None, kid: str | None = None, x5c: Iterable[bytes] = ()
) -> SigningKey:
    """Load a PEM (PKCS#8 or SEC1) private key; ``alg`` defaults from the curve."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ParsingError("not a PEM private key") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise UnsupportedAlgorithm("only EC and Ed25519 private keys are supported")
    return SigningKey(key, alg or _default_alg(key.public_key()), kid, tuple(x5c))


def signing_key_from_jwk(jwk: Mapping[str, Any], *, alg: str | None = None) -> SigningKey:
    """Load a private JWK (RFC 7517, RFC 7518 §6.2.2, RFC 8037 §2) as a :class:`SigningKey`."""
    if not isinstance(jwk, Mapping) or "d" not in jwk:
        raise ParsingError("not a private JWK")
    try:
        key = _jwk.JWK(**dict(jwk)).get_op_key("sign")
    except (JWException, ValueError, TypeError, KeyError) as exc:
        raise ParsingError("the private JWK cannot be imported") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise UnsupportedAlgorithm("only EC and Ed25519 private keys are supported")
    kid = jwk.get("kid")
    return SigningKey(key, alg or jwk.get("alg") or _default_alg(key.public_key()),
                      kid if isinstance(kid, str) else None)


def _default_alg(key: PublicKey) -> str:
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "EdDSA"
    if isinstance(key, rsa.RSAPublicKey):
        return "RS256"
    crv = _CURVE_TO_CRV.get(key.curve.name)
    if crv is None:
        raise UnsupportedAlgorithm(f"unsupported curve {key.curve.name}")
    return _EC_ALG_FOR_CRV[crv]


def public_jwk(key: PublicKey | SigningKey, *, kid: str | None = None, alg: str | None = None) -> dict[str, Any]:
    """The public JWK of ``key`` (RFC 7518 §6.2.1 for EC with full-length coordinates, RFC 8037 §2 for Ed25519)."""
    if isinstance(key, SigningKey):
        return key.public_jwk if kid is None and alg is None else public_jwk(
            key.public_key, kid=kid or key.kid, alg=alg or key.alg)
    jwk: dict[str, Any]
    if isinstance(key, ec.EllipticCurvePublicKey):
        crv = _CURVE_TO_CRV.get(key.curve.name)
        if crv is None:
            raise UnsupportedAlgorithm(f"unsupported curve {key.curve.name}")
        size = _CRV_SIZE[crv]
        nums = key.public_numbers()
        jwk = {"kty": "EC", "crv": crv, "x": b64u_encode(nums.x.to_bytes(size, "big")),
               "y": b64u_encode(nums.y.to_bytes(size, "big"))}
    elif isinstance(key, ed25519.Ed25519PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64u_encode(raw)}
    elif isinstance(key, rsa.RSAPublicKey):
        rn = key.public_numbers()
        jwk = {"kty": "RSA", "n": b64u_encode(rn.n.to_bytes((rn.n.bit_length() + 7) // 8, "big")),
               "e": b64u_encode(rn.e.to_bytes((rn.e.bit_length() + 7) // 8, "big"))}
    else:  # pragma: no cover - guarded by the type
        raise UnsupportedAlgorithm("unsupported key type")
    if kid is not None:
        jwk["kid"] = kid
    if alg is not None:
        jwk["alg"] = alg
    return jwk


def public_key_from_jwk(jwk: Mapping[str, Any]) -> PublicKey:
    """Import a public JWK (RFC 7517 §4, RFC 7518 §6.2.1, RFC 8037 §2).

    Raises :class:`InvalidHeader` when the JWK carries private key material and :class:`ParsingError` when it is
    malformed (wrong member types, coordinates of the wrong length, a point not on the curve). Parsed keys are
    cached by their public members, so repeated ``cnf.jwk`` values cost one dict lookup.
    """
    if type(jwk) is not dict and not isinstance(jwk, Mapping):
        raise ParsingError("a JWK must be a JSON object")
    if not _PRIVATE_JWK_MEMBERS.isdisjoint(jwk):
        raise InvalidHeader("the JWK contains private key material")
    kty = jwk.get("kty")
    if kty == "EC":
        crv, x, y = jwk.get("crv"), jwk.get("x"), jwk.get("y")
        if not (isinstance(crv, str) and isinstance(x, str) and isinstance(y, str)):
            raise ParsingError("an EC JWK needs string crv, x and y")
        return _ec_public_key(crv, x, y)
    if kty == "OKP":
        crv, x = jwk.get("crv"), jwk.get("x")
        if crv != "Ed25519" or not isinstance(x, str):
            raise ParsingError("only Ed25519 OKP keys are supported")
        return _okp_public_key(x)
    if kty == "RSA":
        n, e = jwk.get("n"), jwk.get("e")
        if not (isinstance(n, str) and isinstance(e, str)):
            raise ParsingError("an RSA JWK needs string n and e")
        return _rsa_public_key(n, e)
    if kty == "oct":
        raise UnsupportedAlgorithm(f"JWK key type {kty!r} is not allowed here")
    raise ParsingError("unknown or missing JWK kty")


@functools.lru_cache(maxsize=4096)
def _ec_public_key(crv: str, x: str, y: str) -> ec.EllipticCurvePublicKey:
    size = _CRV_SIZE.get(crv)
    if size is None:
        raise UnsupportedAlgorithm(f"unsupported EC curve {crv!r}")
    if len(b64u_decode(x, what="JWK x")) != size or len(b64u_decode(y, what="JWK y")) != size:
        raise ParsingError("EC JWK coordinates must be full length (RFC 7518 §6.2.1.2)")
    try:
        key = _jwk.JWK(kty="EC", crv=crv, x=x, y=y).get_op_key("verify")
    except (JWException, ValueError, TypeError) as exc:
        raise ParsingError("the EC JWK is not a valid public key") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey):  # pragma: no cover - jwcrypto contract
        raise ParsingError("the EC JWK is not a valid public key")
    return key


@functools.lru_cache(maxsize=256)
def _rsa_public_key(n: str, e: str) -> rsa.RSAPublicKey:
    """RFC 7518 §6.3.1; verify-only, at least 2048 bits."""
    modulus = int.from_bytes(b64u_decode(n, what="JWK n"), "big")
    exponent = int.from_bytes(b64u_decode(e, what="JWK e"), "big")
    if modulus.bit_length() < _RSA_MIN_BITS:
        raise UnsupportedAlgorithm(f"RSA keys shorter than {_RSA_MIN_BITS} bits are refused")
    try:
        return rsa.RSAPublicNumbers(exponent, modulus).public_key()
    except ValueError as exc:
        raise ParsingError("the RSA JWK is not a valid public key") from exc


@functools.lru_cache(maxsize=1024)
def _okp_public_key(x: str) -> ed25519.Ed25519PublicKey:
    if len(b64u_decode(x, what="JWK x")) != 32:
        raise ParsingError("Ed25519 JWK x must be 32 bytes")
    try:
        key = _jwk.JWK(kty="OKP", crv="Ed25519", x=x).get_op_key("verify")
    except (JWException, ValueError, TypeError) as exc:
        raise ParsingError("the OKP JWK is not a valid public key") from exc
    if not isinstance(key, ed25519.Ed25519PublicKey):  # pragma: no cover - jwcrypto contract
        raise ParsingError("the OKP JWK is not a valid public key")
    return key


_THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x"), "RSA": ("e", "kty", "n"),
                       "oct": ("k", "kty")}


def jwk_thumbprint(jwk: Mapping[str, Any]) -> bytes:
    """RFC 7638 §3: SHA-256 over the required members, lexicographically ordered, no whitespace; raw 32 bytes."""
    if not isinstance(jwk, Mapping):
        raise ParsingError("a JWK must be a JSON object")
    members = _THUMBPRINT_MEMBERS.get(jwk.get("kty"))  # type: ignore[arg-type]
    if members is None:
        raise ParsingError("unknown or missing JWK kty")
    try:
        canonical = {m: jwk[m] for m in members}
    except KeyError as exc:
        raise ParsingError(f"the JWK lacks the required member {exc.args[0]!r}") from exc
    if not all(isinstance(v, str) for v in canonical.values()):
        raise ParsingError("JWK thumbprint members must be strings")
    data = json.dumps(canonical, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(data).digest()


def jwk_thumbprint_b64u(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 §3 thumbprint, base64url-encoded (as used in ``jkt`` and ``cnf``)."""
    return b64u_encode(jwk_thumbprint(jwk))


_KEY_KINDS: dict[type, str] = {}


def _key_kind(key: object) -> str:
    """"ec", "okp" (Ed25519) or "other" for a public key object; ABC checks done once per concrete type."""
    t = type(key)
    kind = _KEY_KINDS.get(t)
    if kind is None:
        if isinstance(key, ec.EllipticCurvePublicKey):
            kind = "ec"
        elif isinstance(key, ed25519.Ed25519PublicKey):
            kind = "okp"
        elif isinstance(key, rsa.RSAPublicKey):
            kind = "rsa"
        else:
            kind = "other"
        _KEY_KINDS[t] = kind
    return kind


def _check_key_for_alg(key: PublicKey, alg: str, *, error: type[Exception]) -> None:
    if alg in _EC_ALGS:
        if _key_kind(key) != "ec" or key.curve.name != _EC_ALGS[alg][0]:  # type: ignore[union-attr]
            raise error(f"alg {alg} does not match the key")
    elif alg == "EdDSA":
        if _key_kind(key) != "okp":
            raise error("alg EdDSA does not match the key")
    elif alg in _RSA_ALGS:
        if _key_kind(key) != "rsa":
            raise error(f"alg {alg} does not match the key")
        if key.key_size < _RSA_MIN_BITS:  # type: ignore[union-attr]
            raise error(f"RSA keys shorter than {_RSA_MIN_BITS} bits are refused")
    else:
        raise UnsupportedAlgorithm(f"alg {alg!r} is not supported")


def x5c_certificates(header: Mapping[str, Any]) -> list[x509.Certificate]:
    """Decode the ``x5c`` header (RFC 7515 §4.1.6: standard base64 DER, leaf first); :class:`InvalidHeader` if bad.

    Decoded chains are cached by their exact header value.
    """
    value = header.get("x5c")
    if type(value) is not list or not value or not all(type(v) is str for v in value):
        raise InvalidHeader("x5c must be a non-empty array of base64 strings")
    return list(_x5c_parse(tuple(value))[0])


def x5c_leaf_key(header: Mapping[str, Any]) -> PublicKey:
    """The public key of the ``x5c`` leaf certificate (not validated: chain validation is the caller's step)."""
    value = header.get("x5c")
    if type(value) is not list or not value or not all(type(v) is str for v in value):
        raise InvalidHeader("x5c must be a non-empty array of base64 strings")
    key = _x5c_parse(tuple(value))[1]
    if key is None:
        raise InvalidHeader("the x5c leaf key type is not supported")
    return key


@functools.lru_cache(maxsize=256)
def _x5c_parse(value: tuple[str, ...]) -> tuple[tuple[x509.Certificate, ...], PublicKey | None]:
    certs = []
    for item in value:
        try:
            certs.append(x509.load_der_x509_certificate(base64.b64decode(item, validate=True)))
        except (binascii.Error, ValueError) as exc:
            raise InvalidHeader("x5c holds a value that is not a base64 DER certificate") from exc
    try:
        leaf_key = certs[0].public_key()
    except (ValueError, TypeError) as exc:
        raise InvalidHeader("the x5c leaf key cannot be read") from exc
    key = leaf_key if isinstance(leaf_key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey) else None
    return tuple(certs), key


# --------------------------------------------------------------------------------------------------
# JWS
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JwsPolicy:
    """What a JWS must look like for one use (RFC 7515 §5.2 and RFC 8725 §3.1, §3.11).

    ``typ`` is compared case-insensitively with an optional ``application/`` prefix removed (RFC 7515 §4.1.9);
    ``None`` means the use does not constrain ``typ``. ``understood_crit`` lists the extension headers this use
    understands; any other name in ``crit`` is refused.
    """

    algorithms: frozenset[str] = frozenset({"ES256"})
    typ: str | None = None
    max_bytes: int = 64 * 1024
    understood_crit: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        bad = set(self.algorithms) - _SUPPORTED_SIGNATURE_ALGS
        if bad:
            raise UnsupportedAlgorithm(f"not a supported JWS algorithm: {sorted(bad)}")


ES256_ONLY = JwsPolicy()


@dataclass(slots=True)
class UnverifiedJws:
    """A JWS in compact serialization split into its parts; nothing about it is trusted yet.

    ``header`` is a fresh top-level dict, but nested values (``jwk``, ``x5c``) are shared with a parse cache:
    treat them as read-only.
    """

    header: dict[str, Any]
    payload: bytes
    signing_input: bytes
    signature: bytes
    compact: str


@dataclass(slots=True)
class VerifiedJws:
    """A JWS whose signature verified with ``key`` under a policy (RFC 7515 §5.2)."""

    header: dict[str, Any]
    payload: bytes
    key: PublicKey

    @property
    def alg(self) -> str:
        return str(self.header["alg"])


@dataclass(slots=True)
class VerifiedJwt:
    """A JWT (RFC 7519) whose signature verified; ``claims`` is the JSON claims set. Claim rules are the caller's."""

    header: dict[str, Any]
    claims: dict[str, Any]
    key: PublicKey
    payload: bytes = field(repr=False, default=b"")


def _normalize_typ(typ: str) -> str:
    t = typ.lower()
    return t[12:] if t.startswith("application/") else t


def parse_jws(token: str, *, max_bytes: int = 64 * 1024) -> UnverifiedJws:
    """Split a compact JWS (RFC 7515 §7.1) and decode its header and payload; verifies nothing."""
    if not isinstance(token, str):
        raise ParsingError("a compact JWS must be a string")
    if len(token) > max_bytes:
        raise ParsingError("the JWS is larger than allowed")
    parts = token.split(".")
    if len(parts) != 3:
        raise ParsingError("a compact JWS has three dot-separated parts")
    h, p, s = parts
    if not h or not s:
        raise ParsingError("the JWS header or signature is empty")
    header = dict(_parse_header_segment(h))
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise ParsingError("the JWS header lacks a string alg")
    payload = b64url_decode(p, what="JWS payload")
    signature = b64url_decode(s, what="JWS signature")
    return UnverifiedJws(header, payload, f"{h}.{p}".encode("ascii"), signature, token)


def _check_header(header: Mapping[str, Any], policy: JwsPolicy) -> str:
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise ParsingError("the JWS header lacks a string alg")
    if alg.lower() == "none":
        raise UnsupportedAlgorithm("alg none is never accepted")
    if alg in _HMAC_ALGS:
        raise UnsupportedAlgorithm(f"{alg} (HMAC) is never accepted with a public key")
    if alg not in policy.algorithms:
        raise UnsupportedAlgorithm(f"alg {alg} is not allowed for this use")
    if "crit" in header:
        crit = header["crit"]
        if not isinstance(crit, list) or not crit or not all(isinstance(c, str) and c for c in crit):
            raise InvalidHeader("crit must be a non-empty array of names")
        for name in crit:
            if name in _REGISTERED_HEADERS:
                raise InvalidHeader(f"crit must not list the registered header {name!r}")
            if name not in policy.understood_crit:
                raise InvalidHeader(f"crit header {name!r} is not understood")
            if name not in header:
                raise InvalidHeader(f"crit names {name!r} but the header lacks it")
    if "b64" in header and "b64" not in policy.understood_crit:
        raise InvalidHeader("unencoded payloads (b64) are not supported")
    if policy.typ is not None:
        typ = header.get("typ")
        if not isinstance(typ, str):
            raise InvalidHeader(f"typ {policy.typ} is required")
        if _normalize_typ(typ) != _normalize_typ(policy.typ):
            raise InvalidHeader(f"typ must be {policy.typ}")
    elif "typ" in header and not isinstance(header["typ"], str):
        raise InvalidHeader("typ must be a string")
    if "jwk" in header:
        hk = header["jwk"]
        if not isinstance(hk, Mapping):
            raise InvalidHeader("the jwk header must be a JSON object")
        if _PRIVATE_JWK_MEMBERS.intersection(hk):
            raise InvalidHeader("the jwk header contains private key material")
        try:
            key = public_key_from_jwk(hk)
        except (ParsingError, UnsupportedAlgorithm) as exc:
            raise InvalidHeader("the jwk header is not a usable public key") from exc
        _check_key_for_alg(key, alg, error=InvalidHeader)
    if "x5c" in header:
        _check_key_for_alg(x5c_leaf_key(header), alg, error=InvalidHeader)
    return alg


def as_public_key(key: KeyLike | SigningKey) -> PublicKey:
    """Normalize a verification key: a ``cryptography`` public key, a public JWK or a :class:`SigningKey`."""
    if type(key) is dict:
        return public_key_from_jwk(key)
    if _key_kind(key) != "other":
        return key  # type: ignore[return-value]
    if isinstance(key, SigningKey):
        return key.public_key
    if isinstance(key, Mapping):
        return public_key_from_jwk(key)
    if isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise InvalidHeader("a private key was given where a public key is expected")
    raise UnsupportedAlgorithm("unsupported verification key type")


def _verify_signature(alg: str, key: PublicKey, signing_input: bytes, signature: bytes) -> None:
    _check_key_for_alg(key, alg, error=UnsupportedAlgorithm)
    try:
        if alg in _EC_ALGS:
            size = _EC_ALGS[alg][3]
            if len(signature) != 2 * size:
                raise InvalidSignature("the ECDSA signature has the wrong length")
            der = encode_dss_signature(int.from_bytes(signature[:size], "big"),
                                       int.from_bytes(signature[size:], "big"))
            key.verify(der, signing_input, _ECDSA[alg])  # type: ignore[call-arg,arg-type]
        elif alg in _RSA_ALGS:
            pad, digest_alg = _RSA_ALGS[alg]
            key.verify(signature, signing_input, pad, digest_alg)  # type: ignore[call-arg,arg-type]
        else:
            key.verify(signature, signing_input)  # type: ignore[call-arg]
    except _CryptoInvalidSignature as exc:
        raise InvalidSignature("the JWS signature does not verify") from exc


def verify_jws(token: str | UnverifiedJws, key: KeyLike | SigningKey, policy: JwsPolicy = ES256_ONLY) -> VerifiedJws:
    """Verify a compact JWS with ``key`` under ``policy`` (RFC 7515 §5.2, RFC 8725 §3.1).

    Raises :class:`ParsingError`, :class:`UnsupportedAlgorithm`, :class:`InvalidHeader` or
    :class:`InvalidSignature`; on success returns the verified header, payload and key.
    """
    jws = token if isinstance(token, UnverifiedJws) else parse_jws(token, max_bytes=policy.max_bytes)
    if len(jws.compact) > policy.max_bytes:
        raise ParsingError("the JWS is larger than allowed")
    alg = _check_header(jws.header, policy)
    public = as_public_key(key)
    _verify_signature(alg, public, jws.signing_input, jws.signature)
    return VerifiedJws(jws.header, jws.payload, public)


def verify_jws_with_header_jwk(token: str | UnverifiedJws, policy: JwsPolicy = ES256_ONLY) -> VerifiedJws:
    """Verify a JWS with the public key in its own ``jwk`` header (RFC 7515 §4.1.3), e.g. key proofs and DPoP.

    The caller still decides whether that key is acceptable (the result carries it).
    """
    jws = token if isinstance(token, UnverifiedJws) else parse_jws(token, max_bytes=policy.max_bytes)
    if not isinstance(jws.header.get("jwk"), Mapping):
        raise InvalidHeader("the jwk header is required")
    alg = _check_header(jws.header, policy)
    public = public_key_from_jwk(jws.header["jwk"])
    _verify_signature(alg, public, jws.signing_input, jws.signature)
    return VerifiedJws(jws.header, jws.payload, public)


def verify_jwt(token: str | UnverifiedJws, key: KeyLike | SigningKey, policy: JwsPolicy = ES256_ONLY) -> VerifiedJwt:
    """Verify a JWT (RFC 7519 §7.2) signature and decode its claims set; claim checks are the caller's step."""
    v = verify_jws(token, key, policy)
    return VerifiedJwt(v.header, parse_json_object(v.payload, what="JWT claims set"), v.key, v.payload)


def _sign_raw(key: SigningKey, signing_input: bytes) -> bytes:
    priv = key.private_key
    if isinstance(priv, ec.EllipticCurvePrivateKey):
        size = _EC_ALGS[key.alg][3]
        r, s = decode_dss_signature(priv.sign(signing_input, _ECDSA[key.alg]))
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    return priv.sign(signing_input)


@functools.lru_cache(maxsize=256)
def _encoded_header(header_json: bytes) -> str:
    return b64u_encode(header_json)


def _protected_header(key: SigningKey, typ: str | None, header: Mapping[str, Any] | None, include_kid: bool,
                      include_x5c: bool, include_jwk: bool) -> dict[str, Any]:
    h: dict[str, Any] = {"alg": key.alg}
    if typ is not None:
        h["typ"] = typ
    if include_kid and key.kid is not None:
        h["kid"] = key.kid
    if include_x5c:
        if not key.x5c:
            raise InvalidHeader("the signing key has no x5c chain")
        h["x5c"] = key.x5c_header()
    if include_jwk:
        h["jwk"] = public_jwk(key.public_key)
    if header:
        if "alg" in header:
            raise InvalidHeader("alg comes from the signing key")
        if isinstance(header.get("jwk"), Mapping) and _PRIVATE_JWK_MEMBERS.intersection(header["jwk"]):
            raise InvalidHeader("refusing to put private key material in a header")
        h.update(header)
    return h


class JwsSigner:
    """Signs many payloads with one key and one fixed protected header (encoded once): the issuance hot path.

    The header is ``{"alg", "typ"?, "kid"?, "x5c"?, "jwk"?, **header}`` as for :func:`sign_jws`.
    """

    __slots__ = ("_encoded_header", "header", "key")

    def __init__(self, key: SigningKey, *, typ: str | None = None, header: Mapping[str, Any] | None = None,
                 include_kid: bool = True, include_x5c: bool = False, include_jwk: bool = False) -> None:
        self.key = key
        self.header = _protected_header(key, typ, header, include_kid, include_x5c, include_jwk)
        self._encoded_header = b64url_encode(json_dumps(self.header))

    def sign(self, payload: bytes) -> str:
        """RFC 7515 §5.1: the compact JWS of ``payload``."""
        signing_input = f"{self._encoded_header}.{b64url_encode(payload)}"
        signature = _sign_raw(self.key, signing_input.encode("ascii"))
        return f"{signing_input}.{b64url_encode(signature)}"


def sign_jws(
    payload: bytes,
    key: SigningKey,
    *,
    typ: str | None = None,
    header: Mapping[str, Any] | None = None,
    include_kid: bool = True,
    include_x5c: bool = False,
    include_jwk: bool = False,
) -> str:
    """Sign ``payload`` as a compact JWS (RFC 7515 §5.1, §7.1) with ``key.alg``.

    The protected header is ``{"alg", "typ"?, "kid"?, "x5c"?, "jwk"?, **header}``; ``alg`` and key material in
    ``header`` are refused (they come from ``key``).
    """
    h = _protected_header(key, typ, header, include_kid, include_x5c, include_jwk)
    encoded_header = _encoded_header(json_dumps(h))
    signing_input = f"{encoded_header}.{b64url_encode(payload)}"
    signature = _sign_raw(key, signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


def sign_jwt(claims: Mapping[str, Any], key: SigningKey, *, typ: str | None = None,
             header: Mapping[str, Any] | None = None, include_kid: bool = True, include_x5c: bool = False,
             include_jwk: bool = False) -> str:
    """Sign a JWT claims set (RFC 7519 §7.1) as a compact JWS."""
    return sign_jws(json_dumps(dict(claims)), key, typ=typ, header=header, include_kid=include_kid,
                    include_x5c=include_x5c, include_jwk=include_jwk)


def to_jwcrypto_jwk(key: SigningKey | PublicKey) -> Any:
    """The key as a jwcrypto ``JWK`` object, for third-party libraries built on jwcrypto (benchmark peers and
    interop tests); keeps this module the only jwcrypto import site."""
    if isinstance(key, SigningKey):
        return _jwk.JWK.from_pyca(key.private_key)
    return _jwk.JWK.from_pyca(key)


# --------------------------------------------------------------------------------------------------
# JWE
# --------------------------------------------------------------------------------------------------


_SUPPORTED_JWE_ALGS = frozenset({"ECDH-ES"})
_SUPPORTED_JWE_ENCS = frozenset({"A128GCM", "A256GCM"})


@dataclass(frozen=True)
class JwePolicy:
    """Allowed JWE key management and content encryption algorithms (RFC 7516, RFC 7518 §4.6, §5.3)."""

    algorithms: frozenset[str] = frozenset({"ECDH-ES"})
    encryptions: frozenset[str] = frozenset({"A128GCM", "A256GCM"})
    max_bytes: int = 1024 * 1024
    typ: str | None = None

    def __post_init__(self) -> None:
        if not self.algorithms <= _SUPPORTED_JWE_ALGS or not self.encryptions <= _SUPPORTED_JWE_ENCS:
            raise UnsupportedAlgorithm("JWE policy lists an unsupported algorithm")


DEFAULT_JWE_POLICY = JwePolicy()


@dataclass(frozen=True)
class DecryptedJwe:
    """A JWE that decrypted and authenticated under a policy; ``header`` is its protected header."""

    header: dict[str, Any]
    plaintext: bytes


def encrypt_jwe(
    plaintext: bytes,
    recipient: Mapping[str, Any] | ec.EllipticCurvePublicKey,
    *,
    alg: str = "ECDH-ES",
    enc: str = "A128GCM",
    kid: str | None = None,
    typ: str | None = None,
    cty: str | None = None,
    header: Mapping[str, Any] | None = None,
    policy: JwePolicy = DEFAULT_JWE_POLICY,
) -> str:
    """Encrypt to an EC public key with ECDH-ES (RFC 7518 §4.6) in compact serialization (RFC 7516 §7.1).

    ``kid`` defaults to the recipient JWK's ``kid`` (OpenID4VP 1.0 §8.3: the JWE header carries it).
    """
    if alg not in policy.algorithms:
        raise UnsupportedAlgorithm(f"JWE alg {alg} is not allowed")
    if enc not in policy.encryptions:
        raise UnsupportedAlgorithm(f"JWE enc {enc} is not allowed")
    if isinstance(recipient, Mapping):
        if "alg" in recipient and recipient["alg"] != alg:
            raise EncryptionError("the JWE alg must equal the recipient JWK alg")
        kid = kid if kid is not None else (recipient.get("kid") if isinstance(recipient.get("kid"), str) else None)
        pub = public_key_from_jwk(recipient)
    else:
        pub = recipient
    if not isinstance(pub, ec.EllipticCurvePublicKey):
        raise UnsupportedAlgorithm("ECDH-ES needs an EC recipient key")
    h: dict[str, Any] = dict(header or {})
    h.update({"alg": alg, "enc": enc})
    if kid is not None:
        h["kid"] = kid
    if typ is not None:
        h["typ"] = typ
    if cty is not None:
        h["cty"] = cty
    try:
        token = _jwe.JWE(plaintext, protected=json.dumps(h))
        token.add_recipient(_jwk.JWK.from_pyca(pub))
        return str(token.serialize(compact=True))
    except (JWException, ValueError, TypeError) as exc:
        raise EncryptionError("the JWE could not be made") from exc


def _decryption_key_from_jwk(jwk: Mapping[str, Any]) -> Any:
    """A private EC JWK for key agreement (``use: enc`` allowed, RFC 7517 §4.2)."""
    if "d" not in jwk:
        raise ParsingError("not a private JWK")
    try:
        return _jwk.JWK(**dict(jwk)).get_op_key("unwrapKey")
    except (JWException, ValueError, TypeError, KeyError) as exc:
        raise ParsingError("the private JWK cannot be imported for decryption") from exc


def decrypt_jwe(
    token: str,
    key: SigningKey | ec.EllipticCurvePrivateKey | Mapping[str, Any],
    *,
    policy: JwePolicy = DEFAULT_JWE_POLICY,
) -> DecryptedJwe:
    """Decrypt a compact JWE (RFC 7516 §5.2) after checking ``alg``/``enc`` against ``policy``.

    Compression (``zip``) and ``crit`` are refused. Raises :class:`ParsingError`, :class:`UnsupportedAlgorithm`
    or :class:`EncryptionError` (wrong key, tampered ciphertext, tag mismatch).
    """
    if not isinstance(token, str):
        raise ParsingError("a compact JWE must be a string")
    if len(token) > policy.max_bytes:
        raise ParsingError("the JWE is larger than allowed")
    parts = token.split(".")
    if len(parts) != 5:
        raise ParsingError("a compact JWE has five dot-separated parts")
    header = dict(_parse_header_segment(parts[0]))
    alg, enc = header.get("alg"), header.get("enc")
    if alg not in policy.algorithms:
        raise UnsupportedAlgorithm(f"JWE alg {alg!r} is not allowed")
    if enc not in policy.encryptions:
        raise UnsupportedAlgorithm(f"JWE enc {enc!r} is not allowed")
    if "zip" in header:
        raise InvalidHeader("compressed JWE (zip) is not accepted")
    if "crit" in header:
        raise InvalidHeader("crit header is not understood")
    if parts[1]:
        raise ParsingError("ECDH-ES direct key agreement has an empty encrypted key")
    if policy.typ is not None and (not isinstance(header.get("typ"), str)
                                   or _normalize_typ(header["typ"]) != _normalize_typ(policy.typ)):
        raise InvalidHeader(f"typ must be {policy.typ}")
    epk = header.get("epk")
    if not isinstance(epk, Mapping):
        raise InvalidHeader("ECDH-ES needs an epk header")
    try:
        epk_key = public_key_from_jwk(epk)
    except (ParsingError, UnsupportedAlgorithm) as exc:
        raise InvalidHeader("the epk header is not a valid public key") from exc
    if isinstance(key, SigningKey):
        priv: Any = key.private_key
    elif isinstance(key, Mapping):
        priv = _decryption_key_from_jwk(key)
    else:
        priv = key
    if not isinstance(priv, ec.EllipticCurvePrivateKey):
        raise UnsupportedAlgorithm("ECDH-ES needs an EC private key")
    if not isinstance(epk_key, ec.EllipticCurvePublicKey) or epk_key.curve.name != priv.curve.name:
        raise InvalidHeader("the epk curve does not match the recipient key")
    try:
        jwe = _jwe.JWE()
        jwe.allowed_algs = sorted(policy.algorithms | policy.encryptions)
        jwe.deserialize(token, key=_jwk.JWK.from_pyca(priv))
        plaintext = jwe.payload
    except (JWException, ValueError, TypeError) as exc:
        raise EncryptionError("the JWE does not decrypt with this key") from exc
    if not isinstance(plaintext, bytes):  # pragma: no cover - jwcrypto contract
        raise EncryptionError("the JWE does not decrypt with this key")
    return DecryptedJwe(header, plaintext)
