"""The composition root: one ASGI application serving the chosen services under their mount paths.

``/issuer``, ``/verifier`` and ``/wallet`` go to each service's own Litestar app (each can also run alone, as
production would); ``/`` is a landing page; ``/.well-known/...`` documents, which live at the host root by
spec (OpenID4VCI 1.0 §12.2.2, RFC 8414 §3, SD-JWT VC §5), are served by the root app for each service.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litestar import Litestar, MediaType, get
from litestar.datastructures import State
from litestar.types import ASGIApp

import issuer.app
import verifier.app
import wallet_api.app
from eidcore.pages import page_environment, render_page
from eidcore.runtime import Runtime
from eidcore.settings import SERVICES, ServiceName, Settings
from eidcore.web import edge_config, error_handlers, health_handlers

SERVICE_MODULES = {"issuer": issuer.app, "verifier": verifier.app, "wallet": wallet_api.app}
TITLES = {
    "issuer": "Issuer: OpenID4VCI 1.0, status lists",
    "verifier": "Verifier: OpenID4VP 1.0 with DCQL, relying-party API",
    "wallet": "Wallet API: wallet provider, guardian control, mandates",
}


@dataclass
class Mounted:
    prefix: str
    app: ASGIApp


class Dispatcher:
    """Sends each request to the app mounted at its path prefix (setting ``root_path``), else to the root app.

    Lifespan events go to the root app alone, which starts and stops the shared runtime.
    """

    def __init__(self, root: Litestar, mounts: Sequence[Mounted]) -> None:
        self.root = root
        self.mounts = list(mounts)

    async def __call__(self, scope: MutableMapping[str, Any], receive: Callable[[], Awaitable[Any]],
                       send: Callable[[Any], Awaitable[None]]) -> None:
        """ASGI 3 entry point (typed loosely, so any ASGI server or client transport can call it)."""
        if scope["type"] in ("http", "websocket"):
            path: str = scope["path"]
            for m in self.mounts:
                if path == m.prefix or path.startswith(m.prefix + "/"):
                    sub = dict(scope)
                    sub["root_path"] = scope.get("root_path", "") + m.prefix
                    await m.app(sub, receive, send)  # type: ignore[arg-type]
                    return
        await self.root(scope, receive, send)  # type: ignore[arg-type]


PAGES = page_environment(Path(__file__).parent / "templates")


def _landing(settings: Settings, services: Iterable[ServiceName]) -> str:
    rows = [{"name": s, "title": TITLES[s], "url": settings.service_url(s)} for s in services]
    return render_page(PAGES, "landing.html", lang="en", title="Lommebok", services=rows)


async def _call_hook(hook: Any, app: Litestar) -> None:
    """Call a Litestar lifespan hook, which takes no argument or the app (litestar's own convention)."""
    import inspect

    result = hook(app) if inspect.signature(hook).parameters else hook()
    if inspect.isawaitable(result):
        await result


def create_root_app(settings: Settings, services: Sequence[ServiceName] = SERVICES,
                    *, runtime: Runtime | None = None) -> Dispatcher:
    """All chosen services in one process, sharing one runtime (database, store, keys)."""
    rt = runtime or Runtime(settings)
    apps = [SERVICE_MODULES[s].create_app(settings, runtime=rt) for s in services]
    mounts = [Mounted(f"/{s}", app) for s, app in zip(services, apps, strict=True)]
    page = _landing(settings, services)

    @get("/", media_type=MediaType.HTML, operation_id="landing", include_in_schema=False, sync_to_thread=False)
    def landing() -> str:
        return page

    well_known: list[Any] = []
    for s, app in zip(services, apps, strict=True):  # served by each service's own objects (one Issuer, not two)
        well_known.extend(SERVICE_MODULES[s].well_known_handlers(app))

    # Mounted apps get no lifespan events of their own: run their hooks (background tasks such as the
    # verifier's retention) after the shared runtime has started, and stop them before it stops.
    async def start() -> None:
        await rt.start()
        for app in apps:
            for hook in app.on_startup:
                await _call_hook(hook, app)

    async def stop() -> None:
        for app in apps:
            for hook in app.on_shutdown:
                await _call_hook(hook, app)
        await rt.stop()

    root = Litestar(
        route_handlers=[landing, *health_handlers(rt), *well_known],
        exception_handlers=error_handlers("oauth"),
        on_startup=[start],
        on_shutdown=[stop],
        openapi_config=None,
        state=State({"runtime": rt}),
        **edge_config(),
    )
    return Dispatcher(root, mounts)
