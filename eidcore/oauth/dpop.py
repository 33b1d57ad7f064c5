"""RFC 9449, OAuth 2.0 Demonstrating Proof of Possession (DPoP).

:func:`verify_proof` performs the checks of RFC 9449 §4.3 that need no storage; the caller makes the ``jti``
single-use (§11.1) with its key-value store and compares ``jkt`` with the access token's ``cnf.jkt`` (§6.1).
:func:`make_proof` is the client side (the reference holder).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from eidcore import jose, jsonutil
from eidcore.claims import DEFAULT_LEEWAY, validate_times
from eidcore.clock import Clock
from eidcore.encoding import b64u_encode
from eidcore.errors import FormatError, InvalidDPoPProof, UseDPoPNonce

TYP = "dpop+jwt"
#: algorithms accepted for proofs (advertised as ``dpop_signing_alg_values_supported``)
ALGORITHMS = frozenset({"ES256", "ES384", "ES512", "EdDSA"})
POLICY = jose.JwsPolicy(algorithms=ALGORITHMS, typ=TYP, max_bytes=8 * 1024)


@dataclass(frozen=True)
class DPoPProof:
    """A verified DPoP proof: the key's RFC 7638 thumbprint and the values the caller still checks."""

    jkt: str
    jti: str
    iat: int
    nonce: str | None
    jwk: dict[str, Any]


def normalize_htu(uri: str) -> str:
    """The target URI without query and fragment, scheme and host lower-cased (RFC 9449 §4.3 point 9)."""
    parts = urlsplit(uri)
    netloc = (parts.hostname or "").lower()
    default_port = {"https": 443, "http": 80}.get(parts.scheme.lower())
    if parts.port and parts.port != default_port:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", "", ""))


def access_token_hash(access_token: str) -> str:
    """``ath``: base64url SHA-256 of the ASCII access token (RFC 9449 §4.2)."""
    return b64u_encode(hashlib.sha256(access_token.encode("ascii")).digest())


def verify_proof(
    proof: str | None,
    *,
    htm: str,
    htu: str,
    clock: Clock,
    access_token: str | None = None,
    expected_nonce: str | None = None,
    nonce_required: bool = False,
    max_age: int = 300,
    max_skew: int = DEFAULT_LEEWAY,
) -> DPoPProof:
    """Verify one DPoP proof for a request (RFC 9449 §4.3).

    ``expected_nonce`` is the server nonce currently valid for this client (or None); with ``nonce_required``
    a missing or different nonce raises :class:`UseDPoPNonce`, so the service can answer with a fresh
    ``DPoP-Nonce``. Every other failure is :class:`InvalidDPoPProof`.
    """
    if not proof:
        raise InvalidDPoPProof("a DPoP proof is required")
    try:
        verified = jose.verify_jws_with_header_jwk(proof, POLICY)
        claims = jsonutil.loads_object(verified.payload, what="DPoP proof")
    except FormatError as exc:
        raise InvalidDPoPProof(f"DPoP proof rejected: {exc.description}") from exc
    jwk = verified.header["jwk"]
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 8 <= len(jti) <= 256:
        raise InvalidDPoPProof("the DPoP proof needs a jti")
    if claims.get("htm") != htm.upper():
        raise InvalidDPoPProof("htm does not match the request method")
    claimed_htu = claims.get("htu")
    if not isinstance(claimed_htu, str) or normalize_htu(claimed_htu) != normalize_htu(htu):
        raise InvalidDPoPProof("htu does not match the request URI")
    try:
        validate_times(claims, now=clock.timestamp(), leeway=max_skew, require=("iat",), max_age=max_age,
                       max_age_leeway=False, integers=True, what="the DPoP proof")
    except FormatError as exc:
        raise InvalidDPoPProof(exc.description) from exc
    iat: int = claims["iat"]  # present and an integer: validated above
    if access_token is not None:
        if claims.get("ath") != access_token_hash(access_token):
            raise InvalidDPoPProof("ath does not match the access token")
    nonce = claims.get("nonce")
    if nonce is not None and not isinstance(nonce, str):
        raise InvalidDPoPProof("nonce must be a string")
    if nonce_required and (nonce is None or nonce != expected_nonce):
        raise UseDPoPNonce("a fresh DPoP nonce is required")
    return DPoPProof(jkt=jose.jwk_thumbprint_b64u(_public_members(jwk)), jti=jti, iat=iat, nonce=nonce,
                     jwk=_public_members(jwk))


def _public_members(jwk: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in jwk.items() if k in ("kty", "crv", "x", "y", "kid", "alg", "use")}


def make_proof(
    key: jose.SigningKey,
    *,
    htm: str,
    htu: str,
    clock: Clock,
    access_token: str | None = None,
    nonce: str | None = None,
) -> str:
    """Make a DPoP proof for one request (RFC 9449 §4.2)."""
    claims: dict[str, Any] = {
        "jti": secrets.token_urlsafe(18),
        "htm": htm.upper(),
        "htu": normalize_htu(htu),
        "iat": int(clock.timestamp()),
    }
    if access_token is not None:
        claims["ath"] = access_token_hash(access_token)
    if nonce is not None:
        claims["nonce"] = nonce
    return jose.sign_jwt(claims, key, typ=TYP, include_kid=False, include_jwk=True)
