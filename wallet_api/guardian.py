"""Guardian authority over youth wallets (issue 7; Norwegian ``foreldreansvar`` and guardianship as the population
register records them): who may act for a child, and the guardian's view of their children and a child's log.

Guardians are the persons the population register names as responsible for the child *now* (parental
responsibility, ``foreldreansvar``, or guardianship): every guardian call looks it up again, so a guardian who
loses responsibility in the register loses access at once. With joint responsibility either guardian can act,
unless the setting ``require_both_guardians`` is on: then a decision holds only when every person the register
names as responsible *now* has approved (:func:`approval_complete`). A guardian signs each call with their own
wallet instance (DPoP-style proof, as every wallet API call) and that instance must be bound to their person (by
their PID or at a service desk); a child's wallet cannot act as a guardian.

The rest of the youth API lives in one module per resource: :mod:`wallet_api.youth_wallets` (pairing and the
child's wallets), :mod:`wallet_api.guardian_rules` (standing rules, relying-party categories),
:mod:`wallet_api.consent_requests` (the child's consent requests, the guardians' decisions and event stream),
:mod:`wallet_api.youth_credentials` (a child's PID under deferred issuance); the category registry is in
:mod:`wallet_api.admin`.

- ``GET /guardian/children``: my children and their wallets;
- ``GET /guardian/children/{child}/transactions``: the child's consent requests and shared-claims log (claim
  names and relying parties, never values).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import FromPath, QueryParameter
from sqlmodel import col, select

from eidcore.errors import AccessDenied, Conflict, LommebokError, NotFound
from eidcore.registers import SqlPopulationRegister
from eidcore.runtime import Runtime
from wallet_api.conventions import DPoPHeader, problems
from wallet_api.models import WalInstance, WalTransaction, YouthRequest, YouthWallet
from wallet_api.provider import Wallet, WalletProvider
from wallet_api.schemas import ChildView, ChildWallet, LogEntry

__all__ = ["TAGS_GUARDIAN", "TAGS_YOUTH", "GuardianController", "add_approval", "approval_complete", "aware",
           "basis_for", "child_of", "guardian_of", "population", "youth_wallet"]

TAGS_GUARDIAN = ("guardian control",)
TAGS_YOUTH = ("youth wallet",)
GUARDIAN_ERRORS = problems(400, 403, 404)


def population(rt: Runtime) -> SqlPopulationRegister:
    """The population register (who is responsible for whom, now)."""
    return SqlPopulationRegister(rt.db, clock=rt.clock)


def aware(t: datetime) -> datetime:
    """``t`` with a time zone (SQLite gives naive UTC times back)."""
    return t if t.tzinfo else t.replace(tzinfo=UTC)


async def approval_complete(rt: Runtime, child_id: str, approvals: Sequence[str]) -> bool:
    """Whether ``approvals`` (guardian person ids) suffice: any one guardian, or, with the setting
    ``require_both_guardians`` and responsibility held jointly, every person responsible for the child now."""
    if not rt.settings.require_both_guardians:
        return bool(approvals)
    responsible = {r.person.person_id for r in await population(rt).responsible_for(child_id)}
    return bool(responsible) and responsible <= set(approvals)


async def add_approval(rt: Runtime, child_id: str, approvals: list[str] | None, guardian_id: str
                       ) -> tuple[list[str], bool]:
    """The approvals with this guardian's added (once), and whether they now suffice."""
    have = list(approvals or ())
    if guardian_id in have:
        raise Conflict("you have already approved: the other guardian must approve too")
    have.append(guardian_id)
    return have, await approval_complete(rt, child_id, have)


async def basis_for(rt: Runtime, guardian_id: str, child_id: str) -> str:
    """The guardian's basis for acting for the child today (``parental_responsibility`` / ``guardianship``);
    :class:`AccessDenied` when the register names no such responsibility now."""
    try:
        responsible = await population(rt).responsible_for(child_id)
    except LommebokError:
        raise NotFound("no such child") from None
    for r in responsible:
        if r.person.person_id == guardian_id:
            return r.basis
    raise AccessDenied("the population register names you as neither parent with responsibility nor guardian "
                       "of this person")


