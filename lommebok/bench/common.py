"""Benchmark helpers shared by every ``lommebok bench`` module.

Each benchmark module exposes ``run(limits: Limits, quick: bool, backends: Backends) -> Iterator[BenchLine]``
and yields one :class:`BenchLine` per measured operation. Throughput is always reported against the raw ES256
limit measured with ``cryptography`` in the same process and run (:func:`measure_limits`).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec


@dataclass(frozen=True)
class Backends:
    """The PostgreSQL server (a scratch database is created on it per run) and Redis the HTTP benchmarks use
    (``lommebok bench --postgres-url/--redis-url``)."""

    postgres_url: str = "postgresql://postgres@127.0.0.1:5432/test"
    redis_url: str = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class Limits:
    """Raw ES256 operations per second on this machine, this run."""

    sign: float
    verify: float


@dataclass
class BenchLine:
    name: str
    ops_per_s: float
    limit_ops_per_s: float | None = None
    ratio_to_limit: float | None = None
    peer: str | None = None
    peer_ops_per_s: float | None = None
    note: str | None = None

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        if d["note"] is None:
            del d["note"]
        for k in ("ops_per_s", "limit_ops_per_s", "ratio_to_limit", "peer_ops_per_s"):
            if isinstance(d[k], float):
                d[k] = round(d[k], 3 if k == "ratio_to_limit" else 1)
        return d


def measure(fn: Callable[[], object], *, seconds: float = 1.0, min_runs: int = 5) -> float:
    """Operations per second of ``fn``: best of three timed rounds of about ``seconds / 3`` each."""
    fn()  # warm up
    best = 0.0
    per_round = seconds / 3
    for _ in range(3):
        n = 0
        start = time.perf_counter()
        while True:
            fn()
            n += 1
            elapsed = time.perf_counter() - start
            if n >= min_runs and elapsed >= per_round:
                break
        best = max(best, n / elapsed)
    return best


def measure_limits(seconds: float = 1.0) -> Limits:
    """Raw ES256 sign and verify rates with ``cryptography`` (the limits every ratio is taken against)."""
    key = ec.generate_private_key(ec.SECP256R1())
    pub = key.public_key()
    msg = b"x" * 200
    sig = key.sign(msg, ec.ECDSA(hashes.SHA256()))
    sign = measure(lambda: key.sign(msg, ec.ECDSA(hashes.SHA256())), seconds=seconds)
    verify = measure(lambda: pub.verify(sig, msg, ec.ECDSA(hashes.SHA256())), seconds=seconds)
    return Limits(sign=sign, verify=verify)


_RAW: dict[str, Callable[[], object]] = {}


def _raw(kind: str) -> Callable[[], object]:
    """The raw ES256 operation (``sign`` or ``verify``) with ``cryptography``, on a 200-byte message."""
    if not _RAW:
        key = ec.generate_private_key(ec.SECP256R1())
        pub = key.public_key()
        msg = b"x" * 200
        sig = key.sign(msg, ec.ECDSA(hashes.SHA256()))
        _RAW["sign"] = lambda: key.sign(msg, ec.ECDSA(hashes.SHA256()))
        _RAW["verify"] = lambda: pub.verify(sig, msg, ec.ECDSA(hashes.SHA256()))
    return _RAW[kind]


def measure_vs_limit(fn: Callable[[], object], kind: str, *, seconds: float = 1.0, limit_ops: int = 1,
                     rounds: int = 5) -> tuple[float, float]:
    """Rates of ``fn`` and of its raw limit (``limit_ops`` ES256 ``kind`` operations), in interleaved rounds.

    Alternating the two measurements makes load from other processes fall on both alike, so the ratio stays
    meaningful on a busy machine. Each rate is the best round's.
    """
    limit_fn = _raw(kind)
    fn()
    per_round = seconds / (2 * rounds)
    best_fn = best_limit = 0.0
    for _ in range(rounds):
        best_fn = max(best_fn, measure(fn, seconds=per_round * 3, min_runs=3))
        best_limit = max(best_limit, measure(limit_fn, seconds=per_round * 3, min_runs=3))
    return best_fn, best_limit / limit_ops


def line(name: str, ops: float, limit: float | None, *, peer: str | None = None,
         peer_ops: float | None = None, note: str | None = None) -> BenchLine:
    """A bench line with the ratio to ``limit`` filled in."""
    return BenchLine(name=name, ops_per_s=ops, limit_ops_per_s=limit,
                     ratio_to_limit=(ops / limit) if limit else None,
                     peer=peer, peer_ops_per_s=peer_ops, note=note)


async def scratch_database(base: str) -> tuple[str, Callable[[], Awaitable[None]]]:
    """A fresh PostgreSQL database next to ``base`` for one benchmark run: its URL and a coroutine that drops it."""
    import secrets
    from urllib.parse import urlsplit, urlunsplit

    import asyncpg

    plain = base.replace("postgresql+asyncpg://", "postgresql://")
    name = f"lommebok_bench_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(plain)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()

    async def drop() -> None:
        c = await asyncpg.connect(plain)
        try:
            await c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await c.close()

    return urlunsplit(("postgresql", urlsplit(plain).netloc, f"/{name}", "", "")), drop
