"""Youth wallets and pairing (issue 7, project rule: a child's wallet is registered only with proof from the child's
device): the child's wallet shows a one-time pairing code, a guardian registers the wallet with it, and guardians
suspend, reinstate or revoke it.

- ``POST /youth/pairing-codes``: the child's wallet asks for a pairing code (signed by its instance key) and shows it;
- ``POST /guardian/children/{child}/wallets``: a guardian registers the child's wallet instance with that code
  (binds it to the child and puts it under guardian control);
- ``POST /guardian/children/{child}/wallets/{instance}/status``: suspend / reinstate / revoke the child's wallet.

A wallet instance id is no secret (it shows in URLs, logs and the guardian's own views), so registering needs the
code too. The code is short-lived (:data:`PAIRING_TTL`), single use (consumed atomically with the key-value store's
``consume``, so two guardians or two workers cannot both use it) and attempt-limited (:data:`PAIRING_MAX_ATTEMPTS`
wrong codes end it), so it cannot be guessed; a wrong, expired, used or guessed-out code binds nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from typing import Any

from litestar import Controller, Request, post
from litestar.params import FromPath, JSONBody

from eidcore.errors import Conflict, InvalidRequest, NotFound
from eidcore.runtime import Runtime, pseudonym
from wallet_api.conventions import DPoPHeader, problems
from wallet_api.guardian import TAGS_GUARDIAN, TAGS_YOUTH, basis_for, guardian_of, population, youth_wallet
from wallet_api.instances import change_state
from wallet_api.models import WalInstance, YouthWallet
from wallet_api.provider import Wallet
from wallet_api.schemas import ChildWallet, PairingCode, StatusChange, WalletRef

__all__ = ["PAIRING_MAX_ATTEMPTS", "PAIRING_TTL", "ChildWalletsController", "InvalidPairingCode",
           "PairingController", "bind_youth_wallet", "check_pairing_code", "new_pairing_code"]

log = logging.getLogger("lommebok.wallet.youth")

PAIRING_TTL = 300
"""Seconds a child's wallet pairing code is valid."""
PAIRING_MAX_ATTEMPTS = 5
"""Wrong pairing codes a child's wallet's current code survives (then the child's wallet shows a new one)."""
PAIRING_DIGITS = 8


class InvalidPairingCode(InvalidRequest):
    """The pairing code is wrong, expired, used or guessed out (HTTP 400, ``invalid_pairing_code``)."""

    code = "invalid_pairing_code"


def _pairing_key(instance_id: str) -> str:
    return f"wal:pair:{instance_id}"


def _pairing_hash(instance_id: str, code: str) -> str:
    return hashlib.sha256(f"{instance_id}:{code}".encode()).hexdigest()


async def new_pairing_code(rt: Runtime, inst: WalInstance) -> str:
    """A fresh pairing code for ``inst`` (the child's wallet, authenticated by its instance key); it replaces any
    earlier code of the instance. The store keeps only its hash, its expiry on the runtime's clock, and a random
    id that keys its attempt counter (so a new code gets a fresh attempt budget)."""
    code = "".join(secrets.choice("0123456789") for _ in range(PAIRING_DIGITS))
    value = {"h": _pairing_hash(inst.id, code), "id": secrets.token_urlsafe(12),
             "exp": rt.clock.timestamp() + PAIRING_TTL}
    await rt.store.put(_pairing_key(inst.id), json.dumps(value).encode(), PAIRING_TTL)
    log.info("pairing code created for wallet instance %s", pseudonym(inst.id))
    return code


async def check_pairing_code(rt: Runtime, instance_id: str, code: str) -> None:
    """Accept ``code`` for ``instance_id`` once: it must be the instance's current code, unexpired, unused, and
    tried fewer than :data:`PAIRING_MAX_ATTEMPTS` times wrongly; it is consumed atomically (``consume``: at most
    one caller, on any worker, gets it). Raises :class:`InvalidPairingCode` otherwise (the same answer for an
    unknown instance, so the call tells nothing about which instance ids exist)."""
    key = _pairing_key(instance_id)
    raw = await rt.store.get(key)
    stored = json.loads(raw) if raw else None
    if not isinstance(stored, dict) or rt.clock.timestamp() >= float(stored.get("exp", 0)):
        raise InvalidPairingCode("the pairing code is wrong, expired or already used: "
                                 "ask the child's wallet for a new one")
    tries = await rt.store.incr(f"wal:pair-attempts:{stored['id']}", PAIRING_TTL)
    if tries > PAIRING_MAX_ATTEMPTS:
        await rt.store.delete(key)
        raise InvalidPairingCode("too many wrong pairing codes: ask the child's wallet for a new one")
    if not hmac.compare_digest(_pairing_hash(instance_id, code), str(stored.get("h", ""))):
        if tries >= PAIRING_MAX_ATTEMPTS:
            await rt.store.delete(key)
        log.info("wrong pairing code for wallet instance %s (%d)", pseudonym(instance_id), tries)
        raise InvalidPairingCode("the pairing code is wrong, expired or already used: "
                                 "ask the child's wallet for a new one")
    if await rt.store.consume(key) != raw:  # used (or replaced) in the meantime: single use
        raise InvalidPairingCode("the pairing code is wrong, expired or already used: "
                                 "ask the child's wallet for a new one")


