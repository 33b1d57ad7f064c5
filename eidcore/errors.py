"""One typed error hierarchy for all of Lommebok.

Every error carries the error code the protocols answer with (OpenID4VCI 1.0 §8.3.1, OpenID4VP 1.0 §8.5,
RFC 6749 §5.2, RFC 6750 §3.1, RFC 9449 §7) as ``code`` and the HTTP status as ``status``, so a service
turns any of them into the spec's ``{"error": ..., "error_description": ...}`` answer without a table.

The shape follows eudi-lib-jvm-sdjwt-kt's taxonomy: a caller learns exactly what failed
(``KeyBindingFailed`` with its ``reason``, ``DuplicateDisclosure``, ``DigestMismatch``, ...).

Rules:
- raise the most specific class; never a bare ``ValueError`` out of a public eidcore function;
- ``description`` is safe to show to the other party: it never carries personal data or key material.
"""

from __future__ import annotations

from typing import Any, ClassVar


class LommebokError(Exception):
    """Base of every error Lommebok raises on purpose."""

    code: ClassVar[str] = "server_error"
    status: ClassVar[int] = 400

    def __init__(self, description: str = "", **details: Any) -> None:
        self.description = description or self.__class__.__doc__ or self.code
        self.details = details
        super().__init__(self.description)

    def to_oauth(self) -> dict[str, str]:
        """The error as an OAuth-style JSON body (RFC 6749 §5.2)."""
        return {"error": self.code, "error_description": self.description}


class ConfigurationError(LommebokError):
    """Settings, keys or files are missing or invalid; raised at start, never for a request."""

    code = "configuration_error"
    status = 500


class StorageUnavailable(LommebokError):
    """The database or the key-value store cannot be reached.

    Answered as 503 with ``Retry-After`` (RFC 9110 §15.6.4, §10.2.3): the client should try again shortly,
    whichever storage was lost (``details["headers"]``, which the web layer sends).
    """

    code = "temporarily_unavailable"
    status = 503
    #: seconds a client should wait before retrying
    retry_after: ClassVar[int] = 1

    def __init__(self, description: str = "", **details: Any) -> None:
        headers = details.get("headers")
        details["headers"] = {"Retry-After": str(self.retry_after), **(headers if isinstance(headers, dict) else {})}
        super().__init__(description, **details)


# --------------------------------------------------------------------------------------------------
# Credential formats and cryptography (JOSE, COSE, SD-JWT, SD-JWT VC, mdoc, status list)
# --------------------------------------------------------------------------------------------------


class FormatError(LommebokError):
    """A credential, presentation or token failed validation."""

    code = "invalid_credential"


class ParsingError(FormatError):
    """The input is not well-formed (bad base64url, JSON, CBOR, structure, or too large)."""


class UnsupportedAlgorithm(FormatError):
    """The algorithm is not on the allow-list for this use (``none`` and HMAC with a public key never are)."""


class InvalidHeader(FormatError):
    """A JOSE or COSE header is wrong: ``typ``, ``crit``, ``jwk``/``x5c`` mismatch, private key material."""


class InvalidSignature(FormatError):
    """The signature or MAC does not verify."""


class UntrustedIssuer(FormatError):
    """The issuer's key or certificate chain does not lead to a trust anchor configured for this use."""


class InvalidCertificate(FormatError):
    """A certificate or chain is malformed, expired, or lacks the required usage."""


class Expired(FormatError):
    """The credential, token or certificate has expired (``exp`` / ``validUntil``)."""


class NotYetValid(FormatError):
    """The credential, token or certificate is not yet valid (``nbf`` / ``validFrom`` / future ``iat``)."""


class MissingClaim(FormatError):
    """A required claim is missing."""


class InvalidClaim(FormatError):
    """A claim has the wrong type or value."""


class KeyBindingFailed(FormatError):
    """Holder key binding failed.

    ``reason`` names what: missing, signature, typ, nonce, aud, iat, sd_hash, unexpected.
    """

    def __init__(self, description: str = "", *, reason: str = "invalid", **details: Any) -> None:
        self.reason = reason
        super().__init__(description or f"key binding failed: {reason}", reason=reason, **details)


class DisclosureError(FormatError):
    """A disclosure is wrong (base class)."""


class InvalidDisclosure(DisclosureError):
    """A disclosure is malformed: not a 2- or 3-element array, a forbidden claim name, or a name collision."""


