"""Benchmark: Token Status List of 1,048,576 entries, revoke one entry, compress and sign (JWT and CWT).

The list is 1 bit per entry with 1 % of the entries already revoked at random indices (HAIP: unique,
unpredictable indices), compressed once before timing. Each timed operation flips one random entry and
publishes a freshly signed Status List Token; the limit is one raw ES256 signature. Target: < 50 ms.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator

from eidcore import jose
from eidcore.clock import SYSTEM_CLOCK
from eidcore.status_list import DEFAULT_CHUNK_SIZE, DEFAULT_LEVEL, StatusList, issue_cwt, issue_jwt
from lommebok.bench.common import Backends, BenchLine, Limits, line, measure

ENTRIES = 2**20
REVOKED_SHARE = 0.01
URI = "https://issuer.example.no/statuslists/1"
TARGET_MS = 50.0


def _prefilled(rng: random.Random) -> StatusList:
    lst = StatusList(ENTRIES, 1)
    for idx in rng.sample(range(ENTRIES), int(ENTRIES * REVOKED_SHARE)):
        lst.set(idx, 1)
    return lst


def _update(lst: StatusList, rng: random.Random, publish: Callable[[StatusList], object]) -> Callable[[], object]:
    def op() -> object:
        idx = rng.randrange(ENTRIES)
        lst.set(idx, 1 - lst.get(idx))
        return publish(lst)

    return op


def run(limits: Limits, quick: bool, backends: Backends) -> Iterator[BenchLine]:
    """Yield the "status list 1M" lines (JWT, CWT) against the raw ES256 sign limit."""
    seconds = 0.6 if quick else 2.0
    key = jose.generate_signing_key("ES256", kid="bench")
    rng = random.Random(20261128)
    forms: list[tuple[str, Callable[[StatusList], object]]] = [
        ("jwt", lambda lst: issue_jwt(lst, uri=URI, key=key, clock=SYSTEM_CLOCK)),
        ("cwt", lambda lst: issue_cwt(lst, uri=URI, key=key, clock=SYSTEM_CLOCK)),
    ]
    for form, publish in forms:
        lst = _prefilled(rng)
        start = time.perf_counter()
        token = publish(lst)  # first publication compresses every segment
        cold_ms = (time.perf_counter() - start) * 1000
        size = len(token) if isinstance(token, str | bytes) else 0
        ops = measure(_update(lst, rng, publish), seconds=seconds)
        ms = 1000.0 / ops
        verdict = "meets" if ms < TARGET_MS else "MISSES"
        yield line(
            f"status list 1M ({form}): revoke one entry, compress and sign", ops, limits.sign,
            note=(f"{ms:.2f} ms per update ({verdict} the < {TARGET_MS:.0f} ms target); {ENTRIES} entries x 1 bit, "
                  f"{REVOKED_SHARE:.0%} revoked, zlib level {DEFAULT_LEVEL} in {DEFAULT_CHUNK_SIZE // 1024} KiB "
                  f"segments (only the changed one is recompressed); first full publication {cold_ms:.1f} ms; "
                  f"token {size} bytes"),
        )
