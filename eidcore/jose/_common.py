"""Shared pieces of :mod:`eidcore.jose`: algorithm tables (RFC 7518 §3.1, §3.3-§3.5; RFC 8037 §3.1), key/alg
matching, ``typ`` normalisation (RFC 7515 §4.1.9) and the cached JOSE header decoder (RFC 7515 §5.2 steps 2-4)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from eidcore import jsonutil
from eidcore.encoding import b64u_decode, b64u_encode
from eidcore.errors import (
    UnsupportedAlgorithm,
)

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


# The JSON of every JOSE object is :mod:`eidcore.jsonutil`; these names stay for existing callers.
json_dumps = jsonutil.dumps
parse_json_object = jsonutil.loads_object


def fast_json_loads(text: str | bytes) -> Any:
    """Any JSON value (RFC 8259) via :func:`eidcore.jsonutil.loads`; kept for callers of the old name."""
    return jsonutil.loads(text)


# The one base64url is :mod:`eidcore.encoding`; these names stay for existing callers.
b64url_encode = b64u_encode
b64url_decode = b64u_decode


@functools.lru_cache(maxsize=512)
def _parse_header_segment(segment: str) -> dict[str, Any]:
    return parse_json_object(b64u_decode(segment, what="JOSE header"), what="JOSE header")


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


def _normalize_typ(typ: str) -> str:
    t = typ.lower()
    return t[12:] if t.startswith("application/") else t
