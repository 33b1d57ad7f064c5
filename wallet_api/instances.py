"""Wallet instances (OpenID4VCI 1.0 Appendix E wallet provider; HAIP wallet attestation): registration with a platform
key attestation, lifecycle, and binding an instance to its person.

- registration: a single-use challenge (the proof's ``nonce`` and the attestation challenge), the platform key
  attestation (:mod:`wallet_api.device_attestation`), one instance per key;
- lifecycle: suspend / revoke / reinstate, allowed to the instance itself (suspend, revoke), to another active
  instance of the same person, or to an administrator; the issuer's admin API then revokes, suspends or
  reinstates every credential issued to the instance key (``instance_jkt``, :mod:`wallet_api.issuer_client`);
- binding an instance to a person: by a PID presentation (SD-JWT VC + KB-JWT over a nonce of this service,
  issuer chain to the trust anchors, the PID's ``personal_administrative_number`` looked up in the population
  register), or by an administrator (e.g. a service desk after an in-person identity check).
"""

from __future__ import annotations

import logging
import secrets
import uuid
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric import ec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from eidcore import jose
from eidcore.errors import (
    Conflict,
    FormatError,
    InvalidDeviceAttestation,
    InvalidDPoPProof,
    InvalidNonce,
    InvalidRequest,
    LommebokError,
    NotFound,
    PreconditionFailed,
    UnknownPerson,
)
from eidcore.oauth import dpop
from eidcore.runtime import Runtime, pseudonym
from wallet_api import issuer_client
from wallet_api.conventions import (
    SIGNED,
    CursorParam,
    DPoPHeader,
    IdemHeader,
    IfMatch,
    IfNoneMatch,
    LimitParam,
    decode_cursor,
    encode_cursor,
    etag,
    matches_etag,
    parse_if_match,
    problems,
    view,
)
from wallet_api.device_attestation import parse_x5c, verify_android_key_attestation
from wallet_api.idempotency import idempotency_abort, idempotency_begin, idempotency_finish
from wallet_api.models import WalInstance
from wallet_api.provider import PROOF_MAX_AGE, PROOF_SKEW, Wallet, WalletProvider
from wallet_api.schemas import BindByPid, Challenge, InstancePage, InstanceView, Nonce, RegisterRequest, StatusChange

__all__ = ["CHALLENGE_TTL", "PID_VCT", "BindingController", "InstancesController", "bind", "change_state",
           "get_visible", "person_from_admin", "register"]

log = logging.getLogger("lommebok.wallet")

CHALLENGE_TTL = 300
PID_VCT = "urn:eudi:pid:1"
TAGS = ("wallet instances",)

Action = Literal["suspend", "revoke", "reinstate"]
TARGET_STATE = {"suspend": "suspended", "revoke": "revoked", "reinstate": "active"}


# --------------------------------------------------------------------------------------------------
# Registration
# --------------------------------------------------------------------------------------------------


async def new_challenge(wp: WalletProvider) -> str:
    wp.attestation_policies()  # in dev this creates the device maker, so a dev wallet can attest with it
    challenge = secrets.token_urlsafe(32)
    await wp.rt.store.put(f"wal:challenge:{challenge}", b"1", CHALLENGE_TTL)
    return challenge


async def register(wp: WalletProvider, proof: str | None, *, url: str, platform: str, attestation_format: str,
                   x5c: object, wallet_version: str) -> WalInstance:
    """Register a wallet instance (challenge, proof of possession, platform attestation)."""
    rt = wp.rt
    p = dpop.verify_proof(proof, htm="POST", htu=url, clock=rt.clock, max_age=PROOF_MAX_AGE, max_skew=PROOF_SKEW)
    if p.nonce is None:
        raise InvalidNonce("the registration proof must carry the challenge as nonce")
    if await rt.store.consume(f"wal:challenge:{p.nonce}") is None:
        raise InvalidNonce("the registration challenge is unknown, expired or already used")
    if platform != "android" or attestation_format != "android-key":
        raise InvalidDeviceAttestation("only Android Key Attestation (platform android, format android-key) "
                                       "is supported; iOS App Attest is not implemented")
    key = jose.public_key_from_jwk(p.jwk)
    if not isinstance(key, ec.EllipticCurvePublicKey) or p.jwk.get("crv") != "P-256":
        raise InvalidDPoPProof("instance keys are P-256 keys (ES256)")
    chain = parse_x5c(x5c)
    result = verify_android_key_attestation(chain, instance_key=key, challenge=p.nonce.encode("ascii"),
                                            policies=wp.attestation_policies(), clock=rt.clock)
    now = wp.now()
    for _ in range(5):
        async with rt.db.session() as s:
            if (await s.exec(select(WalInstance).where(WalInstance.jkt == p.jkt))).first() is not None:
                raise Conflict("this instance key is already registered")
            top = (await s.exec(select(func.max(WalInstance.status_idx)))).one()
            inst = WalInstance(
                id=str(uuid.uuid4()), status_idx=(top if isinstance(top, int) else -1) + 1, jkt=p.jkt,
                public_jwk={k: p.jwk[k] for k in ("kty", "crv", "x", "y")}, platform=platform,
                security_level=result.security_level, attestation_roots=result.policy,
                wallet_version=wallet_version, state="active", created_at=now, updated_at=now,
                issuer_sync=None, person_id=None, bound_by=None, version=1,
            )
            s.add(inst)
            try:
                await s.commit()
            except IntegrityError:
                await s.rollback()
                continue
        log.info("wallet instance registered: %s (%s)", pseudonym(inst.id), result.policy)
        return inst
    raise Conflict("could not allocate a status index; retry")


