"""Platform key attestation of a wallet instance: Android Key Attestation (Android Open Source Project,
"Verifying hardware-backed key pairs with key attestation", KeyDescription schema versions 3 to 400) and the
development "device maker" that produces attestations of the same shape.

An Android app generates its instance key in the Android Keystore with an attestation challenge; the Keystore
returns a certificate chain whose leaf certifies that key and carries the KeyDescription extension
(OID ``1.3.6.1.4.1.11129.2.1.17``): the challenge, the security level (Software / TrustedEnvironment /
StrongBox), and the software- and hardware-enforced authorization lists (root of trust, origin, the app's
package name in ``attestationApplicationId``). :func:`verify_android_key_attestation` checks:

1. the chain leads to one of the configured roots (``eidcore.trust.x509.validate_chain``, purpose
   ``key_attestation``, at the configured clock; deny by default; unknown critical extensions refused);
2. the leaf certifies exactly the instance key the request is signed with;
3. the KeyDescription parses against the ASN.1 schema (:mod:`eidcore.trust.android_key_attestation`, ``pyasn1``,
   strict DER) and its ``attestationChallenge`` equals the single-use challenge;
4. attestation and KeyMint security levels meet the policy's minimum; the key was generated in the device
   (``origin`` = GENERATED) when hardware-backed; with ``require_verified_boot`` the root of trust says the
   bootloader is locked and the boot state Verified;
5. the calling app's package name is one the policy allows.

The embedded default trusts a local development root, the "device maker" (``<keys_dir>/device-maker.*``),
which signs attestation certificates of the same format (security level Software, honestly), so tests and the
demo run the very same verification. Production trusts the roots in ``<keys_dir>/device-attestation-roots.pem``
(Google's hardware attestation roots) and requires a hardware security level and verified boot.

Not done: iOS App Attest (Apple's CBOR attestation object and assertion counter), and the Android attestation
revocation list (https://android.googleapis.com/attestation/status).
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from eidcore.clock import Clock
from eidcore.errors import InvalidDeviceAttestation, LommebokError
from eidcore.trust.android_key_attestation import (
    BOOT_VERIFIED,
    KEY_DESCRIPTION_OID,
    ORIGIN_GENERATED,
    SECURITY_LEVELS,
    KeyDescription,
    RootOfTrust,
    encode_key_description,
    parse_key_description,
)
from eidcore.trust.x509 import validate_chain

#: the Lommebok wallet app's package name (Android applicationId)
APP_PACKAGE = "no.lommebok.wallet"
MAX_X5C = 6
MAX_CERT_BYTES = 16 * 1024


# --------------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttestationPolicy:
    """What a set of attestation roots is trusted for."""

    name: str
    roots: tuple[x509.Certificate, ...]
    min_security_level: int
    require_verified_boot: bool
    package_names: frozenset[str] = frozenset({APP_PACKAGE})


@dataclass(frozen=True)
class DeviceAttestationResult:
    """A verified platform attestation of the instance key."""

    policy: str
    security_level: str
    user_authentication: bool
    package_name: str


def _same_key(cert: x509.Certificate, key: ec.EllipticCurvePublicKey) -> bool:
    fmt = serialization.PublicFormat.SubjectPublicKeyInfo
    return bool(cert.public_key().public_bytes(serialization.Encoding.DER, fmt)
                == key.public_bytes(serialization.Encoding.DER, fmt))


def parse_x5c(x5c: object) -> list[x509.Certificate]:
    """The attestation chain from a JSON array of standard-base64 DER certificates (leaf first)."""
    if not isinstance(x5c, list) or not x5c or len(x5c) > MAX_X5C or not all(isinstance(c, str) for c in x5c):
        raise InvalidDeviceAttestation(f"x5c must be a list of 1 to {MAX_X5C} base64 certificates")
    out = []
    for i, item in enumerate(x5c):
        if len(item) > MAX_CERT_BYTES * 2:
            raise InvalidDeviceAttestation(f"certificate {i} of x5c is too large")
        try:
            out.append(x509.load_der_x509_certificate(base64.b64decode(item, validate=True)))
        except ValueError:
            raise InvalidDeviceAttestation(f"certificate {i} of x5c is not base64 DER X.509") from None
    return out


def verify_android_key_attestation(
    chain: Sequence[x509.Certificate],
    *,
    instance_key: ec.EllipticCurvePublicKey,
    challenge: bytes,
    policies: Sequence[AttestationPolicy],
    clock: Clock,
) -> DeviceAttestationResult:
    """Verify an Android Key Attestation chain for ``instance_key`` and ``challenge`` (checks 1 to 5 above)."""
    policy = None
    last: LommebokError | None = None
    for candidate in policies:
        try:
            validate_chain(chain, candidate.roots, at=clock.now(), purpose="key_attestation")
        except LommebokError as exc:
            last = exc
            continue
        policy = candidate
        break
    if policy is None:
        reason = last.description if last is not None else "no attestation roots are configured"
        raise InvalidDeviceAttestation(f"the attestation chain is not trusted: {reason}")
    leaf = chain[0]
    if not _same_key(leaf, instance_key):
        raise InvalidDeviceAttestation("the attestation certifies a different key than the instance key")
    try:
        ext = leaf.extensions.get_extension_for_oid(KEY_DESCRIPTION_OID).value
    except x509.ExtensionNotFound:
        raise InvalidDeviceAttestation("the leaf certificate has no key description extension") from None
    if not isinstance(ext, x509.UnrecognizedExtension):
        raise InvalidDeviceAttestation("the key description extension cannot be read")
    kd = parse_key_description(ext.value)
    if kd.challenge != challenge:
        raise InvalidDeviceAttestation("the attestation challenge does not match")
    level = min(kd.attestation_security_level, kd.keymint_security_level)
    if level not in SECURITY_LEVELS:
        raise InvalidDeviceAttestation("unknown security level")
    if level < policy.min_security_level:
        raise InvalidDeviceAttestation(f"the key is protected at level {SECURITY_LEVELS[level]}, below the minimum")
    if level >= 1 and kd.origin() != ORIGIN_GENERATED:
        raise InvalidDeviceAttestation("the key was not generated inside the secure hardware")
    if policy.require_verified_boot:
        rot = kd.root_of_trust()
        if rot is None or not rot.device_locked or rot.verified_boot_state != BOOT_VERIFIED:
            raise InvalidDeviceAttestation("the device's bootloader is unlocked or its boot state is not verified")
    names = kd.package_names()
    allowed = [n for n in names if n in policy.package_names]
    if not allowed:
        raise InvalidDeviceAttestation("the attested key does not belong to the Lommebok wallet app")
    return DeviceAttestationResult(policy.name, SECURITY_LEVELS[level], kd.user_authentication_required(), allowed[0])


# --------------------------------------------------------------------------------------------------
# The development device maker
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceMaker:
    """A local CA standing in for a phone maker's attestation root (development and tests only)."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    def attest(self, instance_key: ec.EllipticCurvePublicKey, challenge: bytes, *, clock: Clock,
               package_name: str = APP_PACKAGE, security_level: int = 0) -> list[str]:
        """An attestation chain (x5c, standard base64 DER) for ``instance_key`` as a phone's Keystore makes it."""
        now = clock.now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Android Keystore Key")]))
            .issuer_name(self.certificate.subject)
            .public_key(instance_key)
            .serial_number(1)
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.UnrecognizedExtension(KEY_DESCRIPTION_OID, encode_key_description(
                challenge=challenge, security_level=security_level, package_name=package_name)), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        return [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()
                for c in (cert, self.certificate)]


