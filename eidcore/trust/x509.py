"""X.509 certificate path validation for issuer, document-signer, wallet-provider and verifier chains.

RFC 5280 §6.1 basic path validation (signature of each certificate by the next, validity at the given time,
basicConstraints ``cA`` and ``pathLenConstraint``, keyUsage ``keyCertSign`` on CAs, ``digitalSignature`` on
signing leaves), plus the purpose constraints of ISO/IEC 18013-5 Annex B (document signer EKU
``1.0.18013.5.1.2``). Deny by default: a chain that does not end at one of the caller's trust anchors is
rejected, and a self-signed leaf is never trusted unless it is itself an anchor.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal, TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

from eidcore.errors import InvalidCertificate, ParsingError, UntrustedIssuer

Purpose = Literal["any", "mdoc_ds", "sd_jwt_vc_issuer", "wallet_provider", "verifier_access"]

#: ISO/IEC 18013-5 Annex B.1.4: extended key usage of an mdoc document signer certificate.
MDOC_DS_EKU = ObjectIdentifier("1.0.18013.5.1.2")
MAX_CHAIN = 8
_DER = Encoding.DER
_E = TypeVar("_E", bound=x509.ExtensionType)


def load_der_chain(items: Sequence[bytes]) -> list[x509.Certificate]:
    """Parse DER certificates (an ``x5c``/``x5chain`` list), raising :class:`ParsingError` on garbage."""
    out = []
    for i, der in enumerate(items):
        try:
            out.append(x509.load_der_x509_certificate(der))
        except ValueError as exc:
            raise ParsingError(f"certificate {i} of the chain is not DER X.509") from exc
    return out


def _ext(cert: x509.Certificate, kind: type[_E]) -> _E | None:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _check_time(cert: x509.Certificate, at: datetime, what: str) -> None:
    if at < cert.not_valid_before_utc:
        raise InvalidCertificate(f"{what} certificate is not yet valid", subject=cert.subject.rfc4514_string())
    if at > cert.not_valid_after_utc:
        raise InvalidCertificate(f"{what} certificate has expired", subject=cert.subject.rfc4514_string())


def _check_ca(cert: x509.Certificate, below: int) -> None:
    bc = _ext(cert, x509.BasicConstraints)
    if bc is None or not bc.ca:
        raise InvalidCertificate("an issuing certificate in the chain is not a CA (basicConstraints)")
    if bc.path_length is not None and below > bc.path_length:
        raise InvalidCertificate("the chain exceeds a CA's pathLenConstraint")
    ku = _ext(cert, x509.KeyUsage)
    if ku is not None and not ku.key_cert_sign:
        raise InvalidCertificate("an issuing certificate lacks keyUsage keyCertSign")


def _check_leaf(cert: x509.Certificate, purpose: Purpose) -> None:
    if purpose == "any":
        return
    ku = _ext(cert, x509.KeyUsage)
    if ku is None or not ku.digital_signature:
        raise InvalidCertificate("the signing certificate lacks keyUsage digitalSignature")
    bc = _ext(cert, x509.BasicConstraints)
    if bc is not None and bc.ca:
        raise InvalidCertificate("a CA certificate must not sign credentials directly")
    if purpose == "mdoc_ds":
        eku = _ext(cert, x509.ExtendedKeyUsage)
        if eku is None or MDOC_DS_EKU not in eku:
            raise InvalidCertificate("the document signer certificate lacks EKU 1.0.18013.5.1.2")
    if purpose == "verifier_access":
        eku = _ext(cert, x509.ExtendedKeyUsage)
        if eku is not None and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in eku and not list(eku):
            raise InvalidCertificate("the verifier certificate has an empty extendedKeyUsage")


def _issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(parent)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def validate_chain(
    chain: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    *,
    at: datetime,
    purpose: Purpose = "any",
) -> x509.Certificate:
    """Validate ``chain`` (leaf first, anchor normally absent) up to one of ``anchors`` at time ``at``.

    RFC 5280 §6.1. Returns the verified leaf certificate. Raises :class:`UntrustedIssuer` when no anchor is
    reached and :class:`InvalidCertificate` when a certificate is expired, not yet valid, or lacks the
    required usage.
    """
    try:
        return _validate(chain, anchors, at=at, purpose=purpose)
    except ValueError as exc:  # cryptography parses lazily: a damaged field fails when first read
        raise InvalidCertificate(f"a certificate in the chain is malformed: {exc}") from exc


def _validate(
    chain: Sequence[x509.Certificate], anchors: Sequence[x509.Certificate], *, at: datetime, purpose: Purpose
) -> x509.Certificate:
    if not chain:
        raise ParsingError("empty certificate chain")
    if len(chain) > MAX_CHAIN:
        raise ParsingError(f"certificate chain longer than {MAX_CHAIN}")
    if not anchors:
        raise UntrustedIssuer("no trust anchor is configured for this use")
    leaf = chain[0]
    _check_leaf(leaf, purpose)
    anchor_ders = {a.public_bytes(_DER) for a in anchors}
    current = leaf
    _check_time(leaf, at, "the signing")
    # A leaf that is itself a configured anchor (pinned certificate) is trusted as is.
    if leaf.public_bytes(_DER) in anchor_ders:
        return leaf
    for depth, parent in enumerate(chain[1:]):
        if parent.public_bytes(_DER) in anchor_ders:
            break
        if not _issued_by(current, parent):
            raise UntrustedIssuer("the certificate chain is broken: a certificate is not signed by the next one")
        _check_ca(parent, depth)
        _check_time(parent, at, "an intermediate")
        current = parent
    for anchor in anchors:
        if current.issuer == anchor.subject and _issued_by(current, anchor):
            _check_time(anchor, at, "the trust anchor")
            return leaf
    raise UntrustedIssuer("the certificate chain does not lead to a trusted anchor")

