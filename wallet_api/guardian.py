"""Youth wallets under guardian control (issue 7): the guardian API and the child's consent requests.

Guardians are the persons the population register names as responsible for the child *now* (parental
responsibility, ``foreldreansvar``, or guardianship): every guardian call looks it up again, so a guardian who
loses responsibility in the register loses access at once. With joint responsibility either guardian can act.
A guardian signs each call with their own wallet instance (DPoP-style proof, as every wallet API call) and that
instance must be bound to their person (by their PID or at a service desk).

- ``GET /guardian/children``: my children and their wallets;
- ``POST /youth/pairing-codes``: the child's wallet shows a one-time pairing code (proof of the child's device);
- ``POST /guardian/children/{child}/wallets``: register a child's wallet instance with that code (binds it to the
  child);
- ``POST /guardian/children/{child}/wallets/{instance}/status``: suspend / reinstate / revoke the child's wallet;
- ``GET|PUT /guardian/children/{child}/rules``: standing rules (relying party or ``*``, claim path or any,
  ``allow`` / ``ask`` / ``never``);
- ``GET /guardian/children/{child}/transactions``: the child's consent requests and shared-claims log (claim
  names and relying parties, never values);
- ``GET /guardian/requests``: pending requests of all my children; ``GET /guardian/events``: the same as
  server-sent events (``request`` events), pushed when a child asks, for ``wait`` seconds;
- ``POST /guardian/requests/{id}/approve|deny``;
- ``GET /guardian/credential-requests``, ``POST /guardian/credential-requests/{id}/approve|deny``: a child's PID
  (or other credential) only as a guardian authorises it, through the issuer's deferred issuance (below).

With joint parental responsibility either guardian can act, unless the setting ``require_both_guardians`` is on:
then a request is approved only when every person the register names as responsible *now* has approved (a
denial by either ends it, and standing ``allow`` rules no longer approve on their own; ``never`` still denies).

Registering a child's wallet needs proof from the child's device, not only its instance id (which is no secret:
it shows in URLs, logs and the guardian's own views): the child's wallet asks for a pairing code
(:func:`new_pairing_code`, signed by its instance key) and shows it; the guardian sends it with the instance id.
The code is short-lived (:data:`PAIRING_TTL`), single use (consumed atomically with the key-value store's
``consume``, so two guardians or two workers cannot both use it) and attempt-limited (:data:`PAIRING_MAX_ATTEMPTS`
wrong codes end it), so it cannot be guessed; a wrong, expired, used or guessed-out code binds nothing.

A child's PID: the child's wallet (or a guardian for it) asks with ``POST /youth/credential-requests`` (or
``POST /guardian/children/{child}/credential-requests``); wallet_api has the issuer create a pre-authorized offer
for the child with ``require_approval`` (``POST /issuer/admin/offers``), which the child's wallet reads from
``GET /youth/credential-requests/{id}`` and redeems: the issuer answers 202 with a ``transaction_id``
(OpenID4VCI 1.0 §9), which the wallet reports with ``POST /youth/credential-requests/{id}/transaction``. A
guardian's approval makes wallet_api approve that deferred transaction at the issuer
(``POST /issuer/admin/deferred/{transaction_id}/approve``); the wallet's next deferred poll gets the credential.
A denial ends the request (the wallet stops polling; the issuer's transaction lapses at its TTL).

Relying-party categories (``video``, ``public``, ``health``...): a rule may target a category instead of one
relying party. The category of a verifier comes from the wallet provider's own registry, keyed by the verifier's
client id (``PUT /admin/youth/relying-parties``, admin token), never from what the child's wallet says: a
modified app could relabel a relying party to reach an ``allow`` rule, whereas the client id is bound into the
consent credential and checked by the verifier, so a request can only borrow the category of the verifier it is
really for. A relying party not in the registry has no category (only client-id and ``*`` rules apply).

The child's wallet asks with ``POST /youth/consent-requests`` (verifier client id, claim paths, the hash of the
transaction nonce, its holder key): a ``never`` rule denies it, ``allow`` rules covering every claim (and no
``ask`` rule) approve it at once, anything else waits for a guardian. An approved request carries the guardian
consent credential (:mod:`wallet_api.consent`); ``GET /youth/consent-requests/{id}`` shows the outcome. Pending
requests expire after :data:`REQUEST_TTL` seconds; denials and expiries stay in the log.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import quote

from litestar import Request, get, post, put
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.types import ControllerRouterHandler
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, Column, Text
from sqlmodel import Field as SqlField
from sqlmodel import SQLModel, col, select

from eidcore.errors import (
    AccessDenied,
    Conflict,
    InvalidRequest,
    InvalidToken,
    LommebokError,
    NotFound,
    UpstreamUnavailable,
)
from eidcore.kek import is_wrapped_text, unwrap_text, wrap_text
from eidcore.registers import SqlPopulationRegister
from eidcore.registers.records import Person
from eidcore.runtime import Runtime, pseudonym
from wallet_api import service
from wallet_api.consent import issue_consent
from wallet_api.models import WalInstance, WalTransaction

__all__ = ["PAIRING_MAX_ATTEMPTS", "PAIRING_TTL", "REQUEST_TTL", "InvalidPairingCode", "YouthCredentialRequest",
           "YouthRelyingParty", "YouthRequest", "YouthRule", "YouthWallet", "approval_complete", "bind_youth_wallet",
           "check_pairing_code", "decide_by_rules", "handlers", "new_pairing_code"]

log = logging.getLogger("lommebok.wallet.youth")

REQUEST_TTL = 600
"""Seconds a consent request waits for a guardian before it expires."""
PAIRING_TTL = 300
"""Seconds a child's wallet pairing code is valid."""
PAIRING_MAX_ATTEMPTS = 5
"""Wrong pairing codes a child's wallet's current code survives (then the child's wallet shows a new one)."""
PAIRING_DIGITS = 8
TAGS_GUARDIAN = ["guardian control"]
TAGS_YOUTH = ["youth wallet"]
TAGS_ADMIN = ["administration"]
AuthHeader = Annotated[str | None, HeaderParameter(name="Authorization", required=False)]
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
    approvals: list[str] | None = SqlField(default=None, sa_column=Column(JSON, nullable=True))
    category: str | None = SqlField(default=None, max_length=40)


