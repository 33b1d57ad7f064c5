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

from eidcore.admin_auth import admin_guard
from eidcore.errors import InvalidRequest

__all__ = ["ADMIN_SCOPES", "FORM", "form_body", "verifier_admin"]

ADMIN_SCOPES = ("relying-parties", "oidc-clients")
"""The scopes of the verifier's admin API (a peer service's credential may be granted some of them)."""

FORM = "application/x-www-form-urlencoded"


def verifier_admin(scope: str) -> Guard:
    """The admin guard of the verifier for ``scope`` (``relying-parties``, ``oidc-clients``):
    :func:`eidcore.admin_auth.admin_guard` (401 ``invalid_token`` for a missing or unknown token, 403
    ``insufficient_scope`` for a caller without the scope)."""
    return admin_guard("verifier", scope)


async def form_body(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A form endpoint takes ``application/x-www-form-urlencoded`` only (400 ``invalid_request`` otherwise)."""
    ctype = connection.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != FORM:
        raise InvalidRequest(f"the body must be {FORM}")
