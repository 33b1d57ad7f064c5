"""Status list index allocation (draft-ietf-oauth-status-list-18 §4.1; HAIP 1.0: indices unused, never
sequential, never reused).

Each credential gets an unused, pseudorandom index in a list of its type. A worker reserves a block of a list's
counter with one durable ``UPDATE ... RETURNING`` (:class:`IndexAllocator`) and maps each counter through a keyed
permutation of the list's index space (:class:`IndexPermutation`, key from a per-deployment secret), so an
issuance costs one ``INSERT`` of its record and one commit. ``UNIQUE(list_id, idx)`` stays the backstop. A list is
closed at ``status_list_max_fill`` (the unused entries are the herd) and a new one started.

This module knows only the tables and the options (no service object), so :class:`issuer.core.Issuer` can hold
one allocator per worker without an import cycle.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, update
from sqlmodel import select

from eidcore.errors import InvalidRequest, StorageUnavailable
from eidcore.storage import Database
from issuer.models import IssStatusList
from issuer.options import IssuerOptions

__all__ = ["BITS", "Allocation", "IndexAllocator", "IndexPermutation"]

BITS = 2


@dataclass(frozen=True)
class Allocation:
    credential_id: str
    list_id: str
    idx: int
    uri: str
    valid_from: datetime
    valid_until: datetime


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

    def __init__(self, db: Database, options: IssuerOptions, secret: Callable[[str], Awaitable[bytes]],
                 now: Callable[[], datetime]) -> None:
        self.db = db
        self.options = options
        self._secret = secret
        self._now = now
        self._blocks: dict[str, _Block] = {}
        self._perms: dict[str, IndexPermutation] = {}
        self._lock = asyncio.Lock()

    async def _permutation(self, list_id: str, size: int) -> IndexPermutation:
        perm = self._perms.get(list_id)
        if perm is None:
            root = await self._secret("status-index-key")
            perm = IndexPermutation(hmac.new(root, list_id.encode(), hashlib.sha256).digest(), size)
            self._perms[list_id] = perm
        return perm

    async def _reserve(self, type_id: str, want: int) -> _Block:
        opts = self.options
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
            async with self.db.engine.begin() as conn:
                row = (await conn.execute(stmt)).first()
            if row is not None:
                list_id, size, allocated = row
                return _Block(str(list_id), int(size), int(allocated) - k, int(allocated))
            async with self.db.engine.begin() as conn:  # every list of the type is full: a new one
                await conn.execute(insert(tbl).values(
                    id=secrets.token_urlsafe(12), type_id=type_id, bits=BITS, size=opts.status_list_size,
                    allocated=0, version=0, created_at=self._now(), active=True))
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
