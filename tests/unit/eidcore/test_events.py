"""The event bus (eidcore.events): a wake-up reaches every waiter of its channel, on this worker and (over Redis
pub/sub) on another; waiters time out when nothing happens; nothing grows once waiters leave."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from eidcore.events import MemoryEventBus, RedisEventBus


@pytest.fixture(params=["memory", "redis"])
async def buses(request: pytest.FixtureRequest) -> AsyncIterator[tuple[MemoryEventBus | RedisEventBus, ...]]:
    """Two buses standing for two workers: the same bus in memory, two processes' buses over one Redis."""
    if request.param == "memory":
        bus = MemoryEventBus()
        yield bus, bus
        await bus.close()
        return
    url = request.getfixturevalue("redis_url")
    ns = f"test-{uuid.uuid4().hex[:8]}"
    a, b = RedisEventBus(url, namespace=ns), RedisEventBus(url, namespace=ns)
    yield a, b
    await a.close()
    await b.close()


async def test_a_publish_wakes_a_waiter_on_another_worker(buses: tuple[MemoryEventBus | RedisEventBus, ...]) -> None:
    waiter_bus, publisher_bus = buses
    async with waiter_bus.subscribe("youth:abc") as sub:
        await publisher_bus.publish("youth:abc")
        assert await sub.wait(5.0) is True
        assert await sub.wait(0.2) is False  # the event was consumed


async def test_other_channels_do_not_wake(buses: tuple[MemoryEventBus | RedisEventBus, ...]) -> None:
    waiter_bus, publisher_bus = buses
    async with waiter_bus.subscribe("youth:a") as sub:
        await publisher_bus.publish("youth:b")
        assert await sub.wait(0.3) is False


async def test_every_waiter_of_a_channel_wakes_and_channels_go_when_empty(
        buses: tuple[MemoryEventBus | RedisEventBus, ...]) -> None:
    waiter_bus, publisher_bus = buses
    woke: list[bool] = []

    async def wait_one(ready: asyncio.Event) -> None:
        async with waiter_bus.subscribe("tx:1") as sub:
            ready.set()
            woke.append(await sub.wait(5.0))

    readies = [asyncio.Event() for _ in range(5)]
    tasks = [asyncio.create_task(wait_one(r)) for r in readies]
    for r in readies:
        await r.wait()
    await publisher_bus.publish("tx:1")
    await asyncio.gather(*tasks)
    assert woke == [True] * 5
    assert waiter_bus.channels == 0  # no process-global growth


async def test_an_event_between_looking_and_waiting_is_not_lost(
        buses: tuple[MemoryEventBus | RedisEventBus, ...]) -> None:
    waiter_bus, publisher_bus = buses
    async with waiter_bus.subscribe("rq:9") as sub:
        await publisher_bus.publish("rq:9")  # arrives before the waiter waits
        await asyncio.sleep(0.2)
        assert await sub.wait(5.0) is True


@pytest.mark.parametrize("bad", ["", "x" * 201])
async def test_channel_names_are_bounded(bad: str) -> None:
    bus = MemoryEventBus()
    with pytest.raises(ValueError):
        await bus.publish(bad)


async def test_redis_outage_on_publish_still_wakes_local_waiters() -> None:
    bus = RedisEventBus("redis://127.0.0.1:1/0")  # nothing listens there
    try:
        async with bus.subscribe("x") as sub:  # the subscription fails: the waiter falls back on its timeout
            await bus.publish("x")
            assert await sub.wait(2.0) is True
    finally:
        await bus.close()




async def test_close_returns_even_when_the_client_turns_cancellation_into_an_error(redis_url: str) -> None:
    """redis-py may answer a cancelled read with a connection error; the reader must still stop, and close()
    must not wait on it for ever (a test teardown hung there)."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    bus = RedisEventBus(redis_url, namespace=f"test-{uuid.uuid4().hex[:8]}")
    async with bus.subscribe("tx:stuck"):
        real = bus._pubsub.get_message

        async def swallowing(*args: object, **kwargs: object) -> object:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                raise RedisConnectionError("connection closed while reading") from None
            return await real(*args, **kwargs)

        bus._pubsub.get_message = swallowing
        await asyncio.sleep(1.5)  # past the read in progress: the reader is now inside the swallowing one
        started = asyncio.get_running_loop().time()  # a runtime stopping while a stream still listens
        await asyncio.wait_for(bus.close(), 10)
        assert asyncio.get_running_loop().time() - started < 5
