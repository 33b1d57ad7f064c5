"""RFC 7636, Proof Key for Code Exchange, with ``S256`` as the only method (FAPI 2.0 §5.3.2.2, HAIP 1.0).

``plain`` is refused: it protects nothing against an attacker who sees the authorization request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from eidcore.encoding import b64u_encode
from eidcore.errors import InvalidGrant, InvalidRequest

#: RFC 7636 §4.1: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
#: an S256 challenge is the unpadded base64url of 32 bytes
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def make_verifier() -> str:
    """A fresh code verifier with 256 bits of entropy (RFC 7636 §4.1)."""
    return secrets.token_urlsafe(32)


def s256_challenge(verifier: str) -> str:
    """``BASE64URL(SHA256(ASCII(code_verifier)))`` (RFC 7636 §4.2)."""
    return b64u_encode(hashlib.sha256(verifier.encode("ascii")).digest())


def check_challenge_request(code_challenge: str | None, method: str | None) -> str:
    """Validate the authorization request's PKCE parameters (RFC 7636 §4.3, §4.4.1); returns the challenge.

    PKCE is mandatory and only ``S256`` is accepted.
    """
    if not code_challenge:
        raise InvalidRequest("code_challenge is required (PKCE)")
    if method != "S256":
        raise InvalidRequest("code_challenge_method must be S256")
    if not _CHALLENGE.match(code_challenge):
        raise InvalidRequest("code_challenge is not a base64url SHA-256 value")
    return code_challenge


def verify(code_verifier: str | None, code_challenge: str) -> None:
    """Check the token request's ``code_verifier`` against the stored challenge (RFC 7636 §4.6)."""
    if not code_verifier:
        raise InvalidGrant("code_verifier is required")
    if not _VERIFIER.match(code_verifier):
        raise InvalidGrant("code_verifier is malformed")
    if not hmac.compare_digest(s256_challenge(code_verifier), code_challenge):
        raise InvalidGrant("code_verifier does not match the code_challenge")
