"""Server-rendered pages: one Jinja2 environment shape for every service, autoescaping on.

A service keeps its templates in its own ``templates/`` folder and builds its environment with
:func:`page_environment` (the shared layout ``base.html`` from ``eidcore/templates`` is found after the service's
own folders). Every value is HTML-escaped unless a template marks it safe on purpose; a missing variable is an
error, not an empty string.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

__all__ = ["SHARED_TEMPLATES", "page_environment", "render_page"]

#: the shared layout and partials
SHARED_TEMPLATES = Path(__file__).parent / "templates"


def page_environment(*folders: Path) -> jinja2.Environment:
    """A Jinja2 environment over ``folders`` (then the shared templates), autoescaping every template."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([*map(str, folders), str(SHARED_TEMPLATES)]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_page(env: jinja2.Environment, template: str, /, **context: Any) -> str:
    """Render ``template`` with ``context`` (values escaped)."""
    return env.get_template(template).render(**context)
