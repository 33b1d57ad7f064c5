"""Authorization endpoint (RFC 6749 §3.1, §4.1.1; RFC 9126 §4; OpenID4VCI 1.0 §5.1).

It takes only a pushed request, by its single-use ``request_uri`` (RFC 9126 §4) and the same ``client_id``, then
sends the user to log in (:mod:`issuer.login`: the test login or ID-porten) at the level of assurance the
requested credentials need; the login's end redirects back to the client with ``code`` and ``iss`` (RFC 9207).
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from litestar import Controller, get
from litestar.params import QueryParameter
from litestar.response import Redirect

from eidcore.errors import InvalidRequest
from issuer.core import Issuer, IssuerDep
from issuer.http import NO_STORE, spec
from issuer.login import identity_provider
from issuer.oauth import REQUEST_URI_PREFIX, minimum_loa
from issuer.schemas import OAuthError

__all__ = ["AuthorizeController", "authorize"]


async def authorize(issuer: Issuer, client_id: str | None, request_uri: str | None) -> Redirect:
    """RFC 9126 §4: take the pushed request (single use) and start the login."""
    if not request_uri or not client_id:
        raise InvalidRequest("client_id and request_uri (from the PAR endpoint) are required")
    if not request_uri.startswith(REQUEST_URI_PREFIX) or len(request_uri) > 200:
        raise InvalidRequest("request_uri is not one this server issued")
    data = await issuer.consume("par", request_uri)
    if data is None:
        raise InvalidRequest("request_uri is unknown, expired or already used")
    if data["client_id"] != client_id:
        raise InvalidRequest("client_id differs from the pushed request")
    session_id = secrets.token_urlsafe(32)
    session: dict[str, Any] = {"par": data}
    url = await identity_provider(issuer).begin(session_id, session, minimum_loa(issuer, data["configs"]))
    await issuer.put("login", session_id, session, issuer.options.login_session_ttl)
    return Redirect(url, status_code=302, headers=NO_STORE)


class AuthorizeController(Controller):
    """``GET /authorize``."""

    path = "/authorize"
    tags = ("authorization server",)

    @get(operation_id="authorize", responses={
        302: spec(None, "To the login (test login or ID-porten)"),
        400: spec(OAuthError, "invalid_request (never redirected: RFC 6749 §4.1.2.1)")})
    async def authorize(self, issuer: IssuerDep,
                        client_id: Annotated[str | None, QueryParameter(max_length=200)] = None,
                        request_uri: Annotated[str | None, QueryParameter(max_length=2048)] = None) -> Redirect:
        """Authorization endpoint: takes only a pushed request (``request_uri``), then sends the user to log in."""
        return await authorize(issuer, client_id, request_uri)
