"""The transaction log (EUDI ARF, the user's dashboard of presentations): what each wallet shared with whom, recorded
by the wallet itself (relying party, credential types, claim *names*, time; never claim values), kept per person
across their devices and per wallet profile.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody
from sqlmodel import col, select

from wallet_api.conventions import (
    INT32_MAX,
    SIGNED,
    CursorParam,
    DPoPHeader,
    IdemHeader,
    LimitParam,
    ProfileFilter,
    decode_cursor,
    encode_cursor,
    problems,
)
from wallet_api.idempotency import idempotency_abort, idempotency_begin, idempotency_finish
from wallet_api.models import WalTransaction
from wallet_api.provider import Wallet
from wallet_api.schemas import TransactionIn, TransactionPage, TransactionView

__all__ = ["TransactionsController"]


class TransactionsController(Controller):
    """``/transactions``: record and list the person's transaction log."""

    path = "/transactions"
    tags = ("transaction log",)

    @post("/", operation_id="recordTransaction", responses=problems(400, 403, 409), status_code=201)
    async def record_transaction(self, wallet: Wallet, request: Request[Any, Any, Any], data: JSONBody[TransactionIn],
                                 dpop: DPoPHeader = None, idempotency_key: IdemHeader = None
                                 ) -> Response[TransactionView]:
        """Record what this wallet shared with whom (relying party, claim names, time; never claim values)."""
        rt = wallet.rt
        me = await wallet.authenticate(request, dpop)
        scope = f"{me.id}:transactions"
        body = data.model_dump(mode="json")
        stored = await idempotency_begin(rt, scope, idempotency_key, body)
        if stored is not None:
            return Response(TransactionView.model_validate(stored.body), status_code=stored.status,
                            headers={"Idempotent-Replayed": "true"})
        assert idempotency_key is not None
        try:
            row = WalTransaction(
                instance_id=me.id, person_id=me.person_id, relying_party=data.relying_party,
                relying_party_name=data.relying_party_name, credential_types=data.credential_types,
                claims=data.claims, outcome=data.outcome, profile=data.profile, shared_at=data.shared_at,
                recorded_at=wallet.now(),
            )
            async with rt.db.session() as s:
                s.add(row)
                await s.commit()
                await s.refresh(row)
        except BaseException:
            await idempotency_abort(rt, scope, idempotency_key)
            raise
        out = TransactionView.model_validate(row, from_attributes=True)
        await idempotency_finish(rt, scope, idempotency_key, body, 201, out.model_dump(mode="json"))
        return Response(out, status_code=201)

    @get("/", operation_id="listTransactions", responses=SIGNED)
    async def list_transactions(self, wallet: Wallet, request: Request[Any, Any, Any],
                                dpop: DPoPHeader = None, limit: LimitParam = 20, cursor: CursorParam = None,
                                profile: ProfileFilter = None) -> TransactionPage:
        """The person's transaction log across their devices, newest first (``profile``: one wallet profile only)."""
        me = await wallet.authenticate(request, dpop)
        before = decode_cursor(cursor, maximum=INT32_MAX)
        q = select(WalTransaction)
        q = (q.where(WalTransaction.person_id == me.person_id) if me.person_id
             else q.where(WalTransaction.instance_id == me.id))
        if before:
            q = q.where(col(WalTransaction.id) < before)
        if profile is not None:
            q = q.where(WalTransaction.profile == profile)
        async with wallet.rt.db.session() as s:
            rows = (await s.exec(q.order_by(col(WalTransaction.id).desc()).limit(limit + 1))).all()
        more = len(rows) > limit
        items = [TransactionView.model_validate(r, from_attributes=True) for r in rows[:limit]]
        return TransactionPage(items=items, next_cursor=encode_cursor(items[-1].id) if more and items else None)
