"""Token Status List (draft-ietf-oauth-status-list-18): bit arrays, Status List Tokens, Referenced Tokens.

https://datatracker.ietf.org/doc/draft-ietf-oauth-status-list/

- :mod:`~eidcore.status_list.bits` — "Status List": 1/2/4/8-bit entries (least significant bit first), ZLIB
  compression with an incremental (per-segment) compressor and a decompression cap, JSON and CBOR forms.
- :mod:`~eidcore.status_list.token` — "Status List Token": JWT (``statuslist+jwt``) and CWT
  (``application/statuslist+cwt``) issuing and verification, and :func:`check_status`.
- :mod:`~eidcore.status_list.reference` — "Referenced Token": the ``status`` claim for SD-JWT VC / JWT (JSON),
  CWT (claim 65535) and the ISO mdoc MSO.

The issuer keeps a :class:`StatusList`, sets entries and publishes :func:`issue_jwt` / :func:`issue_cwt`;
the verifier parses the credential's ``status`` (:func:`parse_status_claim`), verifies the fetched token
(:func:`verify_jwt` / :func:`verify_cwt`) and calls :func:`check_status`.
"""

from eidcore.status_list.bits import (
    ALLOWED_BITS,
    DEFAULT_CHUNK_SIZE,
    DEFAULT_LEVEL,
    DEFAULT_MAX_BYTES,
    StatusList,
    StatusValue,
    check_bits,
    inflate,
)
from eidcore.status_list.reference import (
    CWT_STATUS_CLAIM,
    STATUS_CLAIM,
    StatusReference,
    parse_status_claim,
    status_from_cwt_claims,
    status_from_jwt_claims,
    status_from_mso,
)
from eidcore.status_list.token import (
    CWT_MEDIA_TYPE,
    DEFAULT_LEEWAY,
    DEFAULT_MAX_TOKEN_BYTES,
    JWT_MEDIA_TYPE,
    JWT_TYP,
    TrustedKeys,
    VerifiedStatusList,
    check_status,
    issue_cwt,
    issue_jwt,
    verify_cwt,
    verify_jwt,
)

__all__ = [
    "ALLOWED_BITS",
    "CWT_MEDIA_TYPE",
    "CWT_STATUS_CLAIM",
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_LEEWAY",
    "DEFAULT_LEVEL",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_TOKEN_BYTES",
    "JWT_MEDIA_TYPE",
    "JWT_TYP",
    "STATUS_CLAIM",
    "StatusList",
    "StatusReference",
    "StatusValue",
    "TrustedKeys",
    "VerifiedStatusList",
    "check_bits",
    "check_status",
    "inflate",
    "issue_cwt",
    "issue_jwt",
    "parse_status_claim",
    "status_from_cwt_claims",
    "status_from_jwt_claims",
    "status_from_mso",
    "verify_cwt",
    "verify_jwt",
]
