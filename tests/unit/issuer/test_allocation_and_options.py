"""Unit tests: the keyed index permutation behind status list allocation, the per-grant claims cache, the status
list ttl option, and the ``Accept`` choice for signed metadata."""

from __future__ import annotations

import itertools

import pytest
from litestar.datastructures import Accept
from pydantic import ValidationError

from eidcore.clock import OffsetClock
from eidcore.settings import IssuerSettings, Settings
from issuer.caches import ClaimsCache
from issuer.http import wants_jwt as _wants_jwt
from issuer.options import DEV_STATUS_LIST_TTL, IssuerOptions
from issuer.status import IndexPermutation


@pytest.mark.parametrize("size", [2, 3, 1000, 16384])
def test_index_permutation_is_a_bijection_of_the_list(size: int) -> None:
    perm = IndexPermutation(b"k" * 32, size)
    out = [perm.permute(c) for c in range(size)]
    assert sorted(out) == list(range(size))


def test_index_permutation_is_keyed_and_not_sequential() -> None:
    a = IndexPermutation(b"a" * 32, 16384)
    b = IndexPermutation(b"b" * 32, 16384)
    first = [a.permute(c) for c in range(64)]
    assert first != sorted(first), "consecutive issuances must not get increasing indices"
    assert sum(1 for x, y in itertools.pairwise(first) if abs(x - y) == 1) < 4
    assert first != [b.permute(c) for c in range(64)], "another key gives another order"
    with pytest.raises(ValueError):
        a.permute(16384)


def test_claims_cache_expires_and_is_bounded() -> None:
    clock = OffsetClock()
    cache = ClaimsCache(clock, maxsize=2)
    cache.set(("t1", "pid"), {"a": 1}, ttl=100.0)
    clock.advance(99)
    assert cache.get(("t1", "pid")) == {"a": 1}
    clock.advance(1)
    assert cache.get(("t1", "pid")) is None
    for i in range(3):
        cache.set((f"t{i}", "pid"), {"i": i}, ttl=1000.0)
    assert cache.get(("t0", "pid")) is None, "the oldest entry leaves first"
    assert cache.get(("t2", "pid")) == {"i": 2}


def test_status_list_ttl_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert IssuerOptions.from_settings(Settings(environment="dev")).status_list_ttl == DEV_STATUS_LIST_TTL == 30
    prod = Settings.model_construct(environment="production", issuer=IssuerSettings(), status_list_ttl=None)
    assert IssuerOptions.from_settings(prod).status_list_ttl == 300
    monkeypatch.setenv("LOMMEBOK_STATUS_LIST_TTL", "120")
    assert IssuerOptions.from_settings(Settings(environment="dev")).status_list_ttl == 120
    for bad in ("soon", "0", "-5", "999999"):
        monkeypatch.setenv("LOMMEBOK_STATUS_LIST_TTL", bad)
        with pytest.raises(ValidationError, match="status_list_ttl"):
            Settings(environment="dev")


@pytest.mark.parametrize(
    ("accept", "jwt"),
    [
        ("", False),
        ("application/json", False),
        ("application/jwt", True),
        ("application/jwt, application/json;q=0.9", True),
        ("application/json, application/jwt;q=0.5", False),
        ("application/jwt;q=0", False),
        ("*/*", False),
        ("application/*", False),
        ("application/jwt;q=0.5, application/json;q=0.5", True),
        ("text/html", False),
        ("application/jwt;q=0.0, */*", False),
        ("application/jwt;q=0.001", True),
    ],
)
def test_signed_metadata_only_when_asked_for(accept: str, jwt: bool) -> None:
    assert _wants_jwt(Accept(accept)) is jwt
