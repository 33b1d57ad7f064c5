"""Typed in-process caches with a bound and invalidation (what a real verifier or issuer may cache: validated
certificate chains, status list tokens within their ``ttl``, parsed keys, rendered metadata).

Never a string-keyed dict that grows: every cache has a maximum size (least recently used entries go first), an
optional time to live measured on the project's clock, and ``invalidate``/``clear`` for when the source changes.
A cache is per process; what must hold across workers belongs in the key-value store, with events
(:mod:`eidcore.events`) for invalidation.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

from eidcore.clock import SYSTEM_CLOCK, Clock

__all__ = ["BoundedCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """A least-recently-used cache of at most ``maxsize`` entries, each kept at most ``ttl`` seconds (``None``:
    until evicted or invalidated; a ``ttl`` given to :meth:`set` overrides the default for that entry)."""

    def __init__(self, maxsize: int, ttl: float | None = None, clock: Clock | None = None) -> None:
        if maxsize < 1:
            raise ValueError("a cache holds at least one entry")
        if ttl is not None and ttl <= 0:
            raise ValueError("ttl must be positive (or None)")
        self.maxsize = maxsize
        self.ttl = ttl
        self._clock = clock or SYSTEM_CLOCK
        self._data: OrderedDict[K, tuple[V, float | None]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None  # type: ignore[arg-type]

    def get(self, key: K) -> V | None:
        """The value for ``key`` if present and fresh (it becomes the most recently used), else None."""
        entry = self._data.get(key)
        if entry is None:
            self.misses += 1
            return None
        value, expires = entry
        if expires is not None and self._clock.timestamp() >= expires:
            del self._data[key]
            self.misses += 1
            return None
        self._data.move_to_end(key)
        self.hits += 1
        return value

    def set(self, key: K, value: V, *, ttl: float | None = None) -> None:
        """Keep ``value`` for ``key`` (evicting the least recently used entry when full)."""
        life = ttl if ttl is not None else self.ttl
        expires = self._clock.timestamp() + life if life is not None else None
        self._data[key] = (value, expires)
        self._data.move_to_end(key)
        while len(self._data) > self.maxsize:
            self._data.popitem(last=False)

    def invalidate(self, key: K) -> None:
        """Forget ``key`` (no error when absent)."""
        self._data.pop(key, None)

    def clear(self) -> None:
        """Forget everything."""
        self._data.clear()