class DuplicateDisclosure(DisclosureError):
    """The same disclosure or digest appears more than once."""


class UnreferencedDisclosure(DisclosureError):
    """A disclosure is not referenced by any digest in the payload."""


class DigestMismatch(FormatError):
    """A value digest does not match the presented item (mdoc) or disclosure."""


class DoctypeMismatch(FormatError):
    """The mdoc ``docType`` differs between the Document and the MSO, or from what was expected."""


class DeviceAuthenticationFailed(FormatError):
    """The mdoc ``deviceSignature`` or ``deviceMac`` does not verify over the SessionTranscript."""


class KeyNotAuthorized(FormatError):
    """The mdoc device key is not authorized to sign the presented namespace or element."""


class TypeMetadataError(FormatError):
    """SD-JWT VC type metadata is missing, malformed, or fails its integrity check."""


class StatusError(FormatError):
    """A referenced token's status could not be established or is not valid (base class)."""

    code = "invalid_credential"


class StatusInvalid(StatusError):
    """The credential is revoked (status list value 0x01)."""


class StatusSuspended(StatusError):
    """The credential is suspended (status list value 0x02)."""


class StatusListError(StatusError):
    """The status list token is malformed, expired, unsigned by a trusted key, or the index is out of range."""


class EncryptionError(FormatError):
    """A JWE could not be made or opened (wrong key, algorithm not allowed, tampered ciphertext)."""

    code = "invalid_request"


# --------------------------------------------------------------------------------------------------
# Norwegian identity rules
# --------------------------------------------------------------------------------------------------


class IdentityNumberError(LommebokError):
    """An identity or organisation number breaks a rule; ``rule`` names which (length, digits, check_digit_1, ...)."""

    code = "invalid_request"

    def __init__(self, description: str = "", *, rule: str, **details: Any) -> None:
        self.rule = rule
        super().__init__(description or f"invalid number: {rule}", rule=rule, **details)


# --------------------------------------------------------------------------------------------------
# OAuth 2.0, OpenID4VCI, OpenID4VP protocol errors (code and status exactly as the specs name them)
# --------------------------------------------------------------------------------------------------


class ProtocolError(LommebokError):
    """An OAuth / OpenID4VC protocol error with the spec's code."""

    code = "invalid_request"


class InvalidRequest(ProtocolError):
    code = "invalid_request"


class InvalidClient(ProtocolError):
    code = "invalid_client"
    status = 401


class InvalidGrant(ProtocolError):
    code = "invalid_grant"


class UnauthorizedClient(ProtocolError):
    code = "unauthorized_client"


class UnsupportedGrantType(ProtocolError):
    code = "unsupported_grant_type"


class InvalidScope(ProtocolError):
    code = "invalid_scope"


class InvalidToken(ProtocolError):
    """RFC 6750 §3.1: the access token is missing, expired, revoked or malformed."""

    code = "invalid_token"
    status = 401


class InsufficientScope(ProtocolError):
    code = "insufficient_scope"
    status = 403


class AccessDenied(ProtocolError):
    code = "access_denied"
    status = 403


class InvalidDPoPProof(ProtocolError):
    """RFC 9449 §7.1."""

    code = "invalid_dpop_proof"
    status = 400


class UseDPoPNonce(ProtocolError):
    """RFC 9449 §8: the server requires a (fresh) DPoP nonce."""

    code = "use_dpop_nonce"
    status = 400


class InvalidCredentialRequest(ProtocolError):
    code = "invalid_credential_request"


class UnknownCredentialConfiguration(ProtocolError):
    code = "unknown_credential_configuration"


class UnknownCredentialIdentifier(ProtocolError):
    code = "unknown_credential_identifier"


class InvalidProof(ProtocolError):
    code = "invalid_proof"


class InvalidNonce(ProtocolError):
    code = "invalid_nonce"


class InvalidEncryptionParameters(ProtocolError):
    code = "invalid_encryption_parameters"


class CredentialRequestDenied(ProtocolError):
    code = "credential_request_denied"


class InvalidTransactionId(ProtocolError):
    code = "invalid_transaction_id"


class InvalidNotificationId(ProtocolError):
    code = "invalid_notification_id"


class InvalidNotificationRequest(ProtocolError):
    code = "invalid_notification_request"


class InvalidRequestUriMethod(ProtocolError):
    code = "invalid_request_uri_method"


