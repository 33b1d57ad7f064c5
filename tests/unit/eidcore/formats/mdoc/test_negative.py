"""Negative corpus: tampered or malformed DeviceResponses, each rejected with its specific typed error.

Every case starts from a valid DeviceResponse (see conftest), changes one thing, and asserts the exact error
class (not a subclass, not a parent), so a regression that reports the wrong reason fails the test.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from eidcore import cbor, cose
from eidcore.clock import FixedClock
from eidcore.encoding import b64u_encode
from eidcore.errors import (
    DeviceAuthenticationFailed,
    DigestMismatch,
    DoctypeMismatch,
    DuplicateDisclosure,
    Expired,
    FormatError,
    InvalidCertificate,
    InvalidHeader,
    InvalidSignature,
    KeyNotAuthorized,
    MdocStructureError,
    NotYetValid,
    ParsingError,
    UnsupportedAlgorithm,
    UntrustedIssuer,
)
from eidcore.formats.mdoc import NAMESPACE_PID, build_device_response, build_document, openid4vp_session_transcript

NOW = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
Result = tuple[bytes | str, dict[str, Any]]
CASES: list[tuple[str, type[Exception], Callable[[Any], Result]]] = []


def case(error: type[Exception]) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """Register a case: the function gets the factory and returns bytes, or (bytes, verify kwargs)."""

    def register(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def run(f: Any) -> Result:
            out = fn(f)
            return out if isinstance(out, tuple) else (out, {})

        CASES.append((fn.__name__, error, run))
        return fn

    return register


def edit(mutate: Callable[[Any, dict[str, Any]], Any]) -> Callable[[Any], bytes]:
    """Decode a fresh valid response, apply ``mutate(f, obj)``, re-encode."""

    def build(f: Any) -> bytes:
        obj = f.decoded()
        mutate(f, obj)
        return f.encode(obj)

    return build


def items(obj: dict[str, Any]) -> list[Any]:
    return obj["documents"][0]["issuerSigned"]["nameSpaces"][NAMESPACE_PID]  # type: ignore[no-any-return]


def item(obj: dict[str, Any], i: int = 0) -> dict[str, Any]:
    return dict(items(obj)[i].value())


def issuer_auth(obj: dict[str, Any]) -> list[Any]:
    return obj["documents"][0]["issuerSigned"]["issuerAuth"]  # type: ignore[no-any-return]


def device_auth(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["documents"][0]["deviceSigned"]["deviceAuth"]  # type: ignore[no-any-return]


def flip(data: bytes, i: int) -> bytes:
    return data[:i] + bytes((data[i] ^ 0x01,)) + data[i + 1 :]


# --- CBOR and DeviceResponse structure -----------------------------------------------------------------------


@case(ParsingError)
def not_cbor(f: Any) -> bytes:
    return b"\xff\xfe not cbor"


@case(ParsingError)
def truncated(f: Any) -> bytes:
    return f.response()[:-5]


@case(ParsingError)
def trailing_bytes(f: Any) -> bytes:
    return f.response() + b"\x00"


@case(ParsingError)
def indefinite_length_map(f: Any) -> bytes:
    return b"\xbf\x67version\x631.0\x66status\x00\xff"


@case(ParsingError)
def duplicate_map_key(f: Any) -> bytes:
    return b"\xa2\x66status\x00\x66status\x00"


@case(ParsingError)
def b64u_with_padding(f: Any) -> str:
    return b64u_encode(f.response()) + "=="


@case(MdocStructureError)
def response_is_array(f: Any) -> bytes:
    return cbor.dumps([1, 2, 3])


@case(MdocStructureError)
def version_2(f: Any) -> bytes:
    return edit(lambda f, o: o.__setitem__("version", "2.0"))(f)


@case(MdocStructureError)
def version_missing(f: Any) -> bytes:
    return edit(lambda f, o: o.pop("version"))(f)


@case(MdocStructureError)
def status_general_error(f: Any) -> bytes:
    return edit(lambda f, o: o.__setitem__("status", 10))(f)


@case(MdocStructureError)
def status_not_uint(f: Any) -> bytes:
    return edit(lambda f, o: o.__setitem__("status", "0"))(f)


@case(MdocStructureError)
def documents_missing(f: Any) -> bytes:
    return edit(lambda f, o: o.pop("documents"))(f)


@case(MdocStructureError)
def documents_empty(f: Any) -> bytes:
    return edit(lambda f, o: o.__setitem__("documents", []))(f)


@case(MdocStructureError)
def document_not_a_map(f: Any) -> bytes:
    return edit(lambda f, o: o.__setitem__("documents", ["doc"]))(f)


@case(MdocStructureError)
def doctype_missing(f: Any) -> bytes:
    return edit(lambda f, o: f.doc(o).pop("docType"))(f)


@case(MdocStructureError)
def doctype_obsolete_eudiw(f: Any) -> bytes:
    return edit(lambda f, o: f.doc(o).__setitem__("docType", "eu.europa.ec.eudiw.pid.1"))(f)


@case(MdocStructureError)
def issuer_signed_missing(f: Any) -> bytes:
    return edit(lambda f, o: f.doc(o).pop("issuerSigned"))(f)


@case(MdocStructureError)
def issuer_signed_unknown_key(f: Any) -> bytes:
    return edit(lambda f, o: f.doc(o)["issuerSigned"].__setitem__("extra", 1))(f)


@case(MdocStructureError)
def name_spaces_not_a_map(f: Any) -> bytes:
    return edit(lambda f, o: f.doc(o)["issuerSigned"].__setitem__("nameSpaces", []))(f)


@case(MdocStructureError)
def item_not_tag24(f: Any) -> bytes:
    return edit(lambda f, o: items(o).__setitem__(0, items(o)[0].raw))(f)


@case(MdocStructureError)
def namespace_with_empty_item_list(f: Any) -> bytes:
    return edit(lambda f, o: f.doc(o)["issuerSigned"]["nameSpaces"].__setitem__("org.example", []))(f)


@case(MdocStructureError)
def issuer_auth_missing(f: Any) -> bytes:
    return edit(lambda f, o: f.doc(o)["issuerSigned"].pop("issuerAuth"))(f)


@case(MdocStructureError)
def issuer_auth_three_elements(f: Any) -> bytes:
    return edit(lambda f, o: f.doc(o)["issuerSigned"].__setitem__("issuerAuth", issuer_auth(o)[:3]))(f)


@case(MdocStructureError)
def issuer_auth_tagged_as_mac0(f: Any) -> bytes:
    return edit(lambda f, o: f.doc(o)["issuerSigned"].__setitem__("issuerAuth", cbor.CBORTag(17, issuer_auth(o))))(f)


@case(MdocStructureError)
def issuer_auth_protected_not_bstr(f: Any) -> bytes:
    return edit(lambda f, o: issuer_auth(o).__setitem__(0, {1: -7}))(f)


@case(MdocStructureError)
def issuer_auth_alg_unprotected(f: Any) -> bytes:
    return edit(lambda f, o: issuer_auth(o)[1].__setitem__(1, -7))(f)


@case(MdocStructureError)
def issuer_auth_unknown_crit(f: Any) -> bytes:
    def mutate(f: Any, o: dict[str, Any]) -> None:
        f.resign_mso(o, f.mso(o), protected={2: [99], 99: "x"})

    return edit(mutate)(f)


@case(MdocStructureError)
def device_signed_missing(f: Any) -> bytes:
    return edit(lambda f, o: f.doc(o).pop("deviceSigned"))(f)


@case(MdocStructureError)
def device_name_spaces_not_tag24(f: Any) -> bytes:
    return edit(lambda f, o: f.doc(o)["deviceSigned"].__setitem__("nameSpaces", {}))(f)


@case(MdocStructureError)
def device_name_spaces_empty_inner_map(f: Any) -> bytes:
    return edit(lambda f, o: f.doc(o)["deviceSigned"].__setitem__("nameSpaces", cbor.tag24({"org.example": {}})))(f)


@case(MdocStructureError)
def device_auth_signature_and_mac(f: Any) -> bytes:
    def mutate(f: Any, o: dict[str, Any]) -> None:
        auth = device_auth(o)
        auth["deviceMac"] = [b"\xa1\x01\x05", {}, None, b"\x00" * 32]

    return edit(mutate)(f)


@case(MdocStructureError)
def device_auth_empty(f: Any) -> bytes:
    return edit(lambda f, o: f.doc(o)["deviceSigned"].__setitem__("deviceAuth", {}))(f)


@case(MdocStructureError)
def device_signature_not_array(f: Any) -> bytes:
    return edit(lambda f, o: device_auth(o).__setitem__("deviceSignature", b"sig"))(f)


# --- MSO structure (re-signed, so only the broken rule can be the reason) ------------------------------------


def mso_edit(change: Callable[[dict[str, Any]], Any], **resign: Any) -> Callable[[Any], bytes]:
    def mutate(f: Any, o: dict[str, Any]) -> None:
        mso = f.mso(o)
        replaced = change(mso)
        f.resign_mso(o, mso if replaced is None else replaced, **resign)

    return edit(mutate)


@case(MdocStructureError)
def mso_not_tag24(f: Any) -> bytes:
    return mso_edit(lambda m: None, tag24=False)(f)


@case(MdocStructureError)
def mso_not_a_map(f: Any) -> bytes:
    return mso_edit(lambda m: ["version", "1.0"])(f)


@case(MdocStructureError)
def mso_version_2(f: Any) -> bytes:
    return mso_edit(lambda m: m.__setitem__("version", "2.0"))(f)


@case(MdocStructureError)
def mso_digest_algorithm_lowercase(f: Any) -> bytes:
    return mso_edit(lambda m: m.__setitem__("digestAlgorithm", "sha256"))(f)


@case(MdocStructureError)
def mso_digest_algorithm_md5(f: Any) -> bytes:
    return mso_edit(lambda m: m.__setitem__("digestAlgorithm", "MD5"))(f)


@case(MdocStructureError)
def mso_value_digests_empty(f: Any) -> bytes:
    return mso_edit(lambda m: m.__setitem__("valueDigests", {}))(f)


@case(MdocStructureError)
def mso_value_digest_wrong_length(f: Any) -> bytes:
    def change(m: dict[str, Any]) -> None:
        digests = m["valueDigests"][NAMESPACE_PID]
        first = next(iter(digests))
        digests[first] = digests[first][:20]

    return mso_edit(change)(f)


@case(MdocStructureError)
def mso_value_digest_negative_id(f: Any) -> bytes:
    return mso_edit(lambda m: m["valueDigests"][NAMESPACE_PID].__setitem__(-1, b"\x00" * 32))(f)


@case(MdocStructureError)
def mso_doctype_missing(f: Any) -> bytes:
    return mso_edit(lambda m: m.pop("docType"))(f)


@case(MdocStructureError)
def mso_device_key_null(f: Any) -> bytes:
    return mso_edit(lambda m: m["deviceKeyInfo"].__setitem__("deviceKey", None))(f)


@case(MdocStructureError)
def mso_device_key_info_missing(f: Any) -> bytes:
    return mso_edit(lambda m: m.pop("deviceKeyInfo"))(f)


@case(MdocStructureError)
def mso_device_key_okp(f: Any) -> bytes:
    return mso_edit(lambda m: m["deviceKeyInfo"].__setitem__("deviceKey", {1: 1, -1: 6, -2: b"\x00" * 32}))(f)


@case(MdocStructureError)
def mso_device_key_with_private_part(f: Any) -> bytes:
    return mso_edit(lambda m: m["deviceKeyInfo"]["deviceKey"].__setitem__(-4, b"\x01" * 32))(f)


@case(MdocStructureError)
def mso_device_key_off_curve(f: Any) -> bytes:
    return mso_edit(lambda m: m["deviceKeyInfo"]["deviceKey"].__setitem__(-3, b"\x01" * 32))(f)


@case(MdocStructureError)
def mso_device_key_short_x(f: Any) -> bytes:
    return mso_edit(lambda m: m["deviceKeyInfo"]["deviceKey"].__setitem__(-2, b"\x01" * 31))(f)


@case(MdocStructureError)
def mso_valid_until_missing(f: Any) -> bytes:
    return mso_edit(lambda m: m["validityInfo"].pop("validUntil"))(f)


@case(MdocStructureError)
def mso_validity_bstr_wrapped(f: Any) -> bytes:
    return mso_edit(lambda m: m["validityInfo"].__setitem__("signed", cbor.dumps(m["validityInfo"]["signed"])))(f)


@case(MdocStructureError)
def mso_validity_epoch_int(f: Any) -> bytes:
    return mso_edit(lambda m: m["validityInfo"].__setitem__("validFrom", 1700000000))(f)


@case(MdocStructureError)
def mso_valid_until_before_valid_from(f: Any) -> bytes:
    def change(m: dict[str, Any]) -> None:
        v = m["validityInfo"]
        v["validUntil"] = v["validFrom"] - dt.timedelta(seconds=1)

    return mso_edit(change)(f)


@case(MdocStructureError)
def mso_status_idx_not_uint(f: Any) -> bytes:
    return mso_edit(lambda m: m.__setitem__("status", {"status_list": {"idx": "1", "uri": "https://x"}}))(f)


@case(MdocStructureError)
def mso_key_authorizations_not_list(f: Any) -> bytes:
    return mso_edit(lambda m: m["deviceKeyInfo"].__setitem__("keyAuthorizations", {"nameSpaces": "ns"}))(f)


@case(MdocStructureError)
def mso_key_authorizations_overlap(f: Any) -> bytes:
    ka = {"nameSpaces": ["a"], "dataElements": {"a": ["x"]}}
    return mso_edit(lambda m: m["deviceKeyInfo"].__setitem__("keyAuthorizations", ka))(f)


@case(MdocStructureError)
def mso_detached(f: Any) -> bytes:
    def mutate(f: Any, o: dict[str, Any]) -> None:
        payload = issuer_auth(o)[2]
        msg = cose.sign1(payload, f.pki.ds_key, detached=True, x5chain=[f.pki.ds.public_bytes(Encoding.DER)])
        f.doc(o)["issuerSigned"]["issuerAuth"] = msg.to_array()

    return edit(mutate)(f)


# --- issuerAuth signature and trust ----------------------------------------------------------------------


@case(InvalidSignature)
def issuer_signature_flipped(f: Any) -> bytes:
    return edit(lambda f, o: issuer_auth(o).__setitem__(3, flip(issuer_auth(o)[3], 10)))(f)


@case(InvalidSignature)
def issuer_signature_truncated(f: Any) -> bytes:
    return edit(lambda f, o: issuer_auth(o).__setitem__(3, issuer_auth(o)[3][:63]))(f)


@case(InvalidSignature)
def mso_payload_byte_changed(f: Any) -> bytes:
    def mutate(f: Any, o: dict[str, Any]) -> None:
        payload = issuer_auth(o)[2]
        digest = next(iter(f.mso(o)["valueDigests"][NAMESPACE_PID].values()))
        issuer_auth(o)[2] = flip(payload, payload.index(digest) + 3)  # a byte inside a value digest

    return edit(mutate)(f)


@case(InvalidSignature)
def issuer_protected_header_changed(f: Any) -> bytes:
    return edit(lambda f, o: issuer_auth(o).__setitem__(0, cbor.dumps({1: -7, 4: b"kid"})))(f)


@case(InvalidSignature)
def mso_signed_by_other_key(f: Any) -> bytes:
    return mso_edit(lambda m: None, key=ec.generate_private_key(ec.SECP256R1()))(f)


@case(UnsupportedAlgorithm)
def issuer_alg_es384_with_p256_key(f: Any) -> bytes:
    return edit(lambda f, o: issuer_auth(o).__setitem__(0, cbor.dumps({1: -35})))(f)


@case(UnsupportedAlgorithm)
def issuer_alg_eddsa(f: Any) -> bytes:
    return edit(lambda f, o: issuer_auth(o).__setitem__(0, cbor.dumps({1: -8})))(f)


@case(UnsupportedAlgorithm)
def issuer_alg_hmac(f: Any) -> bytes:
    return edit(lambda f, o: issuer_auth(o).__setitem__(0, cbor.dumps({1: 5})))(f)


@case(InvalidHeader)
def issuer_alg_missing(f: Any) -> bytes:
    return edit(lambda f, o: issuer_auth(o).__setitem__(0, b""))(f)


@case(InvalidHeader)
def x5chain_missing(f: Any) -> bytes:
    return edit(lambda f, o: issuer_auth(o)[1].pop(33))(f)


@case(InvalidHeader)
def x5chain_wrong_type(f: Any) -> bytes:
    return edit(lambda f, o: issuer_auth(o)[1].__setitem__(33, "cert"))(f)


@case(ParsingError)
def x5chain_not_der(f: Any) -> bytes:
    return edit(lambda f, o: issuer_auth(o)[1].__setitem__(33, b"\x30\x03abc"))(f)


@case(UntrustedIssuer)
def ds_from_other_iaca(f: Any) -> bytes:
    root_key, root = f.make_root("Other IACA")
    key, ds = f.make_ds(root_key, root)
    return mso_edit(lambda m: None, key=key, chain=[ds.public_bytes(Encoding.DER)])(f)


@case(InvalidCertificate)
def ds_without_mdoc_eku(f: Any) -> bytes:
    key, ds = f.make_ds(f.pki.root_key, f.pki.root, eku=False)
    return mso_edit(lambda m: None, key=key, chain=[ds.public_bytes(Encoding.DER)])(f)


@case(InvalidCertificate)
def ds_expired(f: Any) -> bytes:
    key, ds = f.make_ds(f.pki.root_key, f.pki.root, not_after=NOW - dt.timedelta(days=1))
    return mso_edit(lambda m: None, key=key, chain=[ds.public_bytes(Encoding.DER)])(f)


@case(InvalidCertificate)
def x5chain_cert_with_damaged_issuer_name(f: Any) -> bytes:
    der = f.pki.ds.public_bytes(Encoding.DER)
    at = der.index(b"\x0c\x09Test IACA")  # UTF8String tag of the issuer CN -> an invalid tag (13)
    damaged = der[:at] + b"\x0d" + der[at + 1 :]
    return edit(lambda f, o: issuer_auth(o)[1].__setitem__(33, damaged))(f)


@case(InvalidCertificate)
def iaca_signs_directly(f: Any) -> bytes:
    return mso_edit(lambda m: None, key=f.pki.root_key, chain=[f.pki.root.public_bytes(Encoding.DER)])(f)


# --- docType and validity --------------------------------------------------------------------------------


@case(DoctypeMismatch)
def document_doctype_differs_from_mso(f: Any) -> bytes:
    def mutate(f: Any, o: dict[str, Any]) -> None:
        f.doc(o)["docType"] = "org.iso.18013.5.1.mDL"
        f.device_sign(o)

    return edit(mutate)(f)


@case(DoctypeMismatch)
def doctype_not_requested(f: Any) -> Result:
    return f.response(), {"expected_doc_types": ["org.iso.18013.5.1.mDL"]}


@case(Expired)
def expired(f: Any) -> Result:
    return f.response(), {"clock": FixedClock(NOW + dt.timedelta(days=91))}


@case(NotYetValid)
def not_yet_valid(f: Any) -> Result:
    return f.response(), {"clock": FixedClock(NOW - dt.timedelta(days=2))}


# --- issuer-signed items ----------------------------------------------------------------------------------


def item_edit(change: Callable[[dict[str, Any]], Any], *, update_digest: bool = False) -> Callable[[Any], bytes]:
    def mutate(f: Any, o: dict[str, Any]) -> None:
        it = item(o)
        change(it)
        f.set_item(o, 0, it, update_digest=update_digest)

    return edit(mutate)


@case(DigestMismatch)
def item_value_changed(f: Any) -> bytes:
    return item_edit(lambda it: it.__setitem__("elementValue", "Changed"))(f)


@case(DigestMismatch)
def item_identifier_changed(f: Any) -> bytes:
    return item_edit(lambda it: it.__setitem__("elementIdentifier", "portrait"))(f)


@case(DigestMismatch)
def item_random_changed(f: Any) -> bytes:
    return item_edit(lambda it: it.__setitem__("random", flip(it["random"], 0)))(f)


@case(DigestMismatch)
def item_digest_id_unknown(f: Any) -> bytes:
    return item_edit(lambda it: it.__setitem__("digestID", 7))(f)


@case(DigestMismatch)
def item_digest_id_of_another_item(f: Any) -> bytes:
    def mutate(f: Any, o: dict[str, Any]) -> None:
        it = item(o)
        it["digestID"] = item(o, 1)["digestID"]
        f.set_item(o, 0, it, update_digest=False)

    return edit(mutate)(f)


@case(DigestMismatch)
def item_from_another_credential(f: Any) -> bytes:
    def mutate(f: Any, o: dict[str, Any]) -> None:
        other = f.decoded(f.response(f.issue()))
        items(o)[0] = items(other)[0]

    return edit(mutate)(f)


@case(DigestMismatch)
def item_reencoded_non_preferred(f: Any) -> bytes:
    def mutate(f: Any, o: dict[str, Any]) -> None:
        raw = items(o)[0].raw
        # the same item, but its digestID as an 8-byte uint: equal value, different bytes, different digest
        assert raw[:10] == b"\xa4\x68digestID" and raw[10] == 0x1A
        digest_id = int.from_bytes(raw[11:15], "big")
        items(o)[0] = cbor.EmbeddedCBOR(raw[:10] + b"\x1b" + digest_id.to_bytes(8, "big") + raw[15:])
        assert items(o)[0].value() == cbor.loads(raw)

    return edit(mutate)(f)


@case(DigestMismatch)
def namespace_not_in_mso(f: Any) -> bytes:
    def mutate(f: Any, o: dict[str, Any]) -> None:
        ns = f.doc(o)["issuerSigned"]["nameSpaces"]
        ns["org.example.extra"] = ns.pop(NAMESPACE_PID)

    return edit(mutate)(f)


@case(DuplicateDisclosure)
def item_repeated(f: Any) -> bytes:
    return edit(lambda f, o: items(o).append(items(o)[0]))(f)


@case(MdocStructureError)
def item_random_too_short(f: Any) -> bytes:
    return item_edit(lambda it: it.__setitem__("random", b"\x00" * 8), update_digest=True)(f)


@case(MdocStructureError)
def item_value_missing(f: Any) -> bytes:
    return item_edit(lambda it: it.pop("elementValue"), update_digest=True)(f)


@case(MdocStructureError)
def item_extra_key(f: Any) -> bytes:
    return item_edit(lambda it: it.__setitem__("note", 1), update_digest=True)(f)


@case(MdocStructureError)
def item_digest_id_negative(f: Any) -> bytes:
    return item_edit(lambda it: it.__setitem__("digestID", -1))(f)


@case(MdocStructureError)
def item_digest_id_too_large(f: Any) -> bytes:
    return item_edit(lambda it: it.__setitem__("digestID", 2**31))(f)


@case(MdocStructureError)
def item_identifier_empty(f: Any) -> bytes:
    return item_edit(lambda it: it.__setitem__("elementIdentifier", ""), update_digest=True)(f)


@case(MdocStructureError)
def item_not_a_map(f: Any) -> bytes:
    return edit(lambda f, o: items(o).__setitem__(0, cbor.tag24([1, 2])))(f)


@case(ParsingError)
def item_trailing_bytes(f: Any) -> bytes:
    return edit(lambda f, o: items(o).__setitem__(0, cbor.EmbeddedCBOR(items(o)[0].raw + b"\x00")))(f)


@case(ParsingError)
def item_truncated(f: Any) -> bytes:
    return edit(lambda f, o: items(o).__setitem__(0, cbor.EmbeddedCBOR(items(o)[0].raw[:-3])))(f)


# --- device authentication ------------------------------------------------------------------------------


@case(DeviceAuthenticationFailed)
def device_signature_flipped(f: Any) -> bytes:
    def mutate(f: Any, o: dict[str, Any]) -> None:
        sig = device_auth(o)["deviceSignature"]
        sig[3] = flip(sig[3], 5)

    return edit(mutate)(f)


@case(DeviceAuthenticationFailed)
def device_signature_other_nonce(f: Any) -> bytes:
    other = openid4vp_session_transcript("x509_san_dns:rp.example.no", "other-nonce", "https://rp.example.no/response")
    return edit(lambda f, o: f.device_sign(o, transcript=other))(f)


@case(DeviceAuthenticationFailed)
def device_signature_other_client(f: Any) -> bytes:
    other = openid4vp_session_transcript("x509_san_dns:evil.example", "nonce-123", "https://rp.example.no/response")
    return edit(lambda f, o: f.device_sign(o, transcript=other))(f)


@case(DeviceAuthenticationFailed)
def device_signature_other_doctype(f: Any) -> bytes:
    return edit(lambda f, o: f.device_sign(o, doc_type="org.iso.18013.5.1.mDL"))(f)


@case(DeviceAuthenticationFailed)
def device_signature_by_other_key(f: Any) -> bytes:
    return edit(lambda f, o: f.device_sign(o, key=ec.generate_private_key(ec.SECP256R1())))(f)


@case(DeviceAuthenticationFailed)
def device_signature_attached_payload(f: Any) -> bytes:
    return edit(lambda f, o: device_auth(o)["deviceSignature"].__setitem__(2, b"payload"))(f)


@case(DeviceAuthenticationFailed)
def device_protected_header_changed_after_signing(f: Any) -> bytes:
    return edit(lambda f, o: device_auth(o)["deviceSignature"].__setitem__(0, cbor.dumps({1: -7, 4: b"k"})))(f)


@case(DeviceAuthenticationFailed)
def device_name_spaces_changed_after_signing(f: Any) -> bytes:
    from eidcore.formats.mdoc import KeyAuthorizations

    credential = f.issue(key_authorizations=KeyAuthorizations(name_spaces=frozenset({"org.example.device"})))
    response = f.response(credential, device_name_spaces={"org.example.device": {"a": 1}})
    o = f.decoded(response)
    f.doc(o)["deviceSigned"]["nameSpaces"] = cbor.tag24({"org.example.device": {"a": 2}})
    return f.encode(o)


@case(UnsupportedAlgorithm)
def device_signature_alg_hmac(f: Any) -> bytes:
    return edit(lambda f, o: device_auth(o)["deviceSignature"].__setitem__(0, cbor.dumps({1: 5})))(f)


@case(UnsupportedAlgorithm)
def device_signature_alg_eddsa(f: Any) -> bytes:
    return edit(lambda f, o: device_auth(o)["deviceSignature"].__setitem__(0, cbor.dumps({1: -8})))(f)


@case(KeyNotAuthorized)
def device_signed_element_unauthorized(f: Any) -> bytes:
    return edit(lambda f, o: f.device_sign(o, device_ns={NAMESPACE_PID: {"family_name": "Forged"}}))(f)


@case(KeyNotAuthorized)
def device_signed_element_outside_authorized_ns(f: Any) -> bytes:
    from eidcore.formats.mdoc import KeyAuthorizations

    credential = f.issue(key_authorizations=KeyAuthorizations(name_spaces=frozenset({"org.example.device"})))
    device_ns = {NAMESPACE_PID: {"age_over_18": True}}
    doc = build_document(credential, f.device_key, f.transcript, device_name_spaces=device_ns)
    return build_device_response([doc])


def _mac_response(f: Any, reader: ec.EllipticCurvePrivateKey) -> bytes:
    return f.response(reader_key=reader.public_key())


@case(DeviceAuthenticationFailed)
def device_mac_wrong_reader_key(f: Any) -> Result:
    reader = ec.generate_private_key(ec.SECP256R1())
    return _mac_response(f, reader), {"reader_key": ec.generate_private_key(ec.SECP256R1())}


@case(DeviceAuthenticationFailed)
def device_mac_without_reader_key(f: Any) -> Result:
    return _mac_response(f, ec.generate_private_key(ec.SECP256R1())), {}


@case(DeviceAuthenticationFailed)
def device_mac_tag_flipped(f: Any) -> Result:
    reader = ec.generate_private_key(ec.SECP256R1())
    o = f.decoded(_mac_response(f, reader))
    mac = device_auth(o)["deviceMac"]
    mac[3] = flip(mac[3], 0)
    return f.encode(o), {"reader_key": reader}


@case(DeviceAuthenticationFailed)
def device_mac_reader_key_other_curve(f: Any) -> Result:
    reader = ec.generate_private_key(ec.SECP256R1())
    return _mac_response(f, reader), {"reader_key": ec.generate_private_key(ec.SECP384R1())}


@case(UnsupportedAlgorithm)
def device_mac_hmac_256_64(f: Any) -> Result:
    reader = ec.generate_private_key(ec.SECP256R1())
    o = f.decoded(_mac_response(f, reader))
    device_auth(o)["deviceMac"][0] = cbor.dumps({1: 4})
    return f.encode(o), {"reader_key": reader}


def _ids() -> list[str]:
    return [name for name, _, _ in CASES]


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 60
    assert len(set(_ids())) == len(CASES)


@pytest.mark.parametrize(("name", "error", "build"), CASES, ids=_ids())
def test_rejected_with_specific_error(factory: Any, name: str, error: type[Exception], build: Any) -> None:
    data, kwargs = build(factory)
    verifier_kwargs = {k: kwargs.pop(k) for k in ("clock",) if k in kwargs}
    verifier = factory.verifier(**verifier_kwargs)
    with pytest.raises(FormatError) as info:  # the exact class is asserted below
        verifier.verify_device_response(data, factory.transcript, **kwargs)
    assert type(info.value) is error, f"{name}: got {type(info.value).__name__}: {info.value}"


def test_unchanged_response_verifies(factory: Any) -> None:
    """The corpus' starting point is valid, so each case fails only because of its change."""
    assert factory.verifier().verify_device_response(factory.response(), factory.transcript)
    assert edit(lambda f, o: None)(factory) != b""
    assert factory.verifier().verify_device_response(edit(lambda f, o: None)(factory), factory.transcript)
    assert factory.verifier().verify_device_response(mso_edit(lambda m: None)(factory), factory.transcript)
    assert factory.verifier().verify_device_response(
        item_edit(lambda it: None, update_digest=True)(factory), factory.transcript
    )


def test_digest_of_item_is_over_tag24_bytes(factory: Any) -> None:
    o = factory.decoded()
    raw = items(o)[0]
    mso = factory.mso(o)
    assert mso["valueDigests"][NAMESPACE_PID][raw.value()["digestID"]] == hashlib.sha256(raw.encoded()).digest()
    assert hashlib.sha256(raw.raw).digest() not in mso["valueDigests"][NAMESPACE_PID].values()
