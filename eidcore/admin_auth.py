"""One admin guard for every service's admin API: bearer credentials with scopes (RFC 6750 §2.1, §3.1).

Who may call a service's admin API:

- the **operator**, with the service's own admin token (:mod:`eidcore.admin_tokens`): every scope (``"*"``);
- a **peer service**, with a credential of its own for that service (:data:`PEERS`; e.g. the wallet provider at the
  issuer), holding only the scopes the called service grants it (:meth:`eidcore.runtime.Runtime.allow_peer`).
  A peer never holds the operator's token, so a wallet provider that leaks its credential cannot create arbitrary
  offers at the issuer.

A handler asks for a scope with ``guards=[admin_guard("issuer", "offers")]``; a missing or unknown token is
answered 401 ``invalid_token`` with ``WWW-Authenticate: Bearer``, a known caller without the scope 403
``insufficient_scope`` (RFC 6750 §3.1). The handler can read who was let in with :func:`admin_caller` (to
narrow what a peer may do within a scope).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from eidcore.admin_tokens import bearer_matches
from eidcore.errors import InsufficientScope, InvalidToken
from eidcore.settings import ServiceName

if TYPE_CHECKING:
    from eidcore.runtime import Runtime

__all__ = ["ALL_SCOPES", "OPERATOR", "PEERS", "SECURITY_SCHEME", "AdminCaller", "admin_caller", "admin_guard",
           "admin_security", "authenticate"]

#: the scope the operator's token holds: every scope
ALL_SCOPES = "*"
#: the name of the caller holding a service's own admin token
OPERATOR = "operator"
#: (caller, called service): the peer credentials that exist, each its own secret
#: (``LOMMEBOK_<CALLER>_<SERVICE>_TOKEN``)
PEERS: tuple[tuple[ServiceName, ServiceName], ...] = (("wallet", "issuer"),)
_STATE_KEY = "lommebok_admin_caller"
#: the OpenAPI security scheme of every admin API (an HTTP bearer credential, RFC 6750), declared by service_app
SECURITY_SCHEME = "adminBearer"


@dataclass(frozen=True)
class AdminCaller:
    """An authenticated caller of an admin API and the scopes it holds."""

    name: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        """Whether the caller holds ``scope`` (the operator holds every scope)."""
        return ALL_SCOPES in self.scopes or scope in self.scopes

    @property
    def is_operator(self) -> bool:
        return self.name == OPERATOR


def authenticate(rt: Runtime, service: ServiceName, authorization: str | None) -> AdminCaller | None:
    """The caller whose bearer credential ``authorization`` carries for ``service``'s admin API, or None
    (RFC 6750 §2.1; every comparison in constant time)."""
    if bearer_matches(authorization, rt.admin_tokens.get(service)):
        return AdminCaller(OPERATOR, frozenset({ALL_SCOPES}))
    for caller, scopes in rt.peer_scopes.get(service, {}).items():
        if bearer_matches(authorization, rt.peer_tokens.get((caller, service))):
            return AdminCaller(caller, scopes)
    return None


def _runtime(connection: ASGIConnection[Any, Any, Any, Any]) -> Runtime:
    rt: Runtime = connection.app.state["runtime"]
    return rt


def admin_guard(service: ServiceName, scope: str, *alternatives: str) -> Guard:
    """A litestar guard letting in only a caller of ``service``'s admin API that holds ``scope`` or one of the
    ``alternatives`` (a broad scope and its narrower forms, whose limits the handler applies)."""
    scopes = (scope, *alternatives)
    if any(not s or s == ALL_SCOPES for s in scopes):
        raise ValueError("a guard names concrete scopes")
    wanted = " ".join(scopes)

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        # a coroutine: litestar runs a sync guard in a worker thread, a hop every admin request would pay
        caller = authenticate(_runtime(connection), service, connection.headers.get("authorization"))
        if caller is None:
            raise InvalidToken("a valid admin bearer token is required",
                               headers={"WWW-Authenticate": f'Bearer realm="{service}-admin"'})
        if not any(caller.allows(s) for s in scopes):
            raise InsufficientScope(f"this credential does not allow {wanted!r}",
                                    headers={"WWW-Authenticate": f'Bearer realm="{service}-admin", '
                                                                 f'error="insufficient_scope", scope="{wanted}"'})
        connection.scope.setdefault("state", {})[_STATE_KEY] = caller

    guard.__name__ = f"admin_guard_{service}_" + "_or_".join(s.replace(":", "_").replace("-", "_") for s in scopes)
    return guard


def admin_security(*scopes: str) -> list[dict[str, list[str]]]:
    """The OpenAPI security requirement of an admin route (OpenAPI 3.1 §4.8.30): a bearer credential holding one
    of ``scopes`` (documented with the route; the guard enforces them)."""
    return [{SECURITY_SCHEME: list(scopes)}]


def admin_caller(connection: ASGIConnection[Any, Any, Any, Any]) -> AdminCaller:
    """The caller :func:`admin_guard` let in for this request."""
    caller = connection.scope.get("state", {}).get(_STATE_KEY)
    if not isinstance(caller, AdminCaller):
        raise InvalidToken("a valid admin bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    return caller