# --------------------------------------------------------------------------------------------------
# Lifecycle
# --------------------------------------------------------------------------------------------------


async def get_visible(rt: Runtime, caller: WalInstance, instance_id: str) -> WalInstance:
    """An instance the caller may see and manage: itself, or another instance of the same person."""
    async with rt.db.session() as s:
        target = await s.get(WalInstance, instance_id)
    if target is None or not (target.id == caller.id or (caller.person_id is not None
                                                          and target.person_id == caller.person_id)):
        raise NotFound("no such wallet instance")
    return target


def check_transition(inst: WalInstance, action: Action) -> bool:
    """True when the action changes the state, False when the instance is already there (idempotent)."""
    target = TARGET_STATE[action]
    if inst.state == target:
        return False
    if inst.state == "revoked":
        raise Conflict("a revoked wallet instance cannot be suspended or reinstated")
    if action == "reinstate" and inst.state != "suspended":
        raise Conflict("only a suspended wallet instance can be reinstated")
    return True


async def change_state(rt: Runtime, instance_id: str, action: Action, *, by: str,
                       if_match: int | None = None) -> WalInstance:
    """Apply a lifecycle action and tell the issuer; a no-op action only retries a failed issuer update."""
    async with rt.db.session() as s:
        inst = await s.get(WalInstance, instance_id, with_for_update=not rt.db.is_sqlite)
        if inst is None:
            raise NotFound("no such wallet instance")
        if if_match is not None and inst.version != if_match:
            raise PreconditionFailed("the wallet instance changed; fetch it again")
        changed = check_transition(inst, action)
        if changed:
            inst.state = TARGET_STATE[action]
            inst.version += 1
            inst.updated_at = rt.clock.now()
            inst.issuer_sync = {"action": action, "status": "pending"}
            s.add(inst)
            await s.commit()
            log.info("wallet instance %s: %s by %s", pseudonym(inst.id), action, by)
    sync = inst.issuer_sync or {}
    if changed or sync.get("status") != "done" or sync.get("action") != action:
        inst = await sync_issuer(rt, inst, action)
    return inst


async def sync_issuer(rt: Runtime, inst: WalInstance, action: Action) -> WalInstance:
    """Revoke / suspend / reinstate at the issuer every credential issued to the instance key."""
    outcome: dict[str, Any] = {"action": action}
    try:
        changed = await issuer_client.change_credential_status(rt, action, instance_jkt=inst.jkt)
        outcome.update(status="done", updated=changed.updated, credentials=changed.credentials)
    except issuer_client.IssuerAdminError as exc:
        outcome.update(status="failed", detail=issuer_client.unavailable(exc, "the status change").description)
    except LommebokError as exc:
        outcome.update(status="failed", detail=exc.description)
    async with rt.db.session() as s:
        row = await s.get(WalInstance, inst.id)
        assert row is not None
        row.issuer_sync = outcome
        s.add(row)
        await s.commit()
    if outcome["status"] != "done":
        log.warning("issuer update for wallet instance %s failed: %s", pseudonym(inst.id), outcome["detail"])
    return row


# --------------------------------------------------------------------------------------------------
# Person binding
# --------------------------------------------------------------------------------------------------


async def new_binding_nonce(rt: Runtime, inst: WalInstance) -> str:
    nonce = secrets.token_urlsafe(24)
    await rt.store.put(f"wal:bind:{nonce}", inst.id.encode(), CHALLENGE_TTL)
    return nonce


