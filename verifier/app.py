"""Lommebok verifier: OpenID4VP 1.0 verifier with DCQL and a relying-party API (the app's wiring).

Routes (mount-relative, under ``/verifier``), one controller per resource or protocol step:

- relying-party API (bearer API key per relying party, :mod:`verifier.relying_parties`):
  ``POST /rp/transactions`` (:mod:`verifier.request`), ``GET /rp/transactions/{id}``,
  ``POST /rp/transactions/{id}/redeem`` (same-device ``response_code``), ``GET /rp/transactions/{id}/events``
  (server-sent events, status only, never claim values) (:mod:`verifier.result`);
- admin (admin guard): ``POST /admin/relying-parties`` (:mod:`verifier.relying_parties`),
  ``POST /admin/oidc-clients`` (:mod:`verifier.oidc`);
- wallet-facing (OpenID4VP 1.0 §5.10, §8.2, §8.3): ``GET|POST /request/{id}`` (the request object, RFC 9101;
  :mod:`verifier.request`) and ``POST /response/{id}`` (``direct_post`` and ``direct_post.jwt``;
  :mod:`verifier.response`);
- the OpenID Connect bridge under ``/oidc`` (:mod:`verifier.oidc`).

:func:`create_app` builds the :class:`~verifier.transactions.Verifier` and the OIDC :class:`~verifier.oidc.Bridge`
once and injects them (``verifier``, ``relying_parties``, ``bridge``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import Litestar, Router
from litestar.di import Provide
from litestar.types import ControllerRouterHandler
from pydantic import BaseModel

from eidcore.runtime import Runtime
from eidcore.settings import Settings, load_settings
from eidcore.web import service_app
from verifier.migrations import SCHEMA
from verifier.oidc import Bridge, OidcAdminController, OidcController, oidc_well_known_handlers
from verifier.relying_parties import RelyingPartyAdminController
from verifier.request import RequestObjectController, TransactionsController
from verifier.response import ResponseController
from verifier.result import ResultsController
from verifier.transactions import Verifier

__all__ = ["create_app", "verifier_of", "well_known_handlers"]

NAME = "verifier"
DESCRIPTION = "OpenID4VP 1.0 verifier with DCQL and a relying-party API."
MOUNT = "/verifier"


def _dump(model: BaseModel) -> Any:
    """Answers carry the members that apply: a member not set is absent (not ``null``)."""
    return model.model_dump(mode="json", exclude_unset=True)


def _router(verifier: Verifier, bridge: Bridge) -> Router:
    return Router(
        path="/",
        route_handlers=[TransactionsController, ResultsController, RelyingPartyAdminController,
                        RequestObjectController, ResponseController, OidcController, OidcAdminController],
        dependencies={
            "verifier": Provide(lambda: verifier, use_cache=True, sync_to_thread=False),
            "relying_parties": Provide(lambda: verifier.relying_parties, use_cache=True, sync_to_thread=False),
            "bridge": Provide(lambda: bridge, use_cache=True, sync_to_thread=False),
        },
        type_encoders={BaseModel: _dump},
    )


def well_known_handlers(app: Litestar) -> Sequence[ControllerRouterHandler]:
    """Handlers that live at the host root (``/.well-known/...``), outside the service ``app``'s mount path."""
    rt: Runtime = app.state["runtime"]
    return [*oidc_well_known_handlers(rt)]


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> Litestar:
    """The verifier service alone. Pass ``runtime`` to share one runtime (the all-in-one server does)."""
    own = runtime is None
    rt = runtime or Runtime(settings or load_settings())
    verifier = Verifier(rt)
    bridge = Bridge(verifier)
    app = service_app(
        name=NAME,
        title="Lommebok verifier", description=DESCRIPTION, rt=rt, own_runtime=own,
        make_handlers=lambda _: [_router(verifier, bridge)], error_style="oauth", mount_path=MOUNT,
        schema=SCHEMA,
    )
    app.state["verifier"] = verifier
    # results retention runs in the background from the app's lifespan (after the runtime started, stopped
    # before it stops); without this app's lifespan (all-in-one) the first request starts it

    async def start_retention() -> None:
        verifier.start_retention()

    app.on_startup.append(start_retention)
    app.on_shutdown.insert(0, verifier.stop_retention)
    return app


def verifier_of(app: Any) -> Verifier:
    """The :class:`Verifier` an app built by :func:`create_app` injects; ``app`` may also be the all-in-one server
    (anything with ``mounts`` of objects holding such an ``app``)."""
    for candidate in (app, *(m.app for m in getattr(app, "mounts", ()))):
        state = getattr(candidate, "state", None)
        if state is not None and "verifier" in state:
            found = state["verifier"]
            assert isinstance(found, Verifier)
            return found
    raise LookupError("not a verifier app")
