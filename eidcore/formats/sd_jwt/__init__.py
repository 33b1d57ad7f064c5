"""SD-JWT: Selective Disclosure for JWTs, RFC 9901 (https://www.rfc-editor.org/rfc/rfc9901).

One module per role, in the style of eudi-lib-jvm-sdjwt-kt:

- :mod:`.issue`   :class:`SdJwtIssuer` (§4, decoys §4.2.5, recursive disclosures §4.2.6, JSON §8);
- :mod:`.present` :class:`SdJwtHolder` (§5.2 presentation by claims path pointers, §4.3 KB-JWT);
- :mod:`.verify`  :class:`SdJwtVerifier` (§7.1, §7.3, key binding as an explicit policy);
- :mod:`.model`   spec constants, :class:`Disclosure`, digests and both serializations.

Failures raise the specific classes of :mod:`eidcore.errors` (``InvalidDisclosure``, ``DuplicateDisclosure``,
``UnreferencedDisclosure``, ``KeyBindingFailed`` with ``reason``, ``InvalidSignature``, ``Expired``, ...).
"""

from eidcore.formats.sd_jwt.issue import Disclosable, IssuedSdJwt, SdJwtIssuer, sd
from eidcore.formats.sd_jwt.model import (
    ARRAY_DIGEST,
    DEFAULT_SD_ALG,
    KB_JWT_TYP,
    SD,
    SD_ALG,
    ClaimPath,
    ConcretePath,
    Disclosure,
    SdJwtParts,
    digest,
    serialize_compact,
    serialize_json,
    split,
)
from eidcore.formats.sd_jwt.present import HeldSdJwt, KeyBinding, SdJwtHolder, resolve_claim_path
from eidcore.formats.sd_jwt.verify import (
    MUST_NOT_BE_PRESENT,
    IssuerKeyResolver,
    KeyBindingForbidden,
    KeyBindingPolicy,
    KeyBindingRequired,
    SdJwtVerifier,
    VerifiedSdJwt,
    check_time_claims,
    holder_key_from_cnf,
)

__all__ = [
    "ARRAY_DIGEST",
    "DEFAULT_SD_ALG",
    "KB_JWT_TYP",
    "MUST_NOT_BE_PRESENT",
    "SD",
    "SD_ALG",
    "ClaimPath",
    "ConcretePath",
    "Disclosable",
    "Disclosure",
    "HeldSdJwt",
    "IssuedSdJwt",
    "IssuerKeyResolver",
    "KeyBinding",
    "KeyBindingForbidden",
    "KeyBindingPolicy",
    "KeyBindingRequired",
    "SdJwtHolder",
    "SdJwtIssuer",
    "SdJwtParts",
    "SdJwtVerifier",
    "VerifiedSdJwt",
    "check_time_claims",
    "digest",
    "holder_key_from_cnf",
    "resolve_claim_path",
    "sd",
    "serialize_compact",
    "serialize_json",
    "split",
]