async def person_from_pid(rt: Runtime, inst: WalInstance, presentation: str, nonce: str) -> str:
    """Verify a PID presentation (SD-JWT VC with KB-JWT over our nonce) and return the person's id."""
    from eidcore.formats.sd_jwt.verify import KeyBindingRequired
    from eidcore.formats.sd_jwt_vc import SdJwtVcVerifier, X5cIssuerKey
    from eidcore.registers import SqlPopulationRegister

    owner = await rt.store.consume(f"wal:bind:{nonce}")
    if owner is None or owner.decode() != inst.id:
        raise InvalidNonce("the binding nonce is unknown, expired, used, or was issued to another instance")
    assert rt.keys is not None
    verifier = SdJwtVcVerifier(X5cIssuerKey(rt.keys.trust_anchors, clock=rt.clock), clock=rt.clock,
                               accepted_vcts={PID_VCT})
    try:
        vc = verifier.verify(presentation, KeyBindingRequired(audience=rt.settings.service_url("wallet"),
                                                              nonce=nonce))
    except FormatError as exc:
        raise InvalidRequest(f"the PID presentation is not valid: {exc.description}") from None
    number = vc.claims.get("personal_administrative_number")
    if not isinstance(number, str):
        raise InvalidRequest("the PID must disclose personal_administrative_number to bind the wallet; "
                             "persons without a national number are bound by the service desk")
    try:
        person = await SqlPopulationRegister(rt.db, clock=rt.clock).find_by_identifier(number)
    except LommebokError:
        raise UnknownPerson("the PID's person is not in the population register") from None
    return person.person_id


async def person_from_admin(rt: Runtime, value: str) -> str:
    """A person id from a national identity number or a person id (administrator binding)."""
    from eidcore.registers import SqlPopulationRegister

    reg = SqlPopulationRegister(rt.db, clock=rt.clock)
    try:
        if value.isdigit() and len(value) == 11:
            return (await reg.find_by_identifier(value)).person_id
        return (await reg.get_person(value)).person_id
    except LommebokError:
        raise UnknownPerson("no such person in the population register") from None


async def bind(rt: Runtime, instance_id: str, person_id: str, *, how: str) -> WalInstance:
    """Bind the instance to the person (once; another person's instance is a 409)."""
    async with rt.db.session() as s:
        inst = await s.get(WalInstance, instance_id)
        if inst is None:
            raise NotFound("no such wallet instance")
        if inst.person_id is not None and inst.person_id != person_id:
            raise Conflict("the wallet instance already belongs to another person")
        if inst.person_id != person_id:
            inst.person_id = person_id
            inst.bound_by = how
            inst.version += 1
            inst.updated_at = rt.clock.now()
            s.add(inst)
            await s.commit()
    log.info("wallet instance %s bound to person %s (%s)", pseudonym(instance_id), pseudonym(person_id), how)
    return inst


# --------------------------------------------------------------------------------------------------
# Controllers
# --------------------------------------------------------------------------------------------------


