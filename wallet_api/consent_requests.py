"""A child's consent requests and the guardians' decisions (issue 7; the guardian consent credential of
``specs/credentials/guardian_consent``, :mod:`wallet_api.consent`).

The child's wallet asks with ``POST /youth/consent-requests`` (verifier client id, claim paths, the hash of the
transaction nonce, its holder key): a ``never`` rule denies it, ``allow`` rules covering every claim (and no
``ask`` rule) approve it at once (:func:`wallet_api.guardian_rules.decide_by_rules`), anything else waits for a
guardian. An approved request carries the guardian consent credential; ``GET /youth/consent-requests/{id}`` shows
the outcome. Pending requests expire after :data:`REQUEST_TTL` seconds; denials and expiries stay in the log.

- ``GET /guardian/requests``: pending requests of all my children; ``GET /guardian/events``: the same as
  server-sent events (``request`` events, HTML Living Standard §9.2), pushed when a child asks, for ``wait``
  seconds: every change of a child's requests is published on the wallet provider's event bus, so a request made
  or decided on another worker wakes the stream at once;
- ``POST /guardian/requests/{id}/approve|deny``.

With ``require_both_guardians`` a request is approved only when every person the register names as responsible
*now* has approved (a denial by either ends it, and standing ``allow`` rules no longer approve on their own;
``never`` still denies).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from sqlmodel import col, select

from eidcore.errors import AccessDenied, Conflict, NotFound
from eidcore.runtime import pseudonym
from wallet_api.consent import issue_consent
from wallet_api.conventions import DPoPHeader, problems
from wallet_api.guardian import (
    TAGS_GUARDIAN,
    TAGS_YOUTH,
    add_approval,
    approval_complete,
    aware,
    basis_for,
    child_of,
    expire,
    guardian_of,
    population,
)
from wallet_api.guardian_rules import category_of, decide_by_rules
from wallet_api.models import YouthRequest, YouthRule
from wallet_api.provider import Wallet, WalletProvider
from wallet_api.schemas import ConsentRequestIn, RequestView

__all__ = ["REQUEST_TTL", "ConsentRequestsController", "GuardianRequestsController", "child_channel", "decide"]

log = logging.getLogger("lommebok.wallet.youth")

REQUEST_TTL = 600
"""Seconds a consent request waits for a guardian before it expires."""
POLL_INTERVAL = 2.0
"""Seconds between the event stream's own looks at the database (a missed wake-up costs at most this)."""


def child_channel(child_id: str) -> str:
    """The event-bus channel of a child's consent requests (a pseudonym of the child's person id, no personal
    data)."""
    return f"wal:youth:{pseudonym(child_id)}"


def request_view(r: YouthRequest, *, with_consent: bool = False) -> RequestView:
    return RequestView.model_validate({
        "id": r.id, "child_id": r.child_id, "client_id": r.client_id, "relying_party_name": r.relying_party_name,
        "claims": r.claims, "status": r.status,
        "decided_by": None if r.decided_by is None else r.decided_by.split(":")[0],
        "created_at": r.created_at, "expires_at": r.expires_at, "decided_at": r.decided_at,
        "consent": r.consent if with_consent else None, "approvals": len(r.approvals or ()),
        "category": r.category})


async def decide(wallet: WalletProvider, request_id: str, status: str, by: str, *, guardian_id: str,
                 basis: str) -> YouthRequest:
    """Approve (issue the consent credential) or deny a pending request; only once. A guardian's approval
    counts towards :func:`wallet_api.guardian.approval_complete` (the request stays pending until it holds)."""
    rt = wallet.rt
    async with rt.db.session() as s:
        row = await s.get(YouthRequest, request_id, with_for_update=not rt.db.is_sqlite)
        if row is None:
            raise NotFound("no such request")
        if row.status == "pending" and wallet.now() >= aware(row.expires_at):
            row.status, row.decided_at, row.decided_by = "expired", wallet.now(), "expiry"
        elif row.status == "pending" and status == "approved" and by != "rule":
            row.approvals, complete = await add_approval(rt, row.child_id, row.approvals, guardian_id)
            if complete:
                row.status, row.decided_at, row.decided_by = status, wallet.now(), by
                row.consent = issue_consent(rt, holder_jwk=row.holder_jwk, client_id=row.client_id,
                                            approved_claims=row.claims, transaction_nonce_hash=row.nonce_hash,
                                            child_id=row.child_id, guardian_id=guardian_id, basis=basis)
        elif row.status == "pending":
            row.status, row.decided_at, row.decided_by = status, wallet.now(), by
            if status == "approved":
                row.consent = issue_consent(rt, holder_jwk=row.holder_jwk, client_id=row.client_id,
                                            approved_claims=row.claims, transaction_nonce_hash=row.nonce_hash,
                                            child_id=row.child_id, guardian_id=guardian_id, basis=basis)
        else:
            raise Conflict(f"the request is already {row.status}")
        s.add(row)
        await s.commit()
    await wallet.events.publish(child_channel(row.child_id))
    log.info("youth request %s %s (%s)", pseudonym(row.id), row.status, by.split(":")[0])
    return row


