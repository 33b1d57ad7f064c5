"""SessionTranscript for mdoc device authentication: ISO/IEC 18013-5 §9.1.5.1 and OpenID4VP 1.0 Appendix B.2.6.

``SessionTranscript = [DeviceEngagementBytes, EReaderKeyBytes, Handover]``; ``SessionTranscriptBytes`` is its
tag-24 wrapping. Over OpenID4VP 1.0 both first elements are ``null`` and the Handover is

- redirect / ``direct_post(.jwt)``: ``["OpenID4VPHandover", SHA-256(CBOR([client_id, nonce, jwkThumbprint | null,
  response_uri]))]`` (Appendix B.2.6.1);
- Digital Credentials API: ``["OpenID4VPDCAPIHandover", SHA-256(CBOR([origin, nonce, jwkThumbprint | null]))]``
  (Appendix B.2.6.2).

``jwkThumbprint`` is the RFC 7638 SHA-256 thumbprint (32 raw bytes) of the verifier's encryption key when the
response is encrypted, else ``null``. The pre-final ISO/IEC 18013-7 Annex B handover is not offered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from eidcore import cbor, jose
from eidcore.errors import InvalidRequest, ParsingError

__all__ = [
    "HANDOVER_DC_API",
    "HANDOVER_REDIRECT",
    "SessionTranscript",
    "dc_api_session_transcript",
    "jwk_thumbprint_sha256",
    "openid4vp_session_transcript",
]

HANDOVER_REDIRECT: Final = "OpenID4VPHandover"
HANDOVER_DC_API: Final = "OpenID4VPDCAPIHandover"

# RFC 7638 §3.2: the required members per key type, in lexicographic order.


@dataclass(frozen=True)
class SessionTranscript:
    """A SessionTranscript kept as its exact CBOR encoding (ISO/IEC 18013-5 §9.1.5.1).

    ``encoded`` is the CBOR of the 3-element array, embedded as-is in DeviceAuthentication;
    :attr:`tagged_bytes` is SessionTranscriptBytes (tag 24), whose SHA-256 is the deviceMac HKDF salt.
    """

    encoded: bytes

    @classmethod
    def from_parts(cls, device_engagement: Any, e_reader_key: Any, handover: Any) -> SessionTranscript:
        """Build ``[DeviceEngagementBytes, EReaderKeyBytes, Handover]`` from its three elements."""
        return cls(cbor.dumps([device_engagement, e_reader_key, handover]))

    @classmethod
    def from_session_transcript_bytes(cls, data: bytes) -> SessionTranscript:
        """Parse SessionTranscriptBytes (``#6.24(bstr .cbor SessionTranscript)``), keeping the inner bytes."""
        outer = cbor.loads(data, what="SessionTranscriptBytes")
        if not isinstance(outer, cbor.EmbeddedCBOR):
            raise ParsingError("SessionTranscriptBytes is not tag-24 embedded CBOR")
        value = outer.value()
        if not isinstance(value, list) or len(value) != 3:
            raise ParsingError("SessionTranscript is not a 3-element array")
        return cls(outer.raw)

    @property
    def tagged_bytes(self) -> bytes:
        """SessionTranscriptBytes: ``#6.24(bstr .cbor SessionTranscript)``."""
        return cbor.EmbeddedCBOR(self.encoded).encoded()

    def value(self) -> Any:
        """The decoded 3-element array."""
        return cbor.loads(self.encoded, what="SessionTranscript")


def _handover(name: str, info: list[Any]) -> list[Any]:
    return [name, hashlib.sha256(cbor.dumps(info)).digest()]


def _check_thumbprint(jwk_thumbprint: bytes | None) -> None:
    if jwk_thumbprint is not None and (not isinstance(jwk_thumbprint, bytes) or len(jwk_thumbprint) != 32):
        raise InvalidRequest("jwkThumbprint must be the 32-byte SHA-256 JWK thumbprint")


def openid4vp_session_transcript(
    client_id: str, nonce: str, response_uri: str, jwk_thumbprint: bytes | None = None
) -> SessionTranscript:
    """OpenID4VP 1.0 Appendix B.2.6.1: the SessionTranscript for redirect and ``direct_post(.jwt)`` responses.

    ``client_id`` is the full client identifier including its prefix; ``response_uri`` is the
    ``response_uri`` (``direct_post``) or the ``redirect_uri``; ``jwk_thumbprint`` is given only when the
    response is encrypted (see :func:`jwk_thumbprint_sha256`).
    """
    _check_thumbprint(jwk_thumbprint)
    info = [client_id, nonce, jwk_thumbprint, response_uri]
    return SessionTranscript.from_parts(None, None, _handover(HANDOVER_REDIRECT, info))


def dc_api_session_transcript(origin: str, nonce: str, jwk_thumbprint: bytes | None = None) -> SessionTranscript:
    """OpenID4VP 1.0 Appendix B.2.6.2: the SessionTranscript for the Digital Credentials API.

    ``origin`` is the web origin as the platform reports it, without the ``origin:`` prefix;
    ``jwk_thumbprint`` is given for ``dc_api.jwt`` (encrypted) responses only.
    """
    if origin.startswith("origin:"):
        raise InvalidRequest("the DC API handover takes the bare origin, not the origin: client_id")
    _check_thumbprint(jwk_thumbprint)
    return SessionTranscript.from_parts(None, None, _handover(HANDOVER_DC_API, [origin, nonce, jwk_thumbprint]))


def jwk_thumbprint_sha256(jwk: Mapping[str, Any]) -> bytes:
    """The RFC 7638 §3 JWK thumbprint with SHA-256, as 32 raw bytes (the handover's ``jwkThumbprint``).

    Delegates to :func:`eidcore.jose.jwk_thumbprint`; a malformed JWK is an ``invalid_request`` here.
    """
    try:
        return jose.jwk_thumbprint(jwk)
    except ParsingError as exc:
        raise InvalidRequest(exc.description) from None
