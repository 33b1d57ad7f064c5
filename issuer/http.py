"""HTTP helpers shared by the issuer's controllers: typed request bodies, form parsing, redirects, cache headers.

- Form bodies of the OAuth endpoints (RFC 6749 §3.2, RFC 9126 §2): ``application/x-www-form-urlencoded``, UTF-8,
  no parameter twice; JSON bodies (RFC 8259) without duplicate member names. Both are parsed here and validated
  into the endpoint's pydantic model (:mod:`issuer.schemas`); a body that does not fit answers with the
  endpoint's protocol error (``invalid_request``, ``invalid_notification_request``, ...), never a 500.
- :func:`body_dto` makes the litestar DTO that does this for one handler, so the generated OpenAPI names the
  model as the request body while the protocol keeps its own error codes.
- :func:`redirect_with` adds query parameters to a redirect URI (RFC 6749 §4.1.2, RFC 9207 ``iss``);
  :data:`NO_STORE` is the ``Cache-Control`` of every answer carrying a secret (RFC 6749 §5.1).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from litestar import Request
from litestar.datastructures import Accept
from litestar.dto import AbstractDTO, DTOConfig, DTOFieldDefinition
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Reference, Schema
from litestar.response import Redirect
from litestar.typing import FieldDefinition
from litestar.utils.scope.state import ScopeState
from pydantic import BaseModel, ValidationError

from eidcore import jose
from eidcore.errors import FormatError, InvalidRequest, ProtocolError
from eidcore.web import negotiate

__all__ = [
    "NO_STORE", "PUBLIC_CACHE", "EncodedBody", "body_dto", "encoded_body", "form_params", "json_object", "media_type",
    "redirect_with", "spec", "validate", "wants_jwt",
]

NO_STORE = {"Cache-Control": "no-store"}
PUBLIC_CACHE = {"Cache-Control": "public, max-age=300"}
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MAX_FORM_FIELDS = 40

M = TypeVar("M", bound=BaseModel)


def media_type(content_type: str | None) -> str:
    """The media type of a ``Content-Type`` header, lower case, without parameters."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def form_params(body: bytes, content_type: str | None, *, max_fields: int = MAX_FORM_FIELDS,
                error: type[ProtocolError] = InvalidRequest) -> dict[str, str]:
    """Parse an ``application/x-www-form-urlencoded`` body (RFC 6749 §3.2: no parameter twice)."""
    if media_type(content_type) != FORM:
        raise error("the body must be application/x-www-form-urlencoded")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=max_fields)
    except (UnicodeDecodeError, ValueError) as exc:
        raise error("the form body is malformed") from exc
    out: dict[str, str] = {}
    for k, v in pairs:
        if k in out:
            raise error(f"parameter {k} is given more than once")
        out[k] = v
    return out


def json_object(body: bytes, content_type: str | None, *, error: type[ProtocolError] = InvalidRequest,
                what: str = "request") -> dict[str, Any]:
    """Parse an ``application/json`` body that must be one JSON object (duplicate member names refused)."""
    if media_type(content_type) != JSON:
        raise error("the body must be application/json")
    try:
        return jose.parse_json_object(body, what=what)
    except FormatError as exc:
        raise error("the body is not a JSON object") from exc


def validate(model: type[M], value: Any, *, error: type[ProtocolError] = InvalidRequest,
             field_errors: Mapping[str, type[ProtocolError]] | None = None) -> M:
    """``value`` as ``model``; a mismatch is the protocol's ``error`` (or the one ``field_errors`` names for the
    top-level member at fault) naming the first field at fault."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0] if exc.errors() else None
        loc = [str(p) for p in first["loc"]] if first else []
        msg = first["msg"] if first else "invalid"
        cls = (field_errors or {}).get(loc[0], error) if loc else error
        raise cls(f"{'.'.join(loc)}: {msg}" if loc else msg) from None


@dataclass(frozen=True)
class EncodedBody:
    """A body that may come encrypted (OpenID4VCI 1.0 §10: ``application/jwt``), decoded by the endpoint."""

    content_type: str
    raw: bytes


def encoded_body(request: Request[Any, Any, Any], data: EncodedBody | None) -> EncodedBody:
    """The request's :class:`EncodedBody` (an empty one when the request had no body)."""
    return data if data is not None else EncodedBody(media_type(request.headers.get("content-type")), b"")


