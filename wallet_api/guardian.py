"""Youth wallets under guardian control (issue 7): the guardian API and the child's consent requests.

Guardians are the persons the population register names as responsible for the child *now* (parental
responsibility, ``foreldreansvar``, or guardianship): every guardian call looks it up again, so a guardian who
loses responsibility in the register loses access at once. With joint responsibility either guardian can act.
A guardian signs each call with their own wallet instance (DPoP-style proof, as every wallet API call) and that
instance must be bound to their person (by their PID or at a service desk).

- ``GET /guardian/children``: my children and their wallets;
- ``POST /guardian/children/{child}/wallets``: register a child's wallet instance (binds it to the child);
- ``POST /guardian/children/{child}/wallets/{instance}/status``: suspend / reinstate / revoke the child's wallet;
- ``GET|PUT /guardian/children/{child}/rules``: standing rules (relying party or ``*``, claim path or any,
  ``allow`` / ``ask`` / ``never``);
- ``GET /guardian/children/{child}/transactions``: the child's consent requests and shared-claims log (claim
  names and relying parties, never values);
- ``GET /guardian/requests``: pending requests of all my children; ``GET /guardian/events``: the same as
  server-sent events (``request`` events), pushed when a child asks, for ``wait`` seconds;
- ``POST /guardian/requests/{id}/approve|deny``.

The child's wallet asks with ``POST /youth/consent-requests`` (verifier client id, claim paths, the hash of the
transaction nonce, its holder key): a ``never`` rule denies it, ``allow`` rules covering every claim (and no
``ask`` rule) approve it at once, anything else waits for a guardian. An approved request carries the guardian
consent credential (:mod:`wallet_api.consent`); ``GET /youth/consent-requests/{id}`` shows the outcome. Pending
requests expire after :data:`REQUEST_TTL` seconds; denials and expiries stay in the log.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from litestar import Request, get, post, put
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.types import ControllerRouterHandler
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, Column, Text
from sqlmodel import Field as SqlField
from sqlmodel import SQLModel, col, select

from eidcore.errors import AccessDenied, Conflict, LommebokError, NotFound
from eidcore.registers import SqlPopulationRegister
from eidcore.registers.records import Person
from eidcore.runtime import Runtime, pseudonym
from wallet_api import service
from wallet_api.consent import issue_consent
from wallet_api.models import WalInstance, WalTransaction

__all__ = ["REQUEST_TTL", "YouthRequest", "YouthRule", "YouthWallet", "handlers"]

log = logging.getLogger("lommebok.wallet.youth")

REQUEST_TTL = 600
"""Seconds a consent request waits for a guardian before it expires."""
TAGS_GUARDIAN = ["guardian control"]
TAGS_YOUTH = ["youth wallet"]
DPoPHeader = Annotated[str | None, HeaderParameter(name="DPoP", required=False,
                                             description="Proof signed by the instance key (RFC 9449 §4.2 format)")]

# --------------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------------


class YouthWallet(SQLModel, table=True):
    """A child's wallet instance, registered by a guardian."""

    __tablename__ = "youth_wallet"

    instance_id: str = SqlField(primary_key=True, max_length=36)
    child_id: str = SqlField(max_length=36, index=True)
    registered_by: str = SqlField(max_length=36)
    created_at: datetime