def device_maker_path(keys_dir: Path) -> Path:
    return keys_dir / "device-maker.pem"


def load_or_create_device_maker(keys_dir: Path, *, clock: Clock) -> DeviceMaker:
    """Load ``<keys_dir>/device-maker.pem`` (key and certificate, 0600), creating it once (atomic, exclusive)."""
    path = device_maker_path(keys_dir)
    if not path.exists():
        from eidcore.keys import make_root_ca

        key, cert = make_root_ca("Lommebok Dev Device Maker (attestation root)", now=clock.now())
        data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()) + cert.public_bytes(serialization.Encoding.PEM)
        keys_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=keys_dir, prefix=".device-maker.")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            try:
                os.link(tmp, path)  # exclusive: a concurrent creator's file wins, never a mix of two
            except FileExistsError:
                pass
        finally:
            Path(tmp).unlink(missing_ok=True)
    return read_device_maker(path)


def read_device_maker(path: Path) -> DeviceMaker:
    """Read a device maker file written by :func:`load_or_create_device_maker`."""
    from eidcore.errors import ConfigurationError

    try:
        raw = path.read_bytes()
        key = serialization.load_pem_private_key(raw, password=None)
        cert = x509.load_pem_x509_certificate(raw[raw.index(b"-----BEGIN CERTIFICATE-----"):])
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read the dev device maker {path}: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ConfigurationError(f"{path} must hold an EC private key")
    return DeviceMaker(key, cert)


@dataclass(frozen=True)
class DevDevice:
    """A development "phone": attests keys with the device maker the server created at ``path`` (read lazily,
    so the server, which creates it on its first registration challenge, owns its creation)."""

    path: Path

    def attest(self, instance_key: ec.EllipticCurvePublicKey, challenge: bytes, *, clock: Clock) -> list[str]:
        return read_device_maker(self.path).attest(instance_key, challenge, clock=clock)


__all__ = [
    "APP_PACKAGE", "BOOT_VERIFIED", "KEY_DESCRIPTION_OID", "ORIGIN_GENERATED", "SECURITY_LEVELS", "AttestationPolicy",
    "DevDevice", "DeviceAttestationResult", "DeviceMaker", "KeyDescription", "RootOfTrust", "device_maker_path",
    "encode_key_description", "load_or_create_device_maker", "parse_key_description", "parse_x5c",
    "read_device_maker", "verify_android_key_attestation",
]
