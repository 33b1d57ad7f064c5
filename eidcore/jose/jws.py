"""JWS in compact serialization (RFC 7515 §3.1, §5.1, §5.2, §7.1) with the JWA signature algorithms ES256, ES384,
ES512 (RFC 7518 §3.4), RS256/PS256 verify-only (RFC 7518 §3.3, §3.5) and EdDSA (RFC 8037 §3.1); JWT signing and
verification (RFC 7519 §7.1, §7.2) under the JWT BCP (RFC 8725 §3.1, §3.11).

Every verification takes an explicit :class:`JwsPolicy`: ``none`` and every HMAC algorithm are refused (a public
key is never a MAC secret), ``crit`` is handled per RFC 7515 §4.1.11, and the signature is checked with
``cryptography`` directly (raw ``r || s`` to and from DER, RFC 7518 §3.4).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from eidcore.encoding import b64u_decode, b64u_encode
from eidcore.errors import (
    InvalidHeader,
    InvalidSignature,
    ParsingError,
    UnsupportedAlgorithm,
)
from eidcore.jose._common import (
    _EC_ALGS,
    _ECDSA,
    _HMAC_ALGS,
    _PRIVATE_JWK_MEMBERS,
    _REGISTERED_HEADERS,
    _RSA_ALGS,
    _SUPPORTED_SIGNATURE_ALGS,
    KeyLike,
    PublicKey,
    _check_key_for_alg,
    _normalize_typ,
    _parse_header_segment,
    json_dumps,
    parse_json_object,
)
from eidcore.jose.jwk import (
    SigningKey,
    as_public_key,
    public_jwk,
    public_key_from_jwk,
    x5c_leaf_key,
)


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
    payload = b64u_decode(p, what="JWS payload")
    signature = b64u_decode(s, what="JWS signature")
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
        self._encoded_header = b64u_encode(json_dumps(self.header))

    def sign(self, payload: bytes) -> str:
        """RFC 7515 §5.1: the compact JWS of ``payload``."""
        signing_input = f"{self._encoded_header}.{b64u_encode(payload)}"
        signature = _sign_raw(self.key, signing_input.encode("ascii"))
        return f"{signing_input}.{b64u_encode(signature)}"


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
    signing_input = f"{encoded_header}.{b64u_encode(payload)}"
    signature = _sign_raw(key, signing_input.encode("ascii"))
    return f"{signing_input}.{b64u_encode(signature)}"


def sign_jwt(claims: Mapping[str, Any], key: SigningKey, *, typ: str | None = None,
             header: Mapping[str, Any] | None = None, include_kid: bool = True, include_x5c: bool = False,
             include_jwk: bool = False) -> str:
    """Sign a JWT claims set (RFC 7519 §7.1) as a compact JWS."""
    return sign_jws(json_dumps(dict(claims)), key, typ=typ, header=header, include_kid=include_kid,
                    include_x5c=include_x5c, include_jwk=include_jwk)