async def bind_youth_wallet(rt: Runtime, instance_id: str, child_id: str, guardian_id: str) -> YouthWallet:
    """Bind the instance to the child and put it under guardian control, in one transaction (both or neither)."""
    async with rt.db.session() as s:
        inst = await s.get(WalInstance, instance_id, with_for_update=not rt.db.is_sqlite)
        if inst is None:
            raise NotFound("no such wallet instance")
        if inst.person_id is not None and inst.person_id != child_id:
            raise Conflict("the wallet instance belongs to another person")
        if inst.state != "active":
            raise Conflict(f"the wallet instance is {inst.state}")
        row = await s.get(YouthWallet, instance_id)
        if row is not None and row.child_id != child_id:
            raise Conflict("the wallet instance belongs to another person")
        now = rt.clock.now()
        if inst.person_id != child_id:
            inst.person_id, inst.bound_by = child_id, "guardian"
            inst.version += 1
            inst.updated_at = now
            s.add(inst)
        if row is None:
            row = YouthWallet(instance_id=instance_id, child_id=child_id, registered_by=guardian_id, created_at=now)
            s.add(row)
        await s.commit()
        await s.refresh(row)
    log.info("youth wallet %s registered by a guardian", pseudonym(instance_id))
    return row


class PairingController(Controller):
    """``/youth/pairing-codes``: the child's wallet proves it is the device the guardian holds."""

    path = "/youth/pairing-codes"
    tags = TAGS_YOUTH

    @post("/", operation_id="youthCreatePairingCode", responses=problems(400, 403), status_code=201)
    async def create_pairing_code(self, wallet: Wallet, request: Request[Any, Any, Any],
                                  dpop: DPoPHeader = None) -> PairingCode:
        """A one-time pairing code for this wallet instance, to show the guardian who registers it as the child's
        wallet (proof that the guardian holds the child's device; single use, :data:`PAIRING_TTL` seconds)."""
        inst = await wallet.authenticate(request, dpop)
        code = await new_pairing_code(wallet.rt, inst)
        return PairingCode(instance_id=inst.id, pairing_code=code, expires_in=PAIRING_TTL)


class ChildWalletsController(Controller):
    """``/guardian/children/{child_id}/wallets``: a guardian registers and controls the child's wallets."""

    path = "/guardian/children/{child_id:str}/wallets"
    tags = TAGS_GUARDIAN

    @post("/", operation_id="guardianRegisterChildWallet", responses=problems(400, 403, 404, 409), status_code=201)
    async def register_wallet(self, wallet: Wallet, request: Request[Any, Any, Any],
                              child_id: FromPath[str], data: JSONBody[WalletRef], dpop: DPoPHeader = None
                              ) -> ChildWallet:
        """Register the child's wallet instance: with the pairing code it shows (:func:`check_pairing_code`), it
        is bound to the child and put under guardian control; without it nothing is bound."""
        rt = wallet.rt
        me = await guardian_of(wallet, request, dpop)
        await basis_for(rt, me, child_id)
        child = await population(rt).get_person(child_id)
        if child.age(rt.clock) >= 18:
            raise Conflict("the person is of age: their wallet is not a youth wallet")
        await check_pairing_code(rt, data.instance_id, data.pairing_code)
        row = await bind_youth_wallet(rt, data.instance_id, child_id, me)
        async with rt.db.session() as s:
            inst = await s.get(WalInstance, data.instance_id)
        assert inst is not None
        return ChildWallet(id=inst.id, state=inst.state, registered_by_me=row.registered_by == me,
                           created_at=row.created_at)

    @post("/{instance_id:str}/status", operation_id="guardianChangeChildWalletStatus",
          responses=problems(400, 403, 404, 409), status_code=200)
    async def child_wallet_status(self, wallet: Wallet, request: Request[Any, Any, Any],
                                  child_id: FromPath[str], instance_id: FromPath[str], data: JSONBody[StatusChange],
                                  dpop: DPoPHeader = None) -> ChildWallet:
        """Suspend, reinstate or revoke the child's wallet (the issuer follows for its credentials)."""
        rt = wallet.rt
        me = await guardian_of(wallet, request, dpop)
        await basis_for(rt, me, child_id)
        row = await youth_wallet(rt, instance_id)
        if row is None or row.child_id != child_id:
            raise NotFound("no such wallet of this child")
        inst = await change_state(rt, instance_id, data.action, by="guardian")
        return ChildWallet(id=inst.id, state=inst.state, registered_by_me=row.registered_by == me,
                           created_at=row.created_at)
