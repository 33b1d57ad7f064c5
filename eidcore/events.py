"""One event bus for wake-ups (server-sent event streams, long polls), across every worker.

An event carries no data, only "something changed on this channel": a waiting stream or long poll wakes and
reads the new state from the database, so nothing is lost when an event is missed (waiters also wake on their
timeout and look again). With Redis configured, events go over Redis pub/sub (one subscriber connection per
process, whatever the number of waiters), so a decision taken on one worker wakes a stream held open by another;
without it, an in-memory bus serves the one process.

Use::

    async with rt.events.subscribe(f"youth:{child_id}") as sub:   # subscribe first,
        while True:
            state = await read_state()                            # then look,
            if done(state): break
            await sub.wait(timeout)                               # then wait (True: woken, False: timed out)

and ``await rt.events.publish(f"youth:{child_id}")`` after the change is committed. Channels are the caller's
opaque names; keep personal data out of them (use a pseudonymous or random id).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

__all__ = ["EventBus", "MemoryEventBus", "RedisEventBus", "Subscription", "open_event_bus"]

log = logging.getLogger("lommebok.events")
#: longest channel name accepted (the names are ids, not data)
MAX_CHANNEL = 200


class Subscription:
    """One waiter's view of a channel: :meth:`wait` returns when an event arrived since the last wait."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self._event = asyncio.Event()

    def _wake(self) -> None:
        self._event.set()

    async def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for an event; True when one came (it is consumed), False on timeout."""
        try:
            await asyncio.wait_for(self._event.wait(), max(timeout, 0.0))
        except TimeoutError:
            return False
        self._event.clear()
        return True


class EventBus(Protocol):
    """Publish wake-ups on a channel; subscribe to be woken."""

    async def publish(self, channel: str) -> None: ...

    def subscribe(self, channel: str) -> contextlib.AbstractAsyncContextManager[Subscription]: ...

    async def close(self) -> None: ...


def _check(channel: str) -> str:
    if not channel or len(channel) > MAX_CHANNEL:
        raise ValueError("an event channel is a non-empty name of at most 200 characters")
    return channel


class _Local:
    """The waiters of this process by channel; a channel's entry goes when its last waiter leaves (no growth)."""

    def __init__(self) -> None:
        self.waiters: dict[str, set[Subscription]] = {}

    def add(self, sub: Subscription) -> bool:
        """Add a waiter; True when it is the channel's first."""
        subs = self.waiters.setdefault(sub.channel, set())
        subs.add(sub)
        return len(subs) == 1

    def remove(self, sub: Subscription) -> bool:
        """Remove a waiter; True when the channel has none left."""
        subs = self.waiters.get(sub.channel)
        if subs is None:
            return False
        subs.discard(sub)
        if not subs:
            del self.waiters[sub.channel]
            return True
        return False

    def wake(self, channel: str) -> None:
        for sub in self.waiters.get(channel, ()):
            sub._wake()


class MemoryEventBus:
    """The bus of one process (no Redis configured)."""

    def __init__(self) -> None:
        self._local = _Local()

    @property
    def channels(self) -> int:
        """Channels with at least one waiter (for tests and metrics)."""
        return len(self._local.waiters)

    async def publish(self, channel: str) -> None:
        self._local.wake(_check(channel))

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        sub = Subscription(_check(channel))
        self._local.add(sub)
        try:
            yield sub
        finally:
            self._local.remove(sub)

    async def close(self) -> None:
        self._local.waiters.clear()


