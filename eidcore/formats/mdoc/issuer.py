"""mdoc issuance: IssuerSigned with an MSO signed by the document signer (ISO/IEC 18013-5:2021 §9.1.2).

Builds what OpenID4VCI 1.0 Appendix A.2 delivers for ``mso_mdoc``: b64u(CBOR IssuerSigned), where

- every IssuerSignedItem gets its own ``random`` of at least 16 bytes (§9.1.2.5 requires at least 16) and a
  random digestID below 2^31, unique in its namespace (no correlation across MSOs);
- the MSO carries ``valueDigests`` (the digest of each full tag-24 IssuerSignedItemBytes), ``deviceKeyInfo``
  with the holder's COSE_Key (and optional ``keyAuthorizations``), ``docType``, ``validityInfo`` as tag-0
  tdates in whole seconds, and optionally the Token Status List ``status`` reference (18013-5 2nd edition,
  draft-ietf-oauth-status-list §6.3);
- ``issuerAuth`` is a COSE_Sign1 over MobileSecurityObjectBytes (tag 24) with ``alg`` protected and
  ``x5chain`` (the document signer certificate chain, leaf first) unprotected.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from eidcore import cbor, cose
from eidcore.cache import BoundedCache
from eidcore.clock import SYSTEM_CLOCK, Clock
from eidcore.errors import InvalidClaim, InvalidRequest
from eidcore.formats.mdoc.structures import (
    DIGEST_ALGORITHMS,
    MIN_RANDOM_BYTES,
    MSO_VERSION,
    OBSOLETE_DOCTYPES,
    IssuerSigned,
    KeyAuthorizations,
)

__all__ = ["issue_mdoc", "status_list_reference"]

_K_DIGEST_ID: Final = b"\xa4\x68digestID\x1a"  # + the 4-byte digestID
_K_RANDOM: Final = b"\x66random"
_K_ELEMENT_ID: Final = b"\x71elementIdentifier"
_K_ELEMENT_VALUE: Final = b"\x6celementValue"


@lru_cache(maxsize=4096)
def _tstr(text: str) -> bytes:
    """Preferred CBOR encoding of a text string (element identifiers repeat: cached)."""
    raw = text.encode("utf-8")
    head = cbor.bstr_header(len(raw))
    return bytes((head[0] + 0x20,)) + head[1:] + raw


#: DER of the few signing certificates, by object id (the certificate is kept too, so an id is never reused)
_DER_BY_ID: BoundedCache[int, tuple[x509.Certificate, bytes]] = BoundedCache(64)


def _der(cert: x509.Certificate) -> bytes:
    """The certificate's DER, remembered per certificate object (issuers sign with the same few)."""
    hit = _DER_BY_ID.get(id(cert))
    if hit is not None and hit[0] is cert:
        return hit[1]
    der = cert.public_bytes(Encoding.DER)
    _DER_BY_ID.set(id(cert), (cert, der))
    return der


def _encode_value(value: Any) -> bytes:
    """An elementValue's CBOR; full-date (tag 1004, RFC 8943) written directly, as it is common and slow."""
    if type(value) is date:
        return b"\xd9\x03\xec\x6a" + value.isoformat().encode("ascii")
    return cbor.dumps(value)


def _utc_seconds(value: datetime) -> datetime:
    if value.tzinfo is UTC and not value.microsecond:
        return value
    return cbor.tdate(value)


def status_list_reference(idx: int, uri: str, *, certificate: bytes | None = None) -> dict[str, Any]:
    """The MSO ``status`` for a Token Status List entry: ``{"status_list": {"idx", "uri", ? "certificate"}}``."""
    if isinstance(idx, bool) or not isinstance(idx, int) or idx < 0:
        raise InvalidRequest("status list index must be a non-negative integer")
    ref: dict[str, Any] = {"idx": idx, "uri": uri}
    if certificate is not None:
        ref["certificate"] = certificate
    return {"status_list": ref}


def _device_cose_key(device_key: Mapping[int, Any] | Mapping[str, Any] | ec.EllipticCurvePublicKey) -> dict[int, Any]:
    if isinstance(device_key, ec.EllipticCurvePublicKey):
        return cose.cose_key_from_public_key(device_key)
    key: dict[Any, Any] = dict(device_key)
    if isinstance(key.get("kty"), str):  # a JWK from an OpenID4VCI proof
        return cose.cose_key_from_jwk(key)
    cose.public_key_from_cose_key(key)  # validates (InvalidHeader)
    return key


def _random_digest_ids(n: int) -> list[int]:
    """``n`` distinct random digestIDs in [2^16, 2^31) (ISO/IEC 18013-5 §9.1.2.5: uint below 2^31, unique in
    the namespace, uncorrelated across MSOs). The lower bound keeps every ID at the 5-byte uint encoding."""
    while True:
        ids = [(x & 0x7FFFFFFF) | 0x10000 for x in struct.unpack(f">{n}I", os.urandom(4 * n))]
        if len(set(ids)) == n:
            return ids


