"""Authentication of the verifier's admin API (RFC 6750 §2.1 bearer token; §3.1 errors) as litestar guards.

:func:`verifier_admin` is the guard of every admin route (relying parties, OIDC clients), each with its scope;
:func:`form_body` refuses a form endpoint's body of another media type (OpenID4VP 1.0 §8.2, RFC 6749 §4.1.3:
``application/x-www-form-urlencoded``) with ``invalid_request`` before it is parsed.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.types import Guard

from eidcore.errors import InvalidRequest, InvalidToken
from eidcore.runtime import Runtime

__all__ = ["FORM", "form_body", "verifier_admin"]

FORM = "application/x-www-form-urlencoded"


def verifier_admin(scope: str) -> Guard:
    """The admin guard of the verifier for ``scope`` (``relying-parties``, ``oidc-clients``)."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        rt: Runtime = connection.app.state["runtime"]
        if not rt.admin_authorized("verifier", connection.headers.get("authorization")):
            raise InvalidToken("the admin bearer token is required",
                               headers={"WWW-Authenticate": 'Bearer realm="verifier-admin"'})

    return guard


def form_body(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A form endpoint takes ``application/x-www-form-urlencoded`` only (400 ``invalid_request`` otherwise)."""
    ctype = connection.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != FORM:
        raise InvalidRequest(f"the body must be {FORM}")
