"""The issuer's per-worker caches, each an :class:`eidcore.cache.BoundedCache` (typed, bounded, with a ttl on the
runtime's clock and invalidation); none is shared between workers and none holds what the shared store or the
database must be the truth of.

- :class:`ClaimsCache`: claims read once per access grant (OpenID4VCI 1.0 §8: a batch, a retry), never logged;
- :class:`StatusListTokens`: signed Status List Tokens (draft-ietf-oauth-status-list §8) per (list, version, form),
  for up to half their ``ttl``; a status change bumps the list's version, so a changed list is never served stale;
- :class:`WalletStatusLists`: wallet providers' verified status lists (of wallet attestations), for their ``ttl``;
- :class:`JwksCache`: the OpenID Connect bridge's public keys by ``kid`` (re-fetched on an unknown ``kid``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal

from eidcore.cache import BoundedCache
from eidcore.clock import Clock
from eidcore.status_list.token import VerifiedStatusList

__all__ = ["ClaimsCache", "Form", "JwksCache", "ListToken", "StatusListTokens", "WalletStatusLists"]

Form = Literal["jwt", "cwt"]


class ClaimsCache(BoundedCache[tuple[str, str], dict[str, Any]]):
    """Claims read once per access grant, kept only in this worker's memory (never in the shared store or logs).

    Keyed by the SHA-256 of the access token and the credential type; an entry lives no longer than the access
    token, and the cache is bounded (oldest first out). Another worker, or a new grant, reads the register again.
    """

    def __init__(self, clock: Clock | None = None, maxsize: int = 2048) -> None:
        super().__init__(maxsize, clock=clock)


@dataclass(frozen=True)
class ListToken:
    """A signed Status List Token and how it is served."""

    body: bytes
    media_type: str
    etag: str
    max_age: int


class StatusListTokens(BoundedCache[tuple[str, int, Form], ListToken]):
    """Signed tokens per (list id, list version, form): a new version is a new key, the old one ages out."""

    def __init__(self, clock: Clock | None = None, maxsize: int = 256) -> None:
        super().__init__(maxsize, clock=clock)


class WalletStatusLists(BoundedCache[str, VerifiedStatusList]):
    """Verified wallet provider status lists by URI (a handful of providers), one fetch at a time per URI."""

    def __init__(self, clock: Clock | None = None, maxsize: int = 64) -> None:
        super().__init__(maxsize, clock=clock)
        self._locks: dict[str, asyncio.Lock] = {}

    def lock(self, uri: str) -> asyncio.Lock:
        """The lock of one URI's fetch (locks of URIs no longer cached and not held are dropped)."""
        if len(self._locks) > 2 * self.maxsize:
            self._locks = {u: lk for u, lk in self._locks.items() if lk.locked() or self.get(u) is not None}
        return self._locks.setdefault(uri, asyncio.Lock())


class JwksCache(BoundedCache[str, dict[str, Any]]):
    """Public keys by ``kid`` (kept an hour; an unknown ``kid`` fetches the set again)."""

    def __init__(self, clock: Clock | None = None, maxsize: int = 64, ttl: float = 3600) -> None:
        super().__init__(maxsize, ttl=ttl, clock=clock)