class VpFormatsNotSupported(ProtocolError):
    code = "vp_formats_not_supported"


class InvalidTransactionData(ProtocolError):
    code = "invalid_transaction_data"


class NotFound(ProtocolError):
    code = "not_found"
    status = 404


class Conflict(ProtocolError):
    code = "conflict"
    status = 409


class PayloadTooLarge(ProtocolError):
    code = "invalid_request"
    status = 413


class RateLimited(ProtocolError):
    code = "slow_down"
    status = 429


# --------------------------------------------------------------------------------------------------
# Registers and credential types (eidcore/registers, eidcore/credential_types.py)
# --------------------------------------------------------------------------------------------------


class UnknownPerson(NotFound):
    """No person in the population register matches the identifier or person id."""


class UnknownOrganisation(NotFound):
    """No organisation in the organisation register has this organisation number."""


class UnknownRegisterRecord(NotFound):
    """The employment, guardianship or parental responsibility named does not exist (or has ended)."""


class CredentialTypeSpecError(ConfigurationError):
    """A folder under specs/credentials/ is missing a file or does not validate."""


class UnknownCredentialType(UnknownCredentialConfiguration):
    """No credential type with this id, vct or doctype is defined under specs/credentials/."""


# --------------------------------------------------------------------------------------------------
# mdoc (ISO/IEC 18013-5), added by the mdoc work
# --------------------------------------------------------------------------------------------------


class MdocStructureError(ParsingError):
    """An mdoc breaks ISO/IEC 18013-5 structure rules; ``deviations`` names every rule broken."""

    def __init__(self, description: str = "", *, deviations: list[str] | None = None, **details: Any) -> None:
        self.deviations = list(deviations or [])
        text = "mdoc does not conform to ISO/IEC 18013-5: " + "; ".join(self.deviations)
        super().__init__(description or text, deviations=self.deviations, **details)


# --------------------------------------------------------------------------------------------------
# DCQL (eidcore/dcql): OpenID4VP 1.0 §6 queries, §7 claims path pointers
# --------------------------------------------------------------------------------------------------


class ClaimsPathError(InvalidClaim):
    """A claims path pointer cannot be applied to a credential: a step meets the wrong type (OpenID4VP 1.0 §7)."""


class DcqlMismatch(ProtocolError):
    """A vp_token does not satisfy the DCQL query; ``check`` names the failed check, ``query_id`` and ``path`` where."""

    code = "invalid_request"

    def __init__(
        self, description: str = "", *, check: str, query_id: str | None = None, path: Any = None, **details: Any
    ) -> None:
        self.check = check
        self.query_id = query_id
        self.path = path
        super().__init__(description or f"dcql check failed: {check}", check=check, query_id=query_id, **details)


# --------------------------------------------------------------------------------------------------
# Wallet provider (wallet_api): RFC 9457 problem types of the wallet API
# --------------------------------------------------------------------------------------------------


class InvalidDeviceAttestation(InvalidRequest):
    """The platform key attestation (Android Key Attestation chain, dev device attestation) is not acceptable."""

    code = "invalid_device_attestation"


class InstanceNotActive(AccessDenied):
    """The wallet instance is suspended or revoked; ``state`` names which."""

    code = "instance_not_active"


class PreconditionFailed(ProtocolError):
    """RFC 9110 §13.1.1: the If-Match precondition does not hold (the resource changed)."""

    code = "precondition_failed"
    status = 412


class UpstreamUnavailable(LommebokError):
    """A service this one depends on (e.g. the issuer's admin API) did not answer as expected."""

    code = "upstream_unavailable"
    status = 502


class RemoteProblem(LommebokError):
    """Client side: a service answered with an error (RFC 9457 problem or OAuth error); ``error`` and
    ``http_status`` are what it sent, ``description`` its detail."""

    code = "remote_error"
    status = 502

    def __init__(self, description: str = "", *, error: str, http_status: int, **details: Any) -> None:
        self.error = error
        self.http_status = http_status
        super().__init__(description or error, error=error, http_status=http_status, **details)


# --------------------------------------------------------------------------------------------------
# Issuer (issuer/): the resource server's DPoP nonce demand (RFC 9449 §9)
# --------------------------------------------------------------------------------------------------


class UseDPoPNonceAtResource(UseDPoPNonce):
    """RFC 9449 §9: a resource server (the credential endpoint) demands a fresh DPoP nonce with HTTP 401."""

    status = 401