async def youth_wallet(rt: Runtime, instance_id: str) -> YouthWallet | None:
    """The youth-wallet record of an instance (None: not a child's wallet)."""
    async with rt.db.session() as s:
        return await s.get(YouthWallet, instance_id)


async def guardian_of(wallet: WalletProvider, request: Request[Any, Any, Any], proof: str | None) -> str:
    """The person id of the guardian signing this call (their instance must be bound to them)."""
    me = await wallet.authenticate(request, proof)
    if me.person_id is None:
        raise AccessDenied("bind this wallet to yourself (present your PID) before acting as a guardian")
    if await youth_wallet(wallet.rt, me.id) is not None:
        raise AccessDenied("a child's wallet cannot act as a guardian")
    return me.person_id


async def child_of(wallet: WalletProvider, request: Request[Any, Any, Any], proof: str | None
                   ) -> tuple[WalInstance, YouthWallet]:
    """The child's wallet instance signing this call, under guardian control (403 otherwise)."""
    inst = await wallet.authenticate(request, proof)
    row = await youth_wallet(wallet.rt, inst.id)
    if row is None or inst.person_id != row.child_id:
        raise AccessDenied("this wallet is not a youth wallet under guardian control")
    return inst, row


async def expire(rt: Runtime, r: YouthRequest) -> YouthRequest:
    """The request, marked ``expired`` once its time is up while still pending."""
    if r.status == "pending" and rt.clock.now() >= aware(r.expires_at):
        async with rt.db.session() as s:
            row = await s.get(YouthRequest, r.id)
            assert row is not None
            if row.status == "pending":
                row.status, row.decided_at, row.decided_by = "expired", rt.clock.now(), "expiry"
                s.add(row)
                await s.commit()
            r = row
    return r


class GuardianController(Controller):
    """``/guardian/children``: a guardian's children, their wallets and their log."""

    path = "/guardian/children"
    tags = TAGS_GUARDIAN

    @get("/", operation_id="guardianListChildren", responses=problems(400, 403))
    async def list_children(self, wallet: Wallet, request: Request[Any, Any, Any],
                            dpop: DPoPHeader = None) -> list[ChildView]:
        """The children the register says I am responsible for now, with their wallets."""
        rt = wallet.rt
        me = await guardian_of(wallet, request, dpop)
        kids = await population(rt).children_of(me)
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

    @get("/{child_id:str}/transactions", operation_id="guardianChildLog", responses=GUARDIAN_ERRORS)
    async def child_log(self, wallet: Wallet, request: Request[Any, Any, Any], child_id: FromPath[str],
                        dpop: DPoPHeader = None,
                        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50) -> list[LogEntry]:
        """The child's consent requests and recorded presentations, newest first (names, never values)."""
        rt = wallet.rt
        me = await guardian_of(wallet, request, dpop)
        await basis_for(rt, me, child_id)
        async with rt.db.session() as s:
            reqs = (await s.exec(select(YouthRequest).where(YouthRequest.child_id == child_id)
                                 .order_by(col(YouthRequest.created_at).desc()).limit(limit))).all()
            shared = (await s.exec(select(WalTransaction).where(WalTransaction.person_id == child_id)
                                   .order_by(col(WalTransaction.shared_at).desc()).limit(limit))).all()
        out = [LogEntry(kind="consent_request", relying_party=r.client_id, relying_party_name=r.relying_party_name,
                        claims=list(r.claims), outcome=(await expire(rt, r)).status, at=r.created_at) for r in reqs]
        out += [LogEntry(kind="presentation", relying_party=t.relying_party, relying_party_name=t.relying_party_name,
                         claims=list(t.claims), outcome=t.outcome, at=t.shared_at) for t in shared]
        out.sort(key=lambda e: aware(e.at), reverse=True)
        return out[:limit]
