"""The issuer's per-worker caches: typed, bounded, each with its own invalidation (none is shared between workers;
none holds what the shared store or the database must be the truth of).

- :class:`ClaimsCache`: claims read once per access grant (OpenID4VCI 1.0 §8: a batch, a retry), never logged;
- :class:`StatusListTokens`: signed Status List Tokens (draft-ietf-oauth-status-list §8) per (list, version, form),
  for up to half their ``ttl``; a status change bumps the list's version, so a changed list is never served stale;
- :class:`WalletStatusLists`: wallet providers' verified status lists (of wallet attestations), for their ``ttl``;
- :class:`JwksCache`: the OpenID Connect bridge's public keys by ``kid`` (re-fetched on an unknown ``kid``).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from eidcore.status_list.token import VerifiedStatusList

__all__ = ["ClaimsCache", "JwksCache", "ListToken", "StatusListTokens", "WalletStatusLists"]

K = TypeVar("K")
V = TypeVar("V")


class _Lru(Generic[K, V]):
    """At most ``max_entries`` values, the least recently stored dropped first; each with an expiry time."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K, now: float) -> V | None:
        hit = self._entries.get(key)
        if hit is None:
            return None
        if hit[0] <= now:
            del self._entries[key]
            return None
        return hit[1]

    def put(self, key: K, value: V, expires: float) -> None:
        self._entries[key] = (expires, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def invalidate(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class ClaimsCache(_Lru[tuple[str, str], dict[str, Any]]):
    """Claims read once per access grant, kept only in this worker's memory (never in the shared store or logs).

    Keyed by the SHA-256 of the access token and the credential type; an entry lives no longer than the access
    token, and the cache is bounded (oldest first out). Another worker, or a new grant, reads the register again.
    """

    def __init__(self, max_entries: int = 2048) -> None:
        super().__init__(max_entries)


Form = Literal["jwt", "cwt"]


@dataclass(frozen=True)
class ListToken:
    """A signed Status List Token and how it is served."""

    body: bytes
    media_type: str
    etag: str
    max_age: int


class StatusListTokens(_Lru[tuple[str, int, Form], ListToken]):
    """Signed tokens per (list id, list version, form); a new version of a list replaces the older ones."""

    def __init__(self, max_entries: int = 256) -> None:
        super().__init__(max_entries)

    def store(self, list_id: str, version: int, form: Form, token: ListToken, expires: float) -> None:
        for key in [k for k in self._entries if k[0] == list_id and k[1] != version]:
            del self._entries[key]
        self.put((list_id, version, form), token, expires)


class WalletStatusLists(_Lru[str, VerifiedStatusList]):
    """Verified wallet provider status lists by URI (a handful of providers), one fetch at a time per URI."""

    def __init__(self, max_entries: int = 64) -> None:
        super().__init__(max_entries)
        self._locks: dict[str, asyncio.Lock] = {}

    def lock(self, uri: str) -> asyncio.Lock:
        if len(self._locks) > 2 * self.max_entries:
            self._locks = {u: lk for u, lk in self._locks.items() if lk.locked() or u in self._entries}
        return self._locks.setdefault(uri, asyncio.Lock())


class JwksCache(_Lru[str, dict[str, Any]]):
    """Public keys by ``kid``."""

    def __init__(self, max_entries: int = 64) -> None:
        super().__init__(max_entries)

    def has(self, kid: str, now: float) -> bool:
        return self.get(kid, now) is not None