class _BodyDTO(AbstractDTO[M], Generic[M]):
    """Decodes the request body into the handler's model (see :func:`body_dto`); describes it in the OpenAPI."""

    config: ClassVar[DTOConfig] = DTOConfig()
    kind: ClassVar[str] = "json"
    error: ClassVar[type[ProtocolError]] = InvalidRequest
    field_errors: ClassVar[Mapping[str, type[ProtocolError]]] = {}

    @classmethod
    def generate_field_definitions(cls, model_type: type[Any]) -> Generator[DTOFieldDefinition, None, None]:
        yield from ()

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return False

    @classmethod
    def create_for_field_definition(cls, field_definition: FieldDefinition, handler_id: str,
                                    backend_cls: Any = None) -> None:
        return None

    @classmethod
    def create_openapi_schema(cls, field_definition: FieldDefinition, handler_id: str,
                              schema_creator: Any) -> Reference | Schema:
        schema: Reference | Schema = schema_creator.for_field_definition(
            FieldDefinition.from_annotation(cls.model_type))
        return schema

    def decode_bytes(self, value: bytes) -> Any:
        ctype = self.asgi_connection.headers.get("content-type")
        if self.kind == "encoded":
            return EncodedBody(media_type(ctype), value)
        if self.kind == "form":
            data: dict[str, Any] = form_params(value, ctype, error=self.error)
        elif self.kind == "optional-json" and not value.strip():
            data = {}
        else:
            data = json_object(value, ctype, error=self.error)
        return validate(self.model_type, data, error=self.error, field_errors=self.field_errors)

    def decode_builtins(self, value: dict[str, Any]) -> Any:
        """A form body: litestar has read it; parse the raw bytes again, strictly (UTF-8, no repeats)."""
        ctype = self.asgi_connection.headers.get("content-type")
        raw = ScopeState.from_scope(self.asgi_connection.scope).body
        data = form_params(raw if isinstance(raw, bytes) else b"", ctype, error=self.error)
        return validate(self.model_type, data, error=self.error)

    def data_to_encodable_type(self, data: Any) -> Any:  # pragma: no cover - request DTOs only
        return data


def body_dto(model: type[M], kind: str = "json", error: type[ProtocolError] = InvalidRequest,
             field_errors: Mapping[str, type[ProtocolError]] | None = None) -> type[AbstractDTO[M]]:
    """A request-body DTO for ``model``: ``kind`` ``form`` (OAuth form body), ``json``, ``optional-json`` (an
    empty body is ``{}``) or ``encoded`` (the handler gets an :class:`EncodedBody` and decodes it itself, e.g. a
    credential request that may be a JWE); a body that does not fit answers with ``error``."""
    dto: type[_BodyDTO[M]] = _BodyDTO[model]  # type: ignore[valid-type]
    return type(f"{model.__name__}{kind.title().replace('-', '')}Body", (dto,),
                {"kind": kind, "error": error, "field_errors": dict(field_errors or {})})


def spec(model: Any, description: str, media_type: str = JSON) -> ResponseSpec:
    """An OpenAPI response of ``model`` (no generated examples: they would carry made-up values)."""
    return ResponseSpec(model, generate_examples=False, description=description, media_type=media_type)


def redirect_with(uri: str, params: dict[str, str]) -> Redirect:
    """A 302 to ``uri`` with ``params`` added to its query (RFC 6749 §4.1.2), not cached."""
    parts = urlsplit(uri)
    query = parts.query + ("&" if parts.query else "") + urlencode(params)
    return Redirect(urlunsplit((parts.scheme, parts.netloc, parts.path, query, "")), status_code=302,
                    headers=NO_STORE)


def wants_jwt(accept: Accept) -> bool:
    """True when content negotiation (RFC 9110 §12.5.1, litestar's ``Accept``) prefers ``application/jwt`` to
    JSON; JSON when both are equally acceptable through a wildcard or nothing is said."""
    return negotiate(accept, ["application/json", "application/jwt"], "application/json") == "application/jwt"