class YouthRelyingParty(SQLModel, table=True):
    """The wallet provider's registry of relying-party categories, keyed by the verifier's client id."""

    __tablename__ = "youth_relying_party"

    client_id: str = SqlField(primary_key=True, max_length=2048)
    category: str = SqlField(max_length=40, index=True)
    name: str | None = SqlField(default=None, max_length=200)
    updated_at: datetime


class YouthCredentialRequest(SQLModel, table=True):
    """A credential (a PID) for a child, issued through the issuer's deferred issuance once a guardian approves."""

    __tablename__ = "youth_credential_request"

    id: str = SqlField(primary_key=True, max_length=36)
    child_id: str = SqlField(max_length=36, index=True)
    instance_id: str = SqlField(max_length=36)
    configuration_id: str = SqlField(max_length=100)
    requested_by: str = SqlField(max_length=64)
    status: str = SqlField(default="offered", max_length=24, index=True)
    #: the credential offer and its tx_code, wrapped under the key-encryption key (eidcore.kek; with them anyone
    #: could redeem the child's PID): read them with :func:`offer_of`
    offer_uri: str = SqlField(sa_column=Column(Text, nullable=False))
    tx_code: str | None = SqlField(default=None, sa_column=Column(Text, nullable=True))
    transaction_id: str | None = SqlField(default=None, max_length=200)
    approvals: list[str] | None = SqlField(default=None, sa_column=Column(JSON, nullable=True))
    decided_by: str | None = SqlField(default=None, max_length=64)
    created_at: datetime
    decided_at: datetime | None = None


