"""ISO/IEC 18013-5 Annex D DeviceResponse: issuerAuth with the DS certificate, all six digests, deviceMac."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from eidcore import cbor
from eidcore.clock import FixedClock
from eidcore.errors import DeviceAuthenticationFailed, InvalidCertificate, NotYetValid, UntrustedIssuer
from eidcore.formats.mdoc import DOCTYPE_MDL, NAMESPACE_MDL, MdocVerifier, SessionTranscript
from eidcore.formats.mdoc.holder import derive_emac_key
from eidcore.formats.mdoc.structures import device_authentication_bytes, parse_device_response

VECTORS = Path(__file__).parents[2] / "vectors" / "mdoc"
PINNED = FixedClock(datetime(2021, 1, 1, tzinfo=UTC))  # inside the MSO and DS certificate validity


def _hex(name: str) -> bytes:
    return bytes.fromhex((VECTORS / name).read_text().strip())


@pytest.fixture(scope="module")
def response() -> bytes:
    return _hex("iso_18013_5_annex_d_device_response.hex")


@pytest.fixture(scope="module")
def transcript() -> SessionTranscript:
    return SessionTranscript.from_session_transcript_bytes(_hex("iso_18013_5_annex_d_session_transcript_bytes.hex"))


@pytest.fixture(scope="module")
def ds_cert() -> x509.Certificate:
    return x509.load_der_x509_certificate(_hex("iso_18013_5_annex_d_ds_cert.hex"))


@pytest.fixture(scope="module")
def keys() -> dict[str, str]:
    return json.loads((VECTORS / "iso_18013_5_annex_d_keys.json").read_text())


def _key(keys: dict[str, str], which: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int(keys[f"{which}_d"], 16), ec.SECP256R1())


def test_annex_d_verifies_with_ds_certificate_and_device_mac(response, transcript, ds_cert, keys) -> None:
    verifier = MdocVerifier([ds_cert], clock=PINNED)
    [doc] = verifier.verify_device_response(
        response, transcript, expected_doc_types=[DOCTYPE_MDL], reader_key=_key(keys, "ephemeral_reader_key")
    )
    assert doc.doc_type == DOCTYPE_MDL
    assert doc.device_auth == "mac"
    claims = doc.claims[NAMESPACE_MDL]
    assert list(claims) == ["family_name", "issue_date", "expiry_date", "document_number", "portrait",
                            "driving_privileges"]
    assert claims["family_name"] == "Doe"
    assert claims["document_number"] == "123456789"
    assert claims["issue_date"].isoformat() == "2019-10-20"
    assert claims["portrait"][:2] == b"\xff\xd8"  # JPEG
    assert doc.mso.validity.valid_from == datetime(2020, 10, 1, 13, 30, 2, tzinfo=UTC)
    assert doc.mso.validity.valid_until == datetime(2021, 10, 1, 13, 30, 2, tzinfo=UTC)
    assert doc.issuer_certificate == ds_cert
    nums = doc.device_key.public_numbers()
    assert nums.x == int(keys["static_device_key_x"], 16) and nums.y == int(keys["static_device_key_y"], 16)


def test_annex_d_all_six_digests_recomputed(response) -> None:
    [doc], _ = parse_device_response(response)
    mso = doc.issuer_signed.mso
    assert mso.digest_algorithm == "SHA-256"
    ids = []
    for raw in doc.issuer_signed.name_spaces[NAMESPACE_MDL]:
        item = raw.value()
        ids.append(item["digestID"])
        assert hashlib.sha256(raw.encoded()).digest() == mso.value_digests[NAMESPACE_MDL][item["digestID"]]
    assert ids == [0, 3, 4, 7, 8, 9]


def test_annex_d_emac_key_both_sides_agree(transcript, response, keys) -> None:
    device, reader = _key(keys, "static_device_key"), _key(keys, "ephemeral_reader_key")
    assert derive_emac_key(device, reader.public_key(), transcript) == derive_emac_key(
        reader, device.public_key(), transcript
    )
    [doc], _ = parse_device_response(response)
    mac = doc.device_signed.device_mac
    assert mac is not None and mac.protected == b"\xa1\x01\x05"
    # the MAC recomputed by hand over ["MAC0", protected, h'', DeviceAuthenticationBytes]
    import hmac

    auth = device_authentication_bytes(transcript.encoded, DOCTYPE_MDL, doc.device_signed.name_spaces)
    mac_structure = cbor.dumps(["MAC0", mac.protected, b"", auth])
    key = derive_emac_key(device, reader.public_key(), transcript)
    assert hmac.digest(key, mac_structure, "sha256") == mac.tag


def test_annex_d_session_transcript_bytes_round_trip(transcript) -> None:
    assert transcript.tagged_bytes == _hex("iso_18013_5_annex_d_session_transcript_bytes.hex")


def test_annex_d_wrong_reader_key_fails_device_mac(response, transcript, ds_cert) -> None:
    verifier = MdocVerifier([ds_cert], clock=PINNED)
    with pytest.raises(DeviceAuthenticationFailed):
        verifier.verify_device_response(response, transcript, reader_key=ec.generate_private_key(ec.SECP256R1()))


def test_annex_d_without_reader_key_cannot_check_mac(response, transcript, ds_cert) -> None:
    with pytest.raises(DeviceAuthenticationFailed, match="reader's ephemeral key"):
        MdocVerifier([ds_cert], clock=PINNED).verify_device_response(response, transcript)


def test_annex_d_other_transcript_fails_device_mac(response, ds_cert, keys) -> None:
    other = SessionTranscript.from_parts(None, None, ["OpenID4VPHandover", b"\x00" * 32])
    with pytest.raises(DeviceAuthenticationFailed):
        MdocVerifier([ds_cert], clock=PINNED).verify_device_response(
            response, other, reader_key=_key(keys, "ephemeral_reader_key")
        )


@pytest.mark.parametrize(
    ("at", "error"),
    [
        (datetime(2021, 10, 1, 13, 30, 3, tzinfo=UTC), InvalidCertificate),  # the DS certificate ended first
        (datetime(2020, 10, 1, 13, 30, 1, tzinfo=UTC), NotYetValid),
    ],
    ids=["after_validUntil_ds_expired", "before_validFrom"],
)
def test_annex_d_validity_against_the_clock(response, transcript, ds_cert, keys, at, error) -> None:
    verifier = MdocVerifier([ds_cert], clock=FixedClock(at))
    with pytest.raises(error):
        verifier.verify_device_response(response, transcript, reader_key=_key(keys, "ephemeral_reader_key"))


def test_annex_d_untrusted_without_its_anchor(response, transcript, keys) -> None:
    with pytest.raises(UntrustedIssuer):
        MdocVerifier([], clock=PINNED).verify_device_response(
            response, transcript, reader_key=_key(keys, "ephemeral_reader_key")
        )
