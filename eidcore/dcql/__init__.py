"""DCQL, the Digital Credentials Query Language of OpenID for Verifiable Presentations 1.0 (final), §6 and §7.

https://openid.net/specs/openid-4-verifiable-presentations-1_0.html (text read: openid/OpenID4VP ``1.0/``).

- :mod:`.models`   the typed, frozen query model and :func:`parse_dcql_query` (every violation is
  :class:`eidcore.errors.InvalidRequest` naming the member);
- :mod:`.paths`    claims path pointers (§7, OpenID4VCI 1.0 Appendix C) over JSON claims and mdoc namespaces;
- :mod:`.holder`   :func:`match_credentials`: which held credentials answer a query and what to disclose;
- :mod:`.verifier` :func:`check_vp_token`: does a verified ``vp_token`` answer the query, check by check.

Pure: no web framework, no database, no cryptography (presentations reach the verifier side already verified).
"""

from eidcore.dcql.holder import CredentialMatch, HeldCredential, MatchResult, NoMatch, Rejection, match_credentials
from eidcore.dcql.models import (
    MSO_MDOC,
    SD_JWT_VC,
    SUPPORTED_FORMATS,
    ClaimsPath,
    ClaimsQuery,
    ClaimValue,
    CredentialFormat,
    CredentialQuery,
    CredentialQueryMeta,
    CredentialSetQuery,
    DcqlQuery,
    PathStep,
    TrustedAuthoritiesQuery,
    TrustedAuthorityType,
    parse_claims_path,
    parse_dcql_query,
)
from eidcore.dcql.paths import ConcretePath, SelectedClaim, cbor_to_json, matches_values, select_json, select_mdoc
from eidcore.dcql.verifier import (
    CheckName,
    DcqlCheck,
    PresentationOutcome,
    VerifiedPresentation,
    VpTokenResult,
    check_vp_token,
)

__all__ = [
    "MSO_MDOC",
    "SD_JWT_VC",
    "SUPPORTED_FORMATS",
    "CheckName",
    "ClaimValue",
    "ClaimsPath",
    "ClaimsQuery",
    "ConcretePath",
    "CredentialFormat",
    "CredentialMatch",
    "CredentialQuery",
    "CredentialQueryMeta",
    "CredentialSetQuery",
    "DcqlCheck",
    "DcqlQuery",
    "HeldCredential",
    "MatchResult",
    "NoMatch",
    "PathStep",
    "PresentationOutcome",
    "Rejection",
    "SelectedClaim",
    "TrustedAuthoritiesQuery",
    "TrustedAuthorityType",
    "VerifiedPresentation",
    "VpTokenResult",
    "cbor_to_json",
    "check_vp_token",
    "match_credentials",
    "matches_values",
    "parse_claims_path",
    "parse_dcql_query",
    "select_json",
    "select_mdoc",
]
