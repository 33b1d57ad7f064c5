"""A child's credential (a PID) under guardian-approved deferred issuance (OpenID4VCI 1.0 §9; issue 7).

The child's wallet (or a guardian for it) asks with ``POST /youth/credential-requests`` (or
``POST /guardian/children/{child}/credential-requests``); the wallet provider has the issuer create a pre-authorized
offer for the child with ``require_approval`` (``POST /issuer/admin/offers``, :mod:`wallet_api.issuer_client`),
which the child's wallet reads from ``GET /youth/credential-requests/{id}`` and redeems: the issuer answers 202
with a ``transaction_id``, which the wallet reports with ``POST /youth/credential-requests/{id}/transaction``. A
guardian's approval (``POST /guardian/credential-requests/{id}/approve``) makes the wallet provider approve that
deferred transaction at the issuer (``POST /issuer/admin/deferred/{transaction_id}/approve``); the wallet's next
deferred poll gets the credential. A denial ends the request (the wallet stops polling; the issuer's transaction
lapses at its TTL).

The offer and its tx_code are stored wrapped under the key-encryption key (:mod:`eidcore.kek`): with them anyone
could redeem the child's PID.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody
from sqlmodel import col, select

from eidcore.errors import AccessDenied, Conflict, InvalidRequest, NotFound
from eidcore.kek import is_wrapped_text, unwrap_text, wrap_text
from eidcore.runtime import Runtime, pseudonym
from wallet_api import issuer_client
from wallet_api.conventions import DPoPHeader, problems
from wallet_api.guardian import TAGS_GUARDIAN, TAGS_YOUTH, add_approval, basis_for, child_of, guardian_of, population
from wallet_api.models import YouthCredentialRequest, YouthWallet
from wallet_api.provider import Wallet
from wallet_api.schemas import CredentialRequestIn, CredentialRequestView, DeferredTransactionIn

__all__ = ["ChildCredentialRequestsController", "GuardianCredentialRequestsController",
           "YouthCredentialRequestsController", "decide_credential", "offer_of", "request_credential", "wrap_offer"]

log = logging.getLogger("lommebok.wallet.youth")
UPSTREAM = problems(400, 403, 404, 409, 503)


def _offer_aad(row_id: str, column: str) -> bytes:
    return f"youth_credential_request:{row_id}:{column}".encode()


async def wrap_offer(rt: Runtime, row_id: str, offer_uri: str, tx_code: str | None) -> tuple[str, str | None]:
    """The offer and tx_code of a credential request as stored: wrapped, bound to the row and the column."""
    return (await wrap_text(rt.kek, offer_uri, aad=_offer_aad(row_id, "offer_uri")),
            None if tx_code is None else await wrap_text(rt.kek, tx_code, aad=_offer_aad(row_id, "tx_code")))


async def offer_of(rt: Runtime, row: YouthCredentialRequest) -> tuple[str, str | None]:
    """The offer and tx_code of a credential request in clear (for the child's wallet only).

    A row an older version wrote in clear is stored wrapped now."""
    values: list[str | None] = []
    legacy = False
    for column in ("offer_uri", "tx_code"):
        value: str | None = getattr(row, column)
        if value is not None and is_wrapped_text(value):
            value = await unwrap_text(rt.kek, value, aad=_offer_aad(row.id, column))
        elif value is not None:
            legacy = True
        values.append(value)
    offer_uri, tx_code = values[0] or "", values[1]
    if legacy:
        async with rt.db.session() as s:
            fresh = await s.get(YouthCredentialRequest, row.id)
            if fresh is not None:
                fresh.offer_uri, fresh.tx_code = await wrap_offer(rt, row.id, offer_uri, tx_code)
                s.add(fresh)
                await s.commit()
    return offer_uri, tx_code


def credential_view(r: YouthCredentialRequest, *, offer: tuple[str, str | None] | None = None
                    ) -> CredentialRequestView:
    return CredentialRequestView.model_validate({
        "id": r.id, "child_id": r.child_id, "instance_id": r.instance_id,
        "credential_configuration_id": r.configuration_id,
        "requested_by": "child" if r.requested_by == "child" else "guardian", "status": r.status,
        "approvals": len(r.approvals or ()),
        "decided_by": None if r.decided_by is None else r.decided_by.split(":")[0],
        "created_at": r.created_at, "decided_at": r.decided_at,
        "offer_uri": offer[0] if offer else None, "tx_code": offer[1] if offer else None})


async def request_credential(rt: Runtime, child_id: str, instance_id: str, configuration_id: str,
                             requested_by: str) -> YouthCredentialRequest:
    """Have the issuer offer the child a credential under deferred issuance (``require_approval``)."""
    try:
        created = await issuer_client.create_offer(rt, child_id, configuration_id, require_approval=True)
    except issuer_client.IssuerAdminError as exc:
        if exc.status == 400:
            raise InvalidRequest(f"the issuer refused the offer: {(exc.description or '')[:200]}") from exc
        raise issuer_client.unavailable(exc, "the offer") from exc
    row_id = secrets.token_urlsafe(16)
    offer_uri, tx_code = await wrap_offer(rt, row_id, created.offer_uri, created.tx_code)
    row = YouthCredentialRequest(id=row_id, child_id=child_id, instance_id=instance_id,
                                 configuration_id=configuration_id, requested_by=requested_by,
                                 offer_uri=offer_uri, tx_code=tx_code, created_at=rt.clock.now())
    async with rt.db.session() as s:
        s.add(row)
        await s.commit()
    log.info("youth credential request %s created (%s)", pseudonym(row.id), requested_by.split(":")[0])
    return row


async def decide_credential(rt: Runtime, request_id: str, approve: bool, guardian_id: str) -> YouthCredentialRequest:
    """A guardian approves (once enough guardians have, the issuer's deferred transaction is approved) or denies."""
    async with rt.db.session() as s:
        row = await s.get(YouthCredentialRequest, request_id, with_for_update=not rt.db.is_sqlite)
        if row is None:
            raise NotFound("no such credential request")
        if row.status not in ("offered", "awaiting_approval"):
            raise Conflict(f"the credential request is already {row.status}")
        now = rt.clock.now()
        if not approve:
            row.status, row.decided_at, row.decided_by = "denied", now, f"guardian:{guardian_id}"
        elif row.status == "offered" or row.transaction_id is None:
            raise Conflict("the child's wallet has not asked the issuer for the credential yet")
        else:
            row.approvals, complete = await add_approval(rt, row.child_id, row.approvals, guardian_id)
            if complete:
                # the issuer approves only if the reported transaction is this child's own issuance
                if not await issuer_client.approve_deferred(rt, row.transaction_id, person=row.child_id):
                    raise Conflict("the issuer has no such pending transaction (it may have expired)")
                row.status, row.decided_at, row.decided_by = "approved", now, f"guardian:{guardian_id}"
        s.add(row)
        await s.commit()
    log.info("youth credential request %s: %s", pseudonym(row.id), row.status)
    return row


class YouthCredentialRequestsController(Controller):
    """``/youth/credential-requests``: the child's wallet asks for a credential and follows its request."""

    path = "/youth/credential-requests"
    tags = TAGS_YOUTH

    async def _own(self, wallet: Wallet, request: Request[Any, Any, Any], request_id: str,
                   proof: str | None) -> YouthCredentialRequest:
        inst, _ = await child_of(wallet, request, proof)
        async with wallet.rt.db.session() as s:
            row = await s.get(YouthCredentialRequest, request_id)
        if row is None or row.instance_id != inst.id:
            raise NotFound("no such credential request")
        return row

    @post("/", operation_id="youthRequestCredential", responses=UPSTREAM, status_code=201)
    async def youth_request_credential(self, wallet: Wallet, request: Request[Any, Any, Any],
                                       data: JSONBody[CredentialRequestIn], dpop: DPoPHeader = None
                                       ) -> CredentialRequestView:
        """The child's wallet asks for a PID: the issuer offers it under deferred issuance (guardian approval)."""
        inst, yw = await child_of(wallet, request, dpop)
        if data.instance_id not in (None, inst.id):
            raise AccessDenied("a child's wallet asks for itself")
        row = await request_credential(wallet.rt, yw.child_id, inst.id, data.credential_configuration_id, "child")
        return credential_view(row, offer=await offer_of(wallet.rt, row))

    @get("/{request_id:str}", operation_id="youthGetCredentialRequest", responses=problems(400, 403, 404))
    async def youth_get_credential_request(self, wallet: Wallet, request: Request[Any, Any, Any],
                                           request_id: FromPath[str], dpop: DPoPHeader = None
                                           ) -> CredentialRequestView:
        """The request with its credential offer (and tx_code) and its outcome."""
        row = await self._own(wallet, request, request_id, dpop)
        return credential_view(row, offer=await offer_of(wallet.rt, row))

    @post("/{request_id:str}/transaction", operation_id="youthReportDeferredTransaction",
          responses=problems(400, 403, 404, 409), status_code=200)
    async def youth_report_transaction(self, wallet: Wallet, request: Request[Any, Any, Any],
                                       request_id: FromPath[str], data: JSONBody[DeferredTransactionIn],
                                       dpop: DPoPHeader = None) -> CredentialRequestView:
        """The wallet redeemed the offer and the issuer answered 202: the transaction now awaits a guardian."""
        rt = wallet.rt
        row = await self._own(wallet, request, request_id, dpop)
        async with rt.db.session() as s:
            fresh = await s.get(YouthCredentialRequest, row.id, with_for_update=not rt.db.is_sqlite)
            assert fresh is not None
            if fresh.status != "offered":
                raise Conflict(f"the credential request is already {fresh.status}")
            fresh.transaction_id, fresh.status = data.transaction_id, "awaiting_approval"
            s.add(fresh)
            await s.commit()
        return credential_view(fresh, offer=await offer_of(rt, fresh))


class ChildCredentialRequestsController(Controller):
    """``/guardian/children/{child_id}/credential-requests``: a guardian asks for the child's credential."""

    path = "/guardian/children/{child_id:str}/credential-requests"
    tags = TAGS_GUARDIAN

    @post("/", operation_id="guardianRequestChildCredential", responses=UPSTREAM, status_code=201)
    async def guardian_request_credential(self, wallet: Wallet, request: Request[Any, Any, Any],
                                          child_id: FromPath[str], data: JSONBody[CredentialRequestIn],
                                          dpop: DPoPHeader = None) -> CredentialRequestView:
        """A guardian asks for a PID for the child's wallet (the child's wallet then redeems the offer)."""
        rt = wallet.rt
        me = await guardian_of(wallet, request, dpop)
        await basis_for(rt, me, child_id)
        async with rt.db.session() as s:
            wallets = (await s.exec(select(YouthWallet).where(YouthWallet.child_id == child_id))).all()
        chosen = [w for w in wallets if data.instance_id in (None, w.instance_id)]
        if not chosen:
            raise NotFound("no such wallet of this child (register the child's wallet first)")
        if len(chosen) > 1:
            raise InvalidRequest("the child has several wallets: give instance_id")
        row = await request_credential(rt, child_id, chosen[0].instance_id, data.credential_configuration_id,
                                       f"guardian:{me}")
        return credential_view(row)


class GuardianCredentialRequestsController(Controller):
    """``/guardian/credential-requests``: the guardians' open credential requests and their decisions."""

    path = "/guardian/credential-requests"
    tags = TAGS_GUARDIAN

    @get("/", operation_id="guardianCredentialRequests", responses=problems(400, 403))
    async def guardian_credential_requests(self, wallet: Wallet, request: Request[Any, Any, Any],
                                           dpop: DPoPHeader = None) -> list[CredentialRequestView]:
        """Open credential requests of all my children (offered, or awaiting a guardian), oldest first."""
        me = await guardian_of(wallet, request, dpop)
        kids = [k.person.person_id for k in await population(wallet.rt).children_of(me)]
        if not kids:
            return []
        async with wallet.rt.db.session() as s:
            rows = (await s.exec(select(YouthCredentialRequest).where(
                col(YouthCredentialRequest.child_id).in_(kids),
                col(YouthCredentialRequest.status).in_(["offered", "awaiting_approval"]))
                .order_by(col(YouthCredentialRequest.created_at)))).all()
        return [credential_view(r) for r in rows]

    async def _decide(self, wallet: Wallet, request: Request[Any, Any, Any], request_id: str,
                      proof: str | None, approve: bool) -> CredentialRequestView:
        me = await guardian_of(wallet, request, proof)
        async with wallet.rt.db.session() as s:
            row = await s.get(YouthCredentialRequest, request_id)
        if row is None:
            raise NotFound("no such credential request")
        await basis_for(wallet.rt, me, row.child_id)
        return credential_view(await decide_credential(wallet.rt, request_id, approve, me))

    @post("/{request_id:str}/approve", operation_id="guardianApproveCredential", responses=UPSTREAM,
          status_code=200)
    async def approve_credential(self, wallet: Wallet, request: Request[Any, Any, Any],
                                 request_id: FromPath[str], dpop: DPoPHeader = None) -> CredentialRequestView:
        """Approve: once enough guardians have, the issuer's deferred transaction is approved."""
        return await self._decide(wallet, request, request_id, dpop, True)

    @post("/{request_id:str}/deny", operation_id="guardianDenyCredential", responses=problems(400, 403, 404, 409),
          status_code=200)
    async def deny_credential(self, wallet: Wallet, request: Request[Any, Any, Any],
                              request_id: FromPath[str], dpop: DPoPHeader = None) -> CredentialRequestView:
        """Deny: the request ends; the child's wallet stops waiting for the credential."""
        return await self._decide(wallet, request, request_id, dpop, False)
