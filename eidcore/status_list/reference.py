"""The Referenced Token side of Token Status List (draft-ietf-oauth-status-list-18, "Referenced Token").

A Referenced Token names its place in a Status List with the ``status`` claim ("Referenced Token in JOSE" for
JWT / SD-JWT VC, "Referenced Token in COSE" for CWT claim key 65535 and the ISO mdoc MSO member ``status``)::

    "status": {"status_list": {"idx": <non-negative integer>, "uri": "<Status List Token URI>"}}

For mdoc, ISO/IEC 18013-5 (2nd edition) allows an optional ``certificate`` (bstr) next to ``idx`` and ``uri``;
the ``identifier_list`` mechanism is not supported here and is refused as such.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from eidcore.errors import InvalidClaim, MissingClaim, StatusListError

#: CWT claim key of ``status`` ("Referenced Token in COSE", IANA CWT Claims registry).
CWT_STATUS_CLAIM: Final = 65535
#: The claim / MSO member name of ``status`` (JOSE claim and mdoc MSO member).
STATUS_CLAIM: Final = "status"


@dataclass(frozen=True, slots=True)
class StatusReference:
    """``status.status_list`` of a Referenced Token ("Status Claim"): the list's ``uri`` and this token's ``idx``."""

    uri: str
    idx: int
    certificate: bytes | None = None
    """mdoc only (ISO/IEC 18013-5 2nd edition): the status list signer's certificate, DER."""

    def __post_init__(self) -> None:
        _check_idx(self.idx)
        _check_uri(self.uri)
        if self.certificate is not None and not isinstance(self.certificate, bytes):
            raise InvalidClaim("status_list certificate must be a byte string", claim="status")

    def to_json_claim(self) -> dict[str, Any]:
        """The JSON ``status`` claim for a JWT / SD-JWT VC ("Referenced Token in JOSE"): ``{"status_list": {..}}``."""
        if self.certificate is not None:
            raise InvalidClaim("a certificate can only be carried in the CBOR (mdoc) form", claim="status")
        return {"status_list": {"idx": self.idx, "uri": self.uri}}

    def to_cbor_claim(self) -> dict[str, Any]:
        """The CBOR ``status`` value for CWT claim 65535 or the mdoc MSO ``status`` ("Referenced Token in COSE")."""
        inner: dict[str, Any] = {"idx": self.idx, "uri": self.uri}
        if self.certificate is not None:
            inner["certificate"] = self.certificate
        return {"status_list": inner}


def _check_idx(idx: object) -> int:
    if isinstance(idx, bool) or not isinstance(idx, int) or idx < 0:
        raise InvalidClaim("status_list idx must be a non-negative integer", claim="status")
    return idx


def _check_uri(uri: object) -> str:
    if not isinstance(uri, str) or not uri:
        raise InvalidClaim("status_list uri must be a non-empty string", claim="status")
    return uri


def parse_status_claim(value: object, *, cbor: bool = False) -> StatusReference:
    """Parse the value of a ``status`` claim ("Status Claim"; the CBOR form when ``cbor``) strictly.

    Raises :class:`InvalidClaim` for a malformed claim, :class:`MissingClaim` without ``status_list``
    (or its ``idx`` / ``uri``), and :class:`StatusListError` (reason ``unsupported_mechanism``) when only
    another status mechanism (such as mdoc's ``identifier_list``) is present.
    """
    if not isinstance(value, Mapping):
        raise InvalidClaim("status must be an object / map", claim="status")
    if "status_list" not in value:
        if value:
            raise StatusListError("status names no status_list mechanism (only: "
                                  f"{', '.join(sorted(map(str, value)))})", reason="unsupported_mechanism")
        raise MissingClaim("status has no status_list", claim="status")
    inner = value["status_list"]
    if not isinstance(inner, Mapping):
        raise InvalidClaim("status.status_list must be an object / map", claim="status")
    for member in ("idx", "uri"):
        if member not in inner:
            raise MissingClaim(f"status.status_list has no {member}", claim="status")
    cert = inner.get("certificate") if cbor else None
    if cbor and "certificate" in inner and not isinstance(cert, bytes):
        raise InvalidClaim("status_list certificate must be a byte string", claim="status")
    return StatusReference(uri=_check_uri(inner["uri"]), idx=_check_idx(inner["idx"]), certificate=cert)


def status_from_jwt_claims(claims: Mapping[str, Any]) -> StatusReference | None:
    """The ``status`` reference of a JWT / SD-JWT VC payload ("Referenced Token in JOSE"), or ``None``."""
    if STATUS_CLAIM not in claims:
        return None
    return parse_status_claim(claims[STATUS_CLAIM])


def status_from_cwt_claims(claims: Mapping[Any, Any]) -> StatusReference | None:
    """The ``status`` (claim 65535) of a decoded CWT claims map ("Referenced Token in COSE"), or ``None``."""
    if CWT_STATUS_CLAIM not in claims:
        return None
    return parse_status_claim(claims[CWT_STATUS_CLAIM], cbor=True)


def status_from_mso(mso: Mapping[Any, Any]) -> StatusReference | None:
    """The ``status`` of a decoded ISO mdoc MobileSecurityObject ("Referenced Token in COSE"), or ``None``."""
    if STATUS_CLAIM not in mso:
        return None
    return parse_status_claim(mso[STATUS_CLAIM], cbor=True)