class RedisEventBus:
    """Redis pub/sub: ``PUBLISH <namespace>:ev:<channel>``; one pub/sub connection per process, subscribed to the
    channels that have local waiters, read by one background task that wakes them.

    Publishing never waits for Redis: this process's waiters are woken at once, and the ``PUBLISH`` commands go out
    from one background task in pipelined batches (a channel published twice in a batch is sent once), so a request
    that publishes pays no round trip and many requests share one.
    """

    #: most channels waiting to be published (beyond it a wake-up is dropped: waiters look again on their timeout)
    max_outbox = 10_000
    #: most PUBLISH commands in one pipeline
    max_batch = 500
    #: how long the first wake-up of a batch waits for others (seconds): the verifier publishes "responded" and
    #: then the outcome of one response a moment apart, and those go out as one PUBLISH
    linger = 0.005

    #: how long a subscribe waits for Redis to confirm it before going on (the waiter's own timeout covers a miss)
    confirm_timeout = 2.0
    #: the longest :meth:`close` waits for each background task and for the last batch
    close_timeout = 2.0

    def __init__(self, url: str, *, namespace: str = "lommebok") -> None:
        # a Redis that accepts but never answers must not hold a publisher or a shutdown forever
        self._redis = aioredis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
        self._closing = False
        self._prefix = f"{namespace}:ev:"
        self._local = _Local()
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._confirmed: dict[str, asyncio.Event] = {}
        self._lock = asyncio.Lock()
        self._outbox: asyncio.Queue[str] | None = None
        self._publisher: asyncio.Task[None] | None = None

    @property
    def channels(self) -> int:
        return len(self._local.waiters)

    async def publish(self, channel: str) -> None:
        self._local.wake(_check(channel))  # this process's waiters at once, whatever Redis does
        if self._outbox is None:
            self._outbox = asyncio.Queue(self.max_outbox)
        if self._publisher is None or self._publisher.done():
            self._publisher = asyncio.create_task(self._publish_batches(self._outbox), name="lommebok-events-out")
        try:
            self._outbox.put_nowait(channel)
        except asyncio.QueueFull:  # a missed wake-up only delays a waiter until its timeout
            log.warning("event outbox full; a wake-up is left to the waiters' next look")

    async def _publish_batches(self, outbox: asyncio.Queue[str]) -> None:
        """Send what :meth:`publish` queued, in pipelined batches, until closed."""
        while True:
            batch = {await outbox.get()}
            await asyncio.sleep(self.linger)  # let a burst gather: one pipeline, a channel published once
            while len(batch) < self.max_batch and not outbox.empty():
                batch.add(outbox.get_nowait())
            await self._send(batch)

    async def _send(self, batch: set[str]) -> None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for channel in batch:
                    pipe.publish(self._prefix + channel, b"")
                await pipe.execute()
        except (RedisError, OSError) as exc:  # a missed wake-up only delays a waiter until its timeout
            log.warning("%d events not published (%s); waiters will see the changes on their next look",
                        len(batch), type(exc).__name__)

    async def _ensure_reader(self) -> None:
        if self._pubsub is None:
            self._pubsub = self._redis.pubsub()
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read(), name="lommebok-events")

    async def _read(self) -> None:
        """Dispatch every message to this process's waiters until closed; reconnects after a Redis outage."""
        task = asyncio.current_task()
        while not self._closing:
            if task is not None and task.cancelling():  # a cancellation the client turned into an error
                raise asyncio.CancelledError
            try:
                if not self._pubsub.subscribed:
                    await asyncio.sleep(0.05)
                    continue
                msg = await self._pubsub.get_message(ignore_subscribe_messages=False, timeout=1.0)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                if self._closing:
                    return
                log.warning("event bus lost Redis (%s); retrying", type(exc).__name__)
                for ev in self._confirmed.values():
                    ev.set()  # nobody waits on a confirmation that cannot come
                await asyncio.sleep(0.5)
                continue
            if msg is None:
                continue
            raw = msg.get("channel")
            name = (raw.decode() if isinstance(raw, bytes) else str(raw))[len(self._prefix):]
            if msg.get("type") == "subscribe":
                confirmed = self._confirmed.get(name)
                if confirmed is not None:
                    confirmed.set()
            elif msg.get("type") == "message":
                self._local.wake(name)

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        sub = Subscription(_check(channel))
        async with self._lock:
            first = self._local.add(sub)
            if first:
                confirmed = self._confirmed.setdefault(channel, asyncio.Event())
                try:
                    await self._ensure_reader()
                    await self._pubsub.subscribe(self._prefix + channel)
                except (RedisError, OSError) as exc:
                    log.warning("event subscription failed (%s); the waiter polls", type(exc).__name__)
                    confirmed.set()
            else:
                confirmed = self._confirmed.get(channel) or asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(confirmed.wait(), self.confirm_timeout)  # subscribed before the caller looks
        try:
            yield sub
        finally:
            async with self._lock:
                if self._local.remove(sub):
                    self._confirmed.pop(channel, None)
                    with contextlib.suppress(RedisError, OSError):
                        await self._pubsub.unsubscribe(self._prefix + channel)

    async def close(self) -> None:
        """Stop the background tasks (each given at most :data:`close_timeout` seconds), send what is queued, and
        close the connections; never waits on Redis for longer than that."""
        self._closing = True
        await _stop(self._publisher, self.close_timeout)
        self._publisher = None
        if self._outbox is not None and not self._outbox.empty():  # what was queued still goes out
            pending = set()
            while not self._outbox.empty():
                pending.add(self._outbox.get_nowait())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._send(pending), self.close_timeout)
        self._outbox = None
        if self._reader is not None:
            await _stop(self._reader, self.close_timeout)
            self._reader = None
        if self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError, TimeoutError):
                await asyncio.wait_for(self._pubsub.aclose(), self.close_timeout)
            self._pubsub = None
        self._local.waiters.clear()
        self._confirmed.clear()
        with contextlib.suppress(RedisError, OSError, TimeoutError):
            await asyncio.wait_for(self._redis.aclose(), self.close_timeout)


async def _stop(task: asyncio.Task[None] | None, timeout: float) -> None:
    """Cancel ``task`` and wait at most ``timeout`` seconds for it to end (a client library that swallows the
    cancellation cannot hold the caller)."""
    if task is None or task.done():
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, TimeoutError, RedisError, OSError):
        await asyncio.wait_for(asyncio.shield(task), timeout)


def open_event_bus(redis_url: str | None, *, namespace: str = "lommebok") -> MemoryEventBus | RedisEventBus:
    """The bus for the configured store: Redis pub/sub when ``redis_url`` is set, in-memory otherwise."""
    return RedisEventBus(redis_url, namespace=namespace) if redis_url else MemoryEventBus()
