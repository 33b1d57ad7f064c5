"""Platform key attestation of a wallet instance: Android Key Attestation (Android Open Source Project,
"Verifying hardware-backed key pairs with key attestation", KeyDescription schema versions 3 to 300) and the
development "device maker" that produces attestations of the same shape.

An Android app generates its instance key in the Android Keystore with an attestation challenge; the Keystore
returns a certificate chain whose leaf certifies that key and carries the KeyDescription extension
(OID ``1.3.6.1.4.1.11129.2.1.17``): the challenge, the security level (Software / TrustedEnvironment /
StrongBox), and the software- and hardware-enforced authorization lists (root of trust, origin, the app's
package name in ``attestationApplicationId``). :func:`verify_android_key_attestation` checks:

1. the chain leads to one of the configured roots (``eidcore.trust.x509.validate_chain``; deny by default);
2. the leaf certifies exactly the instance key the request is signed with;
3. the KeyDescription parses (strict DER) and its ``attestationChallenge`` equals the single-use challenge;
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
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ObjectIdentifier

from eidcore.clock import Clock
from eidcore.errors import InvalidDeviceAttestation, LommebokError
from eidcore.trust.x509 import validate_chain

KEY_DESCRIPTION_OID = ObjectIdentifier("1.3.6.1.4.1.11129.2.1.17")
#: the Lommebok wallet app's package name (Android applicationId)
APP_PACKAGE = "no.lommebok.wallet"
SECURITY_LEVELS = {0: "software", 1: "tee", 2: "strongbox"}
MAX_X5C = 6
MAX_CERT_BYTES = 16 * 1024

# AuthorizationList tags (KeyMint / Keymaster tag numbers without the type bits)
TAG_PURPOSE = 1
TAG_NO_AUTH_REQUIRED = 503
TAG_USER_AUTH_TYPE = 504
TAG_ORIGIN = 702
TAG_ROOT_OF_TRUST = 704
TAG_ATTESTATION_APPLICATION_ID = 709
ORIGIN_GENERATED = 0
BOOT_VERIFIED = 0


# --------------------------------------------------------------------------------------------------
# Strict DER (ITU-T X.690 §8, §10): just what the KeyDescription needs
# --------------------------------------------------------------------------------------------------

UNIVERSAL, CONTEXT = 0, 2
T_BOOLEAN, T_INTEGER, T_OCTET_STRING, T_NULL, T_ENUMERATED, T_SEQUENCE, T_SET = 1, 2, 4, 5, 10, 16, 17


@dataclass(frozen=True)
class Tlv:
    """One DER element: class (0 universal, 2 context), constructed flag, tag number, content octets."""

    cls: int
    constructed: bool
    tag: int
    content: bytes


def _bad(what: str) -> InvalidDeviceAttestation:
    return InvalidDeviceAttestation(f"the key description extension is not valid DER: {what}")


def der_read(data: bytes, pos: int = 0) -> tuple[Tlv, int]:
    """Read one DER element at ``pos``; returns it and the offset after it (X.690 §8.1, definite lengths)."""
    if pos >= len(data):
        raise _bad("truncated")
    first = data[pos]
    pos += 1
    cls, constructed, tag = first >> 6, bool(first & 0x20), first & 0x1F
    if tag == 0x1F:
        tag = 0
        for _ in range(4):
            if pos >= len(data):
                raise _bad("truncated tag")
            b = data[pos]
            pos += 1
            tag = (tag << 7) | (b & 0x7F)
            if not b & 0x80:
                break
        else:
            raise _bad("tag number too large")
        if tag < 31:
            raise _bad("non-minimal tag")
    if pos >= len(data):
        raise _bad("truncated length")
    length = data[pos]
    pos += 1
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4:
            raise _bad("indefinite or oversized length")
        if pos + n > len(data):
            raise _bad("truncated length")
        length = int.from_bytes(data[pos:pos + n], "big")
        if length < 0x80 or data[pos] == 0:
            raise _bad("non-minimal length")
        pos += n
    end = pos + length
    if end > len(data):
        raise _bad("content runs past the end")
    return Tlv(cls, constructed, tag, data[pos:end]), end


def der_children(content: bytes) -> list[Tlv]:
    """The elements inside a constructed element's content."""
    out: list[Tlv] = []
    pos = 0
    while pos < len(content):
        item, pos = der_read(content, pos)
        out.append(item)
        if len(out) > 512:
            raise _bad("too many elements")
    return out


