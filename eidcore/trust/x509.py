"""X.509 certificate path validation for issuer, document-signer, wallet-provider, verifier, status-list and key
attestation chains, on :mod:`cryptography.x509.verification`.

RFC 5280 §6.1 basic path validation is done by ``cryptography``'s path builder (signature of each certificate by
its issuer, validity of every certificate *and* the trust anchor at the caller's time, basicConstraints ``cA`` and
``pathLenConstraint``, name constraints, RFC 5280 §4.2 "a certificate-using system MUST reject the certificate if
it encounters a critical extension it does not recognize"). What each chain is for is one :class:`Profile` per
:data:`Purpose`: a pair of ``cryptography`` extension policies (one for the CAs, one for the end entity) that say
which extensions must or may be present, with which criticality, and what their values must hold:

- ``mdoc_ds``: ISO/IEC 18013-5 Annex B.1.4 document signer (keyUsage digitalSignature, EKU ``1.0.18013.5.1.2``,
  which Table B.3 marks critical) under an IACA (Annex B.1.2: basicConstraints cA, keyUsage keyCertSign);
- ``sd_jwt_vc_issuer``: the SD-JWT VC issuer's ``x5c`` leaf (SD-JWT VC §3.5; a signing certificate);
- ``wallet_provider``: the wallet provider's wallet and key attestation signer (OpenID4VCI 1.0 Appendix E;
  ETSI TS 119 412-6 style signing certificate);
- ``verifier_access``: the relying party's access certificate (OpenID4VP 1.0 §5.9 ``x509_san_dns`` /
  ``x509_hash``); an extendedKeyUsage, if present, must not be empty;
- ``status_list``: the Token Status List signer's ``x5c`` leaf (draft-ietf-oauth-status-list §5.1, §6.1);
- ``key_attestation``: an Android Key Attestation chain (AOSP "Verifying hardware-backed key pairs"): the Keystore
  leaf carries no usage extensions of its own, so only the chain's CAs are constrained;
- ``any``: a chain whose leaf has no particular usage (the CAs are still constrained).

The profiles of the Web PKI (``webpki_defaults_*``: subjectAltName and AKI mandatory, EKU ``serverAuth`` /
``clientAuth`` non-critical) do not fit these specifications (an ISO document signer's EKU is critical and names
no TLS purpose; an Android attestation leaf has no AKI), so every profile starts from
:meth:`ExtensionPolicy.permit_all` and adds the constraints its specification sets. ``cryptography`` still refuses
every critical extension that no policy accounts for, SHA-1 and other weak signature algorithms, RSA keys under
2048 bits, and malformed validity encodings (RFC 5280 §4.1.2.5).

Deny by default: a chain that does not end at one of the caller's trust anchors is rejected, and a self-signed leaf
is never trusted unless it is itself an anchor (a pinned certificate, which must still fit the profile). The
presented chain must be in order (RFC 7515 §4.1.6, RFC 9360 §2: each certificate certifies the one before it):
the path ``cryptography`` builds must be the presented certificates, leaf first, up to the anchor.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    Policy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from eidcore.errors import InvalidCertificate, LommebokError, ParsingError, UntrustedIssuer

Purpose = Literal[
    "any", "mdoc_ds", "sd_jwt_vc_issuer", "wallet_provider", "verifier_access", "status_list", "key_attestation"
]

#: ISO/IEC 18013-5 Annex B.1.4: extended key usage of an mdoc document signer certificate.
MDOC_DS_EKU = ObjectIdentifier("1.0.18013.5.1.2")
#: the longest chain accepted (leaf, intermediates and anchor); also ``cryptography``'s intermediate depth limit
MAX_CHAIN = 8

#: the refusal a profile's extension validator raised during the current :func:`validate_chain` call
#: (``cryptography`` reports validator failures as text; this keeps the typed error and its message).
_refusal: ContextVar[InvalidCertificate | None] = ContextVar("eidcore_x509_refusal", default=None)


def _refuse(message: str) -> InvalidCertificate:
    err = InvalidCertificate(message)
    _refusal.set(err)
    return err


# --------------------------------------------------------------------------------------------------
# Extension validators (called by cryptography's path builder)
# --------------------------------------------------------------------------------------------------


def _ca_key_usage(_policy: Policy, _cert: x509.Certificate, ku: x509.KeyUsage | None) -> None:
    """RFC 5280 §4.2.1.3: a CA that signs certificates asserts keyCertSign (when it states its key usage)."""
    if ku is not None and not ku.key_cert_sign:
        raise _refuse("an issuing certificate lacks keyUsage keyCertSign")


def _ca_basic_constraints(_policy: Policy, _cert: x509.Certificate, bc: x509.BasicConstraints) -> None:
    """RFC 5280 §4.2.1.9: an issuing certificate must assert cA (the path length is checked by cryptography)."""
    if not bc.ca:
        raise _refuse("an issuing certificate in the chain is not a CA (basicConstraints)")


def _signing_key_usage(_policy: Policy, _cert: x509.Certificate, ku: x509.KeyUsage | None) -> None:
    """RFC 5280 §4.2.1.3: a certificate whose key signs credentials or tokens asserts digitalSignature."""
    if ku is None or not ku.digital_signature:
        raise _refuse("the signing certificate lacks keyUsage digitalSignature")


def _leaf_not_ca(_policy: Policy, _cert: x509.Certificate, bc: x509.BasicConstraints | None) -> None:
    """A CA key certifies other keys; it must not sign credentials directly (ISO/IEC 18013-5 Annex B.1.4)."""
    if bc is not None and bc.ca:
        raise _refuse("a CA certificate must not sign credentials directly")


def _mdoc_ds_eku(_policy: Policy, _cert: x509.Certificate, eku: x509.ExtendedKeyUsage | None) -> None:
    """ISO/IEC 18013-5 Annex B.1.4, Table B.3: the document signer's EKU is ``1.0.18013.5.1.2``."""
    if eku is None or MDOC_DS_EKU not in eku:
        raise _refuse("the document signer certificate lacks EKU 1.0.18013.5.1.2")


