"""One JSON for Lommebok (RFC 8259), on ``orjson``, with the strictness JOSE, SD-JWT and status lists need.

- :func:`dumps`: compact UTF-8 (no whitespace, raw non-ASCII), the form used for JOSE headers (RFC 7515 §4),
  JWT claims sets (RFC 7519 §7.1) and status list tokens. NaN and infinities are refused (RFC 8259 §6 has no
  such numbers), as are values that are not JSON (a ``datetime``, a dataclass, a cycle): :class:`ParsingError`.
- :func:`dumps_sorted`: the same with members in lexicographic order, e.g. RFC 7638 §3 thumbprint input.
- :func:`dumps_spaced`: Python's default ``json.dumps(value, ensure_ascii=False)`` form (``", "`` and ``": "``
  separators), byte for byte, which RFC 9901 §4.2.1 examples use for SD-JWT disclosures.
- :func:`loads`: any JSON text. NaN, ``Infinity``, invalid UTF-8, lone surrogates and nesting deeper than
  :data:`MAX_DEPTH` are refused; a duplicate member name keeps the lexically last value (RFC 7515 §5.2 step 4,
  RFC 7519 §4 allow it). Integers beyond 64 bits are read as floats (orjson's rule).
- :func:`loads_object`: a JSON object, refusing duplicate member names by default (RFC 7515 §4 / §5.2, RFC 7519
  §4: JOSE headers and JWT claims sets); that check needs every member pair, so it runs on the standard
  library's public ``object_pairs_hook`` (with the same NaN and depth refusals).

Every failure is :class:`~eidcore.errors.ParsingError` naming what was parsed (never the value itself).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any, Final

import orjson

from eidcore.errors import ParsingError

__all__ = ["MAX_DEPTH", "dumps", "dumps_sorted", "dumps_spaced", "dumps_string", "loads", "loads_object"]

#: Deepest nesting :func:`loads` accepts (orjson's fixed limit; the stdlib path stops at the recursion limit,
#: which is not lower).
MAX_DEPTH: Final = 1024

_PASSTHROUGH: Final = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
# Only for what orjson refuses but the earlier encoder wrote (integers beyond 64 bits, non-string keys), so the
# output stays what it was; NaN and infinities are refused here too.
_COMPACT_FALLBACK: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_SORTED_FALLBACK: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                                           sort_keys=True)
# No cycle bookkeeping: a cycle ends in RecursionError, refused like any other non-JSON value.
_SPACED: Final = json.JSONEncoder(ensure_ascii=False, allow_nan=False, check_circular=False)


def _not_json(value: Any) -> Any:
    raise TypeError("not a JSON value")


def _has_non_finite(value: Any) -> bool:
    """Whether ``value`` holds a NaN or an infinity anywhere (orjson writes those as ``null``)."""
    stack = [value]
    while stack:
        v = stack.pop()
        t = type(v)
        if t is float or isinstance(v, float):
            if not math.isfinite(v):
                return True
        elif t is dict or isinstance(v, dict):
            stack.extend(v.values())
        elif t is list or t is tuple or isinstance(v, list | tuple):
            stack.extend(v)
    return False


def _encode(value: Any, option: int, fallback: json.JSONEncoder) -> bytes:
    try:
        out = orjson.dumps(value, default=_not_json, option=option)
    except TypeError:  # orjson.JSONEncodeError: not JSON, or only the stdlib can write it
        try:
            return fallback.encode(value).encode("utf-8")
        except (TypeError, ValueError, RecursionError) as exc:
            raise ParsingError("the value is not JSON-serializable") from exc
    if b"null" in out and _has_non_finite(value):
        raise ParsingError("the value is not JSON-serializable (NaN or infinity)")
    return out


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON (RFC 8259) for JOSE headers, JWT claims sets and status list tokens.

    :class:`ParsingError` when ``value`` is not JSON (a non-JSON type, NaN or infinity, a cycle).
    """
    return _encode(value, _PASSTHROUGH, _COMPACT_FALLBACK)


def dumps_sorted(value: Any) -> bytes:
    """:func:`dumps` with object members in lexicographic order (RFC 7638 §3 thumbprint input)."""
    return _encode(value, _PASSTHROUGH | orjson.OPT_SORT_KEYS, _SORTED_FALLBACK)


_INT64: Final = range(-(2**63), 2**64)


#: A JSON string (RFC 8259 §7) as UTF-8, the same bytes as ``json.dumps(text, ensure_ascii=False)``: orjson's
#: encoder called directly, for hot paths that write many strings. A lone surrogate raises ``TypeError``.
dumps_string: Final[Callable[[str], bytes]] = orjson.dumps


def dumps_spaced(value: Any) -> bytes:
    """``json.dumps(value, ensure_ascii=False).encode()`` byte for byte: the SD-JWT disclosure form of the
    RFC 9901 §4.2.1 examples (``", "`` and ``": "`` separators, raw UTF-8). NaN, infinities and non-JSON values
    are refused (:class:`ParsingError`).

    Strings, booleans, ``null`` and 64-bit integers are written by orjson (the same bytes as the stdlib for every
    valid string); arrays and objects by the stdlib's public encoder, whose separators orjson cannot write.
    """
    t = type(value)
    try:
        if t is str:
            return orjson.dumps(value)
        if t is bool:
            return b"true" if value else b"false"
        if value is None:
            return b"null"
        if t is int and value in _INT64:
            return orjson.dumps(value)
        return _SPACED.encode(value).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:  # orjson.JSONEncodeError is a TypeError
        raise ParsingError("the value is not JSON-serializable") from exc


def loads(data: str | bytes, *, what: str = "value") -> Any:
    """Parse any JSON text (RFC 8259); :class:`ParsingError` naming ``what`` when it is not valid JSON."""
    try:
        return orjson.loads(data)
    except (ValueError, TypeError) as exc:  # orjson.JSONDecodeError is a ValueError
        raise ParsingError(f"{what} is not valid JSON") from exc


class _DuplicateMember(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        raise _DuplicateMember
    return d


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads_object(data: str | bytes, *, what: str, reject_duplicates: bool = True) -> dict[str, Any]:
    """Parse a JSON object (RFC 8259 §4).

    Duplicate member names are refused by default (RFC 7515 §5.2 step 4, RFC 7519 §4); with
    ``reject_duplicates=False`` the lexically last one wins, the other behaviour those sections allow (used on
    hot paths for signed payloads).
    """
    if not reject_duplicates:
        value = loads(data, what=what)
    else:
        try:
            value = json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
        except _DuplicateMember as exc:
            raise ParsingError(f"{what} has a duplicate member name") from exc
        except (ValueError, TypeError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            raise ParsingError(f"{what} is not valid JSON") from exc
    if type(value) is not dict:
        raise ParsingError(f"{what} is not a JSON object")
    return value