class YouthRule(SQLModel, table=True):
    """A guardian's standing rule for a child: relying party (``*`` = any), claim path (None = any), effect."""

    __tablename__ = "youth_rule"

    id: int | None = SqlField(default=None, primary_key=True)
    child_id: str = SqlField(max_length=36, index=True)
    client_id: str = SqlField(max_length=2048)
    claim: list[Any] | None = SqlField(default=None, sa_column=Column(JSON, nullable=True))
    effect: str = SqlField(max_length=8)
    category: str | None = SqlField(default=None, max_length=40)
    created_by: str = SqlField(max_length=36)
    created_at: datetime


# --------------------------------------------------------------------------------------------------
# bodies
# --------------------------------------------------------------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


ClaimPath = Annotated[list[str | int | None], Field(min_length=1, max_length=10)]
Category = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$", description="A relying-party category, e.g. video")]


class WalletRef(_Body):
    instance_id: str = Field(min_length=1, max_length=36,
                             description="The child's wallet instance (registered, not bound yet)")
    pairing_code: str = Field(min_length=1, max_length=32,
                              description="The one-time code the child's wallet shows (POST /youth/pairing-codes)")


class PairingCode(BaseModel):
    instance_id: str = Field(description="This wallet instance (the guardian sends it with the code)")
    pairing_code: str = Field(description="Show it to the guardian; single use")
    expires_in: int


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
    category: Category | None = Field(default=None, description="Only relying parties of this category "
                                      "(the wallet provider's registry); use with client_id *")


class Rules(_Body):
    rules: list[RuleIn] = Field(max_length=100)


class RelyingPartyIn(_Body):
    client_id: str = Field(min_length=1, max_length=2048, description="The verifier's client_id (with prefix)")
    category: Category
    name: str | None = Field(default=None, max_length=200)


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
    approvals: int = Field(default=0, description="Guardians who approved so far (both may be required)")
    category: str | None = Field(default=None, description="The relying party's category (wallet provider registry)")


class LogEntry(BaseModel):
    kind: Literal["consent_request", "presentation"]
    relying_party: str
    relying_party_name: str | None
    claims: list[Any]
    outcome: str
    at: datetime


class CredentialRequestIn(_Body):
    credential_configuration_id: str = Field(pattern=r"^pid_[a-z_]{1,40}$",
                                             description="The issuer's configuration id, e.g. pid_vc_sd_jwt")
    instance_id: str | None = Field(default=None, max_length=36,
                                    description="(guardian) the child's wallet; may be left out when it has one")


class TransactionIn(_Body):
    transaction_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,200}$",
                                description="The issuer's deferred transaction_id (OpenID4VCI 1.0 §8.3)")


class CredentialRequestView(BaseModel):
    id: str
    child_id: str
    instance_id: str
    credential_configuration_id: str
    requested_by: Literal["child", "guardian"]
    status: Literal["offered", "awaiting_approval", "approved", "denied"]
    approvals: int
    decided_by: str | None
    created_at: datetime
    decided_at: datetime | None
    offer_uri: str | None = Field(default=None, description="The credential offer (child only)")
    tx_code: str | None = Field(default=None, description="The offer's transaction code (child only)")


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
                       consent=r.consent if with_consent else None, approvals=len(r.approvals or ()),
                       category=r.category)


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


def _cview(r: YouthCredentialRequest, *, offer: tuple[str, str | None] | None = None) -> CredentialRequestView:
    return CredentialRequestView(
        id=r.id, child_id=r.child_id, instance_id=r.instance_id, credential_configuration_id=r.configuration_id,
        requested_by="child" if r.requested_by == "child" else "guardian",
        status=r.status,  # type: ignore[arg-type]
        approvals=len(r.approvals or ()), decided_by=None if r.decided_by is None else r.decided_by.split(":")[0],
        created_at=r.created_at, decided_at=r.decided_at,
        offer_uri=offer[0] if offer else None, tx_code=offer[1] if offer else None)


