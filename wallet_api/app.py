"""Lommebok wallet API: Wallet provider, guardian control, mandates and transaction log.

The wallet provider's HTTP API for the wallet app (mobile-first): every call an app makes is signed with its
instance key (header ``DPoP``, a DPoP-style proof per request, RFC 9449 §4.2); errors are RFC 9457 problem
details; lists are paginated (``limit``, opaque ``cursor``); state-changing calls take an ``Idempotency-Key``
(draft-ietf-httpapi-idempotency-key-header); resources carry ETags (RFC 9110 §8.8.3) with ``If-Match`` /
``If-None-Match``. Administrator calls (``/admin/...``) take the admin bearer token.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from litestar import Litestar, Request, Response, Router, get, post, put
from litestar.datastructures import MutableScopeHeaders
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.types import ASGIApp, ControllerRouterHandler, Message, Receive, Scope, Send
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col, select

from eidcore.encoding import b64u_decode
from eidcore.errors import InvalidRequest, InvalidToken, NotFound, ParsingError, PreconditionFailed
from eidcore.runtime import Runtime
from eidcore.settings import Settings, load_settings
from eidcore.web import service_app
from wallet_api import guardian, mandates, service
from wallet_api.migrations import SCHEMA
from wallet_api.models import WalBackup, WalInstance, WalTransaction

NAME = "wallet"
DESCRIPTION = "Wallet provider, guardian control, mandates and transaction log."
MOUNT = "/wallet"

TAGS_INSTANCES = ["wallet instances"]
TAGS_ATTEST = ["attestations"]
TAGS_LOG = ["transaction log"]
TAGS_BACKUP = ["backup"]
TAGS_ADMIN = ["administration"]
MAX_BACKUP = 128 * 1024
DPoPHeader = Annotated[str | None, HeaderParameter(name="DPoP", required=False,
                                             description="Proof signed by the instance key (RFC 9449 §4.2 format)")]
IdemHeader = Annotated[str | None, HeaderParameter(name="Idempotency-Key", required=False,
                                             description="Unique key of this state change (8 to 128 characters)")]


# --------------------------------------------------------------------------------------------------
# Request and response bodies
# --------------------------------------------------------------------------------------------------


class Problem(BaseModel):
    """RFC 9457 problem details; ``type`` is ``urn:lommebok:error:<code>``."""

    type: str
    title: str
    status: int
    detail: str


_PROBLEM_TEXT = {
    400: "Bad input, a bad or replayed request proof, an unknown challenge or nonce, a refused attestation",
    401: "The admin bearer token is missing or wrong",
    403: "No instance is registered for the signing key, or the instance is suspended or revoked",
    404: "No such resource (or it belongs to another person)",
    409: "The state does not allow this change, or the Idempotency-Key was used for another request",
    412: "If-Match / If-None-Match precondition failed",
}


def problems(*codes: int) -> dict[int, ResponseSpec]:
    return {c: ResponseSpec(data_container=Problem, description=_PROBLEM_TEXT[c], generate_examples=False,
                            media_type="application/problem+json") for c in codes}


SIGNED = problems(400, 403)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Challenge(BaseModel):
    challenge: str
    expires_in: int


class PlatformAttestation(_Body):
    format: Literal["android-key"] = Field(description="android-key: Android Key Attestation chain")
    x5c: list[str] = Field(max_length=6, description="Standard base64 DER certificates, leaf first")


class RegisterRequest(_Body):
    platform: Literal["android", "ios"]
    attestation: PlatformAttestation
    wallet_version: str = Field(default="", max_length=32)


class InstanceView(BaseModel):
    id: str
    state: Literal["active", "suspended", "revoked"]
    jkt: str = Field(description="RFC 7638 thumbprint of the instance key")
    platform: str
    security_level: str
    wallet_version: str
    person_bound: bool
    bound_by: str | None
    created_at: datetime
    updated_at: datetime
    version: int
    issuer_sync: dict[str, Any] | None = Field(
        default=None, description="Outcome of the last update of the issuer's credentials for this instance")


class InstancePage(BaseModel):
    items: list[InstanceView]
    next_cursor: str | None


class StatusChange(_Body):
    action: Literal["suspend", "revoke", "reinstate"]


class WalletAttestationResponse(BaseModel):
    wallet_attestation: str
    expires_in: int


class KeyAttestationRequest(_Body):
    attested_keys: list[dict[str, Any]] = Field(min_length=1, max_length=service.MAX_ATTESTED_KEYS)
    nonce: str | None = Field(default=None, max_length=512, description="The issuer's c_nonce")


class KeyAttestationResponse(BaseModel):
    key_attestation: str
    expires_in: int


class Nonce(BaseModel):
    nonce: str
    expires_in: int


class BindByPid(_Body):
    presentation: str = Field(max_length=64 * 1024, description="PID SD-JWT VC with KB-JWT (aud = this service)")
    nonce: str = Field(max_length=256)


class AdminBind(_Body):
    person: str = Field(max_length=64, description="National identity number or person id")


class PersonRef(_Body):
    person: str = Field(min_length=1, max_length=64, description="National identity number or person id")


WalletProfile = Literal["private", "work"]
"""A wallet profile (``wallet_api.models.PROFILES``): work credentials are kept apart from private ones."""
ClaimName = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:/#\[\]\-]+$")]


class TransactionIn(_Body):
    relying_party: str = Field(min_length=1, max_length=512, description="The verifier's client_id")
    relying_party_name: str | None = Field(default=None, max_length=200)
    credential_types: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(default_factory=list,
                                                                                       max_length=20)
    claims: list[ClaimName] = Field(max_length=100, description="Claim names only (never values)")
    outcome: Literal["shared", "declined", "refused"] = "shared"
    profile: WalletProfile = Field(default="private", description="The wallet profile whose credentials were shown")
    shared_at: datetime


class TransactionView(BaseModel):
    id: int
    instance_id: str
    relying_party: str
    relying_party_name: str | None
    credential_types: list[str]
    claims: list[str]
    outcome: str
    profile: str
    shared_at: datetime
    recorded_at: datetime


class TransactionPage(BaseModel):
    items: list[TransactionView]
    next_cursor: str | None


class BackupIn(_Body):
    ciphertext: str = Field(min_length=1, max_length=MAX_BACKUP * 4 // 3 + 4,
                            description="base64url of the encrypted blob (the server never holds its key)")
    media_type: str = Field(default="application/octet-stream", max_length=100)


class BackupView(BaseModel):
    ciphertext: str
    media_type: str
    profile: str
    size: int
    version: int
    updated_at: datetime


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------


def view(inst: WalInstance) -> InstanceView:
    return InstanceView(
        id=inst.id, state=inst.state, jkt=inst.jkt, platform=inst.platform,  # type: ignore[arg-type]
        security_level=inst.security_level, wallet_version=inst.wallet_version,
        person_bound=inst.person_id is not None, bound_by=inst.bound_by, created_at=inst.created_at,
        updated_at=inst.updated_at, version=inst.version, issuer_sync=inst.issuer_sync,
    )


def etag(version: int) -> str:
    return f'"v{version}"'


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
    return base64.urlsafe_b64encode(json.dumps({"o": value}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, maximum: int = INT64_MAX) -> int:
    """The position an opaque ``cursor`` names: a non-negative integer within int64 (or the smaller ``maximum`` of
    the column it is compared with), checked here at the edge so that no database sees an out-of-range value
    (400 problem details ``invalid_request`` otherwise)."""
    if cursor is None:
        return 0
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        value = raw["o"]
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= maximum:
            raise ValueError
        return value
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidRequest("cursor is not one this API returned") from None


def require_admin(rt: Runtime, authorization: str | None) -> None:
    if not rt.admin_authorized("wallet", authorization):
        raise InvalidToken("the admin API needs the admin bearer token",
                           headers={"WWW-Authenticate": 'Bearer realm="lommebok-admin"'})


def backup_view(row: WalBackup) -> BackupView:
    return BackupView(ciphertext=row.ciphertext, media_type=row.media_type, profile=row.profile, size=row.size,
                      version=row.version, updated_at=row.updated_at)


def backup_owner(inst: WalInstance) -> str:
    return f"person:{inst.person_id}" if inst.person_id else f"instance:{inst.id}"


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


AuthHeader = Annotated[str | None, HeaderParameter(name="Authorization", required=False)]
LimitParam = Annotated[int, QueryParameter(name="limit", ge=1, le=100)]
CursorParam = Annotated[str | None, QueryParameter(name="cursor", required=False, max_length=200)]
ProfileFilter = Annotated[WalletProfile | None, QueryParameter(
    name="profile", required=False, description="Only entries of this wallet profile (default: all)")]
BackupProfile = Annotated[WalletProfile, QueryParameter(
    name="profile", required=False, description="The wallet profile whose backup this is (default private)")]


# --------------------------------------------------------------------------------------------------
# handlers
# --------------------------------------------------------------------------------------------------


def handlers(rt: Runtime) -> Sequence[ControllerRouterHandler]:
    """The service's own route handlers (mount-relative paths)."""

    def url(request: Request[Any, Any, Any]) -> str:
        return service.public_url(rt, request.scope)

    async def caller(request: Request[Any, Any, Any], proof: str | None, *, require_active: bool = True
                     ) -> WalInstance:
        return await service.authenticate(rt, proof, method=request.method, url=url(request),
                                          require_active=require_active)

    # -- registration ------------------------------------------------------------------------------

    @post("/instances/challenge", operation_id="createRegistrationChallenge",
          responses=problems(400), tags=TAGS_INSTANCES, status_code=201)
    async def create_challenge() -> Response[Challenge]:
        """A single-use registration challenge: the app puts it in its key attestation and its proof's nonce."""
        c = await service.new_challenge(rt)
        return Response(Challenge(challenge=c, expires_in=service.CHALLENGE_TTL), status_code=201,
                        headers={"Cache-Control": "no-store"})

    @post("/instances", operation_id="registerInstance",
          responses=problems(400, 409), tags=TAGS_INSTANCES, status_code=201)
    async def register_instance(request: Request[Any, Any, Any], data: JSONBody[RegisterRequest],
                                dpop: DPoPHeader = None) -> Response[InstanceView]:
        """Register a wallet instance: the proof (nonce = challenge) is signed by the instance key, and the
        platform attestation certifies that key with the same challenge."""
        inst = await service.register(rt, dpop, url=url(request), platform=data.platform,
                                      attestation_format=data.attestation.format, x5c=data.attestation.x5c,
                                      wallet_version=data.wallet_version)
        return Response(view(inst), status_code=201, headers={
            "ETag": etag(inst.version), "Location": f"{rt.settings.service_url('wallet')}/instances/{inst.id}"})

    # -- instances ---------------------------------------------------------------------------------

    @get("/instances", operation_id="listInstances", responses=SIGNED, tags=TAGS_INSTANCES)
    async def list_instances(request: Request[Any, Any, Any], dpop: DPoPHeader = None, limit: LimitParam = 20,
                             cursor: CursorParam = None) -> InstancePage:
        """The caller's person's wallet instances (only the caller until it is bound to a person)."""
        me = await caller(request, dpop)
        offset = decode_cursor(cursor)
        q = select(WalInstance)
        q = q.where(WalInstance.person_id == me.person_id) if me.person_id else q.where(WalInstance.id == me.id)
        async with rt.db.session() as s:
            rows = (await s.exec(q.order_by(col(WalInstance.created_at), col(WalInstance.id))
                                 .offset(offset).limit(limit + 1))).all()
        more = len(rows) > limit
        return InstancePage(items=[view(r) for r in rows[:limit]],
                            next_cursor=encode_cursor(offset + limit) if more else None)

    @get("/instances/{instance_id:str}", operation_id="getInstance",
         responses=problems(400, 403, 404), tags=TAGS_INSTANCES)
    async def get_instance(request: Request[Any, Any, Any], instance_id: FromPath[str], dpop: DPoPHeader = None,
                           if_none_match: Annotated[str | None, HeaderParameter(name="If-None-Match",
                                                                          required=False)] = None
                           ) -> Response[InstanceView | None]:
        """One instance (the caller itself, even when suspended, or another instance of the same person)."""
        me = await caller(request, dpop, require_active=False)
        if me.id != instance_id and me.state != "active":
            raise NotFound("no such wallet instance")
        inst = await service.get_visible(rt, me, instance_id)
        tag = etag(inst.version)
        if if_none_match is not None and tag in [t.strip() for t in if_none_match.split(",")]:
            return Response(None, status_code=304, headers={"ETag": tag})
        return Response(view(inst), headers={"ETag": tag})

    @post("/instances/{instance_id:str}/status", operation_id="changeInstanceStatus",
          responses=problems(400, 403, 404, 409, 412), tags=TAGS_INSTANCES,
          status_code=200)
    async def change_status(request: Request[Any, Any, Any], instance_id: FromPath[str], data: JSONBody[StatusChange],
                            dpop: DPoPHeader = None, idempotency_key: IdemHeader = None,
                            if_match: Annotated[str | None, HeaderParameter(name="If-Match", required=False)] = None
                            ) -> Response[Any]:
        """Suspend, revoke or reinstate a wallet instance (a lost phone) from the instance itself (suspend,
        revoke) or from another active instance of the same person; the issuer then revokes, suspends or
        reinstates every credential issued to that instance."""
        me = await caller(request, dpop)
        target = await service.get_visible(rt, me, instance_id)
        if data.action == "reinstate" and target.id == me.id:
            raise InvalidRequest("an instance cannot reinstate itself")
        scope = f"{me.id}:status:{instance_id}"
        body = data.model_dump()
        stored = await service.idempotency_begin(rt, scope, idempotency_key, body)
        if stored is not None:
            return Response(stored.body, status_code=stored.status, headers={"Idempotent-Replayed": "true"})
        assert idempotency_key is not None
        try:
            inst = await service.change_state(rt, instance_id, data.action, by="owner" if me.id != target.id
                                              else "self", if_match=parse_if_match(if_match))
        except BaseException:
            await service.idempotency_abort(rt, scope, idempotency_key)
            raise
        out = view(inst).model_dump(mode="json")
        await service.idempotency_finish(rt, scope, idempotency_key, body, 200, out)
        return Response(out, headers={"ETag": etag(inst.version)})

    # -- attestations ------------------------------------------------------------------------------

    @post("/attestations/wallet", operation_id="issueWalletAttestation",
          responses=SIGNED, tags=TAGS_ATTEST, status_code=200)
    async def issue_wallet_attestation(request: Request[Any, Any, Any], dpop: DPoPHeader = None
                                       ) -> Response[WalletAttestationResponse]:
        """A short-lived wallet instance attestation (``oauth-client-attestation+jwt``, cnf = instance key)."""
        me = await caller(request, dpop)
        jwt = service.wallet_attestation(rt, me)
        return Response(WalletAttestationResponse(wallet_attestation=jwt,
                                                  expires_in=service.WALLET_ATTESTATION_LIFETIME),
                        headers={"Cache-Control": "no-store"})

    @post("/attestations/key", operation_id="issueKeyAttestation", responses=SIGNED, tags=TAGS_ATTEST, status_code=200)
    async def issue_key_attestation(request: Request[Any, Any, Any], data: JSONBody[KeyAttestationRequest],
                                    dpop: DPoPHeader = None) -> Response[KeyAttestationResponse]:
        """A key attestation (``key-attestation+jwt``, OpenID4VCI 1.0 Appendix D) for the app's credential keys."""
        me = await caller(request, dpop)
        jwt = service.key_attestation(rt, me, data.attested_keys, data.nonce)
        return Response(KeyAttestationResponse(key_attestation=jwt, expires_in=service.KEY_ATTESTATION_LIFETIME),
                        headers={"Cache-Control": "no-store"})

    @get("/status/instances", operation_id="walletInstanceStatusList", tags=TAGS_ATTEST,
         media_type="application/statuslist+jwt", opt={CACHEABLE: True})
    async def instance_status_list() -> Response[str]:
        """The wallet-instance status list (Token Status List, JWT form) the attestations refer to."""
        token = await service.status_list_token(rt)
        max_age = max(1, service.status_list_ttl(rt) // 2)
        return Response(token, media_type="application/statuslist+jwt",
                        headers={"Cache-Control": f"max-age={max_age}"})

    # -- person binding ----------------------------------------------------------------------------

    @post("/binding/nonce", operation_id="createBindingNonce", responses=SIGNED, tags=TAGS_INSTANCES, status_code=200)
    async def binding_nonce(request: Request[Any, Any, Any], dpop: DPoPHeader = None) -> Response[Nonce]:
        """A single-use nonce for the PID presentation that binds this instance to its person."""
        me = await caller(request, dpop)
        n = await service.new_binding_nonce(rt, me)
        return Response(Nonce(nonce=n, expires_in=service.CHALLENGE_TTL), headers={"Cache-Control": "no-store"})

    @post("/binding", operation_id="bindInstanceByPid",
          responses=problems(400, 403, 404, 409), tags=TAGS_INSTANCES, status_code=200)
    async def bind_by_pid(request: Request[Any, Any, Any], data: JSONBody[BindByPid], dpop: DPoPHeader = None
                          ) -> Response[InstanceView]:
        """Bind this instance to the person named by a PID it presents (KB-JWT: aud = this service, our nonce)."""
        me = await caller(request, dpop)
        person = await service.person_from_pid(rt, me, data.presentation, data.nonce)
        inst = await service.bind(rt, me.id, person, how="pid")
        return Response(view(inst), headers={"ETag": etag(inst.version)})

    # -- transaction log ---------------------------------------------------------------------------

    @post("/transactions", operation_id="recordTransaction",
          responses=problems(400, 403, 409), tags=TAGS_LOG, status_code=201)
    async def record_transaction(request: Request[Any, Any, Any], data: JSONBody[TransactionIn],
                                 dpop: DPoPHeader = None, idempotency_key: IdemHeader = None) -> Response[Any]:
        """Record what this wallet shared with whom (relying party, claim names, time; never claim values)."""
        me = await caller(request, dpop)
        scope = f"{me.id}:transactions"
        body = data.model_dump(mode="json")
        stored = await service.idempotency_begin(rt, scope, idempotency_key, body)
        if stored is not None:
            return Response(stored.body, status_code=stored.status, headers={"Idempotent-Replayed": "true"})
        assert idempotency_key is not None
        try:
            row = WalTransaction(
                instance_id=me.id, person_id=me.person_id, relying_party=data.relying_party,
                relying_party_name=data.relying_party_name, credential_types=data.credential_types,
                claims=data.claims, outcome=data.outcome, profile=data.profile, shared_at=data.shared_at,
                recorded_at=service.now_utc(rt),
            )
            async with rt.db.session() as s:
                s.add(row)
                await s.commit()
                await s.refresh(row)
        except BaseException:
            await service.idempotency_abort(rt, scope, idempotency_key)
            raise
        out = TransactionView.model_validate(row, from_attributes=True).model_dump(mode="json")
        await service.idempotency_finish(rt, scope, idempotency_key, body, 201, out)
        return Response(out, status_code=201)

    @get("/transactions", operation_id="listTransactions", responses=SIGNED, tags=TAGS_LOG)
    async def list_transactions(request: Request[Any, Any, Any], dpop: DPoPHeader = None, limit: LimitParam = 20,
                                cursor: CursorParam = None, profile: ProfileFilter = None) -> TransactionPage:
        """The person's transaction log across their devices, newest first (``profile``: one wallet profile only)."""
        me = await caller(request, dpop)
        before = decode_cursor(cursor, maximum=INT32_MAX)
        q = select(WalTransaction)
        q = (q.where(WalTransaction.person_id == me.person_id) if me.person_id
             else q.where(WalTransaction.instance_id == me.id))
        if before:
            q = q.where(col(WalTransaction.id) < before)
        if profile is not None:
            q = q.where(WalTransaction.profile == profile)
        async with rt.db.session() as s:
            rows = (await s.exec(q.order_by(col(WalTransaction.id).desc()).limit(limit + 1))).all()
        more = len(rows) > limit
        items = [TransactionView.model_validate(r, from_attributes=True) for r in rows[:limit]]
        return TransactionPage(items=items, next_cursor=encode_cursor(items[-1].id) if more and items else None)

    # -- encrypted backup --------------------------------------------------------------------------

    @put("/backup", operation_id="putBackup", responses=problems(400, 403, 412), tags=TAGS_BACKUP, status_code=200)
    async def put_backup(request: Request[Any, Any, Any], data: JSONBody[BackupIn], dpop: DPoPHeader = None,
                         if_match: Annotated[str | None, HeaderParameter(name="If-Match", required=False)] = None,
                         if_none_match: Annotated[str | None, HeaderParameter(name="If-None-Match",
                                                                        required=False)] = None,
                         profile: BackupProfile = "private") -> Response[BackupView]:
        """Store the encrypted backup of one wallet profile (opaque to the server; ``private`` and ``work`` are kept
        apart). ``If-Match`` guards against overwriting a newer backup from another device; ``If-None-Match: *``
        creates only. The PUT itself is idempotent."""
        me = await caller(request, dpop)
        try:
            raw = b64u_decode(data.ciphertext, what="ciphertext")
        except ParsingError:
            raise InvalidRequest("ciphertext must be unpadded base64url") from None
        if len(raw) > MAX_BACKUP:
            raise InvalidRequest(f"the backup is larger than {MAX_BACKUP} bytes")
        owner = backup_owner(me)
        want = parse_if_match(if_match)
        async with rt.db.session() as s:
            row = await s.get(WalBackup, (owner, profile), with_for_update=not rt.db.is_sqlite)
            if if_none_match is not None and if_none_match.strip() == "*" and row is not None:
                raise PreconditionFailed("a backup exists already")
            if want is not None and (row is None or row.version != want):
                raise PreconditionFailed("the backup changed since it was read; fetch it again")
            now = service.now_utc(rt)
            if row is None:
                row = WalBackup(owner=owner, profile=profile, ciphertext=data.ciphertext, media_type=data.media_type,
                                version=1, size=len(raw), updated_at=now, updated_by=me.id)
            else:
                row.ciphertext, row.media_type, row.size = data.ciphertext, data.media_type, len(raw)
                row.version += 1
                row.updated_at, row.updated_by = now, me.id
            s.add(row)
            await s.commit()
        return Response(backup_view(row), headers={"ETag": etag(row.version)})

    @get("/backup", operation_id="getBackup", responses=problems(400, 403, 404), tags=TAGS_BACKUP)
    async def get_backup(request: Request[Any, Any, Any], dpop: DPoPHeader = None,
                         if_none_match: Annotated[str | None, HeaderParameter(name="If-None-Match",
                                                                        required=False)] = None,
                         profile: BackupProfile = "private") -> Response[BackupView | None]:
        """The latest encrypted backup of the caller's person in one wallet profile (restore on a new device once it
        is bound)."""
        me = await caller(request, dpop)
        async with rt.db.session() as s:
            row = await s.get(WalBackup, (backup_owner(me), profile))
        if row is None:
            raise NotFound("no backup")
        tag = etag(row.version)
        if if_none_match is not None and tag in [t.strip() for t in if_none_match.split(",")]:
            return Response(None, status_code=304, headers={"ETag": tag})
        return Response(backup_view(row), headers={"ETag": tag})

    # -- administration ----------------------------------------------------------------------------

    @post("/admin/instances/{instance_id:str}/person", operation_id="adminBindInstance",
          responses=problems(400, 401, 404, 409), tags=TAGS_ADMIN,
          status_code=200)
    async def admin_bind(instance_id: FromPath[str], data: JSONBody[AdminBind], authorization: AuthHeader = None
                         ) -> Response[InstanceView]:
        """Bind an instance to a person (service desk, after an in-person identity check)."""
        require_admin(rt, authorization)
        person = await service.person_from_admin(rt, data.person)
        inst = await service.bind(rt, instance_id, person, how="admin")
        return Response(view(inst), headers={"ETag": etag(inst.version)})

    @post("/admin/instances/{instance_id:str}/status", operation_id="adminChangeInstanceStatus",
          responses=problems(400, 401, 404, 409), tags=TAGS_ADMIN,
          status_code=200)
    async def admin_status(instance_id: FromPath[str], data: JSONBody[StatusChange], authorization: AuthHeader = None
                           ) -> Response[InstanceView]:
        """Suspend, revoke or reinstate an instance as an administrator (a person who lost every device)."""
        require_admin(rt, authorization)
        inst = await service.change_state(rt, instance_id, data.action, by="admin")
        return Response(view(inst), headers={"ETag": etag(inst.version)})

    @post("/admin/persons/instances", operation_id="adminListPersonInstances",
          responses=problems(400, 401, 404), tags=TAGS_ADMIN, status_code=200)
    async def admin_list(data: JSONBody[PersonRef], authorization: AuthHeader = None) -> InstancePage:
        """A person's wallet instances. The national identity number (or person id) travels in the JSON body, never
        in the URL, which access logs and proxies keep."""
        require_admin(rt, authorization)
        pid = await service.person_from_admin(rt, data.person)
        async with rt.db.session() as s:
            rows = (await s.exec(select(WalInstance).where(WalInstance.person_id == pid)
                                 .order_by(col(WalInstance.created_at)).limit(100))).all()
        return InstancePage(items=[view(r) for r in rows], next_cursor=None)

    # one router for every route of the wallet API, so that no answer with personal data can miss no-store
    return [Router(path="/", middleware=[no_store], route_handlers=[
        create_challenge, register_instance, list_instances, get_instance, change_status, issue_wallet_attestation,
        issue_key_attestation, instance_status_list, binding_nonce, bind_by_pid, record_transaction,
        list_transactions, put_backup, get_backup, admin_bind, admin_status, admin_list, *guardian.handlers(rt),
        *mandates.handlers(rt)])]


def well_known_handlers(app: Litestar) -> Sequence[ControllerRouterHandler]:
    """Handlers that live at the host root (``/.well-known/...``), outside the service ``app``'s mount path."""
    return []


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> Litestar:
    """The wallet service alone. Pass ``runtime`` to share one runtime (the all-in-one server does)."""
    own = runtime is None
    rt = runtime or Runtime(settings or load_settings())
    return service_app(
        name=NAME,
        title="Lommebok wallet API", description=DESCRIPTION, rt=rt, own_runtime=own,
        make_handlers=handlers, error_style="problem", mount_path=MOUNT,
        schema=SCHEMA,
    )
