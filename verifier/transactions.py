"""OpenID4VP 1.0 §5 (the Verifier's side of a transaction): the service object and the transactions' state.

:class:`Verifier` is built once per app (:func:`verifier.app.create_app`) and injected into every controller. It
holds what the protocol steps share: the configuration (:mod:`verifier.config`), the presentation
:class:`~verifier.validation.Validator`, the identifiers and URIs the verifier publishes (client id §5.9,
``request_uri`` §5.10, ``response_uri`` §8.2), and the transactions' lifecycle:

- a transaction (:class:`~verifier.models.VerTransaction`) is created by :mod:`verifier.request`, answered through
  :mod:`verifier.response` and read by the relying party through :mod:`verifier.result`;
- its single-use response slot (:class:`Slot`, in ``rt.store``) holds what answering needs, including the private
  half of the ``direct_post.jwt`` key (never in the database);
- outcomes are written with one conditional UPDATE (:meth:`Verifier.finish`); each change is published on
  ``rt.events`` (channel ``ver:tx:<id>``) so a waiting relying party on any worker wakes at once
  (:meth:`Verifier.changes`);
- results are deleted after ``result_retention_seconds`` by a background task (:meth:`Verifier.start_retention`).

Logs carry pseudonymous ids and check names, never claim values.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, bindparam, delete, or_, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from eidcore.credential_types import load_credential_types
from eidcore.encoding import b64u_encode
from eidcore.errors import InvalidRequest, NotFound
from eidcore.events import Subscription
from eidcore.runtime import Runtime, dev_secret, pseudonym, secret_matches
from verifier.config import VerifierConfig, load_verifier_config
from verifier.models import VerRelyingParty, VerTransaction
from verifier.relying_parties import DEMO_RP, RelyingParties
from verifier.validation import TrustConfig, Validator
from verifier.youth import YouthPolicy

__all__ = ["DEMO_RP", "MAX_REFUSED", "PUBLIC_JWK_MEMBERS", "TERMINAL", "Slot", "Verifier", "sha256_hex"]

log = logging.getLogger("lommebok.verifier")

TERMINAL = ("validated", "failed", "expired")
MAX_REFUSED = 20
"""How many refused responses a transaction lists (the most recent; ``refused_count`` counts them all)."""
PUBLIC_JWK_MEMBERS = ("kty", "crv", "x", "y", "kid")
"""The members of an EC JWK that may be stored and published (RFC 7518 §6.2.1; never ``d``)."""


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


_OUTCOME_COLUMNS = ("status", "failed_check", "failure_reason", "checks", "result", "enc_jwk", "finished_at",
                    "response_code_sha256")
_FINISH = update(VerTransaction).where(col(VerTransaction.id) == bindparam("b_id")).values(
    **{c: bindparam(f"b_{c}") for c in _OUTCOME_COLUMNS})
"""Write a transaction's outcome (one UPDATE, bound parameters: compiled once per engine)."""
_FINISH_OPEN = _FINISH.where(col(VerTransaction.status) == "pending",
                             col(VerTransaction.expires_at) > bindparam("b_now"))
"""The same, only while the transaction is still pending and unexpired (a response racing the expiry loses)."""
REFUSE = update(VerTransaction).where(
    col(VerTransaction.id) == bindparam("b_id"), col(VerTransaction.status) == "pending",
    col(VerTransaction.refused_count) == bindparam("b_seen"),
).values(refused=bindparam("b_refused", type_=JSON), refused_count=bindparam("b_count"))
"""Append a refused response (optimistic: only if no other refusal was written since it was read)."""
REFUSE_COUNT = update(VerTransaction).where(
    col(VerTransaction.id) == bindparam("b_id"), col(VerTransaction.status) == "pending",
).values(refused_count=VerTransaction.refused_count + 1)
"""Count a refused response without listing it."""


def slot_key(tx_id: str) -> str:
    """The store key of a transaction's single-use response slot."""
    return f"ver:resp:{tx_id}"


def event_channel(tx_id: str) -> str:
    """The ``rt.events`` channel a transaction's changes are published on."""
    return f"ver:tx:{tx_id}"