async def approval_complete(rt: Runtime, child_id: str, approvals: Sequence[str]) -> bool:
    """Whether ``approvals`` (guardian person ids) suffice: any one guardian, or, with the setting
    ``require_both_guardians`` and responsibility held jointly, every person responsible for the child now."""
    if not rt.settings.require_both_guardians:
        return bool(approvals)
    responsible = {r.person.person_id for r in await _register(rt).responsible_for(child_id)}
    return bool(responsible) and responsible <= set(approvals)


async def _add_approval(rt: Runtime, child_id: str, approvals: list[str] | None, guardian_id: str
                        ) -> tuple[list[str], bool]:
    have = list(approvals or ())
    if guardian_id in have:
        raise Conflict("you have already approved: the other guardian must approve too")
    have.append(guardian_id)
    return have, await approval_complete(rt, child_id, have)


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


def _matches(rule: YouthRule, client_id: str, claim: list[Any] | None, category: str | None) -> bool:
    return (rule.client_id in ("*", client_id) and (rule.claim is None or rule.claim == claim)
            and (rule.category is None or rule.category == category))


def decide_by_rules(rules: Sequence[YouthRule], client_id: str, claims: Sequence[list[Any]],
                    category: str | None = None) -> str | None:
    """``denied`` when a ``never`` rule matches a claim, ``approved`` when ``allow`` rules cover every claim and
    no ``ask`` rule matches, else None (a guardian decides). A rule with a category matches only relying parties
    of that ``category``."""
    for c in claims:
        if any(r.effect == "never" and _matches(r, client_id, c, category) for r in rules):
            return "denied"
    for c in claims:
        if any(r.effect == "ask" and _matches(r, client_id, c, category) for r in rules):
            return None
        if not any(r.effect == "allow" and _matches(r, client_id, c, category) for r in rules):
            return None
    return "approved"


async def category_of(rt: Runtime, client_id: str) -> str | None:
    """The relying party's category in the wallet provider's registry (None when not registered)."""
    async with rt.db.session() as s:
        row = await s.get(YouthRelyingParty, client_id)
    return None if row is None else row.category


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
    """Approve (issue the consent credential) or deny a pending request; only once. A guardian's approval
    counts towards :func:`approval_complete` (the request stays pending until it holds)."""
    async with rt.db.session() as s:
        row = await s.get(YouthRequest, request_id, with_for_update=not rt.db.is_sqlite)
        if row is None:
            raise NotFound("no such request")
        if row.status == "pending" and service.now_utc(rt) >= _aware(row.expires_at):
            row.status, row.decided_at, row.decided_by = "expired", service.now_utc(rt), "expiry"
        elif row.status == "pending" and status == "approved" and by != "rule":
            row.approvals, complete = await _add_approval(rt, row.child_id, row.approvals, guardian_id)
            if complete:
                row.status, row.decided_at, row.decided_by = status, service.now_utc(rt), by
                row.consent = issue_consent(rt, holder_jwk=row.holder_jwk, client_id=row.client_id,
                                            approved_claims=row.claims, transaction_nonce_hash=row.nonce_hash,
                                            child_id=row.child_id, guardian_id=guardian_id, basis=basis)
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


