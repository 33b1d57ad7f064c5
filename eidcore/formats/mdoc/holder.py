"""mdoc presentation by the holder: a DeviceResponse with selective disclosure and device authentication.

ISO/IEC 18013-5:2021 §8.3.2.1.2.2 (DeviceResponse, Document), §9.1.3 (mdoc authentication): the holder keeps
only the IssuerSignedItemBytes that were asked for (exactly as issued) and signs DeviceAuthentication over the
SessionTranscript with the device key (``deviceSignature``, COSE_Sign1 with a detached payload), or MACs it
(``deviceMac``, COSE_Mac0 HMAC 256/256 with EMacKey from ECDH + HKDF, §9.1.3.5). Over OpenID4VP 1.0 the
SessionTranscript comes from :mod:`eidcore.formats.mdoc.transcript` and the response is b64u(DeviceResponse).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from eidcore import cbor, cose
from eidcore.encoding import b64u_decode, b64u_encode
from eidcore.errors import InvalidRequest
from eidcore.formats.mdoc.structures import IssuerSigned, device_authentication_bytes
from eidcore.formats.mdoc.transcript import SessionTranscript

__all__ = ["build_device_response", "build_document", "decode_presentation", "derive_emac_key", "present"]

_EMPTY_DEVICE_NAME_SPACES = cbor.EmbeddedCBOR(b"\xa0")
ERROR_NOT_RETURNED = 0
"""ErrorCode 0 (§8.3.2.1.2.3): the data element is not returned."""


def derive_emac_key(
    private_key: ec.EllipticCurvePrivateKey, peer_public_key: ec.EllipticCurvePublicKey, transcript: SessionTranscript
) -> bytes:
    """EMacKey (ISO/IEC 18013-5 §9.1.3.5): HKDF-SHA256(ECDH(own, peer), salt = SHA-256(SessionTranscriptBytes),
    info = "EMacKey", L = 32). The holder passes its device key and the reader's ephemeral key; the reader
    passes its ephemeral key and the MSO device key: both sides get the same key."""
    shared = private_key.exchange(ec.ECDH(), peer_public_key)
    salt = hashlib.sha256(transcript.tagged_bytes).digest()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"EMacKey").derive(shared)


def _credential(credential: IssuerSigned | bytes | str) -> IssuerSigned:
    if isinstance(credential, IssuerSigned):
        return credential
    if isinstance(credential, str):
        return IssuerSigned.from_b64u(credential)
    return IssuerSigned.from_bytes(credential)


def build_document(
    credential: IssuerSigned | bytes | str,
    device_key: ec.EllipticCurvePrivateKey,
    transcript: SessionTranscript,
    *,
    disclose: Mapping[str, Collection[str]] | None = None,
    device_name_spaces: Mapping[str, Mapping[str, Any]] | None = None,
    reader_key: ec.EllipticCurvePublicKey | None = None,
    doc_type: str | None = None,
    report_missing: bool = False,
) -> dict[str, Any]:
    """One Document (§8.3.2.1.2.2) disclosing only ``disclose`` (``{namespace: [identifier, ...]}``; all when None).

    The device authenticates DeviceAuthentication (§9.1.3.4) over ``transcript``: a ``deviceSignature``
    (ES256 for a P-256 key) by default, or a ``deviceMac`` when the reader's ephemeral ``reader_key`` is given.
    ``device_name_spaces`` are device-signed elements (they must be authorized by the MSO keyAuthorizations).
    With ``report_missing`` requested elements the credential lacks are listed in ``errors`` (code 0).
    """
    issued = _credential(credential)
    doc_type = doc_type or issued.mso.doc_type
    selected: dict[str, list[cbor.EmbeddedCBOR]] = {}
    errors: dict[str, dict[str, int]] = {}
    if disclose is None:
        selected = {ns: list(items) for ns, items in issued.name_spaces.items()}
    else:
        for ns, wanted in disclose.items():
            items = issued.name_spaces.get(ns)
            wanted_set = set(wanted)
            found: set[str] = set()
            if items:
                keep = []
                for raw in items:
                    ident = raw.value()["elementIdentifier"]
                    if ident in wanted_set:
                        keep.append(raw)
                        found.add(ident)
                if keep:
                    selected[ns] = keep
            missing = wanted_set - found
            if report_missing and missing:
                errors[ns] = {ident: ERROR_NOT_RETURNED for ident in sorted(missing)}
    ns_bytes = cbor.tag24(dict(device_name_spaces)) if device_name_spaces else _EMPTY_DEVICE_NAME_SPACES
    auth_bytes = device_authentication_bytes(transcript.encoded, doc_type, ns_bytes)
    if reader_key is None:
        device_auth = {"deviceSignature": cose.sign1(auth_bytes, device_key, detached=True).to_array()}
    else:
        key = derive_emac_key(device_key, reader_key, transcript)
        device_auth = {"deviceMac": cose.mac0(auth_bytes, key, detached=True).to_array()}
    issuer_signed: dict[str, Any] = {}
    if selected:
        issuer_signed["nameSpaces"] = selected
    issuer_signed["issuerAuth"] = issued.issuer_auth.to_array()
    document: dict[str, Any] = {
        "docType": doc_type,
        "issuerSigned": issuer_signed,
        "deviceSigned": {"nameSpaces": ns_bytes, "deviceAuth": device_auth},
    }
    if errors:
        document["errors"] = errors
    return document


def build_device_response(
    documents: Sequence[Mapping[str, Any]],
    *,
    document_errors: Sequence[Mapping[str, int]] | None = None,
    status: int = 0,
) -> bytes:
    """CBOR DeviceResponse (§8.3.2.1.2.2): ``{"version": "1.0", "documents", ? "documentErrors", "status"}``."""
    if not documents and not document_errors and status == 0:
        raise InvalidRequest("a DeviceResponse with status OK needs at least one document or documentErrors")
    response: dict[str, Any] = {"version": "1.0"}
    if documents:
        response["documents"] = list(documents)
    if document_errors:
        response["documentErrors"] = list(document_errors)
    response["status"] = status
    return cbor.dumps(response)


def present(
    credential: IssuerSigned | bytes | str,
    device_key: ec.EllipticCurvePrivateKey,
    transcript: SessionTranscript,
    *,
    disclose: Mapping[str, Collection[str]] | None = None,
) -> str:
    """The OpenID4VP 1.0 mdoc presentation (§B.2.4 of that spec): b64u(DeviceResponse) with one Document."""
    return b64u_encode(build_device_response([build_document(credential, device_key, transcript, disclose=disclose)]))


def decode_presentation(text: str) -> bytes:
    """The DeviceResponse bytes of an OpenID4VP ``vp_token`` mdoc string (strict base64url)."""
    return b64u_decode(text, what="mdoc vp_token")
