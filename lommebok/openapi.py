"""Generated OpenAPI documents of the services (``specs/openapi/<service>.json``, drift-checked by a test)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from eidcore.runtime import Runtime
from eidcore.settings import SERVICES, default_settings


def render_all() -> dict[str, str]:
    """Each service's OpenAPI document as stable, pretty JSON text (no runtime is started)."""
    from lommebok.app import SERVICE_MODULES

    out: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = default_settings(data_dir=Path(tmp), public_base_url="http://localhost:8000")
        rt = Runtime(settings)
        for name in SERVICES:
            app = SERVICE_MODULES[name].create_app(settings, runtime=rt)
            schema = app.openapi_schema.to_schema()
            out[name] = json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return out