async def _issuer_admin(rt: Runtime, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    """Call the issuer's admin API (bearer: the issuer's admin token); (HTTP status, JSON body or {})."""
    url = rt.settings.service_url("issuer") + path
    try:
        resp = await rt.http.post(url, json=body, headers={"Authorization": f"Bearer {rt.admin_tokens['issuer']}"})
    except Exception as exc:
        raise UpstreamUnavailable(f"the issuer could not be reached ({type(exc).__name__})") from exc
    out = resp.json() if resp.headers.get("content-type", "").startswith("application/json") else {}
    return resp.status_code, out if isinstance(out, dict) else {}


async def request_credential(rt: Runtime, child_id: str, instance_id: str, configuration_id: str,
                             requested_by: str) -> YouthCredentialRequest:
    """Have the issuer offer the child a credential under deferred issuance (``require_approval``)."""
    status, body = await _issuer_admin(rt, "/admin/offers", {
        "person": child_id, "credential_configuration_ids": [configuration_id], "require_approval": True})
    if status == 400:
        raise InvalidRequest(f"the issuer refused the offer: {str(body.get('error_description', ''))[:200]}")
    if status != 201 or not isinstance(body.get("offer_uri"), str):
        raise UpstreamUnavailable(f"the issuer answered HTTP {status} to the offer")
    tx = body.get("tx_code")
    row_id = secrets.token_urlsafe(16)
    offer_uri, tx_code = await wrap_offer(rt, row_id, body["offer_uri"], tx if isinstance(tx, str) else None)
    row = YouthCredentialRequest(id=row_id, child_id=child_id, instance_id=instance_id,
                                 configuration_id=configuration_id, requested_by=requested_by,
                                 offer_uri=offer_uri, tx_code=tx_code, created_at=service.now_utc(rt))
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
        now = service.now_utc(rt)
        if not approve:
            row.status, row.decided_at, row.decided_by = "denied", now, f"guardian:{guardian_id}"
        elif row.status == "offered" or row.transaction_id is None:
            raise Conflict("the child's wallet has not asked the issuer for the credential yet")
        else:
            row.approvals, complete = await _add_approval(rt, row.child_id, row.approvals, guardian_id)
            if complete:
                tid = quote(row.transaction_id, safe="")
                # the issuer approves only if the reported transaction is this child's own issuance
                status, _ = await _issuer_admin(rt, f"/admin/deferred/{tid}/approve", {"person": row.child_id})
                if status == 404:
                    raise Conflict("the issuer has no such pending transaction (it may have expired)")
                if status != 204:
                    raise UpstreamUnavailable(f"the issuer answered HTTP {status} to the approval")
                row.status, row.decided_at, row.decided_by = "approved", now, f"guardian:{guardian_id}"
        s.add(row)
        await s.commit()
    log.info("youth credential request %s: %s", pseudonym(row.id), row.status)
    return row


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
        now = service.now_utc(rt)
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

    @post("/youth/pairing-codes", operation_id="youthCreatePairingCode", tags=TAGS_YOUTH, status_code=201)
    async def create_pairing_code(request: Request[Any, Any, Any], dpop: DPoPHeader = None) -> PairingCode:
        """A one-time pairing code for this wallet instance, to show the guardian who registers it as the child's
        wallet (proof that the guardian holds the child's device; single use, :data:`PAIRING_TTL` seconds)."""
        inst = await service.authenticate(rt, dpop, method=request.method, url=service.public_url(rt, request.scope))
        code = await new_pairing_code(rt, inst)
        return PairingCode(instance_id=inst.id, pairing_code=code, expires_in=PAIRING_TTL)

    @post("/guardian/children/{child_id:str}/wallets", operation_id="guardianRegisterChildWallet",
          tags=TAGS_GUARDIAN, status_code=201)
    async def register_wallet(request: Request[Any, Any, Any], child_id: FromPath[str], data: JSONBody[WalletRef],
                              dpop: DPoPHeader = None) -> ChildWallet:
        """Register the child's wallet instance: with the pairing code it shows (:func:`check_pairing_code`), it
        is bound to the child and put under guardian control; without it nothing is bound."""
        me = await guardian(rt, request, dpop)
        child, _ = await child_person(me, child_id)
        if child.age(rt.clock) >= 18:
            raise Conflict("the person is of age: their wallet is not a youth wallet")
        await check_pairing_code(rt, data.instance_id, data.pairing_code)
        row = await bind_youth_wallet(rt, data.instance_id, child_id, me)
        async with rt.db.session() as s:
            inst = await s.get(WalInstance, data.instance_id)
        assert inst is not None
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
        return Rules(rules=[RuleIn(client_id=r.client_id, claim=r.claim, effect=r.effect,  # type: ignore[arg-type]
                                   category=r.category) for r in rows])

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
                                category=r.category, created_by=me, created_at=now))
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
        category = await category_of(rt, data.client_id)
        row = YouthRequest(id=secrets.token_urlsafe(16), child_id=yw.child_id, instance_id=inst.id,
                           client_id=data.client_id, relying_party_name=data.relying_party_name, category=category,
                           claims=[list(c) for c in data.claims], nonce_hash=data.transaction_nonce_hash,
                           holder_jwk=dict(data.holder_jwk), created_at=now,
                           expires_at=now + timedelta(seconds=REQUEST_TTL))
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

    # -- a child's credential under deferred issuance -------------------------------------------------

    @post("/youth/credential-requests", operation_id="youthRequestCredential", tags=TAGS_YOUTH, status_code=201)
    async def youth_request_credential(request: Request[Any, Any, Any], data: JSONBody[CredentialRequestIn],
                                       dpop: DPoPHeader = None) -> CredentialRequestView:
        """The child's wallet asks for a PID: the issuer offers it under deferred issuance (guardian approval)."""
        inst, yw = await child(request, dpop)
        if data.instance_id not in (None, inst.id):
            raise AccessDenied("a child's wallet asks for itself")
        row = await request_credential(rt, yw.child_id, inst.id, data.credential_configuration_id, "child")
        return _cview(row, offer=await offer_of(rt, row))

    async def own_credential_request(request: Request[Any, Any, Any], request_id: str, proof: str | None
                                     ) -> YouthCredentialRequest:
        inst, _ = await child(request, proof)
        async with rt.db.session() as s:
            row = await s.get(YouthCredentialRequest, request_id)
        if row is None or row.instance_id != inst.id:
            raise NotFound("no such credential request")
        return row

    @get("/youth/credential-requests/{request_id:str}", operation_id="youthGetCredentialRequest", tags=TAGS_YOUTH)
    async def youth_get_credential_request(request: Request[Any, Any, Any], request_id: FromPath[str],
                                           dpop: DPoPHeader = None) -> CredentialRequestView:
        """The request with its credential offer (and tx_code) and its outcome."""
        row = await own_credential_request(request, request_id, dpop)
        return _cview(row, offer=await offer_of(rt, row))

    @post("/youth/credential-requests/{request_id:str}/transaction", operation_id="youthReportDeferredTransaction",
          tags=TAGS_YOUTH, status_code=200)
    async def youth_report_transaction(request: Request[Any, Any, Any], request_id: FromPath[str],
                                       data: JSONBody[TransactionIn], dpop: DPoPHeader = None
                                       ) -> CredentialRequestView:
        """The wallet redeemed the offer and the issuer answered 202: the transaction now awaits a guardian."""
        row = await own_credential_request(request, request_id, dpop)
        async with rt.db.session() as s:
            fresh = await s.get(YouthCredentialRequest, row.id, with_for_update=not rt.db.is_sqlite)
            assert fresh is not None
            if fresh.status != "offered":
                raise Conflict(f"the credential request is already {fresh.status}")
            fresh.transaction_id, fresh.status = data.transaction_id, "awaiting_approval"
            s.add(fresh)
            await s.commit()
        return _cview(fresh, offer=await offer_of(rt, fresh))

    @post("/guardian/children/{child_id:str}/credential-requests", operation_id="guardianRequestChildCredential",
          tags=TAGS_GUARDIAN, status_code=201)
    async def guardian_request_credential(request: Request[Any, Any, Any], child_id: FromPath[str],
                                          data: JSONBody[CredentialRequestIn], dpop: DPoPHeader = None
                                          ) -> CredentialRequestView:
        """A guardian asks for a PID for the child's wallet (the child's wallet then redeems the offer)."""
        me = await guardian(rt, request, dpop)
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
        return _cview(row)

    @get("/guardian/credential-requests", operation_id="guardianCredentialRequests", tags=TAGS_GUARDIAN)
    async def guardian_credential_requests(request: Request[Any, Any, Any], dpop: DPoPHeader = None
                                           ) -> list[CredentialRequestView]:
        """Open credential requests of all my children (offered, or awaiting a guardian), oldest first."""
        me = await guardian(rt, request, dpop)
        kids = [k.person.person_id for k in await _register(rt).children_of(me)]
        if not kids:
            return []
        async with rt.db.session() as s:
            rows = (await s.exec(select(YouthCredentialRequest).where(
                col(YouthCredentialRequest.child_id).in_(kids),
                col(YouthCredentialRequest.status).in_(["offered", "awaiting_approval"]))
                .order_by(col(YouthCredentialRequest.created_at)))).all()
        return [_cview(r) for r in rows]

    async def decide_credential_handler(request: Request[Any, Any, Any], request_id: str, proof: str | None,
                                        approve: bool) -> CredentialRequestView:
        me = await guardian(rt, request, proof)
        async with rt.db.session() as s:
            row = await s.get(YouthCredentialRequest, request_id)
        if row is None:
            raise NotFound("no such credential request")
        await basis_for(rt, me, row.child_id)
        return _cview(await decide_credential(rt, request_id, approve, me))

    @post("/guardian/credential-requests/{request_id:str}/approve", operation_id="guardianApproveCredential",
          tags=TAGS_GUARDIAN, status_code=200)
    async def approve_credential(request: Request[Any, Any, Any], request_id: FromPath[str],
                                 dpop: DPoPHeader = None) -> CredentialRequestView:
        """Approve: once enough guardians have, the issuer's deferred transaction is approved."""
        return await decide_credential_handler(request, request_id, dpop, True)

    @post("/guardian/credential-requests/{request_id:str}/deny", operation_id="guardianDenyCredential",
          tags=TAGS_GUARDIAN, status_code=200)
    async def deny_credential(request: Request[Any, Any, Any], request_id: FromPath[str],
                              dpop: DPoPHeader = None) -> CredentialRequestView:
        """Deny: the request ends; the child's wallet stops waiting for the credential."""
        return await decide_credential_handler(request, request_id, dpop, False)

    # -- the relying-party category registry (administrator) ----------------------------------------

    def require_admin(authorization: str | None) -> None:
        if not rt.admin_authorized("wallet", authorization):
            raise InvalidToken("the admin API needs the admin bearer token",
                               headers={"WWW-Authenticate": 'Bearer realm="lommebok-admin"'})

    @put("/admin/youth/relying-parties", operation_id="adminPutRelyingPartyCategory", tags=TAGS_ADMIN,
         status_code=200)
    async def put_relying_party(data: JSONBody[RelyingPartyIn], authorization: AuthHeader = None) -> RelyingPartyIn:
        """Set a relying party's category (keyed by its client id), which guardians' category rules target."""
        require_admin(authorization)
        async with rt.db.session() as s:
            row = await s.get(YouthRelyingParty, data.client_id)
            row = row or YouthRelyingParty(client_id=data.client_id, category=data.category,
                                           updated_at=service.now_utc(rt))
            row.category, row.name, row.updated_at = data.category, data.name, service.now_utc(rt)
            s.add(row)
            await s.commit()
        return data

    @get("/admin/youth/relying-parties", operation_id="adminListRelyingPartyCategories", tags=TAGS_ADMIN)
    async def list_relying_parties(authorization: AuthHeader = None) -> list[RelyingPartyIn]:
        """The registered relying parties and their categories."""
        require_admin(authorization)
        async with rt.db.session() as s:
            rows = (await s.exec(select(YouthRelyingParty).order_by(col(YouthRelyingParty.client_id)))).all()
        return [RelyingPartyIn(client_id=r.client_id, category=r.category, name=r.name) for r in rows]

    return [put_relying_party, list_relying_parties, list_children, create_pairing_code, register_wallet,
            child_wallet_status, get_rules, put_rules, child_log, pending, events,
            approve, deny, create_request, get_request, youth_request_credential, youth_get_credential_request,
            youth_report_transaction, guardian_request_credential, guardian_credential_requests, approve_credential,
            deny_credential]
