"""The Android Key Attestation extension: the ASN.1 schema of KeyDescription, AuthorizationList, RootOfTrust and
AttestationApplicationId (Android Open Source Project, "Verifying hardware-backed key pairs with key attestation",
"Attestation extension schema", versions 3, 4, 100, 200, 300 and 400), parsed and written with ``pyasn1``.

The Keystore writes the extension (OID ``1.3.6.1.4.1.11129.2.1.17``) into the leaf of an attestation chain.
:func:`parse_key_description` decodes it against the schema, strictly: DER only (ITU-T X.690 §10: definite minimal
lengths, minimal integers, sorted SET OF, ``0xFF`` true), checked by re-encoding, no trailing data, every tag of the
AuthorizationList one the schema of these versions names (in ascending order, once). Anything else raises
:class:`InvalidDeviceAttestation` (HTTP 400), never another exception. :func:`encode_key_description` writes what a
Keystore writes (the development device maker and the tests use it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cryptography.x509.oid import ObjectIdentifier
from pyasn1.codec.der import decoder as der_decoder
from pyasn1.codec.der import encoder as der_encoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import namedtype, tag, univ

from eidcore.errors import InvalidDeviceAttestation

KEY_DESCRIPTION_OID = ObjectIdentifier("1.3.6.1.4.1.11129.2.1.17")

# AuthorizationList tags (KeyMint / Keymaster tag numbers without the type bits)
TAG_PURPOSE = 1
TAG_NO_AUTH_REQUIRED = 503
TAG_USER_AUTH_TYPE = 504
TAG_ORIGIN = 702
TAG_ROOT_OF_TRUST = 704
TAG_ATTESTATION_APPLICATION_ID = 709
ORIGIN_GENERATED = 0
BOOT_VERIFIED = 0
#: SecurityLevel ::= ENUMERATED { Software (0), TrustedEnvironment (1), StrongBox (2) }
SECURITY_LEVELS = {0: "software", 1: "tee", 2: "strongbox"}


def _explicit(number: int, inner: Any) -> Any:
    """``[number] EXPLICIT inner`` (context class; pyasn1 makes an explicit tag constructed)."""
    return inner.subtype(explicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatSimple, number))


# --------------------------------------------------------------------------------------------------
# The schema
# --------------------------------------------------------------------------------------------------


class RootOfTrustSchema(univ.Sequence):  # type: ignore[misc]
    """``RootOfTrust ::= SEQUENCE { verifiedBootKey OCTET STRING, deviceLocked BOOLEAN,
    verifiedBootState VerifiedBootState, verifiedBootHash OCTET STRING }`` (the hash from version 3 on)."""

    componentType = namedtype.NamedTypes(
        namedtype.NamedType("verifiedBootKey", univ.OctetString()),
        namedtype.NamedType("deviceLocked", univ.Boolean()),
        namedtype.NamedType("verifiedBootState", univ.Enumerated()),
        namedtype.OptionalNamedType("verifiedBootHash", univ.OctetString()),
    )


class AttestationPackageInfoSchema(univ.Sequence):  # type: ignore[misc]
    """``AttestationPackageInfo ::= SEQUENCE { package_name OCTET_STRING, version INTEGER }``."""

    componentType = namedtype.NamedTypes(
        namedtype.NamedType("packageName", univ.OctetString()),
        namedtype.NamedType("version", univ.Integer()),
    )


class AttestationApplicationIdSchema(univ.Sequence):  # type: ignore[misc]
    """``AttestationApplicationId ::= SEQUENCE { package_infos SET OF AttestationPackageInfo,
    signature_digests SET OF OCTET_STRING }`` (the content of the ``attestationApplicationId`` OCTET STRING)."""

    componentType = namedtype.NamedTypes(
        namedtype.NamedType("packageInfos", univ.SetOf(componentType=AttestationPackageInfoSchema())),
        namedtype.NamedType("signatureDigests", univ.SetOf(componentType=univ.OctetString())),
    )


def _int_set() -> Any:
    return univ.SetOf(componentType=univ.Integer())


#: every AuthorizationList field of schema versions 3 to 400: (name, tag, type), in tag order
AUTHORIZATION_FIELDS: tuple[tuple[str, int, Any], ...] = (
    ("purpose", TAG_PURPOSE, _int_set()),
    ("algorithm", 2, univ.Integer()),
    ("keySize", 3, univ.Integer()),
    ("digest", 5, _int_set()),
    ("padding", 6, _int_set()),
    ("ecCurve", 10, univ.Integer()),
    ("rsaPublicExponent", 200, univ.Integer()),
    ("mgfDigest", 203, _int_set()),  # version 100
    ("rollbackResistance", 303, univ.Null()),
    ("earlyBootOnly", 305, univ.Null()),  # version 4
    ("activeDateTime", 400, univ.Integer()),
    ("originationExpireDateTime", 401, univ.Integer()),
    ("usageExpireDateTime", 402, univ.Integer()),
    ("usageCountLimit", 405, univ.Integer()),  # version 100
    ("noAuthRequired", TAG_NO_AUTH_REQUIRED, univ.Null()),
    ("userAuthType", TAG_USER_AUTH_TYPE, univ.Integer()),
    ("authTimeout", 505, univ.Integer()),
    ("allowWhileOnBody", 506, univ.Null()),
    ("trustedUserPresenceRequired", 507, univ.Null()),
    ("trustedConfirmationRequired", 508, univ.Null()),
    ("unlockedDeviceRequired", 509, univ.Null()),
    ("allApplications", 600, univ.Null()),  # versions 3 and 4
    ("applicationId", 601, univ.OctetString()),  # versions 3 and 4
    ("creationDateTime", 701, univ.Integer()),
    ("origin", TAG_ORIGIN, univ.Integer()),
    ("rollbackResistant", 703, univ.Null()),  # versions 3 and 4
    ("rootOfTrust", TAG_ROOT_OF_TRUST, RootOfTrustSchema()),
    ("osVersion", 705, univ.Integer()),
    ("osPatchLevel", 706, univ.Integer()),
    ("attestationApplicationId", TAG_ATTESTATION_APPLICATION_ID, univ.OctetString()),
    ("attestationIdBrand", 710, univ.OctetString()),
    ("attestationIdDevice", 711, univ.OctetString()),
    ("attestationIdProduct", 712, univ.OctetString()),
    ("attestationIdSerial", 713, univ.OctetString()),
    ("attestationIdImei", 714, univ.OctetString()),
    ("attestationIdMeid", 715, univ.OctetString()),
    ("attestationIdManufacturer", 716, univ.OctetString()),
    ("attestationIdModel", 717, univ.OctetString()),
    ("vendorPatchLevel", 718, univ.Integer()),
    ("bootPatchLevel", 719, univ.Integer()),
    ("deviceUniqueAttestation", 720, univ.Null()),  # version 4
    ("attestationIdSecondImei", 723, univ.OctetString()),  # version 300
    ("moduleHash", 724, univ.OctetString()),  # version 400
)
_FIELD_BY_TAG = {number: name for name, number, _ in AUTHORIZATION_FIELDS}


class AuthorizationListSchema(univ.Sequence):  # type: ignore[misc]
    """``AuthorizationList ::= SEQUENCE { purpose [1] EXPLICIT SET OF INTEGER OPTIONAL, ... }``: every field of
    :data:`AUTHORIZATION_FIELDS`, each ``[tag] EXPLICIT ... OPTIONAL``."""

    componentType = namedtype.NamedTypes(
        *(namedtype.OptionalNamedType(name, _explicit(number, kind)) for name, number, kind in AUTHORIZATION_FIELDS)
    )


class KeyDescriptionSchema(univ.Sequence):  # type: ignore[misc]
    """``KeyDescription ::= SEQUENCE { attestationVersion INTEGER, attestationSecurityLevel SecurityLevel,
    keyMintVersion INTEGER, keyMintSecurityLevel SecurityLevel, attestationChallenge OCTET_STRING,
    uniqueId OCTET_STRING, softwareEnforced AuthorizationList, hardwareEnforced AuthorizationList }``
    (``keymasterVersion`` / ``keymasterSecurityLevel`` before version 100)."""

    componentType = namedtype.NamedTypes(
        namedtype.NamedType("attestationVersion", univ.Integer()),
        namedtype.NamedType("attestationSecurityLevel", univ.Enumerated()),
        namedtype.NamedType("keyMintVersion", univ.Integer()),
        namedtype.NamedType("keyMintSecurityLevel", univ.Enumerated()),
        namedtype.NamedType("attestationChallenge", univ.OctetString()),
        namedtype.NamedType("uniqueId", univ.OctetString()),
        namedtype.NamedType("softwareEnforced", AuthorizationListSchema()),
        namedtype.NamedType("hardwareEnforced", AuthorizationListSchema()),
    )


# --------------------------------------------------------------------------------------------------
# Parsed values
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RootOfTrust:
    """What the bootloader reported: whether it is locked and the verified-boot state (0 Verified, 1 SelfSigned,
    2 Unverified, 3 Failed)."""

    device_locked: bool
    verified_boot_state: int


@dataclass(frozen=True)
class AuthorizationList:
    """The parts of one authorization list the wallet provider decides on, and which tags were present."""

    tags: frozenset[int] = frozenset()
    origin: int | None = None
    root_of_trust: RootOfTrust | None = None
    package_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class KeyDescription:
    """The parts of the Android KeyDescription the wallet provider decides on."""

    attestation_version: int
    attestation_security_level: int
    keymint_security_level: int
    challenge: bytes
    software_enforced: AuthorizationList = field(repr=False)
    hardware_enforced: AuthorizationList = field(repr=False)

    def origin(self) -> int | None:
        """``origin`` from the hardware-enforced list (0 = generated inside the secure hardware)."""
        return self.hardware_enforced.origin

    def root_of_trust(self) -> RootOfTrust | None:
        """``rootOfTrust`` from the hardware-enforced list."""
        return self.hardware_enforced.root_of_trust

    def package_names(self) -> list[str]:
        """The calling app's package names (``attestationApplicationId``, software-enforced)."""
        return list(self.software_enforced.package_names)

    def user_authentication_required(self) -> bool:
        """The key needs user authentication: ``userAuthType`` set and ``noAuthRequired`` absent (hardware)."""
        hw = self.hardware_enforced.tags
        return TAG_USER_AUTH_TYPE in hw and TAG_NO_AUTH_REQUIRED not in hw


