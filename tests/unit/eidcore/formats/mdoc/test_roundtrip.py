"""mdoc issue -> DeviceResponse -> verify, and the issuer's output shape (ISO/IEC 18013-5 §8.3, §9.1)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from eidcore import cbor, cose
from eidcore.clock import FixedClock
from eidcore.encoding import b64u_decode
from eidcore.errors import InvalidClaim, InvalidHeader, InvalidRequest, KeyNotAuthorized
from eidcore.formats.mdoc import (
    DOCTYPE_PID,
    NAMESPACE_PID,
    IssuerSigned,
    KeyAuthorizations,
    MdocVerifier,
    build_device_response,
    build_document,
    present,
    status_list_reference,
)

NOW = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)


def test_selective_disclosure_returns_only_requested_elements(factory) -> None:
    response = factory.response(disclose={NAMESPACE_PID: ["family_name", "birth_date"]})
    [doc] = factory.verifier().verify_device_response(response, factory.transcript, expected_doc_types=[DOCTYPE_PID])
    assert doc.claims == {NAMESPACE_PID: {"family_name": "Nordmann", "birth_date": dt.date(1990, 5, 17)}}
    assert doc.device_auth == "signature"
    assert doc.device_signed == {}
    # the undisclosed values are not in the bytes at all
    assert b"Kari" not in response and b"Digdir" not in response


def test_disclose_all_by_default(factory) -> None:
    [doc] = factory.verifier().verify_device_response(factory.response(), factory.transcript)
    assert set(doc.claims[NAMESPACE_PID]) == {
        "family_name", "given_name", "birth_date", "nationality", "issuing_country", "issuing_authority",
        "age_over_18",
    }


def test_openid4vp_b64u_presentation_round_trips(factory) -> None:
    token = present(factory.issue(), factory.device_key, factory.transcript, disclose={NAMESPACE_PID: ["age_over_18"]})
    assert isinstance(token, str) and "=" not in token
    [doc] = factory.verifier().verify_device_response(token, factory.transcript)
    assert doc.claims == {NAMESPACE_PID: {"age_over_18": True}}


def test_credential_b64u_is_issuer_signed_cbor(factory) -> None:
    credential = factory.issue()
    decoded = cbor.loads(b64u_decode(credential.to_b64u()))
    assert list(decoded) == ["nameSpaces", "issuerAuth"]
    parsed = IssuerSigned.from_b64u(credential.to_b64u())
    verified = factory.verifier().verify_issuer_signed(parsed, expected_doc_type=DOCTYPE_PID)
    assert verified.claims[NAMESPACE_PID]["given_name"] == "Kari"
    assert verified.issuer_certificate == factory.pki.ds


def test_issued_items_have_random_and_random_digest_ids(factory) -> None:
    credential = factory.issue()
    items = credential.items()[NAMESPACE_PID]
    ids = [i.digest_id for i in items]
    assert len(set(ids)) == len(ids) and all(2**16 <= i < 2**31 for i in ids)
    assert all(len(i.random) >= 16 for i in items)
    assert len({i.random for i in items}) == len(items)
    other = factory.issue().items()[NAMESPACE_PID]
    assert {i.digest_id for i in other} != set(ids)  # uncorrelated across MSOs


def test_mso_shape(factory) -> None:
    status = status_list_reference(42, "https://issuer.example.no/status/3")
    credential = factory.issue(status=status)
    assert credential.issuer_auth.protected == b"\xa1\x01\x26"  # {1: -7}
    assert credential.issuer_auth.unprotected[33] == factory.pki.ds.public_bytes(Encoding.DER)
    assert credential.issuer_auth.payload[:2] == b"\xd8\x18"  # MobileSecurityObjectBytes
    mso = cbor.loads(credential.issuer_auth.payload).value()
    assert mso["version"] == "1.0" and mso["digestAlgorithm"] == "SHA-256" and mso["docType"] == DOCTYPE_PID
    assert mso["status"] == {"status_list": {"idx": 42, "uri": "https://issuer.example.no/status/3"}}
    assert mso["deviceKeyInfo"]["deviceKey"] == cose.cose_key_from_public_key(factory.device_key.public_key())
    validity = mso["validityInfo"]
    assert validity["validFrom"] == NOW - dt.timedelta(days=1)
    assert all(v.microsecond == 0 for v in validity.values())
    # tag 0 on the wire
    assert b"\xc0\x74" + (NOW - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ").encode() in cbor.loads(
        credential.issuer_auth.payload
    ).raw
    for raw in credential.name_spaces[NAMESPACE_PID]:
        digest_id = raw.value()["digestID"]
        assert mso["valueDigests"][NAMESPACE_PID][digest_id] == hashlib.sha256(raw.encoded()).digest()


def test_birth_date_is_full_date_tag_1004(factory) -> None:
    credential = factory.issue()
    raw = next(r for r in credential.name_spaces[NAMESPACE_PID] if r.value()["elementIdentifier"] == "birth_date")
    assert raw.raw.endswith(b"\xd9\x03\xec\x6a1990-05-17")


def test_verified_document_exposes_status(factory) -> None:
    credential = factory.issue(status=status_list_reference(7, "https://i.example/s"))
    [doc] = factory.verifier().verify_device_response(factory.response(credential), factory.transcript)
    assert doc.status == {"status_list": {"idx": 7, "uri": "https://i.example/s"}}


def test_device_mac_round_trip(factory) -> None:
    reader = ec.generate_private_key(ec.SECP256R1())
    response = factory.response(reader_key=reader.public_key())
    [doc] = factory.verifier().verify_device_response(response, factory.transcript, reader_key=reader)
    assert doc.device_auth == "mac"


def test_device_signed_elements_with_key_authorization(factory) -> None:
    auth = KeyAuthorizations(data_elements={"org.example.device": frozenset({"pin_ok"})})
    credential = factory.issue(key_authorizations=auth)
    response = factory.response(credential, device_name_spaces={"org.example.device": {"pin_ok": True}})
    [doc] = factory.verifier().verify_device_response(response, factory.transcript)
    assert doc.device_signed == {"org.example.device": {"pin_ok": True}}


def test_device_signed_namespace_authorization(factory) -> None:
    credential = factory.issue(key_authorizations=KeyAuthorizations(name_spaces=frozenset({"org.example.device"})))
    response = factory.response(credential, device_name_spaces={"org.example.device": {"a": 1, "b": 2}})
    [doc] = factory.verifier().verify_device_response(response, factory.transcript)
    assert doc.device_signed["org.example.device"] == {"a": 1, "b": 2}


def test_device_signed_element_without_authorization_is_rejected(factory) -> None:
    response = factory.response(device_name_spaces={"org.example.device": {"pin_ok": True}})
    with pytest.raises(KeyNotAuthorized):
        factory.verifier().verify_device_response(response, factory.transcript)


def test_missing_requested_elements_are_reported(factory) -> None:
    doc = build_document(factory.issue(), factory.device_key, factory.transcript,
                         disclose={NAMESPACE_PID: ["family_name", "portrait"]}, report_missing=True)
    assert doc["errors"] == {NAMESPACE_PID: {"portrait": 0}}
    [verified] = factory.verifier().verify_device_response(build_device_response([doc]), factory.transcript)
    assert verified.errors == {NAMESPACE_PID: {"portrait": 0}}


def test_two_documents_in_one_response(factory) -> None:
    a = build_document(
        factory.issue(), factory.device_key, factory.transcript, disclose={NAMESPACE_PID: ["given_name"]}
    )
    b = build_document(factory.issue({"x": 1}, doc_type="org.example.other", name_spaces={"org.example": {"x": 1}}),
                       factory.device_key, factory.transcript)
    docs = factory.verifier().verify_device_response(build_device_response([a, b]), factory.transcript)
    assert [d.doc_type for d in docs] == [DOCTYPE_PID, "org.example.other"]


def test_leeway_accepts_slightly_early_presentation(factory) -> None:
    credential = factory.issue(valid_from=NOW + dt.timedelta(seconds=30), clock=FixedClock(NOW))
    response = factory.response(credential)
    verifier = factory.verifier(leeway=dt.timedelta(seconds=60))
    assert verifier.verify_device_response(response, factory.transcript)[0].doc_type == DOCTYPE_PID


def test_issuer_accepts_jwk_and_cose_key_device_keys(factory) -> None:
    jwk = cose.jwk_from_cose_key(cose.cose_key_from_public_key(factory.device_key.public_key()))
    for device_key in (jwk, cose.cose_key_from_public_key(factory.device_key.public_key())):
        credential = factory.issue(device_key=device_key)
        [doc] = factory.verifier().verify_device_response(factory.response(credential), factory.transcript)
        assert doc.device_key.public_numbers() == factory.device_key.public_key().public_numbers()


@pytest.mark.parametrize("alg", ["SHA-384", "SHA-512"])
def test_other_digest_algorithms(factory, alg: str) -> None:
    [doc] = factory.verifier().verify_device_response(
        factory.response(factory.issue(digest_algorithm=alg)), factory.transcript
    )
    assert doc.mso.digest_algorithm == alg


def test_es384_document_signer(factory, pki) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    key = ec.generate_private_key(ec.SECP384R1())
    ds = (
        x509.CertificateBuilder().subject_name(pki.ds.subject).issuer_name(pki.root.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(pki.ds.not_valid_before_utc).not_valid_after(pki.ds.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.ObjectIdentifier("1.0.18013.5.1.2")]), critical=True)
        .sign(pki.root_key, hashes.SHA256())
    )
    credential = factory.issue(issuer_key=key, issuer_chain=[ds])
    assert credential.issuer_auth.alg == cose.ES384 and len(credential.issuer_auth.signature) == 96
    [doc] = factory.verifier().verify_device_response(factory.response(credential), factory.transcript)
    assert doc.issuer_certificate == ds


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"doc_type": "eu.europa.ec.eudiw.pid.1"}, InvalidRequest),
        ({"digest_algorithm": "sha256"}, InvalidRequest),
        ({"random_size": 8}, InvalidRequest),
        ({"name_spaces": {}}, InvalidClaim),
        ({"name_spaces": {NAMESPACE_PID: {}}}, InvalidClaim),
        ({"issuer_chain": []}, InvalidRequest),
        ({"valid_until": NOW - dt.timedelta(days=2)}, InvalidClaim),
        ({"status": {"other": 1}}, InvalidClaim),
        ({"device_key": {1: 2, -1: 1, -2: b"\x00" * 32, -3: b"\x00" * 32}}, InvalidHeader),
    ],
    ids=["obsolete_doctype", "lowercase_digest", "short_random", "no_namespaces", "empty_namespace", "no_chain",
         "until_before_from", "bad_status", "device_key_off_curve"],
)
def test_issuer_refuses_bad_input(factory, kwargs, error) -> None:
    with pytest.raises(error):
        factory.issue(**kwargs)


def test_chain_cache_revalidates_outside_the_window(factory) -> None:
    from eidcore.errors import InvalidCertificate

    clock = FixedClock(NOW)
    verifier = factory.verifier(clock=clock)
    response = factory.response(factory.issue(valid_until=NOW + dt.timedelta(days=4000)))
    verifier.verify_device_response(response, factory.transcript)  # validated and cached
    clock.advance(366 * 86400)  # past the DS certificate's notAfter
    with pytest.raises(InvalidCertificate):
        verifier.verify_device_response(response, factory.transcript)


def test_verify_issuer_signed_rejects_tampered_item(factory) -> None:
    from eidcore.errors import DigestMismatch

    credential = factory.issue()
    raw = credential.name_spaces[NAMESPACE_PID][0]
    item = dict(raw.value())
    item["elementValue"] = "Changed"
    credential.name_spaces[NAMESPACE_PID][0] = cbor.tag24(item)
    with pytest.raises(DigestMismatch):
        factory.verifier().verify_issuer_signed(credential.to_b64u())


def test_verify_issuer_signed_checks_expected_doctype(factory) -> None:
    from eidcore.errors import DoctypeMismatch

    with pytest.raises(DoctypeMismatch):
        factory.verifier().verify_issuer_signed(factory.issue().encode(), expected_doc_type="org.iso.18013.5.1.mDL")


def test_verify_issuer_signed_rejects_untrusted_issuer(factory) -> None:
    from eidcore.errors import UntrustedIssuer

    _, other_root = factory.make_root("Other IACA")
    verifier = MdocVerifier([other_root], clock=FixedClock(NOW))
    with pytest.raises(UntrustedIssuer):
        verifier.verify_issuer_signed(factory.issue())
