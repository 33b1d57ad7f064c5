"""A value consumed by one process is gone for another process sharing the same Redis (atomic GETDEL)."""

from __future__ import annotations

import secrets
import subprocess
import sys
import textwrap

import pytest

pytestmark = [pytest.mark.redis, pytest.mark.slow]

WORKER = textwrap.dedent(
    """
    import asyncio, sys
    from eidcore.storage import RedisStore

    async def main(url, ns, n):
        kv = RedisStore(url, namespace=ns)
        # wait for the go signal so both processes race on the same keys
        while await kv.get("go") is None:
            await asyncio.sleep(0.005)
        won = 0
        for i in range(n):
            if await kv.consume(f"code:{i}") is not None:
                won += 1
        await kv.close()
        print(won)

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    """
)


async def test_two_processes_never_consume_the_same_value(redis_url: str) -> None:
    from eidcore.storage import RedisStore

    ns = f"xproc-{secrets.token_hex(4)}"
    n = 400
    kv = RedisStore(redis_url, namespace=ns)
    try:
        for i in range(n):
            await kv.put(f"code:{i}", b"v", ttl=60)
        procs = [
            subprocess.Popen([sys.executable, "-c", WORKER, redis_url, ns, str(n)], stdout=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        await kv.put("go", b"1", ttl=60)
        wins = [int(p.communicate(timeout=60)[0].strip()) for p in procs]
        assert all(p.returncode == 0 for p in procs)
        # every value was consumed exactly once across both processes
        assert sum(wins) == n
        assert await kv.consume("code:0") is None
    finally:
        await kv.close()


async def test_value_consumed_in_one_process_is_gone_in_another(redis_url: str) -> None:
    from eidcore.storage import RedisStore

    ns = f"xproc-{secrets.token_hex(4)}"
    kv = RedisStore(redis_url, namespace=ns)
    try:
        await kv.put("nonce", b"abc", ttl=60)
        code = (
            "import asyncio,sys\nfrom eidcore.storage import RedisStore\n"
            "async def m():\n kv=RedisStore(sys.argv[1], namespace=sys.argv[2])\n"
            " print(((await kv.consume('nonce')) or b'').decode())\n await kv.close()\nasyncio.run(m())"
        )
        out = subprocess.run([sys.executable, "-c", code, redis_url, ns], capture_output=True, text=True, timeout=60)
        assert out.stdout.strip() == "abc"
        assert await kv.consume("nonce") is None
    finally:
        await kv.close()
