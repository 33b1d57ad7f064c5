"""Status lists of issued credentials (draft-ietf-oauth-status-list-18) and the issuance records.

- Each credential gets an **unused, pseudorandom** index in a list of its type (never sequential: indices must
  not leak issuance order, HAIP 1.0; never reused). A worker reserves a block of a list's counter with one
  durable ``UPDATE ... RETURNING`` (:class:`IndexAllocator`) and maps each counter through a keyed permutation of
  the list's index space (:class:`IndexPermutation`, key from a per-deployment secret), so an issuance costs one
  ``INSERT`` of its record and one commit. ``UNIQUE(list_id, idx)`` stays the backstop. A list is closed at
  ``status_list_max_fill`` (the unused entries are the herd) and a new one started.
- The list is derived from the issuance records (the durable truth); ``version`` changes with every status
  change, and signed JWT / CWT tokens are cached per (list, version, form) for up to half their ``ttl``.
- A status change commits before the admin API answers (durable revocation).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import insert, update
from sqlmodel import col, select

from eidcore.errors import InvalidRequest, NotFound, StorageUnavailable
from eidcore.runtime import pseudonym
from eidcore.status_list import StatusList, StatusValue, issue_cwt, issue_jwt
from issuer.core import Configuration, Issuer
from issuer.models import IssCredential, IssStatusList
from issuer.records import DuplicateRecord

__all__ = [
    "Allocation", "IndexAllocator", "IndexPermutation", "IssuedRecord", "allocate", "change_status", "list_token",
    "subject_id",
]

BITS = 2
ACTIONS: dict[str, int] = {"revoke": StatusValue.INVALID, "suspend": StatusValue.SUSPENDED,
                           "reinstate": StatusValue.VALID}


def subject_id(person_id: str) -> str:
    """The pseudonymous subject id an issuance record keeps instead of the person's identity."""
    return pseudonym(person_id, salt="lommebok-issuer-subject")


@dataclass(frozen=True)
class IssuedRecord:
    """What one credential of a batch needs recorded."""

    holder_jkt: str


@dataclass(frozen=True)
class Allocation:
    credential_id: str
    list_id: str
    idx: int
    uri: str
    valid_from: datetime
    valid_until: datetime


def status_uri(issuer: Issuer, list_id: str) -> str:
    return issuer.url(f"/status/{list_id}")


class IndexPermutation:
    """A keyed pseudorandom permutation of ``range(size)`` (a Feistel network with cycle-walking).

    Counter value ``c`` of a list maps to index ``permute(c)``: distinct counters give distinct indices (never
    reused), and without the key the indices look random and do not reveal issuance order (never sequential).
    """

    ROUNDS = 8

    def __init__(self, key: bytes, size: int) -> None:
        if size < 2:
            raise ValueError("a status list needs at least two entries")
        self.size = size
        bits = max(2, (size - 1).bit_length())
        bits += bits % 2
        self.half = bits // 2
        self.mask = (1 << self.half) - 1
        self._macs = [hmac.new(key, bytes([r]), hashlib.sha256) for r in range(self.ROUNDS)]

    def _f(self, r: int, value: int) -> int:
        m = self._macs[r].copy()
        m.update(value.to_bytes(8, "big"))
        return int.from_bytes(m.digest()[:8], "big") & self.mask

    def _encrypt(self, x: int) -> int:
        left, right = x >> self.half, x & self.mask
        for r in range(self.ROUNDS):
            left, right = right, left ^ self._f(r, right)
        return (left << self.half) | right

    def permute(self, counter: int) -> int:
        """The index of ``counter`` (``0 <= counter < size``); cycle-walks until inside ``range(size)``."""
        if not 0 <= counter < self.size:
            raise ValueError("counter outside the list")
        x = self._encrypt(counter)
        while x >= self.size:
            x = self._encrypt(x)
        return x


@dataclass
class _Block:
    """Counters ``[next, end)`` of one list, reserved durably for this worker."""

    list_id: str
    size: int
    next: int
    end: int


