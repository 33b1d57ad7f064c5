"""Every admin route declares its bearer credential in the OpenAPI document, and every route that declares one is
guarded (eidcore.admin_auth: the guard enforces, the security requirement documents)."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler

import issuer.app
import verifier.app
import wallet_api.app
from eidcore.admin_auth import SECURITY_SCHEME
from eidcore.runtime import Runtime
from eidcore.settings import Settings


def _name(guard: object) -> str:
    """A guard's function name (litestar wraps a sync guard in an AsyncCallable whose ``func`` is the function)."""
    return str(getattr(getattr(guard, "func", guard), "__name__", ""))


def _handlers(app: Litestar) -> list[HTTPRouteHandler]:
    return [h for route in app.routes for h in getattr(route, "route_handlers", ()) if isinstance(h, HTTPRouteHandler)]


@pytest.mark.parametrize("module", [issuer.app, verifier.app, wallet_api.app], ids=["issuer", "verifier", "wallet"])
def test_admin_guards_and_security_requirements_go_together(module: object, tmp_path: Path) -> None:
    app: Litestar = module.create_app(runtime=Runtime(Settings(data_dir=tmp_path)))  # type: ignore[attr-defined]
    guarded, declared = set(), set()
    for h in _handlers(app):
        name = f"{sorted(h.http_methods)} {h.paths}"
        if any(_name(g).startswith("admin_guard") for g in h.resolve_guards()):
            guarded.add(name)
        if any(SECURITY_SCHEME in req for req in h.resolve_security()):
            declared.add(name)
    assert guarded, "no admin route found: the check would pass vacuously"
    assert guarded == declared
