"""One injectable clock for all time-dependent checks, so tests can pin time.

Every validity, ``iat`` window and TTL decision in eidcore takes a :class:`Clock` instead of calling
``time.time()`` itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Source of the current time."""

    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...

    def timestamp(self) -> float:
        """The current time as seconds since the epoch."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def timestamp(self) -> float:
        return time.time()


@dataclass
class FixedClock:
    """A clock pinned to one instant; tests move it with :meth:`advance`."""

    at: datetime

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")

    @classmethod
    def at_timestamp(cls, ts: float) -> FixedClock:
        return cls(datetime.fromtimestamp(ts, UTC))

    def now(self) -> datetime:
        return self.at

    def timestamp(self) -> float:
        return self.at.timestamp()

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self.at = self.at + timedelta(seconds=seconds)


class OffsetClock:
    """The wall clock plus an offset that only grows: tests and the in-process demo move time forward
    (past a status list's ttl, an expiry) while everything else keeps real time."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def now(self) -> datetime:
        from datetime import timedelta

        return datetime.now(UTC) + timedelta(seconds=self.offset)

    def timestamp(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("an OffsetClock only moves forward")
        self.offset += seconds


SYSTEM_CLOCK: Clock = SystemClock()