def _expect(t: Tlv, tag: int, what: str, *, constructed: bool = False) -> Tlv:
    if t.cls != UNIVERSAL or t.tag != tag or t.constructed != constructed:
        raise _bad(f"{what} has the wrong type")
    return t


def der_int(t: Tlv, what: str, *, tag: int = T_INTEGER) -> int:
    _expect(t, tag, what)
    if not t.content or (len(t.content) > 1 and t.content[0] == 0 and not t.content[1] & 0x80):
        raise _bad(f"{what} is not a minimal integer")
    return int.from_bytes(t.content, "big", signed=True)


def der_encode(cls: int, constructed: bool, tag: int, content: bytes) -> bytes:
    """Encode one DER element (X.690 §8.1.2, §8.1.3)."""
    first = (cls << 6) | (0x20 if constructed else 0)
    if tag < 31:
        head = bytes([first | tag])
    else:
        groups = []
        n = tag
        while True:
            groups.append(n & 0x7F)
            n >>= 7
            if not n:
                break
        groups.reverse()
        head = bytes([first | 0x1F]) + bytes([g | 0x80 for g in groups[:-1]] + [groups[-1]])
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return head + length + content


def _int_bytes(value: int) -> bytes:
    return value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True)


def enc_int(value: int, tag: int = T_INTEGER) -> bytes:
    return der_encode(UNIVERSAL, False, tag, _int_bytes(value))


def enc_octets(value: bytes) -> bytes:
    return der_encode(UNIVERSAL, False, T_OCTET_STRING, value)


def enc_seq(*items: bytes, tag: int = T_SEQUENCE) -> bytes:
    parts = sorted(items) if tag == T_SET else list(items)  # DER SET OF: sorted encodings (X.690 §11.6)
    return der_encode(UNIVERSAL, True, tag, b"".join(parts))


def enc_explicit(tag: int, inner: bytes) -> bytes:
    return der_encode(CONTEXT, True, tag, inner)


# --------------------------------------------------------------------------------------------------
# KeyDescription
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RootOfTrust:
    device_locked: bool
    verified_boot_state: int


@dataclass(frozen=True)
class KeyDescription:
    """The parts of the Android KeyDescription the wallet provider decides on."""

    attestation_version: int
    attestation_security_level: int
    keymint_security_level: int
    challenge: bytes
    software_enforced: dict[int, Tlv] = field(repr=False)
    hardware_enforced: dict[int, Tlv] = field(repr=False)

    def authorization(self, tag: int) -> Tlv | None:
        """A tag from the hardware-enforced list, else the software-enforced one."""
        return self.hardware_enforced.get(tag) or self.software_enforced.get(tag)

    def origin(self) -> int | None:
        t = self.hardware_enforced.get(TAG_ORIGIN)
        return der_int(t, "origin") if t is not None else None

    def root_of_trust(self) -> RootOfTrust | None:
        t = self.hardware_enforced.get(TAG_ROOT_OF_TRUST)
        if t is None:
            return None
        items = der_children(_expect(t, T_SEQUENCE, "rootOfTrust", constructed=True).content)
        if len(items) < 3:
            raise _bad("rootOfTrust is too short")
        locked = _expect(items[1], T_BOOLEAN, "deviceLocked")
        if locked.content not in (b"\x00", b"\xff"):
            raise _bad("deviceLocked is not a DER boolean")
        return RootOfTrust(locked.content == b"\xff", der_int(items[2], "verifiedBootState", tag=T_ENUMERATED))

    def package_names(self) -> list[str]:
        t = self.software_enforced.get(TAG_ATTESTATION_APPLICATION_ID)
        if t is None:
            return []
        inner, _ = der_read(_expect(t, T_OCTET_STRING, "attestationApplicationId").content)
        items = der_children(_expect(inner, T_SEQUENCE, "AttestationApplicationId", constructed=True).content)
        if not items:
            raise _bad("AttestationApplicationId is empty")
        names = []
        for info in der_children(_expect(items[0], T_SET, "package_infos", constructed=True).content):
            parts = der_children(_expect(info, T_SEQUENCE, "AttestationPackageInfo", constructed=True).content)
            if not parts:
                raise _bad("AttestationPackageInfo is empty")
            try:
                names.append(_expect(parts[0], T_OCTET_STRING, "package_name").content.decode("utf-8"))
            except UnicodeDecodeError:
                raise _bad("package_name is not UTF-8") from None
        return names

    def user_authentication_required(self) -> bool:
        return TAG_USER_AUTH_TYPE in self.hardware_enforced and TAG_NO_AUTH_REQUIRED not in self.hardware_enforced


