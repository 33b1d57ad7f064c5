"""Android Key Attestation verification (wallet_api.device_attestation): strict DER, the KeyDescription, the
policy checks, and the dev device maker producing the same format."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from eidcore.clock import FixedClock
from eidcore.errors import InvalidDeviceAttestation
from wallet_api.device_attestation import (
    APP_PACKAGE,
    KEY_DESCRIPTION_OID,
    AttestationPolicy,
    DeviceMaker,
    der_children,
    der_encode,
    der_read,
    encode_key_description,
    load_or_create_device_maker,
    parse_key_description,
    parse_x5c,
    verify_android_key_attestation,
)

CLOCK = FixedClock(dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC))
CHALLENGE = b"challenge-123"


@pytest.fixture(scope="module")
def maker(tmp_path_factory: pytest.TempPathFactory) -> DeviceMaker:
    return load_or_create_device_maker(tmp_path_factory.mktemp("keys"), clock=CLOCK)


def policy(maker: DeviceMaker, **kw: object) -> AttestationPolicy:
    args: dict[str, object] = {"min_security_level": 0, "require_verified_boot": False, **kw}
    return AttestationPolicy("test", (maker.certificate,), **args)  # type: ignore[arg-type]


def leaf(maker: DeviceMaker, key: ec.EllipticCurvePrivateKey, description: bytes | None) -> list[x509.Certificate]:
    b = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "k")]))
         .issuer_name(maker.certificate.subject).public_key(key.public_key()).serial_number(1)
         .not_valid_before(CLOCK.now() - dt.timedelta(days=1)).not_valid_after(CLOCK.now() + dt.timedelta(days=1)))
    if description is not None:
        b = b.add_extension(x509.UnrecognizedExtension(KEY_DESCRIPTION_OID, description), critical=False)
    return [b.sign(maker.key, hashes.SHA256()), maker.certificate]


def test_dev_device_maker_attestation_verifies(maker: DeviceMaker) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    chain = parse_x5c(maker.attest(key.public_key(), CHALLENGE, clock=CLOCK))
    result = verify_android_key_attestation(chain, instance_key=key.public_key(), challenge=CHALLENGE,
                                            policies=[policy(maker)], clock=CLOCK)
    assert result.security_level == "software"
    assert result.package_name == APP_PACKAGE
    assert result.policy == "test"


def test_device_maker_is_created_once_and_private(tmp_path: Path) -> None:
    a = load_or_create_device_maker(tmp_path, clock=CLOCK)
    b = load_or_create_device_maker(tmp_path, clock=CLOCK)
    assert a.certificate == b.certificate
    assert (tmp_path / "device-maker.pem").stat().st_mode & 0o077 == 0


def test_key_description_round_trip() -> None:
    der = encode_key_description(challenge=b"abc", security_level=2, package_name="no.x", user_auth=True)
    kd = parse_key_description(der)
    assert kd.challenge == b"abc"
    assert kd.attestation_security_level == kd.keymint_security_level == 2
    assert kd.package_names() == ["no.x"]
    assert kd.origin() == 0
    rot = kd.root_of_trust()
    assert rot is not None and rot.device_locked and rot.verified_boot_state == 0
    assert kd.user_authentication_required()


@pytest.mark.parametrize(("kw", "policy_kw", "fragment"), [
    ({"security_level": 0}, {"min_security_level": 1}, "below the minimum"),
    ({"security_level": 1, "device_locked": False}, {"require_verified_boot": True}, "bootloader"),
    ({"security_level": 1, "verified_boot_state": 2}, {"require_verified_boot": True}, "bootloader"),
    ({"security_level": 0, "package_name": "com.evil.app"}, {}, "Lommebok wallet app"),
    ({"security_level": 0, "challenge": b"other"}, {}, "challenge"),
])
def test_policy_refusals(maker: DeviceMaker, kw: dict[str, object], policy_kw: dict[str, object],
                         fragment: str) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    args: dict[str, object] = {"challenge": CHALLENGE, "package_name": APP_PACKAGE, **kw}
    chain = leaf(maker, key, encode_key_description(**args))  # type: ignore[arg-type]
    with pytest.raises(InvalidDeviceAttestation) as exc:
        verify_android_key_attestation(chain, instance_key=key.public_key(), challenge=CHALLENGE,
                                       policies=[policy(maker, **policy_kw)], clock=CLOCK)
    assert fragment in exc.value.description


def test_hardware_level_passes_strict_policy(maker: DeviceMaker) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    chain = leaf(maker, key, encode_key_description(challenge=CHALLENGE, security_level=2,
                                                    package_name=APP_PACKAGE))
    result = verify_android_key_attestation(chain, instance_key=key.public_key(), challenge=CHALLENGE,
                                            policies=[policy(maker, min_security_level=1,
                                                             require_verified_boot=True)], clock=CLOCK)
    assert result.security_level == "strongbox"


def test_missing_extension_untrusted_root_and_other_key(maker: DeviceMaker, tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(InvalidDeviceAttestation, match="no key description"):
        verify_android_key_attestation(leaf(maker, key, None), instance_key=key.public_key(), challenge=CHALLENGE,
                                       policies=[policy(maker)], clock=CLOCK)
    other = load_or_create_device_maker(tmp_path, clock=CLOCK)
    chain = parse_x5c(other.attest(key.public_key(), CHALLENGE, clock=CLOCK))
    with pytest.raises(InvalidDeviceAttestation, match="not trusted"):
        verify_android_key_attestation(chain, instance_key=key.public_key(), challenge=CHALLENGE,
                                       policies=[policy(maker)], clock=CLOCK)
    with pytest.raises(InvalidDeviceAttestation, match="not trusted"):
        verify_android_key_attestation(chain, instance_key=key.public_key(), challenge=CHALLENGE, policies=[],
                                       clock=CLOCK)
    chain = parse_x5c(maker.attest(key.public_key(), CHALLENGE, clock=CLOCK))
    stranger = ec.generate_private_key(ec.SECP256R1()).public_key()
    with pytest.raises(InvalidDeviceAttestation, match="different key"):
        verify_android_key_attestation(chain, instance_key=stranger, challenge=CHALLENGE, policies=[policy(maker)],
                                       clock=CLOCK)


@pytest.mark.parametrize("value", [None, [], "x", [1], ["!!"], ["AAAA"] * 7,
                                   [base64.b64encode(b"not a certificate").decode()]])
def test_parse_x5c_refuses_garbage(value: object) -> None:
    with pytest.raises(InvalidDeviceAttestation):
        parse_x5c(value)


@pytest.mark.parametrize("der", [
    b"", b"\x30", b"\x30\x05\x02\x01", b"\x30\x80\x00\x00", b"\x30\x81\x01\x00", b"\x1f\x01\x00",
    b"\x30\x00\x00",  # trailing data
    b"\x02\x02\x00\x01",  # non-minimal integer inside a KeyDescription position
])
def test_strict_der_refusals(der: bytes) -> None:
    with pytest.raises(InvalidDeviceAttestation):
        parse_key_description(der)


def test_high_tag_numbers_round_trip() -> None:
    enc = der_encode(2, True, 709, b"\x05\x00")
    t, end = der_read(enc)
    assert (t.cls, t.constructed, t.tag, t.content, end) == (2, True, 709, b"\x05\x00", len(enc))
    assert der_children(b"\x02\x01\x05\x02\x01\x06")[1].content == b"\x06"


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_crash_the_parser(data: bytes) -> None:
    try:
        parse_key_description(data)
    except InvalidDeviceAttestation:
        pass


def test_dev_attestation_is_plain_der_certificates(maker: DeviceMaker) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    x5c = maker.attest(key.public_key(), CHALLENGE, clock=CLOCK)
    cert = x509.load_der_x509_certificate(base64.b64decode(x5c[0]))
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    assert cert.public_key().public_bytes(serialization.Encoding.DER, spki) == key.public_key().public_bytes(
        serialization.Encoding.DER, spki)