# --------------------------------------------------------------------------------------------------
# Parsing and writing
# --------------------------------------------------------------------------------------------------


def _bad(what: str) -> InvalidDeviceAttestation:
    return InvalidDeviceAttestation(f"the key description extension is not valid DER: {what}")


def _decode_der(data: bytes, spec: Any, what: str) -> Any:
    """Decode ``data`` against ``spec``: DER only (re-encoding gives the same bytes), no trailing data."""
    try:
        value, rest = der_decoder.decode(data, asn1Spec=spec)
        if rest:
            raise _bad(f"{what} has trailing data")
        canonical = der_encoder.encode(value)
    except InvalidDeviceAttestation:
        raise
    except (PyAsn1Error, ValueError, TypeError, LookupError, RecursionError):
        raise _bad(f"{what} does not match the schema") from None
    if canonical != data:
        raise _bad(f"{what} is not in DER form")
    return value


def _present(value: Any) -> bool:
    return bool(value.isValue)


def _authorization_list(value: Any) -> AuthorizationList:
    tags = frozenset(number for name, number, _ in AUTHORIZATION_FIELDS if _present(value[name]))
    origin = int(value["origin"]) if TAG_ORIGIN in tags else None
    rot = None
    if TAG_ROOT_OF_TRUST in tags:
        r = value["rootOfTrust"]
        rot = RootOfTrust(bool(r["deviceLocked"]), int(r["verifiedBootState"]))
    names: tuple[str, ...] = ()
    if TAG_ATTESTATION_APPLICATION_ID in tags:
        app = _decode_der(bytes(value["attestationApplicationId"]), AttestationApplicationIdSchema(),
                          "AttestationApplicationId")
        try:
            names = tuple(bytes(info["packageName"]).decode("utf-8") for info in app["packageInfos"])
        except UnicodeDecodeError:
            raise _bad("package_name is not UTF-8") from None
    return AuthorizationList(tags, origin, rot, names)