async def pending_for(wallet: WalletProvider, guardian_id: str) -> list[YouthRequest]:
    """The pending (unexpired) requests of every child of the guardian, oldest first."""
    rt = wallet.rt
    kids = [k.person.person_id for k in await population(rt).children_of(guardian_id)]
    if not kids:
        return []
    async with rt.db.session() as s:
        rows = (await s.exec(select(YouthRequest).where(col(YouthRequest.child_id).in_(kids),
                                                        YouthRequest.status == "pending")
                             .order_by(col(YouthRequest.created_at)))).all()
    return [r for r in [await expire(rt, r) for r in rows] if r.status == "pending"]


class ConsentRequestsController(Controller):
    """``/youth/consent-requests``: the child's wallet asks, and reads the outcome."""

    path = "/youth/consent-requests"
    tags = TAGS_YOUTH

    @post("/", operation_id="youthCreateConsentRequest", responses=problems(400, 403), status_code=201)
    async def create_request(self, wallet: Wallet, request: Request[Any, Any, Any],
                             data: JSONBody[ConsentRequestIn], dpop: DPoPHeader = None) -> RequestView:
        """The child's wallet asks to present claims; standing rules decide at once or a guardian is asked."""
        rt = wallet.rt
        inst, yw = await child_of(wallet, request, dpop)
        holder_jwk = data.holder_jwk.as_dict()
        if holder_jwk.get("kty") != "EC" or "d" in holder_jwk:
            raise AccessDenied("holder_jwk must be a public EC key")
        now = wallet.now()
        category = await category_of(rt, data.client_id)
        row = YouthRequest(id=secrets.token_urlsafe(16), child_id=yw.child_id, instance_id=inst.id,
                           client_id=data.client_id, relying_party_name=data.relying_party_name, category=category,
                           claims=[list(c) for c in data.claims], nonce_hash=data.transaction_nonce_hash,
                           holder_jwk=holder_jwk, created_at=now, expires_at=now + timedelta(seconds=REQUEST_TTL))
        async with rt.db.session() as s:
            rules = (await s.exec(select(YouthRule).where(YouthRule.child_id == yw.child_id))).all()
            s.add(row)
            await s.commit()
        outcome = decide_by_rules(rules, data.client_id, row.claims, category)
        if outcome == "approved" and not await approval_complete(rt, yw.child_id, [r.created_by for r in rules]):
            outcome = None  # both guardians must approve: a standing rule of one is not enough
        if outcome is not None:
            author = next((r.created_by for r in rules if r.effect == "allow"), "")
            basis = "parental_responsibility"
            if outcome == "approved":
                try:
                    basis = await basis_for(rt, author, yw.child_id)
                except AccessDenied:
                    outcome = None  # the rule's author lost responsibility: a guardian decides
            if outcome is not None:
                row = await decide(wallet, row.id, outcome, "rule", guardian_id=author, basis=basis)
                return request_view(row, with_consent=True)
        await wallet.events.publish(child_channel(yw.child_id))
        return request_view(row)

    @get("/{request_id:str}", operation_id="youthGetConsentRequest", responses=problems(400, 403, 404))
    async def get_request(self, wallet: Wallet, request: Request[Any, Any, Any],
                          request_id: FromPath[str], dpop: DPoPHeader = None) -> RequestView:
        """The outcome of the child's request (with the consent credential once approved)."""
        inst, _ = await child_of(wallet, request, dpop)
        async with wallet.rt.db.session() as s:
            row = await s.get(YouthRequest, request_id)
        if row is None or row.instance_id != inst.id:
            raise NotFound("no such request")
        return request_view(await expire(wallet.rt, row), with_consent=True)


