"""DCQL query model: OpenID for Verifiable Presentations 1.0 (final) §6, with the format parameters of Appendix B.

Typed, frozen pydantic v2 models of ``dcql_query`` and one entry point, :meth:`DcqlQuery.parse` (or
:func:`parse_dcql_query`), that takes a dict or a JSON string and raises :class:`eidcore.errors.InvalidRequest`
naming the offending member for every violation (the verifier answers ``invalid_request`` for a bad query).

Unknown members: OpenID4VP 1.0 §6 says "Implementations MUST ignore any unknown properties" for the whole DCQL
structure, so every object here (query, Credential Query, ``meta``, Trusted Authorities Query, Claims Query,
Credential Set Query) tolerates and drops unknown members (``extra="ignore"``). Known members are strict: wrong
JSON types, ``null`` where a value is expected, empty arrays the spec says are non-empty, are all refused.

Per-format rules (Appendix B.2.3, B.3.5): ``dc+sd-jwt`` needs ``meta.vct_values`` (non-empty strings),
``mso_mdoc`` needs ``meta.doctype_value``; an mdoc claims path is exactly ``[namespace, element]`` (§7.2);
``intent_to_retain`` is an mdoc parameter and is dropped (as unknown) from ``dc+sd-jwt`` Claims Queries. Only the
``dc+sd-jwt`` and ``mso_mdoc`` formats are supported; any other format is refused with a clear error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StrictBool,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from eidcore.errors import InvalidRequest

__all__ = [
    "MSO_MDOC",
    "SD_JWT_VC",
    "SUPPORTED_FORMATS",
    "ClaimValue",
    "ClaimsPath",
    "ClaimsQuery",
    "CredentialFormat",
    "CredentialQuery",
    "CredentialQueryMeta",
    "CredentialSetQuery",
    "DcqlQuery",
    "PathStep",
    "TrustedAuthoritiesQuery",
    "TrustedAuthorityType",
    "parse_claims_path",
    "parse_dcql_query",
]

SD_JWT_VC: Final = "dc+sd-jwt"
"""Credential Format Identifier of IETF SD-JWT VC (Appendix B.3.1)."""
MSO_MDOC: Final = "mso_mdoc"
"""Credential Format Identifier of ISO mdoc (Appendix B.2)."""
SUPPORTED_FORMATS: Final = (SD_JWT_VC, MSO_MDOC)

CredentialFormat = Literal["dc+sd-jwt", "mso_mdoc"]
TrustedAuthorityType = Literal["aki", "etsi_tl", "openid_federation"]
TRUSTED_AUTHORITY_TYPES: Final = ("aki", "etsi_tl", "openid_federation")

PathStep = str | int | None
ClaimsPath = tuple[PathStep, ...]
"""A claims path pointer (§7): string = object key, int = array index, ``None`` = every array element."""
ClaimValue = str | int | bool
"""A ``values`` entry of a Claims Query (§6.3): a string, an integer or a boolean."""

MAX_QUERY_BYTES: Final = 64 * 1024
"""Largest JSON text :meth:`DcqlQuery.parse` accepts."""

_ID = re.compile(r"[A-Za-z0-9_-]+")
_CONFIG = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)


def _error(message: str) -> PydanticCustomError:
    return PydanticCustomError("dcql", message)


# ------------------------------------------------------------------------------------------------ field checks


def _identifier(value: Any) -> str:
    if type(value) is not str:
        raise _error("must be a string")
    if not _ID.fullmatch(value):
        raise _error("must be a non-empty string of A-Z, a-z, 0-9, '_' or '-'")
    return value


def _check_path(value: Any) -> ClaimsPath:
    if not isinstance(value, list | tuple):
        raise _error("must be an array (a claims path pointer)")
    if not value:
        raise _error("must not be empty")
    for i, step in enumerate(value):
        if step is None or type(step) is str:
            continue
        if type(step) is int:
            if step < 0:
                raise _error(f"component {i} is a negative integer")
            continue
        raise _error(f"component {i} must be a string, null or a non-negative integer")
    return tuple(value)


def _non_empty_strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise _error("must be an array")
    if not value:
        raise _error("must not be empty")
    for i, v in enumerate(value):
        if type(v) is not str or not v:
            raise _error(f"element {i} must be a non-empty string")
    return tuple(value)


def _claim_values(value: Any) -> tuple[ClaimValue, ...]:
    if not isinstance(value, list | tuple):
        raise _error("must be an array")
    if not value:
        raise _error("must not be empty")
    for i, v in enumerate(value):
        if type(v) not in (str, int, bool):
            raise _error(f"element {i} must be a string, an integer or a boolean")
    return tuple(value)


def _identifier_lists(value: Any) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list | tuple):
        raise _error("must be an array")
    if not value:
        raise _error("must not be empty")
    out: list[tuple[str, ...]] = []
    for i, option in enumerate(value):
        if not isinstance(option, list | tuple):
            raise _error(f"element {i} must be an array of identifiers")
        if not option:
            raise _error(f"element {i} must not be empty")
        for j, ident in enumerate(option):
            if type(ident) is not str or not _ID.fullmatch(ident):
                raise _error(f"element {i}[{j}] must be an identifier string")
        out.append(tuple(option))
    return tuple(out)


def _non_empty_array(value: Any) -> Any:
    if isinstance(value, list | tuple) and not value:
        raise _error("must not be empty")
    return value


def _not_null(data: Any, *members: str) -> Any:
    """Optional members may be absent but never JSON ``null``."""
    if isinstance(data, Mapping):
        for m in members:
            if m in data and data[m] is None:
                raise _error(f"{m} must not be null")
    return data


def _strings_are_strings(value: Any) -> Any:
    if type(value) is not str:
        raise _error("must be a string")
    return value


Identifier = Annotated[str, BeforeValidator(_identifier)]
PathPointer = Annotated[ClaimsPath, BeforeValidator(_check_path)]
NonEmptyStrings = Annotated[tuple[str, ...], BeforeValidator(_non_empty_strings)]
ClaimValues = Annotated[tuple[ClaimValue, ...], BeforeValidator(_claim_values)]
IdentifierLists = Annotated[tuple[tuple[str, ...], ...], BeforeValidator(_identifier_lists)]


def parse_claims_path(value: Any) -> ClaimsPath:
    """Validate a claims path pointer (OpenID4VP 1.0 §7, OpenID4VCI 1.0 Appendix C): a non-empty array of strings,
    nulls and non-negative integers. Raises :class:`InvalidRequest` otherwise."""
    try:
        return _check_path(value)
    except PydanticCustomError as e:
        raise InvalidRequest(f"claims path pointer: {e.message()}") from None


def _format_path(path: Sequence[Any]) -> str:
    return json.dumps(list(path), ensure_ascii=False)


# ------------------------------------------------------------------------------------------------ models


class TrustedAuthoritiesQuery(BaseModel):
    """§6.1.1 Trusted Authorities Query: ``type`` (``aki`` | ``etsi_tl`` | ``openid_federation``) and ``values``."""

    model_config = _CONFIG

    type: TrustedAuthorityType
    values: NonEmptyStrings

    @model_validator(mode="before")
    @classmethod
    def _known_type(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "type" in data:
            t = data["type"]
            if type(t) is not str:
                raise _error("type must be a string")
            if t not in TRUSTED_AUTHORITY_TYPES:
                raise _error(f"type {t[:40]!r} is not supported (aki, etsi_tl, openid_federation)")
        return data


TrustedAuthorities = Annotated[tuple[TrustedAuthoritiesQuery, ...], BeforeValidator(_non_empty_array)]


class ClaimsQuery(BaseModel):
    """§6.3 Claims Query: ``id``, ``path``, ``values``; ``intent_to_retain`` for mdoc (Appendix B.2.4)."""

    model_config = _CONFIG

    id: Identifier | None = None
    path: PathPointer
    values: ClaimValues | None = None
    intent_to_retain: StrictBool | None = None

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return _not_null(data, "id", "values", "intent_to_retain")


class CredentialQueryMeta(BaseModel):
    """``meta`` of a Credential Query: ``vct_values`` (SD-JWT VC, Appendix B.3.5) / ``doctype_value`` (mdoc, B.2.3).

    Which one is required depends on the format and is checked by :class:`CredentialQuery`.
    """

    model_config = _CONFIG

    vct_values: NonEmptyStrings | None = None
    doctype_value: Annotated[str, BeforeValidator(_strings_are_strings)] | None = None


class CredentialQuery(BaseModel):
    """§6.1 Credential Query."""

    model_config = _CONFIG

    id: Identifier
    format: CredentialFormat
    multiple: StrictBool = False
    meta: CredentialQueryMeta
    trusted_authorities: TrustedAuthorities | None = None
    require_cryptographic_holder_binding: StrictBool = True
    claims: Annotated[tuple[ClaimsQuery, ...], BeforeValidator(_non_empty_array)] | None = None
    claim_sets: IdentifierLists | None = None

    @model_validator(mode="before")
    @classmethod
    def _before(cls, data: Any) -> Any:
        data = _not_null(data, "multiple", "trusted_authorities", "require_cryptographic_holder_binding")
        data = _not_null(data, "claims", "claim_sets", "meta")
        if not isinstance(data, Mapping) or "format" not in data:
            return data
        fmt = data["format"]
        if type(fmt) is not str:
            raise _error("format must be a string")
        if fmt not in SUPPORTED_FORMATS:
            raise _error(f"format {fmt[:40]!r} is not supported (supported: {', '.join(SUPPORTED_FORMATS)})")
        claims = data.get("claims")
        if fmt == SD_JWT_VC and isinstance(claims, list | tuple):
            # intent_to_retain is an mdoc parameter: an unknown (ignored) member of an SD-JWT VC Claims Query
            data = dict(data)
            data["claims"] = [
                {k: v for k, v in c.items() if k != "intent_to_retain"} if isinstance(c, Mapping) else c for c in claims
            ]
        return data

    @model_validator(mode="after")
    def _after(self) -> CredentialQuery:
        if self.format == SD_JWT_VC and self.meta.vct_values is None:
            raise _error("meta.vct_values is required for format dc+sd-jwt")
        if self.format == MSO_MDOC:
            if self.meta.doctype_value is None:
                raise _error("meta.doctype_value is required for format mso_mdoc")
            if not self.meta.doctype_value:
                raise _error("meta.doctype_value must not be empty")
        claims = self.claims or ()
        ids: set[str] = set()
        paths: set[ClaimsPath] = set()
        for i, c in enumerate(claims):
            if c.id is not None:
                if c.id in ids:
                    raise _error(f"claims[{i}].id {c.id!r} is not unique")
                ids.add(c.id)
            if self.format == MSO_MDOC and (len(c.path) != 2 or not all(type(s) is str for s in c.path)):
                raise _error(f"claims[{i}].path must be [namespace, element identifier] for mso_mdoc")
            if c.path in paths:
                raise _error(f"claims[{i}].path {_format_path(c.path)} points to the same claim twice")
            paths.add(c.path)
        if self.claim_sets is not None:
            if self.claims is None:
                raise _error("claim_sets must not be present without claims")
            for i, c in enumerate(claims):
                if c.id is None:
                    raise _error(f"claims[{i}].id is required when claim_sets is present")
            for i, option in enumerate(self.claim_sets):
                for ident in option:
                    if ident not in ids:
                        raise _error(f"claim_sets[{i}] names unknown claim id {ident!r}")
        return self

    def claim(self, claim_id: str) -> ClaimsQuery:
        """The Claims Query with this ``id``; :class:`KeyError` when there is none."""
        for c in self.claims or ():
            if c.id == claim_id:
                return c
        raise KeyError(claim_id)

    def claim_options(self) -> tuple[tuple[ClaimsQuery, ...], ...]:
        """§6.4.1: the alternative claim combinations, most preferred first (one option: all ``claims``)."""
        if self.claims is None:
            return ((),)
        if self.claim_sets is None:
            return (self.claims,)
        return tuple(tuple(self.claim(i) for i in option) for option in self.claim_sets)

    def to_json(self) -> dict[str, Any]:
        """The wire form (defaults written out, unknown members dropped)."""
        out: dict[str, Any] = {"id": self.id, "format": self.format, "multiple": self.multiple}
        out["meta"] = (
            {"vct_values": list(self.meta.vct_values or ())}
            if self.format == SD_JWT_VC
            else {"doctype_value": self.meta.doctype_value}
        )
        if self.trusted_authorities is not None:
            out["trusted_authorities"] = [{"type": t.type, "values": list(t.values)} for t in self.trusted_authorities]
        out["require_cryptographic_holder_binding"] = self.require_cryptographic_holder_binding
        if self.claims is not None:
            out["claims"] = []
            for c in self.claims:
                cj: dict[str, Any] = {}
                if c.id is not None:
                    cj["id"] = c.id
                cj["path"] = list(c.path)
                if c.values is not None:
                    cj["values"] = list(c.values)
                if c.intent_to_retain is not None:
                    cj["intent_to_retain"] = c.intent_to_retain
                out["claims"].append(cj)
        if self.claim_sets is not None:
            out["claim_sets"] = [list(s) for s in self.claim_sets]
        return out


class CredentialSetQuery(BaseModel):
    """§6.2 Credential Set Query: ``options`` (non-empty lists of Credential Query ids), ``required`` (default true)."""

    model_config = _CONFIG

    options: IdentifierLists
    required: StrictBool = True

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return _not_null(data, "required")


class DcqlQuery(BaseModel):
    """§6 ``dcql_query``: ``credentials`` (non-empty, unique ids) and optional ``credential_sets``."""

    model_config = _CONFIG

    credentials: Annotated[tuple[CredentialQuery, ...], BeforeValidator(_non_empty_array)]
    credential_sets: Annotated[tuple[CredentialSetQuery, ...], BeforeValidator(_non_empty_array)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return _not_null(data, "credential_sets")

    @model_validator(mode="after")
    def _after(self) -> DcqlQuery:
        seen: set[str] = set()
        for i, c in enumerate(self.credentials):
            if c.id in seen:
                raise _error(f"credentials[{i}].id {c.id!r} is not unique")
            seen.add(c.id)
        for i, s in enumerate(self.credential_sets or ()):
            for j, option in enumerate(s.options):
                for ident in option:
                    if ident not in seen:
                        raise _error(f"credential_sets[{i}].options[{j}] names unknown credential id {ident!r}")
        return self

    # -------------------------------------------------------------------------------------------- API

    @classmethod
    def parse(cls, data: str | bytes | Mapping[str, Any]) -> DcqlQuery:
        """Parse and validate a ``dcql_query`` (OpenID4VP 1.0 §6) from a JSON text or an already decoded object.

        Raises :class:`InvalidRequest` whose description names the offending member.
        """
        raw: Any = data
        if isinstance(data, str | bytes):
            if len(data) > MAX_QUERY_BYTES:
                raise InvalidRequest("dcql_query is too large")
            try:
                raw = json.loads(data, object_pairs_hook=_no_duplicate_keys)
            except _DuplicateKey as e:
                raise InvalidRequest(f"dcql_query: duplicate member {str(e)[:40]!r}") from None
            except (ValueError, UnicodeDecodeError):
                raise InvalidRequest("dcql_query is not valid JSON") from None
        if not isinstance(raw, Mapping):
            raise InvalidRequest("dcql_query must be a JSON object")
        try:
            return cls.model_validate(raw)
        except ValidationError as e:
            raise InvalidRequest(_describe(e, raw)) from None

    def credential(self, query_id: str) -> CredentialQuery:
        """The Credential Query with this ``id``; :class:`KeyError` when there is none."""
        for c in self.credentials:
            if c.id == query_id:
                return c
        raise KeyError(query_id)

    @property
    def ids(self) -> tuple[str, ...]:
        """The Credential Query ids, in query order."""
        return tuple(c.id for c in self.credentials)

    def to_json(self) -> dict[str, Any]:
        """The wire form of the query, to put into an Authorization Request (``dcql_query``)."""
        out: dict[str, Any] = {"credentials": [c.to_json() for c in self.credentials]}
        if self.credential_sets is not None:
            out["credential_sets"] = [
                {"options": [list(o) for o in s.options], "required": s.required} for s in self.credential_sets
            ]
        return out


def parse_dcql_query(data: str | bytes | Mapping[str, Any]) -> DcqlQuery:
    """Parse and validate a ``dcql_query`` (OpenID4VP 1.0 §6); see :meth:`DcqlQuery.parse`."""
    return DcqlQuery.parse(data)


# ------------------------------------------------------------------------------------------------ errors


class _DuplicateKey(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k)
        out[k] = v
    return out


_MESSAGES = {
    "missing": "is required",
    "tuple_type": "must be an array",
    "list_type": "must be an array",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "bool_type": "must be a boolean",
    "string_type": "must be a string",
    "literal_error": "is not one of the allowed values",
}
_NOISE = {"tagged-union", "function-before", "function-after", "lax-or-strict", "json-or-python"}


def _describe(error: ValidationError, raw: Mapping[str, Any]) -> str:
    """``dcql_query.credentials[0] (id 'pid').claims[1].path: must not be empty`` for the first error."""
    first = error.errors(include_url=False, include_input=False)[0]
    where = "dcql_query"
    node: Any = raw
    for part in first["loc"]:
        if isinstance(part, int):
            where += f"[{part}]"
            node = node[part] if isinstance(node, list | tuple) and 0 <= part < len(node) else None
            if isinstance(node, Mapping) and type(node.get("id")) is str and len(where.split(".")) == 2:
                where += f" (id {node['id'][:40]!r})"
        elif part in _NOISE or part.startswith(("function-", "nullable[")):
            continue
        else:
            where += f".{part}"
            node = node.get(part) if isinstance(node, Mapping) else None
    message = _MESSAGES.get(first["type"], first["msg"])
    return f"{where}: {message}"
