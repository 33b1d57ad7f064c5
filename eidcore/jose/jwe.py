"""JWE in compact serialization (RFC 7516 §5.1, §5.2, §7.1) with ``ECDH-ES`` direct key agreement
(RFC 7518 §4.6) and ``A128GCM`` / ``A256GCM`` content encryption (RFC 7518 §5.3).

Used for OpenID4VP 1.0 §8.3 ``direct_post.jwt`` responses and OpenID4VCI 1.0 §10 credential response encryption
(HAIP 1.0), under its own allow-list (:class:`JwePolicy`); ``zip`` and ``crit`` are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from eidcore import jsonutil
from eidcore.errors import (
    EncryptionError,
    InvalidHeader,
    ParsingError,
    UnsupportedAlgorithm,
)
from eidcore.jose._backend import JWException, _jwe, _jwk
from eidcore.jose._common import _normalize_typ, _parse_header_segment
from eidcore.jose.jwk import SigningKey, public_key_from_jwk

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
        token = _jwe.JWE(plaintext, protected=jsonutil.dumps(h).decode("utf-8"))
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
