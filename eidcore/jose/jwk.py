"""JWK (RFC 7517), EC and OKP key parameters (RFC 7518 §6.2, RFC 8037 §2), JWK thumbprints (RFC 7638 §3) and the
keys carried in JOSE headers (``x5c``, RFC 7515 §4.1.6).

Signing keys, public key import and export, thumbprints. Key import goes through jwcrypto (``_backend``) for
the point-on-curve checks; everything else uses ``cryptography`` directly.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from eidcore import jsonutil
from eidcore.encoding import b64u_decode, b64u_encode
from eidcore.errors import (
    InvalidHeader,
    ParsingError,
    UnsupportedAlgorithm,
)
from eidcore.jose._backend import JWException, _jwk
from eidcore.jose._common import (
    _CRV_SIZE,
    _CRV_TO_CURVE,
    _CURVE_TO_CRV,
    _EC_ALG_FOR_CRV,
    _EC_ALGS,
    _PRIVATE_JWK_MEMBERS,
    _RSA_MIN_BITS,
    KeyLike,
    PrivateKey,
    PublicKey,
    SignatureAlgorithm,
    _check_key_for_alg,
    _key_kind,
)
from eidcore.trust.x509 import load_der_certificate


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
    data = jsonutil.dumps_sorted(canonical)
    return hashlib.sha256(data).digest()


def jwk_thumbprint_b64u(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 §3 thumbprint, base64url-encoded (as used in ``jkt`` and ``cnf``)."""
    return b64u_encode(jwk_thumbprint(jwk))


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
            certs.append(load_der_certificate(base64.b64decode(item, validate=True)))
        except (binascii.Error, ValueError) as exc:
            raise InvalidHeader("x5c holds a value that is not a base64 DER certificate") from exc
    try:
        leaf_key = certs[0].public_key()
    except (ValueError, TypeError) as exc:
        raise InvalidHeader("the x5c leaf key cannot be read") from exc
    key = leaf_key if isinstance(leaf_key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey) else None
    return tuple(certs), key


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


def to_jwcrypto_jwk(key: SigningKey | PublicKey) -> Any:
    """The key as a jwcrypto ``JWK`` object, for third-party libraries built on jwcrypto (benchmark peers and
    interop tests); keeps this module the only jwcrypto import site."""
    if isinstance(key, SigningKey):
        return _jwk.JWK.from_pyca(key.private_key)
    return _jwk.JWK.from_pyca(key)