class GuardianRequestsController(Controller):
    """``/guardian/requests`` and ``/guardian/events``: the guardians' inbox, its event stream, their decisions."""

    path = "/guardian"
    tags = TAGS_GUARDIAN

    @get("/requests", operation_id="guardianPendingRequests", responses=problems(400, 403))
    async def pending(self, wallet: Wallet, request: Request[Any, Any, Any],
                      dpop: DPoPHeader = None) -> list[RequestView]:
        """Pending requests of all my children, oldest first."""
        me = await guardian_of(wallet, request, dpop)
        return [request_view(r) for r in await pending_for(wallet, me)]

    @get("/events", operation_id="guardianEvents", media_type="text/event-stream", responses={
        **problems(400, 403), 200: ResponseSpec(data_container=str, media_type="text/event-stream",
                                                description="``request`` events, each a RequestView as JSON",
                                                generate_examples=False)})
    async def events(self, wallet: Wallet, request: Request[Any, Any, Any], dpop: DPoPHeader = None,
                     wait: Annotated[int, QueryParameter(ge=0, le=300)] = 30) -> ServerSentEvent:
        """Server-sent events: one ``request`` event per pending request of my children (those pending now
        first, then new ones as they arrive), for ``wait`` seconds; reconnect to continue."""
        me = await guardian_of(wallet, request, dpop)
        kids = [k.person.person_id for k in await population(wallet.rt).children_of(me)]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait

        async def stream() -> AsyncIterator[ServerSentEventMessage]:
            seen: set[str] = set()
            async with contextlib.AsyncExitStack() as stack:
                subs = [await stack.enter_async_context(wallet.events.subscribe(child_channel(k))) for k in kids]
                while True:
                    for r in await pending_for(wallet, me):
                        if r.id not in seen:
                            seen.add(r.id)
                            yield ServerSentEventMessage(data=request_view(r).model_dump_json(), event="request",
                                                         id=r.id)
                    left = deadline - loop.time()
                    if left <= 0:
                        return
                    timeout = min(left, POLL_INTERVAL)
                    if not subs:
                        await asyncio.sleep(timeout)
                        continue
                    waits = [asyncio.ensure_future(sub.wait(timeout)) for sub in subs]
                    try:
                        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        for w in waits:
                            w.cancel()
                        await asyncio.gather(*waits, return_exceptions=True)

        return ServerSentEvent(stream(), headers={"Cache-Control": "no-store"})

    async def _decide(self, wallet: Wallet, request: Request[Any, Any, Any], request_id: str,
                      proof: str | None, status: str) -> RequestView:
        me = await guardian_of(wallet, request, proof)
        async with wallet.rt.db.session() as s:
            row = await s.get(YouthRequest, request_id)
        if row is None:
            raise NotFound("no such request")
        basis = await basis_for(wallet.rt, me, row.child_id)
        return request_view(await decide(wallet, request_id, status, f"guardian:{me}", guardian_id=me, basis=basis))

    @post("/requests/{request_id:str}/approve", operation_id="guardianApproveRequest",
          responses=problems(400, 403, 404, 409), status_code=200)
    async def approve(self, wallet: Wallet, request: Request[Any, Any, Any], request_id: FromPath[str],
                      dpop: DPoPHeader = None) -> RequestView:
        """Approve: the wallet provider issues the guardian consent credential for this request."""
        return await self._decide(wallet, request, request_id, dpop, "approved")

    @post("/requests/{request_id:str}/deny", operation_id="guardianDenyRequest",
          responses=problems(400, 403, 404, 409), status_code=200)
    async def deny(self, wallet: Wallet, request: Request[Any, Any, Any], request_id: FromPath[str],
                   dpop: DPoPHeader = None) -> RequestView:
        """Deny: the child sees the outcome; nothing is issued."""
        return await self._decide(wallet, request, request_id, dpop, "denied")
