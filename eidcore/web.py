"""Litestar building blocks shared by the three services.

- errors in the spec's form: protocol endpoints answer ``{"error", "error_description"}`` (RFC 6749 §5.2,
  OpenID4VCI 1.0 §8.3.1, OpenID4VP 1.0 §8.5); the wallet API answers RFC 9457 problem details;
  bad input is always a 4xx, never a 500, and a 500 never leaks internals;
- health (``/health``: the process answers) and readiness (``/ready``: database and store answer);
- :func:`service_app`: a Litestar app for one service with its runtime, OpenAPI and lifespan.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Literal

from litestar import Litestar, MediaType, Request, Response, get
from litestar.config.response_cache import ResponseCacheConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Server
from litestar.types import ControllerRouterHandler

from eidcore.errors import LommebokError, StorageUnavailable
from eidcore.runtime import Runtime
from eidcore.settings import SERVICES

log = logging.getLogger("lommebok.web")

ErrorStyle = Literal["oauth", "problem"]
MAX_BODY = 256 * 1024


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
        return Response({"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503)

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
) -> Litestar:
    """Build one service's Litestar app.

    With ``own_runtime`` the app starts and stops ``rt`` in its lifespan; otherwise (the all-in-one server,
    where one runtime serves three apps) the caller does.
    """
    own = own_runtime
    runtime = rt
    if name in SERVICES:
        runtime.services.add(name)  # production then needs this service's admin token

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
        ),
        request_max_body_size=MAX_BODY,
        response_cache_config=ResponseCacheConfig(),
        state=State({"runtime": runtime, "service": name}),
        debug=False,
    )