def parse_key_description(der: bytes) -> KeyDescription:
    """Parse the KeyDescription extension value against :class:`KeyDescriptionSchema` (strict DER)."""
    kd = _decode_der(der, KeyDescriptionSchema(), "KeyDescription")
    try:
        return KeyDescription(
            attestation_version=int(kd["attestationVersion"]),
            attestation_security_level=int(kd["attestationSecurityLevel"]),
            keymint_security_level=int(kd["keyMintSecurityLevel"]),
            challenge=bytes(kd["attestationChallenge"]),
            software_enforced=_authorization_list(kd["softwareEnforced"]),
            hardware_enforced=_authorization_list(kd["hardwareEnforced"]),
        )
    except InvalidDeviceAttestation:
        raise
    except (PyAsn1Error, ValueError, TypeError, LookupError):
        raise _bad("KeyDescription does not match the schema") from None


def _set_authorization(target: Any, values: dict[int, Any]) -> None:
    for number, value in sorted(values.items()):
        name = _FIELD_BY_TAG[number]
        if isinstance(value, list):
            target[name].extend(value)
        else:
            target[name] = value


def encode_key_description(
    *, challenge: bytes, security_level: int, package_name: str, attestation_version: int = 200,
    device_locked: bool = True, verified_boot_state: int = BOOT_VERIFIED, user_auth: bool = False,
) -> bytes:
    """Encode a KeyDescription as the Keystore writes it (used by the development device maker and tests)."""
    app = AttestationApplicationIdSchema()
    info = AttestationPackageInfoSchema()
    info["packageName"] = package_name.encode()
    info["version"] = 1
    app["packageInfos"].append(info)
    app["signatureDigests"].append(b"\x00" * 32)
    kd = KeyDescriptionSchema()
    kd["attestationVersion"] = attestation_version
    kd["attestationSecurityLevel"] = security_level
    kd["keyMintVersion"] = attestation_version
    kd["keyMintSecurityLevel"] = security_level
    kd["attestationChallenge"] = challenge
    kd["uniqueId"] = b""
    _set_authorization(kd["softwareEnforced"], {TAG_ATTESTATION_APPLICATION_ID: der_encoder.encode(app)})
    rot = kd["hardwareEnforced"]["rootOfTrust"]
    rot["verifiedBootKey"] = b"\x00" * 32
    rot["deviceLocked"] = device_locked
    rot["verifiedBootState"] = verified_boot_state
    rot["verifiedBootHash"] = b"\x00" * 32
    auth: dict[int, Any] = {TAG_PURPOSE: [2], TAG_ORIGIN: ORIGIN_GENERATED}
    auth[TAG_USER_AUTH_TYPE if user_auth else TAG_NO_AUTH_REQUIRED] = 2 if user_auth else ""
    _set_authorization(kd["hardwareEnforced"], auth)
    encoded: bytes = der_encoder.encode(kd)
    return encoded