class IndexAllocator:
    """Per-worker blocks of status list counters, each reserved with one durable write.

    ``UPDATE iss_status_list SET allocated = allocated + k ... RETURNING`` moves a list's counter past a block
    (row-locked, so two workers never get the same counters); the worker hands the block's counters out from
    memory and maps each through the list's :class:`IndexPermutation`. Counters of a block a worker did not use
    before it stopped are skipped for ever (never reused). ``UNIQUE(list_id, idx)`` stays the backstop.
    """

    def __init__(self, issuer: Issuer) -> None:
        self.issuer = issuer
        self._blocks: dict[str, _Block] = {}
        self._perms: dict[str, IndexPermutation] = {}
        self._lock = asyncio.Lock()

    async def _permutation(self, list_id: str, size: int) -> IndexPermutation:
        perm = self._perms.get(list_id)
        if perm is None:
            root = await self.issuer.secret("status-index-key")
            perm = IndexPermutation(hmac.new(root, list_id.encode(), hashlib.sha256).digest(), size)
            self._perms[list_id] = perm
        return perm

    async def _reserve(self, type_id: str, want: int) -> _Block:
        opts = self.issuer.options
        limit = max(1, int(opts.status_list_size * opts.status_list_max_fill))
        k = max(want, min(opts.status_block_size, limit))
        if k > limit:
            raise InvalidRequest("the batch is larger than a status list may hold")
        tbl = IssStatusList.__table__  # type: ignore[attr-defined]
        for _attempt in range(8):
            pick = (select(tbl.c.id).where(tbl.c.type_id == type_id, tbl.c.active, tbl.c.allocated + k <= limit)
                    .order_by(tbl.c.created_at).limit(1).scalar_subquery())
            stmt = (update(tbl).where(tbl.c.id == pick, tbl.c.allocated + k <= limit)
                    .values(allocated=tbl.c.allocated + k).returning(tbl.c.id, tbl.c.size, tbl.c.allocated))
            async with self.issuer.rt.db.engine.begin() as conn:
                row = (await conn.execute(stmt)).first()
            if row is not None:
                list_id, size, allocated = row
                return _Block(str(list_id), int(size), int(allocated) - k, int(allocated))
            async with self.issuer.rt.db.engine.begin() as conn:  # every list of the type is full: a new one
                await conn.execute(insert(tbl).values(
                    id=secrets.token_urlsafe(12), type_id=type_id, bits=BITS, size=opts.status_list_size,
                    allocated=0, version=0, created_at=self.issuer.now(), active=True))
        raise StorageUnavailable("could not reserve status list indices; try again")

    async def take(self, type_id: str, n: int) -> tuple[str, list[int]]:
        """``n`` fresh indices in one list of ``type_id`` (reserving a new block when this one runs out)."""
        async with self._lock:
            block = self._blocks.get(type_id)
            if block is None or block.end - block.next < n:
                block = await self._reserve(type_id, n)
                self._blocks[type_id] = block
            counters = range(block.next, block.next + n)
            block.next += n
        perm = await self._permutation(block.list_id, block.size)
        return block.list_id, [perm.permute(c) for c in counters]


async def allocate(
    issuer: Issuer,
    conf: Configuration,
    *,
    person_id: str,
    holder_jkts: Sequence[str],
    instance_jkt: str | None,
    client_id: str | None,
    loa: str,
    batch_id: str,
) -> list[Allocation]:
    """Record one issuance per holder key, each with a fresh pseudorandom index (one commit before return)."""
    n = len(holder_jkts)
    now = issuer.now().replace(microsecond=0)
    valid_until = now + timedelta(seconds=conf.type.validity.default_seconds)
    subject = subject_id(person_id)
    for _attempt in range(16):
        list_id, indices = await issuer.allocator.take(conf.type.id, n)
        ids = [str(uuid.uuid4()) for _ in holder_jkts]
        rows = [dict(id=cid, type_id=conf.type.id, configuration_id=conf.id, format=conf.format,
                     subject=subject, holder_jkt=jkt, instance_jkt=instance_jkt, client_id=client_id,
                     list_id=list_id, idx=idx, status=0, batch_id=batch_id, loa=loa, issued_at=now,
                     valid_from=now, valid_until=valid_until, updated_at=now)
                for cid, jkt, idx in zip(ids, holder_jkts, indices, strict=True)]
        try:
            await issuer.records.insert(rows)
        except DuplicateRecord:
            # an index held by a record from before block reservation (random draws): take the next counters
            continue
        uri = status_uri(issuer, list_id)
        return [Allocation(cid, list_id, idx, uri, now, valid_until) for cid, idx in zip(ids, indices, strict=True)]
    raise StorageUnavailable("could not allocate a status list index; try again")


