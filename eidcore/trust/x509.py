"""X.509 certificate path validation for issuer, document-signer, wallet-provider and verifier chains.

RFC 5280 §6 (basic path validation: signatures, validity, basicConstraints, keyUsage), with the extra
constraints of ISO/IEC 18013-5 Annex B for mdoc document signers. Deny by default: a chain that does not end
at one of the caller's trust anchors is rejected.

(Contract published to the formats work; implementation by the lead.)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from cryptography import x509

Purpose = Literal["any", "mdoc_ds", "sd_jwt_vc_issuer", "wallet_provider", "verifier_access"]


def validate_chain(
    chain: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    *,
    at: datetime,
    purpose: Purpose = "any",
) -> x509.Certificate:
    """Validate ``chain`` (leaf first, anchor normally absent) up to one of ``anchors`` at time ``at``.

    Returns the verified leaf certificate. Raises ``UntrustedIssuer`` when no anchor is reached and
    ``InvalidCertificate`` when a certificate is expired, not yet valid, or lacks the required usage.
    """
    raise NotImplementedError  # replaced by the lead within the hour
