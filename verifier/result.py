"""The relying party reads the outcome of a transaction (the Verifier's side of OpenID4VP 1.0 §8.6 and §13.3).

- ``GET /rp/transactions/{id}``: status (pending, responded, validated, expired), the checks, the failure, the
  refused responses (check names and times) and, once validated, the result: what the query asked for;
- ``POST /rp/transactions/{id}/redeem``: a same-device transaction's result only for the single-use
  ``response_code`` the redirect carried (§13.3: session fixation);
- ``GET /rp/transactions/{id}/events``: server-sent events, one ``status`` event per change, woken through
  ``rt.events`` (:meth:`verifier.transactions.Verifier.changes`) whichever worker made the change.

All under :func:`verifier.relying_parties.relying_party_guard`; another relying party's transaction is 404.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.response import ServerSentEvent, ServerSentEventMessage

from eidcore.errors import InvalidRequest
from eidcore.runtime import secret_matches
from verifier.models import VerRelyingParty, VerTransaction
from verifier.relying_parties import current_relying_party, relying_party_guard
from verifier.request import authorization_request_uri
from verifier.schemas import Failure, Redeem, RefusedAttempt, TransactionEvent, TransactionView, errors
from verifier.transactions import TERMINAL, Verifier, sha256_hex

__all__ = ["ResultsController", "redeem", "view"]

NO_STORE = {"Cache-Control": "no-store"}


def view(verifier: Verifier, tx: VerTransaction) -> TransactionView:
    """The RP's view of a transaction; claims of a same-device transaction only after redemption."""
    out = TransactionView(
        transaction_id=tx.id, status=tx.status,  # type: ignore[arg-type]  # a TransactionStatus in the table
        profile=tx.profile, client_id=tx.client_id, response_mode=tx.response_mode, created_at=tx.created_at,
        expires_at=tx.expires_at, finished_at=tx.finished_at, checks=tx.checks,
    )
    if tx.status in ("pending", "responded"):
        out.authorization_request = authorization_request_uri(verifier, tx)
    if tx.failed_check:
        out.failure = Failure(check=tx.failed_check, reason=tx.failure_reason)
    if tx.refused_count:
        # responses the response_uri refused (the transaction stayed pending): check names and times only
        out.refused_attempts = [RefusedAttempt.model_validate(a) for a in tx.refused or []]
        out.refused_count = tx.refused_count
    if tx.status == "validated":
        if tx.redirect_uri_template and not tx.redeemed:
            out.result_withheld = "same-device transaction: redeem the response_code to read the result"
        else:
            out.result = tx.result
    return out


async def redeem(verifier: Verifier, rp: VerRelyingParty, tx_id: str, code: str | None) -> VerTransaction:
    """Redeem a same-device ``response_code`` (OpenID4VP 1.0 §13.3, session fixation): single use."""
    tx = await verifier.get_for_rp(rp, tx_id)
    if not code:
        raise InvalidRequest("response_code is required")
    stored = await verifier.rt.store.consume(f"ver:rc:{sha256_hex(code)}")
    if stored is None or stored.decode() != tx.id or tx.response_code_sha256 is None \
            or not secret_matches(sha256_hex(code), tx.response_code_sha256):
        raise InvalidRequest("the response_code is not valid (or was already used)")
    tx.redeemed = True
    async with verifier.rt.db.session() as s:
        s.add(tx)
        await s.commit()
    return tx


class ResultsController(Controller):
    """Relying-party API: read a transaction, redeem a ``response_code``, follow its changes (bearer API key)."""

    path = "/rp/transactions/{tx_id:str}"
    tags = ["relying party"]  # noqa: RUF012
    guards = [relying_party_guard]  # noqa: RUF012
    dependencies = {"rp": Provide(current_relying_party, sync_to_thread=False)}  # noqa: RUF012

    @get("/", operation_id="getTransaction", responses=errors(400, 401, 404))
    async def get_transaction(self, tx_id: FromPath[str], rp: NamedDependency[VerRelyingParty],
                              verifier: NamedDependency[Verifier]) -> Response[TransactionView]:
        """Status (pending, responded, validated, expired), checks, failure, the refused responses
        (``refused_attempts``: check names and times; the transaction stays pending) and (once validated) result."""
        return Response(view(verifier, await verifier.get_for_rp(rp, tx_id)), headers=NO_STORE)

    @post("/redeem", operation_id="redeemResponseCode", status_code=200, responses=errors(400, 401, 404))
    async def redeem(self, tx_id: FromPath[str], data: JSONBody[Redeem], rp: NamedDependency[VerRelyingParty],
                     verifier: NamedDependency[Verifier]) -> Response[TransactionView]:
        """Redeem the same-device ``response_code`` from the redirect (single use) and read the result."""
        return Response(view(verifier, await redeem(verifier, rp, tx_id, data.response_code)), headers=NO_STORE)

    @get("/events", operation_id="transactionEvents", responses=errors(400, 401, 404))
    async def events(self, tx_id: FromPath[str], rp: NamedDependency[VerRelyingParty],
                     verifier: NamedDependency[Verifier]) -> ServerSentEvent:
        """Server-sent events: one ``status`` event per change (status, or a refused response counted in
        ``refused_count``) until the transaction ends (no claim values); each event's data is a
        ``TransactionEvent``.

        A change on any worker wakes the stream at once (``rt.events``); it re-reads the transaction at least every
        ``event_poll_seconds`` (2 s) for its expiry."""
        await verifier.get_for_rp(rp, tx_id)

        async def stream() -> AsyncIterator[ServerSentEventMessage]:
            last: tuple[str, int] | None = None
            async with verifier.changes(tx_id) as changes:  # subscribed before each read: no change is missed
                while True:
                    tx = await verifier.get_for_rp(rp, tx_id)
                    if (tx.status, tx.refused_count) != last:
                        last = (tx.status, tx.refused_count)
                        event = TransactionEvent(transaction_id=tx.id, status=tx.status)  # type: ignore[arg-type]
                        if tx.failed_check:
                            event.failed_check = tx.failed_check
                        if tx.refused_count:
                            event.refused_count = tx.refused_count
                        yield ServerSentEventMessage(
                            data=json.dumps(event.model_dump(mode="json", exclude_unset=True)), event="status")
                    if tx.status in TERMINAL:
                        return
                    until_expiry = max(0.0, tx.expires_at - verifier.now()) + 0.5
                    await changes.wait(min(verifier.event_poll_seconds, until_expiry))

        return ServerSentEvent(stream(), headers=NO_STORE)
