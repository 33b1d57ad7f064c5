"""Lommebok verifier: OpenID4VP 1.0 verifier with DCQL and a relying-party API.

Routes (mount-relative, under ``/verifier``):

- relying-party API (bearer API key per relying party): ``POST /rp/transactions``,
  ``GET /rp/transactions/{id}``, ``POST /rp/transactions/{id}/redeem`` (same-device ``response_code``),
  ``GET /rp/transactions/{id}/events`` (server-sent events, status only, never claim values);
- admin (bearer ``LOMMEBOK_VERIFIER_ADMIN_TOKEN``): ``POST /admin/relying-parties``;
- wallet-facing (OpenID4VP 1.0 §5.10, §8.2, §8.3): ``GET|POST /request/{id}`` (the request object, RFC 9101) and
  ``POST /response/{id}`` (``direct_post`` and ``direct_post.jwt``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any

from litestar import Litestar, Request, Response, get, post
from litestar.params import FromPath, HeaderParameter, JSONBody
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.types import ControllerRouterHandler

from eidcore.errors import InvalidRequest, InvalidToken
from eidcore.runtime import Runtime
from eidcore.settings import Settings, load_settings
from eidcore.web import service_app
from verifier.migrations import SCHEMA
from verifier.oidc import oidc_handlers, oidc_well_known_handlers
from verifier.service import JAR_TYP, TERMINAL, service_for

NAME = "verifier"
DESCRIPTION = "OpenID4VP 1.0 verifier with DCQL and a relying-party API."
MOUNT = "/verifier"
FORM = "application/x-www-form-urlencoded"
JAR_MEDIA_TYPE = f"application/{JAR_TYP}"
NO_STORE = {"Cache-Control": "no-store"}
AuthHeader = Annotated[
    str | None, HeaderParameter(name="Authorization", required=False, description="Bearer <API key>"),
]


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != FORM:
        raise InvalidRequest(f"the body must be {FORM}")
    form = await request.form()
    out: dict[str, str] = {}
    for k, v in form.multi_items():
        if k in out:
            raise InvalidRequest(f"parameter {k[:40]!r} is repeated")
        if not isinstance(v, str):
            raise InvalidRequest("parameters must be plain text")
        out[k] = v
    return out


def handlers(rt: Runtime) -> Sequence[ControllerRouterHandler]:
    """The service's own route handlers (mount-relative paths)."""
    svc = service_for(rt)

    @post("/rp/transactions", operation_id="createTransaction", tags=["relying party"], status_code=201)
    async def create_transaction(data: JSONBody[dict[str, Any]],
                                 authorization: AuthHeader = None) -> Response[dict[str, Any]]:
        """Create a presentation transaction from a profile (``profile`` + ``params``) or a ``dcql_query``.

        Optional: ``response_mode`` (``direct_post.jwt`` default, ``direct_post``), ``redirect_uri`` (same-device:
        a registered URI, ``{response_code}`` marks where the code goes), ``client_id_prefix`` (``x509_hash``,
        ``x509_san_dns``, ``redirect_uri``), ``request_uri_method`` (``get``, ``post``). Answers the transaction
        id, the ``openid4vp://`` authorization request (by reference) and a QR code (SVG).
        """
        rp = await svc.authenticate(authorization)
        return Response(await svc.create_transaction(rp, data), status_code=201, headers=NO_STORE)

    @get("/rp/transactions/{tx_id:str}", operation_id="getTransaction", tags=["relying party"])
    async def get_transaction(tx_id: FromPath[str], authorization: AuthHeader = None) -> Response[dict[str, Any]]:
        """Status (pending, responded, validated, expired), checks, failure, the refused responses
        (``refused_attempts``: check names and times; the transaction stays pending) and (once validated) result."""
        rp = await svc.authenticate(authorization)
        return Response(svc.view(await svc.get_for_rp(rp, tx_id)), headers=NO_STORE)

    @post("/rp/transactions/{tx_id:str}/redeem", operation_id="redeemResponseCode", tags=["relying party"],
          status_code=200)
    async def redeem(tx_id: FromPath[str], data: JSONBody[dict[str, Any]],
                     authorization: AuthHeader = None) -> Response[dict[str, Any]]:
        """Redeem the same-device ``response_code`` from the redirect (single use) and read the result."""
        rp = await svc.authenticate(authorization)
        return Response(svc.view(await svc.redeem(rp, tx_id, data.get("response_code"))), headers=NO_STORE)

    @get("/rp/transactions/{tx_id:str}/events", operation_id="transactionEvents", tags=["relying party"])
    async def events(tx_id: FromPath[str], authorization: AuthHeader = None) -> ServerSentEvent:
        """Server-sent events: one ``status`` event per change (status, or a refused response counted in
        ``refused_count``) until the transaction ends (no claim values).

        Changes made in this process push the event at once; changes from other processes are seen within
        ``event_poll_seconds`` (2 s)."""
        rp = await svc.authenticate(authorization)
        await svc.get_for_rp(rp, tx_id)

        async def stream() -> AsyncIterator[ServerSentEventMessage]:
            last: tuple[str, int] | None = None
            while True:
                tx = await svc.get_for_rp(rp, tx_id)
                if (tx.status, tx.refused_count) != last:
                    last = (tx.status, tx.refused_count)
                    data: dict[str, Any] = {"transaction_id": tx.id, "status": tx.status}
                    if tx.failed_check:
                        data["failed_check"] = tx.failed_check
                    if tx.refused_count:
                        data["refused_count"] = tx.refused_count
                    yield ServerSentEventMessage(data=json.dumps(data), event="status")
                if tx.status in TERMINAL:
                    return
                # woken at once by a change in this process; re-read now and then for other processes and expiry
                until_expiry = max(0.0, tx.expires_at - svc.now()) + 0.5
                await svc.wait_change(tx_id, min(svc.event_poll_seconds, until_expiry))

        return ServerSentEvent(stream(), headers=NO_STORE)

    @post("/admin/relying-parties", operation_id="createRelyingParty", tags=["admin"], status_code=201)
    async def create_relying_party(data: JSONBody[dict[str, Any]],
                                   authorization: AuthHeader = None) -> Response[dict[str, Any]]:
        """Register a relying party (admin bearer token); the API key is in the answer, only once."""
        if not rt.admin_authorized("verifier", authorization):
            raise InvalidToken("the admin bearer token is required",
                               headers={"WWW-Authenticate": 'Bearer realm="verifier-admin"'})
        name, profiles, uris = data.get("name"), data.get("allowed_profiles"), data.get("redirect_uris", [])
        if not isinstance(name, str) or not name or len(name) > 200:
            raise InvalidRequest("name is required")
        if not isinstance(profiles, list) or not all(isinstance(p, str) for p in profiles):
            raise InvalidRequest("allowed_profiles must be an array of profile names")
        if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
            raise InvalidRequest("redirect_uris must be an array of URLs")
        rp, key = await svc.create_relying_party(name, profiles, uris)
        return Response({"id": rp.id, "name": rp.name, "allowed_profiles": rp.allowed_profiles,
                         "redirect_uris": rp.redirect_uris, "api_key": key}, status_code=201, headers=NO_STORE)

    @get("/request/{tx_id:str}", operation_id="getRequestObject", tags=["wallet"], media_type=JAR_MEDIA_TYPE)
    async def get_request_object(tx_id: FromPath[str]) -> Response[str]:
        """The request object by reference (RFC 9101 §5.2; OpenID4VP 1.0 §5.10 ``request_uri_method=get``)."""
        jwt = await svc.request_object(tx_id, method="get")
        return Response(jwt, media_type=JAR_MEDIA_TYPE, headers=NO_STORE)

    @post("/request/{tx_id:str}", operation_id="postRequestObject", tags=["wallet"], media_type=JAR_MEDIA_TYPE,
          status_code=200)
    async def post_request_object(tx_id: FromPath[str], request: Request[Any, Any, Any]) -> Response[str]:
        """``request_uri_method=post`` (OpenID4VP 1.0 §5.10.1): form ``wallet_nonce`` and ``wallet_metadata``."""
        form = await _form(request)
        jwt = await svc.request_object(tx_id, method="post", wallet_nonce=form.get("wallet_nonce"),
                                       wallet_metadata=form.get("wallet_metadata"))
        return Response(jwt, media_type=JAR_MEDIA_TYPE, headers=NO_STORE)

    @post("/response/{tx_id:str}", operation_id="postAuthorizationResponse", tags=["wallet"], status_code=200)
    async def post_response(tx_id: FromPath[str], request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        """The ``response_uri``: ``direct_post`` (``vp_token``, ``state``), ``direct_post.jwt`` (``response``),
        or a wallet error (``error``, ``error_description``, ``state``). Answers ``{}`` or ``{"redirect_uri"}``."""
        form = await _form(request)
        return Response(await svc.handle_response(tx_id, form), headers=NO_STORE)

    return [create_transaction, get_transaction, redeem, events, create_relying_party, get_request_object,
            post_request_object, post_response, *oidc_handlers(rt)]


def well_known_handlers(rt: Runtime) -> Sequence[ControllerRouterHandler]:
    """Handlers that live at the host root (``/.well-known/...``), outside the service's mount path."""
    return [*oidc_well_known_handlers(rt)]


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> Litestar:
    """The verifier service alone. Pass ``runtime`` to share one runtime (the all-in-one server does)."""
    own = runtime is None
    rt = runtime or Runtime(settings or load_settings())
    app = service_app(
        name=NAME,
        title="Lommebok verifier", description=DESCRIPTION, rt=rt, own_runtime=own,
        make_handlers=handlers, error_style="oauth", mount_path=MOUNT,
        schema=SCHEMA,
    )
    # results retention runs in the background from the app's lifespan (after the runtime started, stopped
    # before it stops); without this app's lifespan (all-in-one) the first request starts it
    svc = service_for(rt)

    async def start_retention() -> None:
        svc.start_retention()

    app.on_startup.append(start_retention)
    app.on_shutdown.insert(0, svc.stop_retention)
    return app