async def change_status(
    issuer: Issuer,
    action: str,
    *,
    credential_id: str | None = None,
    instance_jkt: str | None = None,
    subject: str | None = None,
    credential_type: str | None = None,
) -> list[str]:
    """Set the status of the selected credentials and commit (durable before the caller answers)."""
    if action not in ACTIONS:
        raise InvalidRequest("action must be revoke, suspend or reinstate")
    value = int(ACTIONS[action])
    async with issuer.rt.db.session() as s:
        q = select(IssCredential)
        if credential_id is not None:
            q = q.where(IssCredential.id == credential_id)
        if instance_jkt is not None:
            q = q.where(IssCredential.instance_jkt == instance_jkt)
        if subject is not None:
            q = q.where(IssCredential.subject == subject)
        if credential_type is not None:
            q = q.where(IssCredential.type_id == credential_type)
        rows = list((await s.exec(q)).all())
        changed: list[str] = []
        lists: set[str] = set()
        now = issuer.now()
        for r in rows:
            if r.status == StatusValue.INVALID and value != StatusValue.INVALID:
                continue  # a revocation is final
            if r.status != value:
                r.status = value
                r.updated_at = now
                s.add(r)
                lists.add(r.list_id)
            changed.append(r.id)
        for list_id in lists:
            await s.exec(update(IssStatusList).where(col(IssStatusList.id) == list_id)
                            .values(version=IssStatusList.version + 1))
        await s.commit()
    return changed


@dataclass(frozen=True)
class ListToken:
    body: bytes
    media_type: str
    etag: str
    max_age: int


_TOKENS: dict[tuple[int, str, int, str], tuple[int, ListToken]] = {}

Form = Literal["jwt", "cwt"]


async def list_token(issuer: Issuer, list_id: str, form: Form) -> ListToken:
    """The signed Status List Token (JWT or CWT) for a list, cached per version for half its ``ttl``."""
    if len(list_id) > 64:
        raise NotFound("no such status list")
    opts = issuer.options
    async with issuer.rt.db.session() as s:
        row = await s.get(IssStatusList, list_id)
        if row is None:
            raise NotFound("no such status list")
        key = (id(issuer), list_id, row.version, form)
        cached = _TOKENS.get(key)
        now = issuer.timestamp()
        if cached is not None and now - cached[0] < max(1, opts.status_list_ttl // 2):
            return cached[1]
        entries = (await s.exec(
            select(IssCredential.idx, IssCredential.status).where(IssCredential.list_id == list_id,
                                                                 IssCredential.status != 0)
        )).all()
    lst = StatusList(row.size, row.bits)
    for idx, status in entries:
        lst.set(idx, status)
    uri = status_uri(issuer, list_id)
    key_ = issuer.signing_key
    if form == "jwt":
        body = issue_jwt(lst, uri=uri, key=key_, clock=issuer.rt.clock, expires_in=opts.status_list_exp,
                         ttl=opts.status_list_ttl, iss=issuer.issuer_id, include_x5c=True).encode("ascii")
        media = "application/statuslist+jwt"
    else:
        body = issue_cwt(lst, uri=uri, key=key_, clock=issuer.rt.clock, expires_in=opts.status_list_exp,
                         ttl=opts.status_list_ttl, iss=issuer.issuer_id, include_x5chain=True)
        media = "application/statuslist+cwt"
    token = ListToken(body, media, '"' + hashlib.sha256(body).hexdigest()[:32] + '"', max(1, opts.status_list_ttl))
    stale = [k for k in _TOKENS if k[0] == id(issuer) and k[1] == list_id]
    for k in stale:
        del _TOKENS[k]
    _TOKENS[key] = (now, token)
    return token
