"""Fixtures for the mdoc tests: a small IACA -> document-signer PKI, a device key, and a factory that issues,
presents, decodes, tampers with and re-signs mdocs."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from eidcore import cbor, cose
from eidcore.clock import FixedClock
from eidcore.formats.mdoc import (
    DOCTYPE_PID,
    NAMESPACE_PID,
    IssuerSigned,
    MdocVerifier,
    SessionTranscript,
    build_device_response,
    build_document,
    issue_mdoc,
    openid4vp_session_transcript,
)
from eidcore.formats.mdoc.structures import device_authentication_bytes

NOW = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
DS_EKU = x509.ObjectIdentifier("1.0.18013.5.1.2")

PID = {
    "family_name": "Nordmann",
    "given_name": "Kari",
    "birth_date": dt.date(1990, 5, 17),
    "nationality": ["NO"],
    "issuing_country": "NO",
    "issuing_authority": "Digdir",
    "age_over_18": True,
}


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "NO"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ku(*, sign: bool, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(sign, False, False, False, False, cert_sign, cert_sign, False, False)


def make_root(cn: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn)).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=30)).not_valid_after(NOW + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ku(sign=False, cert_sign=True), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_ds(
    root_key: ec.EllipticCurvePrivateKey,
    root: x509.Certificate,
    *,
    eku: bool = True,
    not_after: dt.datetime | None = None,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder().subject_name(_name("Test DS")).issuer_name(root.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=10)).not_valid_after(not_after or NOW + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_ku(sign=True, cert_sign=False), critical=True)
    )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage([DS_EKU]), critical=True)
    return key, builder.sign(root_key, hashes.SHA256())


@dataclass
class Pki:
    root_key: ec.EllipticCurvePrivateKey
    root: x509.Certificate
    ds_key: ec.EllipticCurvePrivateKey
    ds: x509.Certificate


@dataclass
class MdocFactory:
    """Issues, presents and tampers with mdocs for one PKI, device key and clock."""

    pki: Pki
    device_key: ec.EllipticCurvePrivateKey
    transcript: SessionTranscript = field(
        default_factory=lambda: openid4vp_session_transcript(
            "x509_san_dns:rp.example.no", "nonce-123", "https://rp.example.no/response"
        )
    )

    make_root = staticmethod(make_root)
    make_ds = staticmethod(make_ds)

    def verifier(self, **kwargs: Any) -> MdocVerifier:
        kwargs.setdefault("clock", FixedClock(NOW))
        return MdocVerifier([self.pki.root], **kwargs)

    def issue(self, elements: dict[str, Any] | None = None, **kwargs: Any) -> IssuerSigned:
        kwargs.setdefault("doc_type", DOCTYPE_PID)
        kwargs.setdefault("name_spaces", {NAMESPACE_PID: elements if elements is not None else PID})
        kwargs.setdefault("device_key", self.device_key.public_key())
        kwargs.setdefault("issuer_key", self.pki.ds_key)
        kwargs.setdefault("issuer_chain", [self.pki.ds])
        kwargs.setdefault("valid_from", NOW - dt.timedelta(days=1))
        kwargs.setdefault("valid_until", NOW + dt.timedelta(days=90))
        kwargs.setdefault("clock", FixedClock(NOW - dt.timedelta(days=1)))
        return issue_mdoc(**kwargs)

    def response(self, credential: IssuerSigned | None = None, **kwargs: Any) -> bytes:
        credential = credential or self.issue()
        return build_device_response([build_document(credential, self.device_key, self.transcript, **kwargs)])

    # --- tampering helpers (the structure is a plain decoded DeviceResponse) -------------------------------

    def decoded(self, response: bytes | None = None) -> dict[str, Any]:
        return copy.deepcopy(cbor.loads(response or self.response()))

    @staticmethod
    def encode(obj: Any) -> bytes:
        return cbor.dumps(obj)

    @staticmethod
    def doc(obj: dict[str, Any]) -> dict[str, Any]:
        return obj["documents"][0]  # type: ignore[no-any-return]

    @staticmethod
    def mso(obj: dict[str, Any]) -> dict[str, Any]:
        payload = obj["documents"][0]["issuerSigned"]["issuerAuth"][2]
        return cbor.loads(payload).value()  # type: ignore[no-any-return]

    def resign_mso(self, obj: dict[str, Any], mso: Any, *, tag24: bool = True, key: Any = None,
                   chain: list[bytes] | None = None, protected: dict[int, Any] | None = None) -> None:
        """Replace the MSO with ``mso`` (any CBOR value) and sign it again with the DS key."""
        raw = cbor.dumps(mso)
        payload = cbor.EmbeddedCBOR(raw).encoded() if tag24 else raw
        msg = cose.sign1(payload, key or self.pki.ds_key, protected=protected,
                         x5chain=chain or [self.pki.ds.public_bytes(Encoding.DER)])
        obj["documents"][0]["issuerSigned"]["issuerAuth"] = msg.to_array()

    def set_item(self, obj: dict[str, Any], index: int, item: dict[str, Any], *, update_digest: bool) -> None:
        """Put ``item`` (an IssuerSignedItem map) at ``index``; optionally fix the MSO digest and re-sign."""
        embedded = cbor.tag24(item)
        obj["documents"][0]["issuerSigned"]["nameSpaces"][NAMESPACE_PID][index] = embedded
        if update_digest:
            import hashlib

            mso = self.mso(obj)
            mso["valueDigests"][NAMESPACE_PID][item["digestID"]] = hashlib.sha256(embedded.encoded()).digest()
            self.resign_mso(obj, mso)

    def device_sign(self, obj: dict[str, Any], *, key: ec.EllipticCurvePrivateKey | None = None,
                    transcript: SessionTranscript | None = None, device_ns: Any = None, doc_type: str | None = None,
                    protected: dict[int, Any] | None = None) -> None:
        """Recompute the deviceSignature over the (possibly changed) document."""
        doc = obj["documents"][0]
        if device_ns is not None:
            doc["deviceSigned"]["nameSpaces"] = cbor.tag24(device_ns)
        ns_bytes = doc["deviceSigned"]["nameSpaces"]
        auth = device_authentication_bytes(
            (transcript or self.transcript).encoded, doc_type or doc["docType"], ns_bytes
        )
        sig = cose.sign1(auth, key or self.device_key, detached=True, protected=protected)
        doc["deviceSigned"]["deviceAuth"] = {"deviceSignature": sig.to_array()}


@pytest.fixture(scope="session")
def pki() -> Pki:
    root_key, root = make_root("Test IACA")
    ds_key, ds = make_ds(root_key, root)
    return Pki(root_key, root, ds_key, ds)


@pytest.fixture(scope="session")
def device_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="session")
def factory(pki: Pki, device_key: ec.EllipticCurvePrivateKey) -> MdocFactory:
    return MdocFactory(pki, device_key)