@dataclass(frozen=True)
class Slot:
    """What answering a transaction needs, kept in the store for its lifetime and consumed by the response."""

    id: str
    state: str
    nonce: str
    client_id: str
    response_mode: str
    dcql_query: dict[str, Any]
    enc_jwk: dict[str, Any] | None
    redirect_uri_template: str | None
    same_holder: tuple[str, str] | None
    contains: list[list[Any]] = field(default_factory=list)
    """:class:`verifier.profiles.Contains` checks as JSON."""
    youth_added: list[list[Any]] = field(default_factory=list)
    """``[query id, claim path]`` the youth policy added to the query (:func:`verifier.youth.with_age_claims`)."""

    @classmethod
    def of(cls, tx: VerTransaction) -> Slot:
        same = tx.profile_params.get("_same_holder")
        return cls(tx.id, tx.state, tx.nonce, tx.client_id, tx.response_mode, tx.dcql_query, tx.enc_jwk,
                   tx.redirect_uri_template, (same[0], same[1]) if isinstance(same, list) and len(same) == 2 else None,
                   list(tx.profile_params.get("_contains", [])), list(tx.profile_params.get("_youth_added", [])))

    def encode(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Slot:
        d = json.loads(raw)
        same = d.get("same_holder")
        d["same_holder"] = (same[0], same[1]) if isinstance(same, list) and len(same) == 2 else None
        return cls(**d)


class Verifier:
    """The verifier of one app: configuration, validator, URIs and the transactions' lifecycle."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.base = rt.settings.service_url("verifier")
        self._validator: Validator | None = None
        self.demo_ready = False
        self._last_purge = 0.0
        self._retention_task: asyncio.Task[None] | None = None
        self.event_poll_seconds: float = 2.0
        """Server-sent events re-read a transaction at least this often (expiry); changes wake the stream at once."""
        retention = rt.settings.verifier.result_retention_seconds
        self.retention_interval: float = min(300.0, max(1.0, retention / 10))
        """Seconds between two runs of the background retention task."""
        self.config: VerifierConfig = load_verifier_config(rt.settings.data_dir)
        self.demo_key: str | None = None
        self.demo_key_file: Path | None = None
        if rt.settings.environment == "dev":
            self.demo_key, self.demo_key_file = dev_secret(rt.settings.data_dir, DEMO_RP)
            log.info("demo relying party %s: its API key is in %s", DEMO_RP, self.demo_key_file)
        self.relying_parties = RelyingParties(rt, self.config, self.demo_key, self.demo_key_file)

    # --- configuration ----------------------------------------------------------------------------------

    @property
    def validator(self) -> Validator:
        """Trust from :mod:`verifier.config`; by default every defined type trusts ``rt.keys.trust_anchors``."""
        if self._validator is None:
            if self.rt.keys is None:
                raise InvalidRequest("the verifier is not started")
            types = load_credential_types()
            if self.config.trust is None:
                trust = TrustConfig.for_types(types, self.rt.keys.trust_anchors)
            else:
                trust = TrustConfig.by_type_id(types, self.config.trust)
            prefixes = list(self.config.status_list_prefixes
                            or [f"{self.rt.settings.service_url('issuer')}/status/"])
            self._validator = Validator(trust, clock=self.rt.clock, http=self.rt.http, status_prefixes=prefixes,
                                        status_required=types.status_required)
        self._validator.set_http(self.rt.http)
        return self._validator

    def now(self) -> int:
        return int(self.rt.clock.timestamp())

    def youth_policy(self) -> YouthPolicy:
        """The youth policy (:mod:`verifier.youth`): it protects the holder, so every transaction has it."""
        return YouthPolicy(self.rt.settings.consent_age, (self.rt.settings.service_url("wallet"),), self.rt.clock)

    def client_id(self, prefix: str, response_uri: str) -> str:
        """OpenID4VP 1.0 §5.9: the full client identifier, prefix included."""
        if prefix == "x509_san_dns":
            return f"x509_san_dns:{self.rt.settings.public_host}"
        if prefix == "x509_hash":
            assert self.rt.keys is not None
            return f"x509_hash:{b64u_encode(self.rt.keys.verifier.cert_sha256)}"
        return f"redirect_uri:{response_uri}"

    def response_uri(self, tx_id: str) -> str:
        return f"{self.base}/response/{tx_id}"

    def request_uri(self, tx_id: str) -> str:
        return f"{self.base}/request/{tx_id}"

    # --- transactions -----------------------------------------------------------------------------------

    async def load(self, tx_id: str) -> VerTransaction | None:
        if not isinstance(tx_id, str) or len(tx_id) > 64:
            return None
        async with self.rt.db.session() as s:
            return await s.get(VerTransaction, tx_id)

    async def expire_if_due(self, tx: VerTransaction) -> VerTransaction:
        if tx.status in ("pending", "responded") and self.now() >= tx.expires_at:
            reason = "the transaction expired before a valid response arrived"
            await self.finish(tx.id, "expired", failed_check="transaction_expired", reason=reason)
            tx.status, tx.failed_check, tx.failure_reason = "expired", "transaction_expired", reason
            tx.enc_jwk = None
        return tx

    async def finish(self, tx_id: str, status: str, *, failed_check: str | None = None,
                     reason: str | None = None, checks: list[str] | None = None,
                     result: dict[str, Any] | None = None, response_code_sha256: str | None = None,
                     only_if_open: bool = False) -> bool:
        """Write the outcome (one UPDATE); with ``only_if_open`` only while still pending and unexpired."""
        values = {"b_status": status, "b_failed_check": failed_check,
                  "b_failure_reason": reason[:500] if reason else None, "b_checks": checks or [], "b_result": result,
                  "b_enc_jwk": None, "b_finished_at": self.now(), "b_response_code_sha256": response_code_sha256,
                  "b_id": tx_id, "b_now": self.now()}
        async with self.rt.db.engine.connect() as conn:
            # one atomic statement: autocommit spares the BEGIN and COMMIT round trips; the statement is built
            # once with bound parameters, so SQLAlchemy reuses its compiled form (no per-call cache-key walk)
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            done = await auto.execute(_FINISH_OPEN if only_if_open else _FINISH, values)
        if done.rowcount != 1:
            return False
        await self.notify(tx_id)
        if failed_check:
            log.info("transaction %s %s: %s", pseudonym(tx_id), status, failed_check)
        else:
            log.info("transaction %s %s", pseudonym(tx_id), status)
        return True

    async def get_for_rp(self, rp: VerRelyingParty, tx_id: str) -> VerTransaction:
        """A transaction of this relying party (another's is :class:`NotFound`, as an unknown one)."""
        await self.purge()
        tx = await self.load(tx_id)
        if tx is None or not secret_matches(tx.rp_id, rp.id):
            raise NotFound("no such transaction")
        tx = await self.expire_if_due(tx)
        if tx.status == "pending" and await self.rt.store.get(slot_key(tx.id)) is None:
            # the single-use response slot is consumed: a response arrived and is being validated
            tx.status = "responded"
        return tx

    # --- wake-ups ---------------------------------------------------------------------------------------

    async def notify(self, tx_id: str) -> None:
        """Publish a change of the transaction on ``rt.events`` (wakes :meth:`changes` subscribers on every worker)."""
        await self.rt.events.publish(event_channel(tx_id))

    def changes(self, tx_id: str) -> contextlib.AbstractAsyncContextManager[Subscription]:
        """Subscribe to the transaction's changes on any worker (subscribe first, then read, then ``wait``)."""
        return self.rt.events.subscribe(event_channel(tx_id))

    # --- retention --------------------------------------------------------------------------------------

    async def purge(self) -> int:
        """Delete transactions finished (or expired) more than ``result_retention_seconds`` ago."""
        now = time.monotonic()
        if now - self._last_purge < 60:
            return 0
        self._last_purge = now
        cutoff = self.now() - self.rt.settings.verifier.result_retention_seconds
        return await self.purge_before(cutoff)

    def start_retention(self) -> None:
        """Start the periodic retention task (idempotent; needs a running event loop).

        The verifier app starts it in its lifespan; when another app owns the lifespan (the all-in-one server) the
        first relying-party or wallet request starts it. It stops with :meth:`stop_retention`, when the runtime
        stops (checked on each wake-up), or when its event loop closes (pending tasks are cancelled).
        """
        if self._retention_task is None or self._retention_task.done():
            self._retention_task = asyncio.get_running_loop().create_task(self._retention_loop(),
                                                                          name="verifier-retention")

    async def stop_retention(self) -> None:
        task, self._retention_task = self._retention_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _retention_loop(self) -> None:
        while True:
            await asyncio.sleep(self.retention_interval)
            if not self.rt.started:
                return
            try:
                await self.purge_before(self.now() - self.rt.settings.verifier.result_retention_seconds)
            except (SQLAlchemyError, OSError) as exc:
                log.warning("retention run failed (%s); retrying in %.0f s", type(exc).__name__,
                            self.retention_interval)

    async def purge_before(self, cutoff: int) -> int:
        stmt = delete(VerTransaction).where(or_(
            col(VerTransaction.finished_at) < cutoff,
            (col(VerTransaction.finished_at).is_(None)) & (col(VerTransaction.expires_at) < cutoff),
        ))
        async with self.rt.db.session() as s:
            res = await s.exec(stmt)
            await s.commit()
        count = int(getattr(res, "rowcount", 0) or 0)
        if count:
            log.info("deleted %d transactions past the retention period", count)
        return count