def _verifier_eku(_policy: Policy, _cert: x509.Certificate, eku: x509.ExtendedKeyUsage | None) -> None:
    """RFC 5280 §4.2.1.12: an extendedKeyUsage extension names at least one purpose."""
    if eku is not None and not list(eku):
        raise _refuse("the verifier certificate has an empty extendedKeyUsage")


# --------------------------------------------------------------------------------------------------
# Profiles
# --------------------------------------------------------------------------------------------------


def _ca_policy() -> ExtensionPolicy:
    """Every issuing certificate (intermediates and the anchor): RFC 5280 §4.2.1.9 and §4.2.1.3, ISO/IEC 18013-5
    Annex B.1.2 (IACA). basicConstraints is accepted critical or not (RFC 5280 asks CAs to mark it critical; a
    relying party loses nothing by accepting a non-critical one, and some attestation CAs do)."""
    return (
        ExtensionPolicy.permit_all()
        .require_present(x509.BasicConstraints, Criticality.AGNOSTIC, _ca_basic_constraints)
        .may_be_present(x509.KeyUsage, Criticality.AGNOSTIC, _ca_key_usage)
    )


@dataclass(frozen=True)
class Profile:
    """The extension policies of one certificate purpose (end entity and CAs) and the specification behind them."""

    purpose: Purpose
    spec: str
    ee_policy: ExtensionPolicy
    ca_policy: ExtensionPolicy


def _profiles() -> dict[Purpose, Profile]:
    signing = (
        ExtensionPolicy.permit_all()
        .may_be_present(x509.KeyUsage, Criticality.AGNOSTIC, _signing_key_usage)
        .may_be_present(x509.BasicConstraints, Criticality.AGNOSTIC, _leaf_not_ca)
    )
    ca = _ca_policy()
    return {
        "any": Profile("any", "RFC 5280 §6.1", ExtensionPolicy.permit_all(), ca),
        "mdoc_ds": Profile(
            "mdoc_ds", "ISO/IEC 18013-5 Annex B.1.4",
            signing.may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, _mdoc_ds_eku), ca),
        "sd_jwt_vc_issuer": Profile("sd_jwt_vc_issuer", "SD-JWT VC §3.5", signing, ca),
        "wallet_provider": Profile("wallet_provider", "OpenID4VCI 1.0 Appendix E", signing, ca),
        "verifier_access": Profile(
            "verifier_access", "OpenID4VP 1.0 §5.9",
            signing.may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, _verifier_eku), ca),
        "status_list": Profile("status_list", "draft-ietf-oauth-status-list §5.1", signing, ca),
        "key_attestation": Profile(
            "key_attestation", "AOSP Key Attestation", ExtensionPolicy.permit_all(), ca),
    }


PROFILES: dict[Purpose, Profile] = _profiles()


# --------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------


def load_der_chain(items: Sequence[bytes]) -> list[x509.Certificate]:
    """Parse DER certificates (an ``x5c``/``x5chain`` list), raising :class:`ParsingError` on garbage."""
    out = []
    for i, der in enumerate(items):
        try:
            out.append(x509.load_der_x509_certificate(der))
        except ValueError as exc:
            raise ParsingError(f"certificate {i} of the chain is not DER X.509") from exc
    return out