def _authorization_list(t: Tlv, what: str) -> dict[int, Tlv]:
    out: dict[int, Tlv] = {}
    for item in der_children(_expect(t, T_SEQUENCE, what, constructed=True).content):
        if item.cls != CONTEXT or not item.constructed:
            raise _bad(f"{what} holds an element that is not an explicit tag")
        if item.tag in out:
            raise _bad(f"{what} repeats tag {item.tag}")
        inner, end = der_read(item.content)
        if end != len(item.content):
            raise _bad(f"{what} tag {item.tag} has trailing data")
        out[item.tag] = inner
    return out


def parse_key_description(der: bytes) -> KeyDescription:
    """Parse the KeyDescription extension value (strict DER, no trailing data)."""
    top, end = der_read(der)
    if end != len(der):
        raise _bad("trailing data")
    items = der_children(_expect(top, T_SEQUENCE, "KeyDescription", constructed=True).content)
    if len(items) < 8:
        raise _bad("KeyDescription has too few fields")
    return KeyDescription(
        attestation_version=der_int(items[0], "attestationVersion"),
        attestation_security_level=der_int(items[1], "attestationSecurityLevel", tag=T_ENUMERATED),
        keymint_security_level=der_int(items[3], "keyMintSecurityLevel", tag=T_ENUMERATED),
        challenge=_expect(items[4], T_OCTET_STRING, "attestationChallenge").content,
        software_enforced=_authorization_list(items[6], "softwareEnforced"),
        hardware_enforced=_authorization_list(items[7], "hardwareEnforced"),
    )


def encode_key_description(
    *, challenge: bytes, security_level: int, package_name: str, attestation_version: int = 200,
    device_locked: bool = True, verified_boot_state: int = BOOT_VERIFIED, user_auth: bool = False,
) -> bytes:
    """Encode a KeyDescription (what the Keystore writes; used by the development device maker and tests)."""
    app_id = enc_seq(enc_seq(enc_seq(enc_octets(package_name.encode()), enc_int(1)), tag=T_SET),
                     enc_seq(enc_octets(b"\x00" * 32), tag=T_SET))
    software = enc_seq(enc_explicit(TAG_ATTESTATION_APPLICATION_ID, enc_octets(app_id)))
    no_auth = enc_explicit(TAG_NO_AUTH_REQUIRED, der_encode(UNIVERSAL, False, T_NULL, b""))
    hw_items = [
        enc_explicit(TAG_PURPOSE, enc_seq(enc_int(2), tag=T_SET)),
        enc_explicit(TAG_USER_AUTH_TYPE, enc_int(2)) if user_auth else no_auth,
        enc_explicit(TAG_ORIGIN, enc_int(ORIGIN_GENERATED)),
        enc_explicit(TAG_ROOT_OF_TRUST, enc_seq(
            enc_octets(b"\x00" * 32), der_encode(0, False, T_BOOLEAN, b"\xff" if device_locked else b"\x00"),
            enc_int(verified_boot_state, T_ENUMERATED), enc_octets(b"\x00" * 32))),
    ]
    hw_items.sort(key=lambda b: der_read(b)[0].tag)
    return enc_seq(
        enc_int(attestation_version), enc_int(security_level, T_ENUMERATED), enc_int(attestation_version),
        enc_int(security_level, T_ENUMERATED), enc_octets(challenge), enc_octets(b""), software,
        enc_seq(*hw_items),
    )


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
            validate_chain(chain, candidate.roots, at=clock.now(), purpose="any")
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