class YouthRequest(SQLModel, table=True):
    """A child's request to present claims to a verifier, and its outcome (claim paths, never values)."""

    __tablename__ = "youth_request"

    id: str = SqlField(primary_key=True, max_length=36)
    child_id: str = SqlField(max_length=36, index=True)
    instance_id: str = SqlField(max_length=36)
    client_id: str = SqlField(max_length=2048)
    relying_party_name: str | None = SqlField(default=None, max_length=200)
    claims: list[list[Any]] = SqlField(sa_column=Column(JSON, nullable=False))
    nonce_hash: str = SqlField(max_length=64)
    holder_jwk: dict[str, Any] = SqlField(sa_column=Column(JSON, nullable=False))
    status: str = SqlField(default="pending", max_length=16, index=True)
    decided_by: str | None = SqlField(default=None, max_length=64)
    consent: str | None = SqlField(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None = None


class YouthRule(SQLModel, table=True):
    """A guardian's standing rule for a child: relying party (``*`` = any), claim path (None = any), effect."""

    __tablename__ = "youth_rule"

    id: int | None = SqlField(default=None, primary_key=True)
    child_id: str = SqlField(max_length=36, index=True)
    client_id: str = SqlField(max_length=2048)
    claim: list[Any] | None = SqlField(default=None, sa_column=Column(JSON, nullable=True))
    effect: str = SqlField(max_length=8)
    created_by: str = SqlField(max_length=36)
    created_at: datetime


# --------------------------------------------------------------------------------------------------
# bodies
# --------------------------------------------------------------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


ClaimPath = Annotated[list[str | int | None], Field(min_length=1, max_length=10)]


class WalletRef(_Body):
    instance_id: str = Field(max_length=36, description="The child's wallet instance (registered, not bound yet)")


class ChildWallet(BaseModel):
    id: str
    state: str
    registered_by_me: bool
    created_at: datetime


class ChildView(BaseModel):
    person_id: str
    given_name: str
    age: int
    basis: str
    wallets: list[ChildWallet]


class RuleIn(_Body):
    client_id: str = Field(min_length=1, max_length=2048, description="The verifier's client_id, or * for any")
    claim: ClaimPath | None = Field(default=None, description="A DCQL claim path; null for any claim")
    effect: Literal["allow", "ask", "never"]


class Rules(_Body):
    rules: list[RuleIn] = Field(max_length=100)


class ConsentRequestIn(_Body):
    client_id: str = Field(min_length=1, max_length=2048, description="The verifier's client_id (with prefix)")
    relying_party_name: str | None = Field(default=None, max_length=200)
    claims: list[ClaimPath] = Field(min_length=1, max_length=50, description="DCQL claim paths to disclose")
    transaction_nonce_hash: str = Field(pattern=r"^[A-Za-z0-9_-]{43}$",
                                        description="base64url(SHA-256(the OpenID4VP nonce))")
    holder_jwk: dict[str, Any] = Field(description="The public key the presented credentials are bound to")


class RequestView(BaseModel):
    id: str
    child_id: str
    client_id: str
    relying_party_name: str | None
    claims: list[list[Any]]
    status: Literal["pending", "approved", "denied", "expired"]
    decided_by: str | None
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None
    consent: str | None = Field(default=None, description="The guardian consent credential (child only)")


class LogEntry(BaseModel):
    kind: Literal["consent_request", "presentation"]
    relying_party: str
    relying_party_name: str | None
    claims: list[Any]
    outcome: str
    at: datetime


class StatusIn(_Body):
    action: Literal["suspend", "revoke", "reinstate"]


# --------------------------------------------------------------------------------------------------
# logic
# --------------------------------------------------------------------------------------------------


def _view(r: YouthRequest, *, with_consent: bool = False) -> RequestView:
    return RequestView(id=r.id, child_id=r.child_id, client_id=r.client_id, relying_party_name=r.relying_party_name,
                       claims=r.claims, status=r.status,  # type: ignore[arg-type]
                       decided_by=None if r.decided_by is None else r.decided_by.split(":")[0],
                       created_at=r.created_at, expires_at=r.expires_at, decided_at=r.decided_at,
                       consent=r.consent if with_consent else None)


def _register(rt: Runtime) -> SqlPopulationRegister:
    return SqlPopulationRegister(rt.db, clock=rt.clock)


async def basis_for(rt: Runtime, guardian_id: str, child_id: str) -> str:
    """The guardian's basis for acting for the child today (``parental_responsibility`` / ``guardianship``);
    :class:`AccessDenied` when the register names no such responsibility now."""
    try:
        responsible = await _register(rt).responsible_for(child_id)
    except LommebokError:
        raise NotFound("no such child") from None
    for r in responsible:
        if r.person.person_id == guardian_id:
            return r.basis
    raise AccessDenied("the population register names you as neither parent with responsibility nor guardian "
                       "of this person")


async def guardian(rt: Runtime, request: Request[Any, Any, Any], proof: str | None) -> str:
    """The person id of the guardian signing this call (their instance must be bound to them)."""
    me = await service.authenticate(rt, proof, method=request.method, url=service.public_url(rt, request.scope))
    if me.person_id is None:
        raise AccessDenied("bind this wallet to yourself (present your PID) before acting as a guardian")
    if await _youth_wallet(rt, me.id) is not None:
        raise AccessDenied("a child's wallet cannot act as a guardian")
    return me.person_id


async def _youth_wallet(rt: Runtime, instance_id: str) -> YouthWallet | None:
    async with rt.db.session() as s:
        return await s.get(YouthWallet, instance_id)


def _matches(rule: YouthRule, client_id: str, claim: list[Any] | None) -> bool:
    return rule.client_id in ("*", client_id) and (rule.claim is None or rule.claim == claim)


def decide_by_rules(rules: Sequence[YouthRule], client_id: str, claims: Sequence[list[Any]]) -> str | None:
    """``denied`` when a ``never`` rule matches a claim, ``approved`` when ``allow`` rules cover every claim and
    no ``ask`` rule matches, else None (a guardian decides)."""
    for c in claims:
        if any(r.effect == "never" and _matches(r, client_id, c) for r in rules):
            return "denied"
    for c in claims:
        if any(r.effect == "ask" and _matches(r, client_id, c) for r in rules):
            return None
        if not any(r.effect == "allow" and _matches(r, client_id, c) for r in rules):
            return None
    return "approved"


class _Events:
    """In-process wake-ups of the guardians' event streams (other processes are seen by polling)."""

    def __init__(self) -> None:
        self.waiters: dict[str, set[asyncio.Event]] = {}

    def notify(self, child_id: str) -> None:
        for e in self.waiters.get(child_id, ()):
            e.set()


_EVENTS = _Events()


async def _expire(rt: Runtime, r: YouthRequest) -> YouthRequest:
    if r.status == "pending" and service.now_utc(rt) >= _aware(r.expires_at):
        async with rt.db.session() as s:
            row = await s.get(YouthRequest, r.id)
            assert row is not None
            if row.status == "pending":
                row.status, row.decided_at, row.decided_by = "expired", service.now_utc(rt), "expiry"
                s.add(row)
                await s.commit()
            r = row
    return r


def _aware(t: datetime) -> datetime:
    from datetime import UTC

    return t if t.tzinfo else t.replace(tzinfo=UTC)


async def decide(rt: Runtime, request_id: str, status: str, by: str, *, guardian_id: str,
                 basis: str) -> YouthRequest:
    """Approve (issue the consent credential) or deny a pending request; only once."""
    async with rt.db.session() as s:
        row = await s.get(YouthRequest, request_id, with_for_update=not rt.db.is_sqlite)
        if row is None:
            raise NotFound("no such request")
        if row.status == "pending" and service.now_utc(rt) >= _aware(row.expires_at):
            row.status, row.decided_at, row.decided_by = "expired", service.now_utc(rt), "expiry"
        elif row.status == "pending":
            row.status, row.decided_at, row.decided_by = status, service.now_utc(rt), by
            if status == "approved":
                row.consent = issue_consent(rt, holder_jwk=row.holder_jwk, client_id=row.client_id,
                                            approved_claims=row.claims, transaction_nonce_hash=row.nonce_hash,
                                            child_id=row.child_id, guardian_id=guardian_id, basis=basis)
        else:
            raise Conflict(f"the request is already {row.status}")
        s.add(row)
        await s.commit()
    _EVENTS.notify(row.child_id)
    log.info("youth request %s %s (%s)", pseudonym(row.id), row.status, by.split(":")[0])
    return row


# --------------------------------------------------------------------------------------------------
# handlers
# --------------------------------------------------------------------------------------------------


def handlers(rt: Runtime) -> Sequence[ControllerRouterHandler]:
    """The guardian API and the child's consent requests (mount-relative paths)."""

    async def child_person(guardian_id: str, child_id: str) -> tuple[Person, str]:
        basis = await basis_for(rt, guardian_id, child_id)
        return await _register(rt).get_person(child_id), basis

    @get("/guardian/children", operation_id="guardianListChildren", tags=TAGS_GUARDIAN)
    async def list_children(request: Request[Any, Any, Any], dpop: DPoPHeader = None) -> list[ChildView]:
        """The children the register says I am responsible for now, with their wallets."""
        me = await guardian(rt, request, dpop)
        kids = await _register(rt).children_of(me)
        out = []
        for k in kids:
            async with rt.db.session() as s:
                rows = (await s.exec(select(YouthWallet).where(YouthWallet.child_id == k.person.person_id))).all()
                wallets = []
                for w in rows:
                    inst = await s.get(WalInstance, w.instance_id)
                    wallets.append(ChildWallet(id=w.instance_id, state=inst.state if inst else "unknown",
                                               registered_by_me=w.registered_by == me, created_at=w.created_at))
            out.append(ChildView(person_id=k.person.person_id, given_name=k.person.given_name,
                                 age=k.person.age(rt.clock), basis="parental_responsibility", wallets=wallets))
        return out

    @post("/guardian/children/{child_id:str}/wallets", operation_id="guardianRegisterChildWallet",
          tags=TAGS_GUARDIAN, status_code=201)
    async def register_wallet(request: Request[Any, Any, Any], child_id: FromPath[str], data: JSONBody[WalletRef],
                              dpop: DPoPHeader = None) -> ChildWallet:
        """Register the child's wallet instance: it is bound to the child and put under guardian control."""
        me = await guardian(rt, request, dpop)
        child, _ = await child_person(me, child_id)
        if child.age(rt.clock) >= 18:
            raise Conflict("the person is of age: their wallet is not a youth wallet")
        async with rt.db.session() as s:
            inst = await s.get(WalInstance, data.instance_id)
        if inst is None:
            raise NotFound("no such wallet instance")
        if inst.person_id is not None and inst.person_id != child_id:
            raise Conflict("the wallet instance belongs to another person")
        await service.bind(rt, inst.id, child_id, how="guardian")
        now = service.now_utc(rt)
        async with rt.db.session() as s:
            row = await s.get(YouthWallet, inst.id)
            if row is None:
                row = YouthWallet(instance_id=inst.id, child_id=child_id, registered_by=me, created_at=now)
                s.add(row)
                await s.commit()
        log.info("youth wallet %s registered by a guardian", pseudonym(inst.id))
        return ChildWallet(id=inst.id, state=inst.state, registered_by_me=row.registered_by == me,
                           created_at=row.created_at)

    @post("/guardian/children/{child_id:str}/wallets/{instance_id:str}/status",
          operation_id="guardianChangeChildWalletStatus", tags=TAGS_GUARDIAN, status_code=200)
    async def child_wallet_status(request: Request[Any, Any, Any], child_id: FromPath[str],
                                  instance_id: FromPath[str], data: JSONBody[StatusIn],
                                  dpop: DPoPHeader = None) -> ChildWallet:
        """Suspend, reinstate or revoke the child's wallet (the issuer follows for its credentials)."""
        me = await guardian(rt, request, dpop)
        await basis_for(rt, me, child_id)
        row = await _youth_wallet(rt, instance_id)
        if row is None or row.child_id != child_id:
            raise NotFound("no such wallet of this child")
        inst = await service.change_state(rt, instance_id, data.action, by="guardian")
        return ChildWallet(id=inst.id, state=inst.state, registered_by_me=row.registered_by == me,
                           created_at=row.created_at)

    @get("/guardian/children/{child_id:str}/rules", operation_id="guardianGetRules", tags=TAGS_GUARDIAN)
    async def get_rules(request: Request[Any, Any, Any], child_id: FromPath[str], dpop: DPoPHeader = None) -> Rules:
        """The child's standing rules."""
        me = await guardian(rt, request, dpop)
        await basis_for(rt, me, child_id)
        async with rt.db.session() as s:
            rows = (await s.exec(select(YouthRule).where(YouthRule.child_id == child_id)
                                 .order_by(col(YouthRule.id)))).all()
        return Rules(rules=[RuleIn(client_id=r.client_id, claim=r.claim, effect=r.effect)  # type: ignore[arg-type]
                            for r in rows])

    @put("/guardian/children/{child_id:str}/rules", operation_id="guardianPutRules", tags=TAGS_GUARDIAN,
         status_code=200)
    async def put_rules(request: Request[Any, Any, Any], child_id: FromPath[str], data: JSONBody[Rules],
                        dpop: DPoPHeader = None) -> Rules:
        """Replace the child's standing rules (``never`` wins over ``ask``, ``ask`` over ``allow``)."""
        me = await guardian(rt, request, dpop)
        await basis_for(rt, me, child_id)
        now = service.now_utc(rt)
        async with rt.db.session() as s:
            for old in (await s.exec(select(YouthRule).where(YouthRule.child_id == child_id))).all():
                await s.delete(old)
            for r in data.rules:
                s.add(YouthRule(child_id=child_id, client_id=r.client_id, claim=r.claim, effect=r.effect,
                                created_by=me, created_at=now))
            await s.commit()
        return data

    @get("/guardian/children/{child_id:str}/transactions", operation_id="guardianChildLog", tags=TAGS_GUARDIAN)
    async def child_log(request: Request[Any, Any, Any], child_id: FromPath[str], dpop: DPoPHeader = None,
                        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50) -> list[LogEntry]:
        """The child's consent requests and recorded presentations, newest first (names, never values)."""
        me = await guardian(rt, request, dpop)
        await basis_for(rt, me, child_id)
        async with rt.db.session() as s:
            reqs = (await s.exec(select(YouthRequest).where(YouthRequest.child_id == child_id)
                                 .order_by(col(YouthRequest.created_at).desc()).limit(limit))).all()
            shared = (await s.exec(select(WalTransaction).where(WalTransaction.person_id == child_id)
                                   .order_by(col(WalTransaction.shared_at).desc()).limit(limit))).all()
        out = [LogEntry(kind="consent_request", relying_party=r.client_id, relying_party_name=r.relying_party_name,
                        claims=r.claims, outcome=(await _expire(rt, r)).status, at=r.created_at) for r in reqs]
        out += [LogEntry(kind="presentation", relying_party=t.relying_party, relying_party_name=t.relying_party_name,
                         claims=list(t.claims), outcome=t.outcome, at=t.shared_at) for t in shared]
        out.sort(key=lambda e: _aware(e.at), reverse=True)
        return out[:limit]

    async def pending_for(me: str) -> list[YouthRequest]:
        kids = [k.person.person_id for k in await _register(rt).children_of(me)]
        if not kids:
            return []
        async with rt.db.session() as s:
            rows = (await s.exec(select(YouthRequest).where(col(YouthRequest.child_id).in_(kids),
                                                            YouthRequest.status == "pending")
                                 .order_by(col(YouthRequest.created_at)))).all()
        return [r for r in [await _expire(rt, r) for r in rows] if r.status == "pending"]

    @get("/guardian/requests", operation_id="guardianPendingRequests", tags=TAGS_GUARDIAN)
    async def pending(request: Request[Any, Any, Any], dpop: DPoPHeader = None) -> list[RequestView]:
        """Pending requests of all my children, oldest first."""
        me = await guardian(rt, request, dpop)
        return [_view(r) for r in await pending_for(me)]

    @get("/guardian/events", operation_id="guardianEvents", tags=TAGS_GUARDIAN)
    async def events(request: Request[Any, Any, Any], dpop: DPoPHeader = None,
                     wait: Annotated[int, QueryParameter(ge=0, le=300)] = 30) -> ServerSentEvent:
        """Server-sent events: one ``request`` event per pending request of my children (those pending now
        first, then new ones as they arrive), for ``wait`` seconds; reconnect to continue."""
        me = await guardian(rt, request, dpop)
        kids = [k.person.person_id for k in await _register(rt).children_of(me)]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait

        async def stream() -> AsyncIterator[ServerSentEventMessage]:
            seen: set[str] = set()
            event = asyncio.Event()
            for k in kids:
                _EVENTS.waiters.setdefault(k, set()).add(event)
            try:
                while True:
                    event.clear()
                    for r in await pending_for(me):
                        if r.id not in seen:
                            seen.add(r.id)
                            yield ServerSentEventMessage(data=_view(r).model_dump_json(), event="request", id=r.id)
                    left = deadline - loop.time()
                    if left <= 0:
                        return
                    try:
                        await asyncio.wait_for(event.wait(), min(left, 2.0))
                    except TimeoutError:
                        pass
            finally:
                for k in kids:
                    _EVENTS.waiters.get(k, set()).discard(event)

        return ServerSentEvent(stream(), headers={"Cache-Control": "no-store"})

    async def decide_handler(request: Request[Any, Any, Any], request_id: str, proof: str | None,
                             status: str) -> RequestView:
        me = await guardian(rt, request, proof)
        async with rt.db.session() as s:
            row = await s.get(YouthRequest, request_id)
        if row is None:
            raise NotFound("no such request")
        basis = await basis_for(rt, me, row.child_id)
        return _view(await decide(rt, request_id, status, f"guardian:{me}", guardian_id=me, basis=basis))

    @post("/guardian/requests/{request_id:str}/approve", operation_id="guardianApproveRequest",
          tags=TAGS_GUARDIAN, status_code=200)
    async def approve(request: Request[Any, Any, Any], request_id: FromPath[str], dpop: DPoPHeader = None
                      ) -> RequestView:
        """Approve: the wallet provider issues the guardian consent credential for this request."""
        return await decide_handler(request, request_id, dpop, "approved")

    @post("/guardian/requests/{request_id:str}/deny", operation_id="guardianDenyRequest", tags=TAGS_GUARDIAN,
          status_code=200)
    async def deny(request: Request[Any, Any, Any], request_id: FromPath[str], dpop: DPoPHeader = None
                   ) -> RequestView:
        """Deny: the child sees the outcome; nothing is issued."""
        return await decide_handler(request, request_id, dpop, "denied")

    # -- the child's side ----------------------------------------------------------------------------

    async def child(request: Request[Any, Any, Any], proof: str | None) -> tuple[WalInstance, YouthWallet]:
        inst = await service.authenticate(rt, proof, method=request.method, url=service.public_url(rt, request.scope))
        row = await _youth_wallet(rt, inst.id)
        if row is None or inst.person_id != row.child_id:
            raise AccessDenied("this wallet is not a youth wallet under guardian control")
        return inst, row

    @post("/youth/consent-requests", operation_id="youthCreateConsentRequest", tags=TAGS_YOUTH, status_code=201)
    async def create_request(request: Request[Any, Any, Any], data: JSONBody[ConsentRequestIn],
                             dpop: DPoPHeader = None) -> RequestView:
        """The child's wallet asks to present claims; standing rules decide at once or a guardian is asked."""
        inst, yw = await child(request, dpop)
        if data.holder_jwk.get("kty") != "EC" or "d" in data.holder_jwk:
            raise AccessDenied("holder_jwk must be a public EC key")
        now = service.now_utc(rt)
        row = YouthRequest(id=secrets.token_urlsafe(16), child_id=yw.child_id, instance_id=inst.id,
                           client_id=data.client_id, relying_party_name=data.relying_party_name,
                           claims=[list(c) for c in data.claims], nonce_hash=data.transaction_nonce_hash,
                           holder_jwk=dict(data.holder_jwk), created_at=now,
                           expires_at=now + timedelta(seconds=REQUEST_TTL))
        async with rt.db.session() as s:
            rules = (await s.exec(select(YouthRule).where(YouthRule.child_id == yw.child_id))).all()
            s.add(row)
            await s.commit()
        outcome = decide_by_rules(rules, data.client_id, row.claims)
        if outcome is not None:
            author = next((r.created_by for r in rules if r.effect == "allow"), "")
            basis = "parental_responsibility"
            if outcome == "approved":
                try:
                    basis = await basis_for(rt, author, yw.child_id)
                except AccessDenied:
                    outcome = None  # the rule's author lost responsibility: a guardian decides
            if outcome is not None:
                row = await decide(rt, row.id, outcome, "rule", guardian_id=author, basis=basis)
                return _view(row, with_consent=True)
        _EVENTS.notify(yw.child_id)
        return _view(row)

    @get("/youth/consent-requests/{request_id:str}", operation_id="youthGetConsentRequest", tags=TAGS_YOUTH)
    async def get_request(request: Request[Any, Any, Any], request_id: FromPath[str], dpop: DPoPHeader = None
                          ) -> RequestView:
        """The outcome of the child's request (with the consent credential once approved)."""
        inst, _ = await child(request, dpop)
        async with rt.db.session() as s:
            row = await s.get(YouthRequest, request_id)
        if row is None or row.instance_id != inst.id:
            raise NotFound("no such request")
        return _view(await _expire(rt, row), with_consent=True)

    return [list_children, register_wallet, child_wallet_status, get_rules, put_rules, child_log, pending, events,
            approve, deny, create_request, get_request]
