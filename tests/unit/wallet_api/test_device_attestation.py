"""Android Key Attestation verification (wallet_api.device_attestation): the KeyDescription ASN.1 schema
(eidcore.trust.android_key_attestation, pyasn1, strict DER), the policy checks, a real device's chain, and the dev
device maker producing the same format."""

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
from pyasn1.codec.der import decoder as der_decoder
from pyasn1.codec.der import encoder as der_encoder

from eidcore.clock import FixedClock
from eidcore.errors import InvalidDeviceAttestation
from eidcore.trust.android_key_attestation import AuthorizationListSchema
from wallet_api.device_attestation import (
    APP_PACKAGE,
    KEY_DESCRIPTION_OID,
    AttestationPolicy,
    DeviceMaker,
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
    """Tags above 30 take the high-tag-number form (X.690 §8.1.2.4): [709] and [724] round-trip through the schema."""
    al = AuthorizationListSchema()
    al["attestationApplicationId"] = b"\x30\x00"
    al["moduleHash"] = b"\x01" * 32
    enc = der_encoder.encode(al)
    assert enc[2:5] == bytes([0xBF, 0x85, 0x45])  # context class, constructed, tag 709 in two base-128 digits
    back, rest = der_decoder.decode(enc, asn1Spec=AuthorizationListSchema())
    assert rest == b""
    assert bytes(back["attestationApplicationId"]) == b"\x30\x00" and bytes(back["moduleHash"]) == b"\x01" * 32
    assert not back["origin"].isValue


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


# --------------------------------------------------------------------------------------------------
# Malformed KeyDescription values: always the typed error (a 400), never another exception
# --------------------------------------------------------------------------------------------------

GOOD = encode_key_description(challenge=CHALLENGE, security_level=0, package_name=APP_PACKAGE)


def _replace_once(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) == 1
    return data.replace(old, new)


@pytest.mark.parametrize("cut", [1, 2, 10, len(GOOD) // 2, len(GOOD) - 1])
def test_truncated_key_description_is_refused(cut: int) -> None:
    with pytest.raises(InvalidDeviceAttestation, match="not valid DER"):
        parse_key_description(GOOD[:cut])


@pytest.mark.parametrize(("what", "der"), [
    ("SET instead of SEQUENCE", b"\x31" + GOOD[1:]),
    ("context tag instead of SEQUENCE", b"\xa0" + GOOD[1:]),
    ("UTF8String challenge", _replace_once(GOOD, b"\x04" + bytes([len(CHALLENGE)]) + CHALLENGE,
                                           b"\x0c" + bytes([len(CHALLENGE)]) + CHALLENGE)),
    ("unknown authorization tag [799]", _replace_once(GOOD, b"\xbf\x85\x45", b"\xbf\x86\x1f")),
    ("INTEGER security level", _replace_once(GOOD, b"\x02\x02\x00\xc8\x0a\x01\x00\x02\x02\x00\xc8\x0a\x01\x00",
                                             b"\x02\x02\x00\xc8\x02\x01\x00\x02\x02\x00\xc8\x0a\x01\x00")),
    ("trailing data", GOOD + b"\x00"),
    ("long-form length where short form is due", b"\x30\x81" + GOOD[1:]),
])
def test_wrong_tag_or_non_der_key_description_is_refused(what: str, der: bytes) -> None:
    with pytest.raises(InvalidDeviceAttestation, match="not valid DER"):
        parse_key_description(der)


def test_malformed_attestation_application_id_is_refused() -> None:
    inner = encode_key_description(challenge=CHALLENGE, security_level=0, package_name="no.x")
    broken = _replace_once(inner, b"\x04\x04no.x", b"\x0c\x04no.x")  # package_name as UTF8String
    with pytest.raises(InvalidDeviceAttestation, match="AttestationApplicationId"):
        parse_key_description(broken)


@pytest.mark.parametrize("der", [GOOD[: len(GOOD) // 3], b"\x31" + GOOD[1:], b"\x05\x00"])
def test_malformed_key_description_in_a_chain_is_the_typed_error(maker: DeviceMaker, der: bytes) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(InvalidDeviceAttestation, match="key description extension is not valid DER"):
        verify_android_key_attestation(leaf(maker, key, der), instance_key=key.public_key(), challenge=CHALLENGE,
                                       policies=[policy(maker)], clock=CLOCK)


def test_unknown_critical_extension_in_the_attestation_leaf_is_refused(maker: DeviceMaker) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "k")]))
            .issuer_name(maker.certificate.subject).public_key(key.public_key()).serial_number(1)
            .not_valid_before(CLOCK.now() - dt.timedelta(days=1)).not_valid_after(CLOCK.now() + dt.timedelta(days=1))
            .add_extension(x509.UnrecognizedExtension(KEY_DESCRIPTION_OID, GOOD), critical=False)
            .add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.2"), b"\x05\x00"),
                           critical=True)
            .sign(maker.key, hashes.SHA256()))
    with pytest.raises(InvalidDeviceAttestation, match=r"not trusted.*unknown critical extension"):
        verify_android_key_attestation([cert, maker.certificate], instance_key=key.public_key(),
                                       challenge=CHALLENGE, policies=[policy(maker)], clock=CLOCK)


