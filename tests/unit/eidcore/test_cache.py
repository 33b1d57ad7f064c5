"""Typed bounded caches (eidcore.cache): least recently used out first, a time to live on the project's clock,
invalidation."""

from __future__ import annotations

import pytest

from eidcore.cache import BoundedCache
from eidcore.clock import FixedClock


def test_the_least_recently_used_entry_goes_first() -> None:
    c: BoundedCache[str, int] = BoundedCache(2)
    c.set("a", 1)
    c.set("b", 2)
    assert c.get("a") == 1  # a is now the most recently used
    c.set("c", 3)
    assert c.get("b") is None and c.get("a") == 1 and c.get("c") == 3
    assert len(c) == 2


def test_entries_expire_after_their_ttl_on_the_given_clock() -> None:
    clock = FixedClock.at_timestamp(1_000_000)
    c: BoundedCache[str, str] = BoundedCache(10, ttl=30, clock=clock)
    c.set("k", "v")
    c.set("short", "v", ttl=5)
    clock.advance(5)
    assert c.get("short") is None and c.get("k") == "v"
    clock.advance(25)
    assert c.get("k") is None and len(c) == 0


def test_invalidate_and_clear() -> None:
    c: BoundedCache[tuple[str, int], bytes] = BoundedCache(10)
    c.set(("list", 1), b"x")
    c.invalidate(("list", 1))
    c.invalidate(("list", 2))  # absent: no error
    assert c.get(("list", 1)) is None
    c.set(("list", 3), b"y")
    c.clear()
    assert len(c) == 0


@pytest.mark.parametrize("kwargs", [{"maxsize": 0}, {"maxsize": 1, "ttl": 0}])
def test_nonsense_bounds_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        BoundedCache(**kwargs)  # type: ignore[arg-type]
