"""ISO/IEC 18013-5:2021 §8.3.2.1.2 and §9.1.2 data structures, parsed strictly (with the 2nd-edition ``status``).

IssuerSigned, IssuerSignedItem(Bytes), MobileSecurityObject(Bytes), DeviceSigned and DeviceAuthentication,
as ``../shared/docs/standards.md`` §6 spells them. Parsing collects every structural deviation it finds into
one :class:`eidcore.errors.MdocStructureError` (its ``deviations`` list), so that a non-conformant mdoc (such as
an old-draft PID) is rejected with each broken rule named, not just the first.

Signed bytes are never re-encoded: IssuerSignedItemBytes, MobileSecurityObjectBytes and DeviceNameSpacesBytes
are kept as received (:class:`eidcore.cbor.EmbeddedCBOR`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import ec

from eidcore import cbor, cose
from eidcore.encoding import b64u_decode, b64u_encode
from eidcore.errors import FormatError, InvalidHeader, MdocStructureError, ParsingError

__all__ = [
    "DIGEST_ALGORITHMS",
    "DOCTYPE_MDL",
    "DOCTYPE_PID",
    "MIN_RANDOM_BYTES",
    "MSO_VERSION",
    "NAMESPACE_MDL",
    "NAMESPACE_PID",
    "OBSOLETE_DOCTYPES",
    "DeviceSigned",
    "Document",
    "IssuerSigned",
    "IssuerSignedItem",
    "KeyAuthorizations",
    "MobileSecurityObject",
    "ValidityInfo",
    "device_authentication_bytes",
    "parse_device_response",
    "parse_item",
    "parse_mso",
]

DOCTYPE_MDL: Final = "org.iso.18013.5.1.mDL"
NAMESPACE_MDL: Final = "org.iso.18013.5.1"
DOCTYPE_PID: Final = "eu.europa.ec.eudi.pid.1"
NAMESPACE_PID: Final = "eu.europa.ec.eudi.pid.1"
OBSOLETE_DOCTYPES: Final[Mapping[str, str]] = {"eu.europa.ec.eudiw.pid.1": DOCTYPE_PID}
"""Pre-final doctypes seen in the wild, mapped to what replaced them (rejected, never mapped silently)."""

MSO_VERSION: Final = "1.0"
DEVICE_RESPONSE_VERSION: Final = "1.0"
MIN_RANDOM_BYTES: Final = 16
MAX_DIGEST_ID: Final = 2**31 - 1
DIGEST_ALGORITHMS: Final[Mapping[str, Callable[[bytes], Any]]] = {
    "SHA-256": hashlib.sha256,
    "SHA-384": hashlib.sha384,
    "SHA-512": hashlib.sha512,
}
_DIGEST_SIZES: Final = {"SHA-256": 32, "SHA-384": 48, "SHA-512": 64}
DEVICE_RESPONSE_STATUS: Final[Mapping[int, str]] = {
    0: "OK",
    10: "general error",
    11: "CBOR decoding error",
    12: "CBOR validation error",
}


class _Lint:
    """Collects deviations; :meth:`done` raises them all at once."""

    __slots__ = ("deviations",)

    def __init__(self) -> None:
        self.deviations: list[str] = []

    def add(self, text: str) -> None:
        self.deviations.append(text)

    def done(self) -> None:
        if self.deviations:
            raise MdocStructureError(deviations=self.deviations)


def _is_uint(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# --- IssuerSignedItem --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssuerSignedItem:
    """One IssuerSignedItem (ISO/IEC 18013-5 §8.3.2.1.2.2) and its exact IssuerSignedItemBytes."""

    digest_id: int
    random: bytes
    element_identifier: str
    element_value: Any
    raw: cbor.EmbeddedCBOR

    def digest(self, algorithm: str = "SHA-256") -> bytes:
        """The value digest: the hash of the full tag-24 IssuerSignedItemBytes (§9.1.2.5)."""
        return DIGEST_ALGORITHMS[algorithm](self.raw.encoded()).digest()  # type: ignore[no-any-return]


_ITEM_KEYS: Final = frozenset({"digestID", "random", "elementIdentifier", "elementValue"})


def parse_item(raw: Any, *, namespace: str = "") -> IssuerSignedItem:
    """Parse IssuerSignedItemBytes (``#6.24(bstr .cbor IssuerSignedItem)``) strictly.

    Raises :class:`MdocStructureError` naming what is wrong (not tag 24, missing or extra keys, a digestID
    that is not a uint below 2^31, a ``random`` shorter than 16 bytes, a non-text elementIdentifier).
    """
    where = f"an item in {namespace!r}" if namespace else "an item"
    if not isinstance(raw, cbor.EmbeddedCBOR):
        raise MdocStructureError(deviations=[f"{where} is not tag-24 IssuerSignedItemBytes"])
    item = raw.value()
    if not isinstance(item, dict):
        raise MdocStructureError(deviations=[f"{where} is not a map"])
    problems = []
    if item.keys() != _ITEM_KEYS:
        problems.append(f"{where} has keys {sorted(map(str, item))}, expected {sorted(_ITEM_KEYS)}")
    digest_id: Any = item.get("digestID")
    rnd: Any = item.get("random")
    ident: Any = item.get("elementIdentifier")
    if not _is_uint(digest_id) or digest_id > MAX_DIGEST_ID:
        problems.append(f"{where} has a digestID that is not a uint below 2^31")
    if not isinstance(rnd, bytes) or len(rnd) < MIN_RANDOM_BYTES:
        problems.append(f"{where} has a random shorter than {MIN_RANDOM_BYTES} bytes")
    if not isinstance(ident, str) or not ident:
        problems.append(f"{where} has an elementIdentifier that is not a non-empty text string")
    if problems:
        raise MdocStructureError(deviations=problems)
    return IssuerSignedItem(digest_id, rnd, ident, item["elementValue"], raw)


# --- MSO ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ValidityInfo:
    """ValidityInfo (ISO/IEC 18013-5 §9.1.2.4): tdate values, timezone-aware."""

    signed: datetime
    valid_from: datetime
    valid_until: datetime
    expected_update: datetime | None = None


@dataclass(frozen=True, slots=True)
class KeyAuthorizations:
    """KeyAuthorizations (§9.1.2.4): which namespaces / data elements the device key may sign."""

    name_spaces: frozenset[str] = frozenset()
    data_elements: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def allows(self, namespace: str, element: str) -> bool:
        """Whether the device key is authorized to sign ``element`` in ``namespace``."""
        return namespace in self.name_spaces or element in self.data_elements.get(namespace, frozenset())

    def to_cbor(self) -> dict[str, Any]:
        """The CBOR map (only the members that are set)."""
        out: dict[str, Any] = {}
        if self.name_spaces:
            out["nameSpaces"] = sorted(self.name_spaces)
        if self.data_elements:
            out["dataElements"] = {ns: sorted(ids) for ns, ids in self.data_elements.items()}
        return out


@dataclass(frozen=True, slots=True)
class MobileSecurityObject:
    """The MSO (ISO/IEC 18013-5 §9.1.2.4), with the optional 2nd-edition ``status``."""

    version: str
    digest_algorithm: str
    value_digests: Mapping[str, Mapping[int, bytes]]
    device_key: Mapping[int, Any]
    device_public_key: ec.EllipticCurvePublicKey
    doc_type: str
    validity: ValidityInfo
    key_authorizations: KeyAuthorizations | None = None
    key_info: Mapping[int, Any] | None = None
    status: Mapping[str, Any] | None = None


def _check_status(status: Any, lint: _Lint) -> None:
    if not isinstance(status, dict) or not status:
        lint.add("MSO status is not a non-empty map")
        return
    for kind, ref in status.items():
        if kind == "status_list":
            if not isinstance(ref, dict) or not _is_uint(ref.get("idx")) or not isinstance(ref.get("uri"), str):
                lint.add("MSO status.status_list must be {idx: uint, uri: tstr}")
                continue
        elif kind == "identifier_list":
            if not isinstance(ref, dict) or not isinstance(ref.get("id"), bytes) or not isinstance(
                ref.get("uri"), str
            ):
                lint.add("MSO status.identifier_list must be {id: bstr, uri: tstr}")
                continue
        else:
            continue  # unknown status mechanisms are ignored (draft-ietf-oauth-status-list §6.3)
        if "certificate" in ref and not isinstance(ref["certificate"], bytes):
            lint.add(f"MSO status.{kind}.certificate is not a byte string")


def _check_validity(value: Any, lint: _Lint) -> ValidityInfo | None:
    if not isinstance(value, dict):
        lint.add("MSO validityInfo is not a map")
        return None
    times: dict[str, datetime | None] = {}
    wrapped = []
    for name in ("signed", "validFrom", "validUntil", "expectedUpdate"):
        v = value.get(name)
        if v is None:
            if name != "expectedUpdate":
                lint.add(f"MSO validityInfo.{name} is missing")
            times[name] = None
        elif isinstance(v, datetime):
            times[name] = v
        elif isinstance(v, bytes):
            wrapped.append(name)
            times[name] = None
        else:
            lint.add(f"MSO validityInfo.{name} is not a tdate (tag 0)")
            times[name] = None
    if wrapped:
        lint.add(f"MSO validityInfo {', '.join(wrapped)} are byte strings wrapping the date, not tdate (tag 0)")
    signed, vf, vu = times["signed"], times["validFrom"], times["validUntil"]
    if signed is None or vf is None or vu is None:
        return None
    if vu <= vf:
        lint.add("MSO validityInfo.validUntil is not after validFrom")
        return None
    return ValidityInfo(signed, vf, vu, times["expectedUpdate"])


def _check_key_authorizations(value: Any, lint: _Lint) -> KeyAuthorizations | None:
    if not isinstance(value, dict) or not value.keys() <= {"nameSpaces", "dataElements"}:
        lint.add("MSO keyAuthorizations is not a map of nameSpaces / dataElements")
        return None
    ns = value.get("nameSpaces", [])
    de = value.get("dataElements", {})
    if not isinstance(ns, list) or not all(isinstance(n, str) for n in ns):
        lint.add("MSO keyAuthorizations.nameSpaces is not an array of text strings")
        return None
    if not isinstance(de, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(e, str) for e in v) for k, v in de.items()
    ):
        lint.add("MSO keyAuthorizations.dataElements is not a map of namespace to identifiers")
        return None
    if set(ns) & set(de):
        lint.add("MSO keyAuthorizations names a namespace both whole and per element")
        return None
    return KeyAuthorizations(frozenset(ns), {k: frozenset(v) for k, v in de.items()})


def parse_mso(payload: bytes | None) -> MobileSecurityObject:
    """Parse the issuerAuth payload, MobileSecurityObjectBytes (``#6.24(bstr .cbor MSO)``, §9.1.2.4), strictly.

    Every deviation is collected and raised as one :class:`MdocStructureError`. The signature is not checked.
    """
    lint = _Lint()
    mso = _decode_mso(payload, lint)
    result = _mso_fields(mso, lint) if mso is not None else None
    lint.done()
    if result is None:  # defensive: _mso_fields only fails after recording a deviation
        raise MdocStructureError(deviations=["MSO is unusable"])
    return result


def _decode_mso(payload: bytes | None, lint: _Lint) -> dict[Any, Any] | None:
    if payload is None:
        lint.add("issuerAuth has a detached payload; the MSO must be attached")
        return None
    # Fast path: ``d8 18`` + a bstr header that spans exactly the rest of the payload.
    inner = _untag24_bytes(payload)
    if inner is not None:
        try:
            mso = cbor.loads(inner, what="MSO")
        except ParsingError:
            lint.add("MobileSecurityObjectBytes does not embed valid CBOR")
            return None
        if not isinstance(mso, dict):
            lint.add("MSO is not a map")
            return None
        return mso
    try:
        outer = cbor.loads(payload, what="issuerAuth payload")
    except ParsingError:
        lint.add("issuerAuth payload is not CBOR")
        return None
    if isinstance(outer, cbor.EmbeddedCBOR):
        try:
            mso = outer.value()
        except ParsingError:
            lint.add("MobileSecurityObjectBytes does not embed valid CBOR")
            return None
    else:
        lint.add("issuerAuth payload is not MobileSecurityObjectBytes: the MSO is not tag-24 wrapped")
        mso = outer
    if not isinstance(mso, dict):
        lint.add("MSO is not a map")
        return None
    return mso


def _untag24_bytes(data: bytes) -> bytes | None:
    """The content of ``#6.24(bstr)`` when ``data`` is exactly that, in preferred serialization; else None."""
    if len(data) < 3 or data[0] != 0xD8 or data[1] != 0x18:
        return None
    n = len(data) - 2
    for head_len in (1, 2, 3, 5, 9):
        if head_len <= n and cbor.bstr_header(n - head_len) == data[2 : 2 + head_len]:
            return data[2 + head_len :]
    return None


def _mso_fields(mso: dict[Any, Any], lint: _Lint) -> MobileSecurityObject | None:
    start = len(lint.deviations)
    version: Any = mso.get("version")
    if version != MSO_VERSION:
        lint.add(f"MSO version is {version!r}, expected '1.0'")
    alg: Any = mso.get("digestAlgorithm")
    if alg not in DIGEST_ALGORITHMS:
        lint.add(f"MSO digestAlgorithm {alg!r} is not one of SHA-256, SHA-384, SHA-512 (case-sensitive)")
    digests: Any = mso.get("valueDigests")
    size = _DIGEST_SIZES.get(alg) if isinstance(alg, str) else None
    if not isinstance(digests, dict) or not digests:
        lint.add("MSO valueDigests is not a non-empty map")
    else:
        for ns, ids in digests.items():
            if type(ns) is not str or type(ids) is not dict:
                lint.add("MSO valueDigests must map namespace (tstr) to {digestID => digest}")
                break
            for k, v in ids.items():
                if type(k) is not int or k < 0 or type(v) is not bytes or (size is not None and len(v) != size):
                    lint.add(f"MSO valueDigests[{ns!r}] must map uint digestIDs to {size or 'hash'}-byte digests")
                    break
    doc_type: Any = mso.get("docType")
    if not isinstance(doc_type, str) or not doc_type:
        lint.add("MSO docType is not a text string")
    elif doc_type in OBSOLETE_DOCTYPES:
        lint.add(f"MSO docType {doc_type!r} is obsolete (now {OBSOLETE_DOCTYPES[doc_type]!r})")
    dki = mso.get("deviceKeyInfo")
    device_key: Any = None
    public_key = None
    key_auth = None
    key_info = None
    if not isinstance(dki, dict):
        lint.add("MSO deviceKeyInfo is not a map")
    else:
        device_key = dki.get("deviceKey")
        if device_key is None:
            lint.add("MSO deviceKeyInfo.deviceKey is missing or null")
        else:
            try:
                public_key = cose.public_key_from_cose_key(device_key)
            except FormatError as exc:
                lint.add(f"MSO deviceKeyInfo.deviceKey is not a usable COSE_Key ({exc.description})")
        if "keyAuthorizations" in dki:
            key_auth = _check_key_authorizations(dki["keyAuthorizations"], lint)
        if "keyInfo" in dki:
            key_info = dki["keyInfo"]
            if not isinstance(key_info, dict) or not all(isinstance(k, int) for k in key_info):
                lint.add("MSO deviceKeyInfo.keyInfo is not a map with integer keys")
    validity = _check_validity(mso.get("validityInfo"), lint)
    status = mso.get("status")
    if status is not None:
        _check_status(status, lint)
    if len(lint.deviations) != start or public_key is None or validity is None:
        return None
    return MobileSecurityObject(
        version=version,
        digest_algorithm=alg,
        value_digests=digests,
        device_key=device_key,
        device_public_key=public_key,
        doc_type=doc_type,
        validity=validity,
        key_authorizations=key_auth,
        key_info=key_info,
        status=status,
    )


# --- IssuerSigned -------------------------------------------------------------------------------------------


@dataclass(slots=True)
class IssuerSigned:
    """IssuerSigned (ISO/IEC 18013-5 §8.3.2.1.2.2): what OpenID4VCI delivers as the ``mso_mdoc`` credential.

    ``name_spaces`` keeps each IssuerSignedItemBytes exactly; ``issuer_auth`` is the COSE_Sign1 over the MSO.
    """

    name_spaces: dict[str, list[cbor.EmbeddedCBOR]]
    issuer_auth: cose.CoseSign1
    _mso: MobileSecurityObject | None = None

    def to_cbor(self) -> dict[str, Any]:
        """The CBOR map ``{"nameSpaces": ..., "issuerAuth": [...]}`` (nameSpaces left out when empty)."""
        out: dict[str, Any] = {}
        if self.name_spaces:
            out["nameSpaces"] = self.name_spaces
        out["issuerAuth"] = self.issuer_auth.to_array()
        return out

    def encode(self) -> bytes:
        """The CBOR encoding of IssuerSigned."""
        return cbor.dumps(self.to_cbor())

    def to_b64u(self) -> str:
        """The OpenID4VCI 1.0 Appendix A.2 ``mso_mdoc`` credential: b64u(CBOR IssuerSigned)."""
        return b64u_encode(self.encode())

    @classmethod
    def from_b64u(cls, text: str) -> IssuerSigned:
        """Parse the OpenID4VCI ``mso_mdoc`` credential string (structure only, no signature check)."""
        return cls.from_bytes(b64u_decode(text, what="mso_mdoc credential"))

    @classmethod
    def from_bytes(cls, data: bytes) -> IssuerSigned:
        """Parse CBOR IssuerSigned (structure only, no signature check)."""
        lint = _Lint()
        result = _parse_issuer_signed(cbor.loads(data, what="IssuerSigned"), lint)
        lint.done()
        assert result is not None
        return result

    @property
    def mso(self) -> MobileSecurityObject:
        """The MSO, decoded from the issuerAuth payload (not signature-checked here)."""
        if self._mso is None:
            self._mso = parse_mso(self.issuer_auth.payload)
        return self._mso

    def items(self) -> dict[str, list[IssuerSignedItem]]:
        """Every IssuerSignedItem, decoded, per namespace."""
        return {ns: [parse_item(raw, namespace=ns) for raw in raws] for ns, raws in self.name_spaces.items()}


def _parse_issuer_signed(obj: Any, lint: _Lint) -> IssuerSigned | None:
    """Check the IssuerSigned shape (§8.3.2.1.2.2), recording deviations in ``lint``."""
    if not isinstance(obj, dict):
        lint.add("IssuerSigned is not a map")
        return None
    extra = set(obj) - {"nameSpaces", "issuerAuth"}
    if extra:
        lint.add(f"IssuerSigned has unknown keys {sorted(map(str, extra))}")
    name_spaces = obj.get("nameSpaces", {})
    ok = True
    if not isinstance(name_spaces, dict):
        lint.add("IssuerSigned nameSpaces is not a map")
        ok = False
    else:
        for ns, items in name_spaces.items():
            if not isinstance(ns, str) or not isinstance(items, list) or not items:
                lint.add("IssuerSigned nameSpaces must map a namespace to a non-empty array of items")
                ok = False
                break
            if not all(isinstance(i, cbor.EmbeddedCBOR) for i in items):
                lint.add(f"IssuerSigned nameSpaces[{ns!r}] holds items that are not tag-24 IssuerSignedItemBytes")
                ok = False
    if "issuerAuth" not in obj:
        lint.add("IssuerSigned has no issuerAuth")
        return None
    try:
        issuer_auth = cose.decode_sign1(obj["issuerAuth"])
    except InvalidHeader as exc:
        # Keep diagnosing the MSO so every deviation is named; the lint fails the parse in any case.
        lint.add(f"issuerAuth headers break RFC 9052 §3 ({exc.description})")
        diagnosed = _sign1_for_diagnosis(obj["issuerAuth"])
        return IssuerSigned(name_spaces, diagnosed) if ok and diagnosed is not None else None
    except FormatError as exc:
        lint.add(f"issuerAuth is not a valid COSE_Sign1 ({exc.description})")
        return None
    return IssuerSigned(name_spaces, issuer_auth) if ok else None


def _sign1_for_diagnosis(arr: Any) -> cose.CoseSign1 | None:
    """A COSE_Sign1 taken apart without the header rules, only to lint the rest; it is never verified."""
    try:
        prot_raw, unprot, payload, sig = arr
        prot = cbor.loads(prot_raw, what="COSE protected header") if prot_raw else {}
    except (ValueError, TypeError, ParsingError):
        return None
    if not isinstance(prot, dict) or not isinstance(unprot, dict) or not isinstance(sig, bytes):
        return None
    return cose.CoseSign1(prot_raw, prot, unprot, payload if isinstance(payload, bytes) else None, sig)


# --- DeviceSigned, Document, DeviceResponse -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviceSigned:
    """DeviceSigned (§8.3.2.1.2.2): DeviceNameSpacesBytes and exactly one of deviceSignature / deviceMac."""

    name_spaces: cbor.EmbeddedCBOR
    device_signature: cose.CoseSign1 | None
    device_mac: cose.CoseMac0 | None

    def name_space_values(self) -> dict[str, dict[str, Any]]:
        """The decoded DeviceNameSpaces ``{ns: {id: value}}``."""
        value = self.name_spaces.value()
        return value  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class Document:
    """One Document of a DeviceResponse (§8.3.2.1.2.2)."""

    doc_type: str
    issuer_signed: IssuerSigned
    device_signed: DeviceSigned
    errors: Mapping[str, Mapping[str, int]] | None = None


def _parse_device_signed(obj: Any, lint: _Lint) -> DeviceSigned | None:
    if obj is None:
        lint.add("Document has no deviceSigned (device authentication is mandatory)")
        return None
    if not isinstance(obj, dict):
        lint.add("deviceSigned is not a map")
        return None
    ns = obj.get("nameSpaces")
    if not isinstance(ns, cbor.EmbeddedCBOR):
        lint.add("deviceSigned.nameSpaces is not tag-24 DeviceNameSpacesBytes")
        return None
    try:
        values = ns.value()
    except ParsingError:
        lint.add("DeviceNameSpacesBytes does not embed valid CBOR")
        return None
    if not isinstance(values, dict) or not all(
        isinstance(k, str) and isinstance(v, dict) and v and all(isinstance(e, str) for e in v)
        for k, v in values.items()
    ):
        lint.add("DeviceNameSpaces must map a namespace to a non-empty {identifier: value} map")
        return None
    auth = obj.get("deviceAuth")
    if not isinstance(auth, dict) or len(auth) != 1 or next(iter(auth)) not in ("deviceSignature", "deviceMac"):
        lint.add("deviceAuth must hold exactly one of deviceSignature or deviceMac")
        return None
    try:
        if "deviceSignature" in auth:
            return DeviceSigned(ns, cose.decode_sign1(auth["deviceSignature"]), None)
        return DeviceSigned(ns, None, cose.decode_mac0(auth["deviceMac"]))
    except FormatError as exc:
        lint.add(f"deviceAuth is not a valid COSE message ({exc.description})")
        return None


def _parse_document(obj: Any, lint: _Lint) -> Document | None:
    if not isinstance(obj, dict):
        lint.add("a Document is not a map")
        return None
    doc_type = obj.get("docType")
    if not isinstance(doc_type, str) or not doc_type:
        lint.add("Document docType is not a text string")
    elif doc_type in OBSOLETE_DOCTYPES:
        lint.add(f"Document docType {doc_type!r} is obsolete (now {OBSOLETE_DOCTYPES[doc_type]!r})")
    issuer_signed = _parse_issuer_signed(obj.get("issuerSigned"), lint)
    if issuer_signed is not None:
        cose_headers = issuer_signed.issuer_auth
        mso_lint = _Lint()
        mso = _decode_mso(cose_headers.payload, mso_lint)
        if mso is not None:
            issuer_signed._mso = _mso_fields(mso, mso_lint)
        lint.deviations.extend(mso_lint.deviations)
    device_signed = _parse_device_signed(obj.get("deviceSigned"), lint)
    errors = obj.get("errors")
    if errors is not None and not isinstance(errors, dict):
        lint.add("Document errors is not a map")
    if lint.deviations or issuer_signed is None or device_signed is None or not isinstance(doc_type, str):
        return None
    return Document(doc_type, issuer_signed, device_signed, errors)


def parse_device_response(data: bytes) -> tuple[list[Document], Any]:
    """Parse a DeviceResponse (§8.3.2.1.2.2) strictly: ``(documents, documentErrors)``.

    ``version`` must be ``"1.0"`` and ``status`` 0; every deviation in every Document is collected and
    raised as one :class:`MdocStructureError`.
    """
    obj = cbor.loads(data, what="DeviceResponse")
    lint = _Lint()
    if not isinstance(obj, dict):
        raise MdocStructureError(deviations=["DeviceResponse is not a map"])
    if obj.get("version") != DEVICE_RESPONSE_VERSION:
        lint.add(f"DeviceResponse version is {obj.get('version')!r}, expected '1.0'")
    status: Any = obj.get("status")
    if not _is_uint(status):
        lint.add("DeviceResponse status is not a uint")
    elif status != 0:
        lint.add(f"DeviceResponse status is {status} ({DEVICE_RESPONSE_STATUS.get(status, 'unknown')}), not 0 (OK)")
    docs = obj.get("documents")
    documents: list[Document] = []
    if docs is None:
        lint.add("DeviceResponse holds no documents")
    elif not isinstance(docs, list) or not docs:
        lint.add("DeviceResponse documents is not a non-empty array")
    else:
        for doc in docs:
            parsed = _parse_document(doc, lint)
            if parsed is not None:
                documents.append(parsed)
    lint.done()
    return documents, obj.get("documentErrors")


# --- DeviceAuthentication -----------------------------------------------------------------------------------

_DEVICE_AUTHENTICATION_HEAD: Final = b"\x84\x74DeviceAuthentication"


def _tstr(text: str) -> bytes:
    raw = text.encode("utf-8")
    n = len(raw)
    head = cbor.bstr_header(n)
    return bytes((head[0] + 0x20,)) + head[1:] + raw


def device_authentication_bytes(
    session_transcript: bytes, doc_type: str, device_name_spaces: cbor.EmbeddedCBOR
) -> bytes:
    """DeviceAuthenticationBytes (§9.1.3.4): ``#6.24(bstr .cbor ["DeviceAuthentication", SessionTranscript,
    DocType, DeviceNameSpacesBytes])``, with the SessionTranscript's exact encoding spliced in."""
    inner = b"".join(
        (_DEVICE_AUTHENTICATION_HEAD, session_transcript, _tstr(doc_type), device_name_spaces.encoded())
    )
    return b"\xd8\x18" + cbor.bstr_header(len(inner)) + inner