def test_attestation_chain_past_its_validity_at_the_configured_clock_is_refused(maker: DeviceMaker) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    chain = parse_x5c(maker.attest(key.public_key(), CHALLENGE, clock=CLOCK))
    later = FixedClock(CLOCK.now() + dt.timedelta(days=3651 * 2))  # past the device maker root and the leaf
    with pytest.raises(InvalidDeviceAttestation, match=r"not trusted.*expired"):
        verify_android_key_attestation(chain, instance_key=key.public_key(), challenge=CHALLENGE,
                                       policies=[policy(maker)], clock=later)


# --------------------------------------------------------------------------------------------------
# A real device: Google's published Pixel TEE chain (tests/vectors/android_key_attestation, see PROVENANCE.md)
# --------------------------------------------------------------------------------------------------

VECTORS = Path(__file__).parents[2] / "vectors" / "android_key_attestation"
DEVICE_CLOCK = FixedClock(dt.datetime(2019, 6, 1, tzinfo=dt.UTC))  # within every certificate of the chain


def _device_chain() -> list[x509.Certificate]:
    return [x509.load_pem_x509_certificate((VECTORS / f"ec_tee_cert{i}.pem").read_bytes()) for i in range(4)]


def test_real_device_key_description_parses_against_the_schema() -> None:
    chain = _device_chain()
    ext = chain[0].extensions.get_extension_for_oid(KEY_DESCRIPTION_OID).value
    assert isinstance(ext, x509.UnrecognizedExtension)
    kd = parse_key_description(ext.value)
    assert (kd.attestation_version, kd.attestation_security_level, kd.keymint_security_level) == (3, 1, 1)
    assert kd.challenge == b"abc"
    assert kd.origin() == 0
    rot = kd.root_of_trust()
    assert rot is not None and not rot.device_locked and rot.verified_boot_state == 2
    assert "com.android.keychain" in kd.package_names()
    assert {718, 719} <= kd.hardware_enforced.tags  # vendor and boot patch levels (schema version 3)


def test_real_device_chain_verifies_at_the_configured_clock() -> None:
    chain = _device_chain()
    leaf_key = chain[0].public_key()
    assert isinstance(leaf_key, ec.EllipticCurvePublicKey)
    google = AttestationPolicy("android", (chain[3],), min_security_level=1, require_verified_boot=False,
                               package_names=frozenset({"com.android.keychain"}))
    result = verify_android_key_attestation(chain[:3], instance_key=leaf_key, challenge=b"abc", policies=[google],
                                            clock=DEVICE_CLOCK)
    assert (result.security_level, result.package_name) == ("tee", "com.android.keychain")
    strict = AttestationPolicy("android", (chain[3],), min_security_level=1, require_verified_boot=True,
                               package_names=frozenset({"com.android.keychain"}))
    with pytest.raises(InvalidDeviceAttestation, match="bootloader"):  # this test device is unlocked
        verify_android_key_attestation(chain[:3], instance_key=leaf_key, challenge=b"abc", policies=[strict],
                                       clock=DEVICE_CLOCK)
    with pytest.raises(InvalidDeviceAttestation, match=r"not trusted.*expired"):  # the root ended 2026-05-24
        verify_android_key_attestation(chain[:3], instance_key=leaf_key, challenge=b"abc", policies=[google],
                                       clock=FixedClock(dt.datetime(2026, 11, 28, tzinfo=dt.UTC)))
