"""ASGI entry point (``lommebok.asgi:create``, a factory: nothing is built at import time).

``uvicorn --factory lommebok.asgi:create`` (or any ASGI server) serves the services named in
``LOMMEBOK_SERVICES`` (default: all three) with every other setting from the ``LOMMEBOK_*`` environment
(:class:`eidcore.settings.Settings`); ``lommebok serve --workers N`` starts its workers this way.
"""

from __future__ import annotations

from lommebok.app import Dispatcher, create_root_app


def create() -> Dispatcher:
    """Build the app for the services the settings name (``LOMMEBOK_SERVICES``)."""
    from eidcore.errors import ConfigurationError
    from eidcore.settings import load_settings

    try:
        settings = load_settings()
    except ConfigurationError as exc:
        raise SystemExit(exc.description) from None
    return create_root_app(settings, settings.services)
