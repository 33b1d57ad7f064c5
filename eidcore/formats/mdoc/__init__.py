"""ISO/IEC 18013-5:2021 mdoc (with the 2nd-edition MSO ``status``) for OpenID4VCI 1.0 and OpenID4VP 1.0.

- :mod:`.structures`: IssuerSigned, IssuerSignedItem, MSO, DeviceSigned, DeviceAuthentication (strict parsing);
- :mod:`.issuer`: :func:`issue_mdoc` (IssuerSigned with an MSO signed by the document signer);
- :mod:`.holder`: :func:`build_document`, :func:`build_device_response`, :func:`present`;
- :mod:`.verifier`: :class:`MdocVerifier` (issuerAuth + chain, digests, docType, validity, device auth);
- :mod:`.transcript`: SessionTranscript and the OpenID4VP 1.0 handovers (redirect and DC API).
"""

from eidcore.formats.mdoc.holder import build_device_response, build_document, derive_emac_key, present
from eidcore.formats.mdoc.issuer import issue_mdoc, status_list_reference
from eidcore.formats.mdoc.structures import (
    DOCTYPE_MDL,
    DOCTYPE_PID,
    NAMESPACE_MDL,
    NAMESPACE_PID,
    IssuerSigned,
    IssuerSignedItem,
    KeyAuthorizations,
    MobileSecurityObject,
    ValidityInfo,
    device_authentication_bytes,
)
from eidcore.formats.mdoc.transcript import (
    SessionTranscript,
    dc_api_session_transcript,
    jwk_thumbprint_sha256,
    openid4vp_session_transcript,
)
from eidcore.formats.mdoc.verifier import MdocVerifier, VerifiedDocument, VerifiedIssuerSigned

__all__ = [
    "DOCTYPE_MDL",
    "DOCTYPE_PID",
    "NAMESPACE_MDL",
    "NAMESPACE_PID",
    "IssuerSigned",
    "IssuerSignedItem",
    "KeyAuthorizations",
    "MdocVerifier",
    "MobileSecurityObject",
    "SessionTranscript",
    "ValidityInfo",
    "VerifiedDocument",
    "VerifiedIssuerSigned",
    "build_device_response",
    "build_document",
    "dc_api_session_transcript",
    "derive_emac_key",
    "device_authentication_bytes",
    "issue_mdoc",
    "jwk_thumbprint_sha256",
    "openid4vp_session_transcript",
    "present",
    "status_list_reference",
]
