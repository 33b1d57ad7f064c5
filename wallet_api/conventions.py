"""The wallet API's HTTP conventions: RFC 9457 problem details, ETags (RFC 9110 §8.8.3, §13.1.1), opaque cursors,
the request headers every resource shares, and ``Cache-Control: no-store`` on every answer (RFC 9111 §5.2.2.5).
"""

from __future__ import annotations

from typing import Annotated

from litestar.datastructures import MutableScopeHeaders
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter, QueryParameter
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from eidcore import jsonutil
from eidcore.encoding import b64u_decode, b64u_encode
from eidcore.errors import InvalidRequest, ParsingError, PreconditionFailed
from wallet_api.models import WalInstance
from wallet_api.schemas import InstanceView, Problem, WalletProfile

__all__ = ["CACHEABLE", "INT32_MAX", "INT64_MAX", "SIGNED", "CursorParam", "DPoPHeader", "IdemHeader", "IfMatch",
           "IfNoneMatch", "LimitParam", "decode_cursor", "encode_cursor", "etag", "matches_etag", "no_store",
           "parse_if_match", "problems", "view"]

DPoPHeader = Annotated[str | None, HeaderParameter(name="DPoP", required=False,
                                                   description="Proof signed by the instance key (RFC 9449 §4.2 "
                                                               "format)")]
IdemHeader = Annotated[str | None, HeaderParameter(name="Idempotency-Key", required=False,
                                                   description="Unique key of this state change (8 to 128 "
                                                               "characters)")]
IfMatch = Annotated[str | None, HeaderParameter(name="If-Match", required=False)]
IfNoneMatch = Annotated[str | None, HeaderParameter(name="If-None-Match", required=False)]
LimitParam = Annotated[int, QueryParameter(name="limit", ge=1, le=100)]
CursorParam = Annotated[str | None, QueryParameter(name="cursor", required=False, max_length=200)]
ProfileFilter = Annotated[WalletProfile | None, QueryParameter(
    name="profile", required=False, description="Only entries of this wallet profile (default: all)")]
BackupProfile = Annotated[WalletProfile, QueryParameter(
    name="profile", required=False, description="The wallet profile whose backup this is (default private)")]

_PROBLEM_TEXT = {
    400: "Bad input, a bad or replayed request proof, an unknown challenge or nonce, a refused attestation",
    401: "The admin bearer credential is missing or unknown (RFC 6750 §3.1 invalid_token)",
    403: "No instance is registered for the signing key, the instance is suspended or revoked, the caller may not "
         "do this, or the admin credential lacks the scope (insufficient_scope)",
    404: "No such resource (or it belongs to another person)",
    409: "The state does not allow this change, or the Idempotency-Key was used for another request",
    412: "If-Match / If-None-Match precondition failed",
    503: "A service this call needs (the issuer) did not answer or refused",
}


def problems(*codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI responses for these error statuses, each an RFC 9457 problem details body."""
    return {c: ResponseSpec(data_container=Problem, description=_PROBLEM_TEXT[c], generate_examples=False,
                            media_type="application/problem+json") for c in codes}


SIGNED = problems(400, 403)
"""The errors of every call signed with an instance key."""


def view(inst: WalInstance) -> InstanceView:
    """The API view of a wallet instance."""
    return InstanceView.model_validate({
        "id": inst.id, "state": inst.state, "jkt": inst.jkt, "platform": inst.platform,
        "security_level": inst.security_level, "wallet_version": inst.wallet_version,
        "person_bound": inst.person_id is not None, "bound_by": inst.bound_by, "created_at": inst.created_at,
        "updated_at": inst.updated_at, "version": inst.version, "issuer_sync": inst.issuer_sync,
    })


def etag(version: int) -> str:
    return f'"v{version}"'


def matches_etag(tag: str, if_none_match: str | None) -> bool:
    """Whether ``If-None-Match`` names ``tag`` (RFC 9110 §13.1.2): the answer is then 304."""
    return if_none_match is not None and tag in [t.strip() for t in if_none_match.split(",")]


INT64_MAX = 2 ** 63 - 1
"""The largest value a database integer (BIGINT, SQLite INTEGER) holds: cursors and versions stay within it."""
INT32_MAX = 2 ** 31 - 1
"""The largest ``wal_transaction.id`` (an INTEGER column on PostgreSQL): a transaction-log cursor stays within it."""


def parse_if_match(value: str | None) -> int | None:
    """The version an ``If-Match`` ETag names (RFC 9110 §13.1.1); 412 for anything this API did not return."""
    if value is None:
        return None
    v = value.strip()
    digits = v[2:-1]
    if (v.startswith('"v') and v.endswith('"') and 0 < len(digits) <= 19 and digits.isascii() and digits.isdigit()
            and int(digits) <= INT64_MAX):
        return int(digits)
    raise PreconditionFailed("If-Match must be an ETag this API returned")


def encode_cursor(value: int) -> str:
    return b64u_encode(jsonutil.dumps({"o": value}))


def decode_cursor(cursor: str | None, *, maximum: int = INT64_MAX) -> int:
    """The position an opaque ``cursor`` names: a non-negative integer within int64 (or the smaller ``maximum`` of
    the column it is compared with), checked here at the edge so that no database sees an out-of-range value
    (400 problem details ``invalid_request`` otherwise)."""
    if cursor is None:
        return 0
    try:
        raw = jsonutil.loads(b64u_decode(cursor[:200], what="cursor"), what="cursor")
        value = raw["o"]
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= maximum:
            raise ValueError
        return value
    except (ValueError, KeyError, TypeError, ParsingError):
        raise InvalidRequest("cursor is not one this API returned") from None


CACHEABLE = "cacheable"
"""Route-handler ``opt`` flag of the few wallet API answers without personal data that caches may keep."""


def no_store(app: ASGIApp) -> ASGIApp:
    """``Cache-Control: no-store`` and ``Pragma: no-cache`` on every wallet API answer, errors included (RFC 9111
    §5.2.2.5; ``Pragma`` for HTTP/1.0 caches, RFC 9111 §5.4): the answers carry personal data (instances, the
    transaction log, backups, guardian views, mandates, admin person lookups) that no shared or browser cache may
    keep. A handler with ``opt={"cacheable": True}`` (the public wallet-instance status list) sets its own."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        if handler is not None and handler.opt.get(CACHEABLE):
            await app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                headers["Cache-Control"] = "no-store"
                headers["Pragma"] = "no-cache"
            await send(message)

        await app(scope, receive, send_no_store)

    return middleware
