"""Lommebok verifier: OpenID4VP 1.0 verifier with DCQL and a relying-party API."""

from __future__ import annotations

from collections.abc import Sequence

from litestar import Litestar
from litestar.types import ControllerRouterHandler

from eidcore.runtime import Runtime
from eidcore.settings import Settings, load_settings
from eidcore.web import service_app

NAME = "verifier"
DESCRIPTION = "OpenID4VP 1.0 verifier with DCQL and a relying-party API."
MOUNT = "/verifier"


def handlers(rt: Runtime) -> Sequence[ControllerRouterHandler]:
    """The service's own route handlers (mount-relative paths)."""
    return []


def well_known_handlers(rt: Runtime) -> Sequence[ControllerRouterHandler]:
    """Handlers that live at the host root (``/.well-known/...``), outside the service's mount path."""
    return []


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> Litestar:
    """The verifier service alone. Pass ``runtime`` to share one runtime (the all-in-one server does)."""
    own = runtime is None
    rt = runtime or Runtime(settings or load_settings())
    return service_app(
        name=NAME,
        title="Lommebok verifier", description=DESCRIPTION, rt=rt, own_runtime=own,
        make_handlers=handlers, error_style="oauth", mount_path=MOUNT,
    )
