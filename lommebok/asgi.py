"""ASGI entry point for uvicorn (``lommebok.asgi:create``, a factory: nothing is built at import time)."""

from __future__ import annotations

import os

from lommebok.app import Dispatcher, create_root_app


def create() -> Dispatcher:
    """Build the app for the services named in ``LOMMEBOK_SERVE_SERVICES`` (default: all three)."""
    from eidcore.settings import SERVICES, load_settings

    chosen = [s for s in os.environ.get("LOMMEBOK_SERVE_SERVICES", ",".join(SERVICES)).split(",") if s]
    unknown = set(chosen) - set(SERVICES)
    if unknown:
        raise SystemExit(f"unknown service(s) in LOMMEBOK_SERVE_SERVICES: {', '.join(sorted(unknown))}")
    return create_root_app(load_settings(), chosen)  # type: ignore[arg-type]
