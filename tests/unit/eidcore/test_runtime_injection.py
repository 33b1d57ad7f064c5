"""A handler may take the runtime by injection (``rt: NamedDependency[Runtime]``): litestar builds a signature
model of it, which every field type of the runtime must allow (a union of two event-bus classes made every such
request a 500)."""

from __future__ import annotations

from pathlib import Path

from litestar import get
from litestar.di import NamedDependency
from litestar.testing import AsyncTestClient

from eidcore.runtime import Runtime
from eidcore.settings import Settings
from eidcore.web import service_app


@get("/x", sync_to_thread=False)
def handler(rt: NamedDependency[Runtime]) -> dict[str, str]:
    return {"events": type(rt.events).__name__}


async def test_a_handler_gets_the_runtime_injected(tmp_path: Path) -> None:
    rt = Runtime(Settings(data_dir=tmp_path / "var", seed_register=False))
    app = service_app(name="issuer", title="t", description="t", rt=rt, own_runtime=True,
                      make_handlers=lambda _: [handler], mount_path="/issuer")
    async with AsyncTestClient(app) as client:
        r = await client.get("/x")
    assert r.status_code == 200 and r.json() == {"events": "MemoryEventBus"}
