"""Base64url without padding (RFC 4648 §5, as RFC 7515 §2 uses it) and SRI digests.

Strict decoding: padding, whitespace or characters outside the URL-safe alphabet are a ParsingError.
"""

from __future__ import annotations

import base64
import binascii
import re

from eidcore.errors import ParsingError

_B64U = re.compile(r"^[A-Za-z0-9_-]*$")


def b64u_encode(data: bytes) -> str:
    """Base64url-encode ``data`` without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str | bytes, *, what: str = "value") -> bytes:
    """Decode unpadded base64url strictly (RFC 7515 §2); raises :class:`ParsingError` naming ``what``."""
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError as exc:
            raise ParsingError(f"{what} is not base64url") from exc
    if not _B64U.match(text) or len(text) % 4 == 1:
        raise ParsingError(f"{what} is not unpadded base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ParsingError(f"{what} is not base64url") from exc