def issue_mdoc(
    *,
    doc_type: str,
    name_spaces: Mapping[str, Mapping[str, Any]],
    device_key: Mapping[int, Any] | Mapping[str, Any] | ec.EllipticCurvePublicKey,
    issuer_key: ec.EllipticCurvePrivateKey,
    issuer_chain: Sequence[x509.Certificate | bytes],
    valid_until: datetime,
    valid_from: datetime | None = None,
    signed: datetime | None = None,
    expected_update: datetime | None = None,
    status: Mapping[str, Any] | None = None,
    key_authorizations: KeyAuthorizations | None = None,
    digest_algorithm: str = "SHA-256",
    random_size: int = MIN_RANDOM_BYTES,
    clock: Clock = SYSTEM_CLOCK,
) -> IssuerSigned:
    """Issue an mdoc (ISO/IEC 18013-5 §9.1.2.4/§9.1.2.5): IssuerSigned with items, MSO and issuerAuth.

    ``name_spaces`` maps each namespace to ``{elementIdentifier: elementValue}`` (values as CBOR-ready Python:
    ``date`` for full-date, aware ``datetime`` for tdate, ``bytes`` for bstr). ``device_key`` is the holder's
    key as a COSE_Key, a public JWK (turned into a COSE_Key) or a ``cryptography`` public key. ``signed``
    defaults to the clock's now and ``valid_from`` to ``signed``. ``status`` is the MSO ``status`` map (see
    :func:`status_list_reference`). Returns the IssuerSigned; ``.to_b64u()`` gives the OpenID4VCI credential.
    """
    if doc_type in OBSOLETE_DOCTYPES:
        raise InvalidRequest(f"docType {doc_type!r} is obsolete; use {OBSOLETE_DOCTYPES[doc_type]!r}")
    if digest_algorithm not in DIGEST_ALGORITHMS:
        raise InvalidRequest(f"digest algorithm {digest_algorithm!r} is not SHA-256, SHA-384 or SHA-512")
    if random_size < MIN_RANDOM_BYTES:
        raise InvalidRequest(f"random must be at least {MIN_RANDOM_BYTES} bytes")
    if not name_spaces or not all(name_spaces.values()):
        raise InvalidClaim("an mdoc needs at least one namespace, each with at least one element")
    if not issuer_chain:
        raise InvalidRequest("issuerAuth needs the document signer certificate (x5chain)")
    signed_at = _utc_seconds(signed or clock.now())
    v_from = _utc_seconds(valid_from) if valid_from is not None else signed_at
    v_until = _utc_seconds(valid_until)
    if v_until <= v_from:
        raise InvalidClaim("validUntil must be after validFrom")
    if status is not None and not ("status_list" in status or "identifier_list" in status):
        raise InvalidClaim("status must hold a status_list or identifier_list reference")
    hash_fn = DIGEST_ALGORITHMS[digest_algorithm]
    rsize = random_size

    issued_ns: dict[str, list[cbor.EmbeddedCBOR]] = {}
    value_digests: dict[str, dict[int, bytes]] = {}
    random_head = _K_RANDOM + cbor.bstr_header(rsize)
    dumps = _encode_value
    bstr_header = cbor.bstr_header
    for ns, elements in name_spaces.items():
        n = len(elements)
        ids = _random_digest_ids(n)
        randoms = os.urandom(rsize * n)
        entries: list[tuple[int, cbor.EmbeddedCBOR, bytes]] = []
        offset = 0
        for digest_id, (ident, value) in zip(ids, elements.items(), strict=True):
            if type(ident) is not str or not ident:
                raise InvalidClaim("element identifiers must be non-empty text strings")
            raw = b"".join(
                (
                    _K_DIGEST_ID,
                    digest_id.to_bytes(4, "big"),
                    random_head,
                    randoms[offset : offset + rsize],
                    _K_ELEMENT_ID,
                    _tstr(ident),
                    _K_ELEMENT_VALUE,
                    dumps(value),
                )
            )
            offset += rsize
            size = len(raw)
            tagged = (b"\xd8\x18\x58" + bytes((size,)) if 24 <= size < 256 else b"\xd8\x18" + bstr_header(size)) + raw
            entries.append((digest_id, cbor.EmbeddedCBOR(raw), hash_fn(tagged).digest()))
        # Items are ordered by their random digestID so that their order says nothing about the schema.
        entries.sort()  # digestIDs are unique, so the tuples never compare past their first member
        issued_ns[ns] = [e[1] for e in entries]
        value_digests[ns] = {e[0]: e[2] for e in entries}

    device_key_info: dict[str, Any] = {"deviceKey": _device_cose_key(device_key)}
    if key_authorizations is not None:
        device_key_info["keyAuthorizations"] = key_authorizations.to_cbor()
    validity = b"".join(
        (
            b"\xa4" if expected_update is not None else b"\xa3",
            b"\x66signed",
            cbor.encode_tdate(signed_at).raw,
            b"\x69validFrom",
            cbor.encode_tdate(v_from).raw,
            b"\x6avalidUntil",
            cbor.encode_tdate(v_until).raw,
            b"\x6eexpectedUpdate" + cbor.encode_tdate(expected_update).raw if expected_update is not None else b"",
        )
    )
    mso: dict[str, Any] = {
        "version": MSO_VERSION,
        "digestAlgorithm": digest_algorithm,
        "valueDigests": value_digests,
        "deviceKeyInfo": device_key_info,
        "docType": doc_type,
        "validityInfo": cbor.PreEncoded(validity),
    }
    if status is not None:
        mso["status"] = dict(status)
    mso_raw = cbor.dumps(mso)
    payload = b"\xd8\x18" + cbor.bstr_header(len(mso_raw)) + mso_raw
    chain = [c if isinstance(c, bytes) else _der(c) for c in issuer_chain]
    issuer_auth = cose.sign1(payload, issuer_key, x5chain=chain)
    return IssuerSigned(issued_ns, issuer_auth)