def validate_chain(
    chain: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    *,
    at: datetime,
    purpose: Purpose = "any",
) -> x509.Certificate:
    """Validate ``chain`` (leaf first, anchor normally absent) up to one of ``anchors`` at time ``at``.

    RFC 5280 §6.1 under the :class:`Profile` of ``purpose``. ``at`` is the caller's clock, never the wall clock.
    Returns the verified leaf certificate. Raises :class:`ParsingError` for an empty or overlong chain,
    :class:`UntrustedIssuer` when no anchor is reached (or the chain is out of order), and
    :class:`InvalidCertificate` when a certificate is malformed, expired, not yet valid, lacks the required usage or
    carries an unknown critical extension.
    """
    if not chain:
        raise ParsingError("empty certificate chain")
    if len(chain) > MAX_CHAIN:
        raise ParsingError(f"certificate chain longer than {MAX_CHAIN}")
    if not anchors:
        raise UntrustedIssuer("no trust anchor is configured for this use")
    profile = PROFILES[purpose]
    when = at.astimezone(UTC) if at.tzinfo is not None else at.replace(tzinfo=UTC)
    token = _refusal.set(None)
    try:
        for cert in chain:  # cryptography parses lazily: read now what path building reads, to name a damaged field
            _ = (cert.subject, cert.issuer, cert.extensions, cert.not_valid_before_utc, cert.not_valid_after_utc)
        verifier = (
            PolicyBuilder()
            .store(Store(list(anchors)))
            .time(when)
            .max_chain_depth(MAX_CHAIN)
            .extension_policies(ca_policy=profile.ca_policy, ee_policy=profile.ee_policy)
            .build_client_verifier()
        )
        path = verifier.verify(chain[0], list(chain[1:])).chain
    except VerificationError as exc:
        raise _explain(str(exc), chain, anchors, when) from None
    except ValueError as exc:  # cryptography parses lazily: a damaged field fails when first read
        raise InvalidCertificate(f"a certificate in the chain is malformed: {exc}") from None
    finally:
        _refusal.reset(token)
    # RFC 7515 §4.1.6 / RFC 9360 §2: each presented certificate certifies the one before it, up to the anchor;
    # certificates after the anchor are ignored.
    if any(a != b for a, b in zip(path, chain, strict=False)):
        raise UntrustedIssuer("the certificate chain is broken: a certificate is not signed by the next one")
    return path[0]


_WHERE = re.compile(r"\s*\(encountered processing .*\)\s*$", re.DOTALL)
#: "invalid extension: <oid>: certificate contains unaccounted-for critical extensions" (older: "...: <oid>")
_CRITICAL = re.compile(
    r"(?:([0-9]+(?:\.[0-9]+)+): )?certificate contains unaccounted-for critical extensions?(?:: ([0-9.]+))?"
)


def _explain(text: str, chain: Sequence[x509.Certificate], anchors: Sequence[x509.Certificate],
             at: datetime) -> LommebokError:
    """The typed error for a refusal by ``cryptography`` (its reason is text; the profile's own refusals are kept)."""
    refused = _refusal.get()
    if refused is not None:
        return refused
    reason = _WHERE.sub("", text).removeprefix("validation failed: ")
    critical = _CRITICAL.search(reason)
    if critical:
        oid = critical[1] or critical[2] or "(unnamed)"
        return InvalidCertificate(f"a certificate in the chain has an unknown critical extension {oid}")
    if "not valid at validation time" in reason:
        return _validity(chain, anchors, at)
    if "basicConstraints.cA must be asserted" in reason:
        return InvalidCertificate("an issuing certificate in the chain is not a CA (basicConstraints)")
    if "path length constraint" in reason:
        return InvalidCertificate("the chain exceeds a CA's pathLenConstraint")
    if "parsing error" in reason.lower() or "malformed" in reason.lower():
        return InvalidCertificate(f"a certificate in the chain is malformed: {reason}")
    if "candidates exhausted" in reason and (
        "no interior errors" in reason or "signature does not match" in reason
    ):
        return UntrustedIssuer("the certificate chain does not lead to a trusted anchor")
    if "max depth" in reason:
        return UntrustedIssuer("the certificate chain does not lead to a trusted anchor within the depth limit")
    return InvalidCertificate(f"the certificate chain is not acceptable: {reason}")


def _validity(chain: Sequence[x509.Certificate], anchors: Sequence[x509.Certificate], at: datetime) -> LommebokError:
    """Name which certificate is outside its validity period at ``at`` (RFC 5280 §4.1.2.5)."""
    roles: list[tuple[x509.Certificate, str]] = [(chain[0], "the signing")]
    roles += [(c, "an intermediate") for c in chain[1:]]
    roles += [(a, "the trust anchor") for a in anchors if a.subject == chain[-1].issuer or a in chain]
    try:
        for cert, what in roles:
            if at < cert.not_valid_before_utc:
                return InvalidCertificate(f"{what} certificate is not yet valid")
            if at > cert.not_valid_after_utc:
                return InvalidCertificate(f"{what} certificate has expired")
    except ValueError as exc:
        return InvalidCertificate(f"a certificate in the chain is malformed: {exc}")
    return InvalidCertificate("a certificate in the chain is outside its validity period")


__all__: list[str] = [
    "MAX_CHAIN", "MDOC_DS_EKU", "PROFILES", "Profile", "Purpose", "load_der_chain", "validate_chain",
]
