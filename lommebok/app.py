"""The composition root: one ASGI application serving the chosen services under their mount paths.

``/issuer``, ``/verifier`` and ``/wallet`` go to each service's own Litestar app (each can also run alone, as
production would); ``/`` is a landing page; ``/.well-known/...`` documents, which live at the host root by
spec (OpenID4VCI 1.0 §12.2.2, RFC 8414 §3, SD-JWT VC §5), are served by the root app for each service.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from litestar import Litestar, MediaType, get
from litestar.datastructures import State
from litestar.types import ASGIApp

import issuer.app
import verifier.app
import wallet_api.app
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


def _landing(settings: Settings, services: Iterable[ServiceName]) -> str:
    rows = "".join(
        f'<li><a href="{html.escape(settings.service_url(s))}/health"><b>/{s}</b></a> {html.escape(TITLES[s])} '
        f'&middot; <a href="{html.escape(settings.service_url(s))}/schema/swagger">OpenAPI (Swagger)</a> '
        f'&middot; <a href="{html.escape(settings.service_url(s))}/schema/openapi.json">openapi.json</a></li>'
        for s in services
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Lommebok</title>"
        "<meta name=viewport content='width=device-width, initial-scale=1'>"
        "<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}"
        "li{margin:.5rem 0}</style></head><body>"
        "<h1>Lommebok</h1><p>Open digital identity wallet backend (OpenID4VCI, OpenID4VP, SD-JWT VC, mdoc).</p>"
        f"<ul>{rows}</ul></body></html>"
    )


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
    for s in services:
        well_known.extend(SERVICE_MODULES[s].well_known_handlers(rt))

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
