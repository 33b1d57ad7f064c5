"""Litestar building blocks shared by the three services.

- errors in the spec's form: protocol endpoints answer ``{"error", "error_description"}`` (RFC 6749 §5.2,
  OpenID4VCI 1.0 §8.3.1, OpenID4VP 1.0 §8.5); the wallet API answers RFC 9457 problem details;
  bad input is always a 4xx, never a 500, and a 500 never leaks internals;
- hostile input stops at the edge (:class:`InputGuard`), before authentication and before any parser: bodies
  over :data:`MAX_BODY` (413), JSON nested deeper than :data:`MAX_JSON_DEPTH` (RFC 8259 §9 lets a parser limit
  nesting) in a body or a form or query parameter, and C0 control characters where they are never legitimate:
  NUL (which PostgreSQL cannot store) and the others in the path, the query string, form bodies and JSON strings
  (400);
- security headers (:func:`security_headers`): ``X-Content-Type-Options: nosniff`` on every response, and a
  Content-Security-Policy (CSP Level 3, with ``frame-ancestors``), ``X-Frame-Options`` (RFC 7034) and
  ``Referrer-Policy`` on every HTML page;
- health (``/health``: the process answers) and readiness (``/ready``: database and store answer);
- :func:`service_app`: a Litestar app for one service with its runtime, OpenAPI and lifespan.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any, Literal
from urllib.parse import parse_qsl

from litestar import Litestar, MediaType, Request, Response, get
from litestar.config.response_cache import ResponseCacheConfig
from litestar.datastructures import Accept, State
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Server
from litestar.types import (
    ASGIApp,
    ControllerRouterHandler,
    HTTPRequestEvent,
    Message,
    Receive,
    ReceiveMessage,
    Scope,
    Send,
)

from eidcore.admin_auth import SECURITY_SCHEME
from eidcore.errors import InvalidRequest, LommebokError, PayloadTooLarge, StorageUnavailable
from eidcore.runtime import Runtime
from eidcore.settings import SERVICES
from eidcore.storage import ServiceSchema

log = logging.getLogger("lommebok.web")

ErrorStyle = Literal["oauth", "problem"]
MAX_BODY = 256 * 1024
#: deepest JSON nesting a request body may have (DCQL queries, JWKs and credential requests need under 10)
MAX_JSON_DEPTH = 64


def _oauth_body(code: str, description: str) -> dict[str, str]:
    return {"error": code, "error_description": description}


def _problem_body(status: int, code: str, description: str) -> dict[str, Any]:
    return {"type": f"urn:lommebok:error:{code}", "title": code.replace("_", " "), "status": status,
            "detail": description}


def error_handlers(style: ErrorStyle) -> dict[Any, Callable[[Request[Any, Any, Any], Exception], Response[Any]]]:
    """Exception handlers that answer in the spec's form (``oauth``) or as RFC 9457 problems (``problem``)."""

    def render(status: int, code: str, description: str, headers: dict[str, str] | None = None) -> Response[Any]:
        if style == "problem":
            return Response(_problem_body(status, code, description), status_code=status,
                            media_type="application/problem+json", headers=headers)
        hdrs = {"Cache-Control": "no-store", **(headers or {})}
        return Response(_oauth_body(code, description), status_code=status, media_type=MediaType.JSON, headers=hdrs)

    def on_lommebok(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        assert isinstance(exc, LommebokError)
        headers = exc.details.get("headers") if isinstance(exc.details.get("headers"), dict) else None
        if exc.status >= 500:
            log.error("request failed: %s (%s)", type(exc).__name__, exc.code)
        return render(exc.status, exc.code, exc.description, headers)

    def on_validation(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        assert isinstance(exc, ValidationException)
        return render(400, "invalid_request", _validation_text(exc))

    def on_http(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        assert isinstance(exc, HTTPException)
        status = exc.status_code
        code = {401: "invalid_token", 403: "access_denied", 404: "not_found", 405: "method_not_allowed",
                413: "invalid_request", 415: "invalid_request", 429: "slow_down"}.get(status, "invalid_request")
        if status >= 500:
            code = "server_error"
        return render(status, code, str(exc.detail) if status < 500 else "internal error",
                      dict(exc.headers) if exc.headers else None)

    def on_other(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        if _is_unavailable(exc):
            log.warning("storage unavailable: %s", type(exc).__name__)
            return render(503, "temporarily_unavailable", "storage is temporarily unavailable; retry",
                          {"Retry-After": "1"})
        log.exception("unhandled error: %s", type(exc).__name__)
        return render(500, "server_error", "internal error")

    return {LommebokError: on_lommebok, ValidationException: on_validation, HTTPException: on_http,
            NotFoundException: on_http, Exception: on_other}


def _is_unavailable(exc: BaseException) -> bool:
    """A lost database or Redis connection (not a bug): the client should retry, so 503 rather than 500."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(exc, OperationalError | RedisConnectionError | RedisTimeoutError | ConnectionError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def _validation_text(exc: ValidationException) -> str:
    extra = exc.extra
    if isinstance(extra, list) and extra:
        parts = []
        for e in extra[:5]:
            if isinstance(e, dict):
                key = e.get("key") or e.get("source") or ""
                parts.append(f"{key}: {e.get('message', 'invalid')}" if key else str(e.get("message", "invalid")))
        if parts:
            return "; ".join(parts)
    return str(exc.detail) or "invalid request"


# -- hostile input, refused at the edge ---------------------------------------------------------------

#: any C0 control character (a path never legitimately holds one)
_PATH_CONTROL = re.compile(r"[\x00-\x1f]")
#: C0 controls other than TAB, LF and CR, raw and percent-encoded (query strings, form bodies, RFC 3986 §2.1)
_RAW_CONTROLS = tuple(bytes([c]) for c in range(0x20) if c not in (0x09, 0x0A, 0x0D))
_ENCODED_CONTROL = re.compile(rb"%(?:0[0-8bBcCeEfF]|1[0-9a-fA-F])")
#: a JSON escape (RFC 8259 §7) of a C0 control other than TAB, LF, CR, of a high surrogate without a low one
#: after it, or of a low surrogate without a high one before it; or a surrogate pair right after a backslash (the
#: high half is text when that backslash is escaped). A literal prefix, so the search runs in C.
_JSON_BAD_ESCAPE = re.compile(
    rb"\\(?:u(?:00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F])"
    rb"|[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2}\\u)[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2})")
#: a JSON string (RFC 8259 §7)
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
#: +1 for an opening bracket, -1 for a closing one, 0 for anything else
_BRACKET_STEP = [0] * 256
_BRACKET_STEP[ord("[")] = _BRACKET_STEP[ord("{")] = 1
_BRACKET_STEP[ord("]")] = _BRACKET_STEP[ord("}")] = -1
_BRACKETS_ONLY = bytes(c for c in range(256) if c not in b"[]{}")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def json_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a JSON text nests arrays and objects deeper than ``limit`` (brackets inside strings do not count).

    Without parsing and without a Python loop over the text, so a hostile depth never reaches a recursive parser
    (Python's ``json``, msgspec, pydantic) and a hostile width costs little: strings are cut out and everything
    but brackets dropped (both in C), and the depth is the highest running sum of +1 per opening and -1 per
    closing bracket (``map``, ``accumulate`` and ``max``, in C too). A body with at most ``limit`` opening
    brackets is not looked at.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _JSON_STRING.sub(b"", body).translate(None, _BRACKETS_ONLY)
    return max(itertools.accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0) > limit


def json_bad_escape(body: bytes) -> bool:
    """Whether a JSON text escapes a C0 control other than TAB, LF and CR, or half a surrogate pair (RFC 8259
    §7, §8.2: not a character; Python's ``json`` accepts it and no store can encode it). Escapes are found by a
    regex with a literal prefix (valid surrogate pairs do not match); one preceded by an odd number of
    backslashes is text (``\\\\u0000``), not an escape."""
    for m in _JSON_BAD_ESCAPE.finditer(body):
        start = k = m.start()
        while k and body[k - 1] == 0x5C:  # backslashes right before it (each is looked at once: a run ends here)
            k -= 1
        if (start - k) % 2 == 0:
            return True
    return False


_ENCODED_OPENER = re.compile(rb"%(?:5[bB]|7[bB])")


def _has_control(data: bytes) -> bool:
    """Whether a query string or form body holds a C0 control other than TAB, LF, CR, raw or percent-encoded.
    A byte search (memchr) per control and one regex with a literal prefix: no Python loop over the data, which
    matters for direct_post bodies of several kilobytes."""
    for c in _RAW_CONTROLS:
        if c in data:
            return True
    return _ENCODED_CONTROL.search(data) is not None


def form_too_deep(data: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a form body or query string (``application/x-www-form-urlencoded``) has a value holding JSON nested
    deeper than ``limit``: OAuth and OpenID parameters carry JSON (``authorization_details``, RFC 9396 §2;
    ``claims``; ``vp_token``, OpenID4VP 1.0 §8.1). Decoded only when it has more than ``limit`` opening brackets."""
    if data.count(b"[") + data.count(b"{") + len(_ENCODED_OPENER.findall(data)) <= limit:
        return False
    return any(json_too_deep(value) for _, value in parse_qsl(data, keep_blank_values=True))


def _is_json(content_type: str, body: bytes) -> bool:
    if content_type == "application/json" or content_type.endswith("+json"):
        return True
    # some handlers parse the body whatever its declared type: treat anything that looks like JSON as JSON
    return body.lstrip()[:1] in (b"{", b"[")


class InputGuard:
    """ASGI middleware in front of every route: refuses hostile input before authentication and parsing.

    - a body over :data:`MAX_BODY` (by ``Content-Length`` or as it streams): 413;
    - a JSON body nested deeper than :data:`MAX_JSON_DEPTH` (RFC 8259 §9 allows a parser to limit nesting;
      Python's recursive parsers otherwise raise ``RecursionError``), or a form or query parameter holding such
      JSON (``authorization_details``, ``vp_token``, ``claims``): 400 ``invalid_request``;
    - a C0 control character in the path (any), or NUL and the other C0 controls except TAB, LF and CR in the
      query string, a form body (raw or percent-encoded) or a JSON string (as a ``\\u00XX`` escape), or a JSON
      escape of half a surrogate pair (which Python's ``json`` accepts and no database can store): 400.
      NUL never reaches PostgreSQL (``text`` cannot hold it) nor any other store.

    Errors are raised as :class:`~eidcore.errors.LommebokError` so each service answers in its own style
    (:func:`error_handlers`). The body is read once and handed on as it came: one chunk is passed without a copy.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        if _PATH_CONTROL.search(scope["path"]):
            raise InvalidRequest("the path holds a control character")
        query = scope.get("query_string", b"")
        if query and _has_control(query):
            raise InvalidRequest("the query string holds a control character")
        if form_too_deep(query):
            raise InvalidRequest(f"a query parameter nests JSON deeper than {MAX_JSON_DEPTH} levels")
        if scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        content_type, length = "", b""
        for k, v in scope["headers"]:
            if k == b"content-type":
                content_type = v.split(b";", 1)[0].strip().lower().decode("latin-1")
            elif k == b"content-length":
                length = v.strip()
        if length and not length.isdigit():
            raise InvalidRequest("Content-Length is not a number")
        if length and int(length) > MAX_BODY:
            raise PayloadTooLarge(f"the body is over {MAX_BODY} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: let the app see that
                await self.app(scope, _replay(message, receive), send)
                return
            chunk = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > MAX_BODY:
                    raise PayloadTooLarge(f"the body is over {MAX_BODY} bytes")
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if body:
            if content_type == "application/x-www-form-urlencoded":
                if _has_control(body):
                    raise InvalidRequest("the form holds a control character")
                if form_too_deep(body):
                    raise InvalidRequest(f"a form parameter nests JSON deeper than {MAX_JSON_DEPTH} levels")
            elif _is_json(content_type, body):
                if json_too_deep(body):
                    raise InvalidRequest(f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels")
                if b"\\u" in body and json_bad_escape(body):
                    raise InvalidRequest("the JSON body holds a control character or half a surrogate pair")
        whole: HTTPRequestEvent = {"type": "http.request", "body": body, "more_body": False}
        await self.app(scope, _replay(whole, receive), send)


def _replay(first: ReceiveMessage, receive: Receive) -> Receive:
    """A ``receive`` that answers ``first`` once, then whatever the real ``receive`` answers."""
    pending = [first]

    async def replay() -> Any:
        return pending.pop() if pending else await receive()

    return replay


# -- security headers ---------------------------------------------------------------------------------

#: our own pages: no script at all, inline styles (the pages carry a small <style>), nothing may frame them
PAGE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; "
            "frame-ancestors 'none'")
#: Swagger UI (``/schema``): its bundle and stylesheet from jsDelivr and an inline script holding the document
SWAGGER_CSP = ("default-src 'none'; script-src 'unsafe-inline' https://cdn.jsdelivr.net; "
               "style-src 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://cdn.jsdelivr.net; "
               "font-src https://cdn.jsdelivr.net data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'")
_HTML_HEADERS = ((b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer"))


async def security_headers(message: Message, scope: Scope) -> None:
    """``before_send`` hook: ``X-Content-Type-Options: nosniff`` on every response (so a browser never sniffs a
    JSON error into HTML); on HTML pages a CSP (CSP Level 3, ``frame-ancestors 'none'``), ``X-Frame-Options:
    DENY`` (RFC 7034) for older browsers, and ``Referrer-Policy: no-referrer`` (the login pages carry session
    ids in their URLs)."""
    if message["type"] != "http.response.start":
        return
    headers: list[tuple[bytes, bytes]] = list(message.get("headers") or [])
    names = {k.lower() for k, _ in headers}
    if b"x-content-type-options" not in names:
        headers.append((b"x-content-type-options", b"nosniff"))
    html = any(k.lower() == b"content-type" and v.lower().startswith(b"text/html") for k, v in headers)
    if html:
        path, root = scope["path"], scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root):]
        csp = SWAGGER_CSP if path == "/schema" or path.startswith("/schema/") else PAGE_CSP
        if b"content-security-policy" not in names:
            headers.append((b"content-security-policy", csp.encode()))
        headers.extend(h for h in _HTML_HEADERS if h[0] not in names)
    message["headers"] = headers


def negotiate(accept: Accept, offered: Sequence[str], default: str) -> str:
    """The offered media type the client prefers (RFC 9110 §12.5.1, through litestar's ``Accept``), else
    ``default``. A media range with ``q=0`` means "not acceptable" (§12.4.2), which litestar's ``best_match`` would
    still pick: such ranges are left out first."""
    refused: set[str] = set()
    kept: list[str] = []
    for entry in accept:
        media, _, params = entry.partition(";")
        q = next((v.strip() for k, _, v in (p.partition("=") for p in params.split(";")) if k.strip() == "q"), None)
        try:
            zero = q is not None and float(q) == 0.0
        except ValueError:
            zero = False
        if zero:
            refused.add(media.strip().lower())
        else:
            kept.append(entry)
    if not refused:
        return accept.best_match(list(offered), default=default)
    return Accept(", ".join(kept)).best_match([o for o in offered if o.lower() not in refused], default=default)


def edge_config() -> dict[str, Any]:
    """The Litestar arguments every app (each service's and the root app) takes for the edge: the input guard
    and the security headers."""
    return {"middleware": [InputGuard], "before_send": [security_headers], "request_max_body_size": MAX_BODY}


def health_handlers(rt: Runtime) -> list[ControllerRouterHandler]:
    """``GET /health`` (liveness) and ``GET /ready`` (database and store answer)."""

    @get("/health", operation_id="health", tags=["operations"], include_in_schema=True, sync_to_thread=False)
    def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @get("/ready", operation_id="ready", tags=["operations"])
    async def ready() -> Response[dict[str, Any]]:
        """Readiness: the database and the key-value store answer."""
        checks: dict[str, str] = {}
        ok = True
        for name, probe in (("database", rt.db.ping), ("store", rt.store.ping)):
            try:
                await probe()
                checks[name] = "ok"
            except StorageUnavailable as exc:
                checks[name] = exc.description
                ok = False
        if ok:
            return Response({"status": "ok", "checks": checks}, status_code=200)
        # RFC 9110 §10.2.3: a load balancer or client told when to ask again, as every other 503 here does
        return Response({"status": "unavailable", "checks": checks}, status_code=503,
                        headers={"Retry-After": str(StorageUnavailable.retry_after)})

    return [health, ready]


def service_app(
    *,
    name: str,
    title: str,
    description: str,
    rt: Runtime,
    own_runtime: bool,
    make_handlers: Callable[[Runtime], Sequence[ControllerRouterHandler]],
    error_style: ErrorStyle = "oauth",
    mount_path: str,
    schema: ServiceSchema | None = None,
) -> Litestar:
    """Build one service's Litestar app.

    With ``own_runtime`` the app starts and stops ``rt`` in its lifespan; otherwise (the all-in-one server,
    where one runtime serves three apps) the caller does. ``schema`` (the service's tables and Alembic branch)
    is registered with the runtime, whose start migrates it.
    """
    own = own_runtime
    runtime = rt
    if name in SERVICES:
        runtime.services.add(name)  # production then needs this service's admin token
    if schema is not None:
        runtime.add_schema(schema)

    async def on_startup() -> None:
        await runtime.start()

    async def on_shutdown() -> None:
        await runtime.stop()

    return Litestar(
        route_handlers=[*health_handlers(runtime), *make_handlers(runtime)],
        dependencies={"rt": Provide(lambda: runtime, use_cache=True, sync_to_thread=False)},
        exception_handlers=error_handlers(error_style),
        on_startup=[on_startup] if own else [],
        on_shutdown=[on_shutdown] if own else [],
        openapi_config=OpenAPIConfig(
            title=title, version="0.1.0", description=description, path="/schema",
            servers=[Server(url=mount_path)], render_plugins=[SwaggerRenderPlugin()],
            use_handler_docstrings=True, create_examples=False,
            components=Components(security_schemes={SECURITY_SCHEME: SecurityScheme(
                type="http", scheme="bearer",
                description="An admin credential (RFC 6750): the operator's token of this service, or a peer "
                            "service's own credential holding only the scopes this service grants it")}),
        ),
        response_cache_config=ResponseCacheConfig(),
        **edge_config(),
        state=State({"runtime": runtime, "service": name}),
        debug=False,
    )
