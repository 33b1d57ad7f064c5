"""What every ``lommebok`` command shares: the settings as a clean CLI error, and where the server is.

A command that talks to a server takes ``--url`` (env ``LOMMEBOK_URL``: the deployment, whose services live at
``<url>/<service>``) and, when the services run apart, ``--<service>-url`` (env ``LOMMEBOK_<SERVICE>_URL``).
On the server's own machine the deployment's configured public URL (``LOMMEBOK_PUBLIC_BASE_URL``, when it is
set) serves too, so a cron job sharing the server's environment needs nothing more. Without any of them the
command refuses to run: no command sends a key or token to a server nobody named (such as a default
``http://localhost:8000``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from eidcore.errors import ConfigurationError
from eidcore.settings import ServiceName, Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])

URL_HELP = ("The Lommebok deployment, e.g. http://localhost:8000 (env LOMMEBOK_URL); its services live at "
            "<url>/<service>.")


def cli_settings(**overrides: Any) -> Settings:
    """The settings (``LOMMEBOK_*`` and ``overrides`` that are not None); invalid ones are a clean CLI error."""
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except ConfigurationError as exc:
        raise click.ClickException(exc.description) from None


def url_option(f: F) -> F:
    """``--url`` (env ``LOMMEBOK_URL``): the deployment a command talks to."""
    return click.option("--url", envvar="LOMMEBOK_URL", default=None, metavar="URL", help=URL_HELP)(f)


def service_url_option(service: ServiceName, what: str) -> Callable[[F], F]:
    """``--<service>-url`` (env ``LOMMEBOK_<SERVICE>_URL``): one service, when the services run apart."""
    return click.option(f"--{service}-url", f"{service}_url", envvar=f"LOMMEBOK_{service.upper()}_URL", default=None,
                        metavar="URL",
                        help=f"The {what}, when the services run apart (default <url>/{service}; "
                             f"env LOMMEBOK_{service.upper()}_URL).")


def service_url(service: ServiceName, url: str | None, own: str | None = None, *,
                settings: Settings | None = None) -> str:
    """Where ``service`` is: its own URL if given, else ``<url>/<service>``, else (with ``settings``) where the
    configured public URL puts it; none of them is a usage error."""
    if own:
        return own.rstrip("/")
    if url:
        return f"{url.rstrip('/')}/{service}"
    if settings is not None and "public_base_url" in settings.model_fields_set:
        return settings.service_url(service)
    raise click.UsageError(
        f"which server? pass --url (or set LOMMEBOK_URL), e.g. --url http://localhost:8000 for `lommebok serve` on "
        f"this machine, or --{service}-url for the {service} alone: no key or token is sent to a server nobody named"
    )