class InstancesController(Controller):
    """``/instances``: registration and the lifecycle of the caller's person's wallet instances."""

    path = "/instances"
    tags = TAGS

    @post("/challenge", operation_id="createRegistrationChallenge", responses=problems(400), status_code=201)
    async def create_challenge(self, wallet: Wallet) -> Response[Challenge]:
        """A single-use registration challenge: the app puts it in its key attestation and its proof's nonce."""
        c = await new_challenge(wallet)
        return Response(Challenge(challenge=c, expires_in=CHALLENGE_TTL), status_code=201,
                        headers={"Cache-Control": "no-store"})

    @post("/", operation_id="registerInstance", responses=problems(400, 409), status_code=201)
    async def register_instance(self, wallet: Wallet, request: Request[Any, Any, Any],
                                data: JSONBody[RegisterRequest], dpop: DPoPHeader = None) -> Response[InstanceView]:
        """Register a wallet instance: the proof (nonce = challenge) is signed by the instance key, and the
        platform attestation certifies that key with the same challenge."""
        inst = await register(wallet, dpop, url=wallet.public_url(request.scope), platform=data.platform,
                              attestation_format=data.attestation.format, x5c=data.attestation.x5c,
                              wallet_version=data.wallet_version)
        return Response(view(inst), status_code=201, headers={
            "ETag": etag(inst.version), "Location": f"{wallet.settings.service_url('wallet')}/instances/{inst.id}"})

    @get("/", operation_id="listInstances", responses=SIGNED)
    async def list_instances(self, wallet: Wallet, request: Request[Any, Any, Any],
                             dpop: DPoPHeader = None, limit: LimitParam = 20,
                             cursor: CursorParam = None) -> InstancePage:
        """The caller's person's wallet instances (only the caller until it is bound to a person)."""
        me = await wallet.authenticate(request, dpop)
        offset = decode_cursor(cursor)
        q = select(WalInstance)
        q = q.where(WalInstance.person_id == me.person_id) if me.person_id else q.where(WalInstance.id == me.id)
        async with wallet.rt.db.session() as s:
            rows = (await s.exec(q.order_by(col(WalInstance.created_at), col(WalInstance.id))
                                 .offset(offset).limit(limit + 1))).all()
        more = len(rows) > limit
        return InstancePage(items=[view(r) for r in rows[:limit]],
                            next_cursor=encode_cursor(offset + limit) if more else None)

    @get("/{instance_id:str}", operation_id="getInstance", responses=problems(400, 403, 404))
    async def get_instance(self, wallet: Wallet, request: Request[Any, Any, Any],
                           instance_id: FromPath[str], dpop: DPoPHeader = None,
                           if_none_match: IfNoneMatch = None) -> Response[InstanceView | None]:
        """One instance (the caller itself, even when suspended, or another instance of the same person)."""
        me = await wallet.authenticate(request, dpop, require_active=False)
        if me.id != instance_id and me.state != "active":
            raise NotFound("no such wallet instance")
        inst = await get_visible(wallet.rt, me, instance_id)
        tag = etag(inst.version)
        if matches_etag(tag, if_none_match):
            return Response(None, status_code=304, headers={"ETag": tag})
        return Response(view(inst), headers={"ETag": tag})

    @post("/{instance_id:str}/status", operation_id="changeInstanceStatus",
          responses=problems(400, 403, 404, 409, 412), status_code=200)
    async def change_status(self, wallet: Wallet, request: Request[Any, Any, Any],
                            instance_id: FromPath[str], data: JSONBody[StatusChange], dpop: DPoPHeader = None,
                            idempotency_key: IdemHeader = None, if_match: IfMatch = None) -> Response[InstanceView]:
        """Suspend, revoke or reinstate a wallet instance (a lost phone) from the instance itself (suspend,
        revoke) or from another active instance of the same person; the issuer then revokes, suspends or
        reinstates every credential issued to that instance."""
        rt = wallet.rt
        me = await wallet.authenticate(request, dpop)
        target = await get_visible(rt, me, instance_id)
        if data.action == "reinstate" and target.id == me.id:
            raise InvalidRequest("an instance cannot reinstate itself")
        scope = f"{me.id}:status:{instance_id}"
        body = data.model_dump()
        stored = await idempotency_begin(rt, scope, idempotency_key, body)
        if stored is not None:
            return Response(InstanceView.model_validate(stored.body), status_code=stored.status,
                            headers={"Idempotent-Replayed": "true"})
        assert idempotency_key is not None
        try:
            inst = await change_state(rt, instance_id, data.action, by="owner" if me.id != target.id else "self",
                                      if_match=parse_if_match(if_match))
        except BaseException:
            await idempotency_abort(rt, scope, idempotency_key)
            raise
        out = view(inst)
        await idempotency_finish(rt, scope, idempotency_key, body, 200, out.model_dump(mode="json"))
        return Response(out, headers={"ETag": etag(inst.version)})


class BindingController(Controller):
    """``/binding``: bind the calling instance to the person its PID names."""

    path = "/binding"
    tags = TAGS

    @post("/nonce", operation_id="createBindingNonce", responses=SIGNED, status_code=200)
    async def binding_nonce(self, wallet: Wallet, request: Request[Any, Any, Any],
                            dpop: DPoPHeader = None) -> Response[Nonce]:
        """A single-use nonce for the PID presentation that binds this instance to its person."""
        me = await wallet.authenticate(request, dpop)
        n = await new_binding_nonce(wallet.rt, me)
        return Response(Nonce(nonce=n, expires_in=CHALLENGE_TTL), headers={"Cache-Control": "no-store"})

    @post("/", operation_id="bindInstanceByPid", responses=problems(400, 403, 404, 409), status_code=200)
    async def bind_by_pid(self, wallet: Wallet, request: Request[Any, Any, Any], data: JSONBody[BindByPid],
                          dpop: DPoPHeader = None) -> Response[InstanceView]:
        """Bind this instance to the person named by a PID it presents (KB-JWT: aud = this service, our nonce)."""
        me = await wallet.authenticate(request, dpop)
        person = await person_from_pid(wallet.rt, me, data.presentation, data.nonce)
        inst = await bind(wallet.rt, me.id, person, how="pid")
        return Response(view(inst), headers={"ETag": etag(inst.version)})
