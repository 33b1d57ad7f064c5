"""Claims path pointers: OpenID4VP 1.0 §7 (= OpenID4VCI 1.0 Appendix C) applied to JSON claims and to mdoc namespaces.

- JSON (§7.1): a string selects a key (every selected element must be an object), ``null`` selects every element
  of the selected arrays, an integer an index (every selected element must be an array). A step that meets the
  wrong type raises :class:`eidcore.errors.ClaimsPathError`; a malformed pointer (empty, a negative integer, a
  step of another type) raises :class:`eidcore.errors.InvalidRequest`. An empty result is returned as ``[]``
  ("not found"; the caller decides whether that is an error).
- mdoc (§7.2): ``[namespace, element identifier]`` selects one data element; a missing namespace or element is
  "not found". Deeper steps (OpenID4VCI Appendix C) index maps by string or integer keys and arrays.
- :func:`matches_values`: the ``values`` rule of §6.3 (type and value both equal; mdoc values are first converted
  from CBOR to JSON following RFC 8949 §6.1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from eidcore.dcql.models import ClaimsPath, ClaimValue, PathStep, parse_claims_path
from eidcore.encoding import b64u_encode
from eidcore.errors import ClaimsPathError

__all__ = [
    "ConcretePath",
    "SelectedClaim",
    "cbor_to_json",
    "matches_values",
    "select_json",
    "select_mdoc",
]

ConcretePath = tuple[str | int, ...]
"""Where one selected value sits: object keys and array indices (for mdoc: namespace, element, ...)."""


@dataclass(frozen=True)
class SelectedClaim:
    """One element selected by a claims path pointer: its concrete path and its value."""

    path: ConcretePath
    value: Any


def _step(current: list[SelectedClaim], step: PathStep, *, mdoc: bool) -> list[SelectedClaim]:
    nxt: list[SelectedClaim] = []
    for sel in current:
        v = sel.value
        if type(step) is str:
            if not isinstance(v, Mapping):
                raise ClaimsPathError(f"claims path step {step!r} expects an object")
            if step in v:
                nxt.append(SelectedClaim((*sel.path, step), v[step]))
        elif step is None:
            if not isinstance(v, list | tuple):
                raise ClaimsPathError("claims path step null expects an array")
            nxt.extend(SelectedClaim((*sel.path, i), e) for i, e in enumerate(v))
        elif type(step) is int:
            if isinstance(v, list | tuple):
                if step < len(v):
                    nxt.append(SelectedClaim((*sel.path, step), v[step]))
            elif mdoc and isinstance(v, Mapping):
                if step in v:
                    nxt.append(SelectedClaim((*sel.path, step), v[step]))
            else:
                raise ClaimsPathError(f"claims path step {step} expects an array")
    return nxt


def select_json(claims: Mapping[str, Any], path: Sequence[PathStep]) -> list[SelectedClaim]:
    """OpenID4VP 1.0 §7.1: the elements of a JSON credential selected by a claims path pointer ([] = not found)."""
    pointer: ClaimsPath = parse_claims_path(path)
    if not isinstance(claims, Mapping):
        raise ClaimsPathError("the credential claims must be a JSON object")
    current = [SelectedClaim((), claims)]
    for step in pointer:
        current = _step(current, step, mdoc=False)
        if not current:
            break
    return current


def select_mdoc(namespaces: Mapping[str, Mapping[Any, Any]], path: Sequence[PathStep]) -> list[SelectedClaim]:
    """OpenID4VP 1.0 §7.2: the data element ``[namespace, element]`` of an mdoc ([] = not found).

    ``namespaces`` maps namespace -> element identifier -> value (the decoded ``IssuerSignedItem`` values).
    Components after the first two follow OpenID4VCI 1.0 Appendix C (map keys or array indices).
    """
    pointer = parse_claims_path(path)
    if len(pointer) < 2 or type(pointer[0]) is not str or type(pointer[1]) is not str:
        raise ClaimsPathError("an mdoc claims path starts with [namespace, element identifier] (two strings)")
    if not isinstance(namespaces, Mapping):
        raise ClaimsPathError("the mdoc namespaces must be a map")
    ns, element = pointer[0], pointer[1]
    items = namespaces.get(ns)
    if items is None:
        return []
    if not isinstance(items, Mapping):
        raise ClaimsPathError("an mdoc namespace must map element identifiers to values")
    if element not in items:
        return []
    current = [SelectedClaim((ns, element), items[element])]
    for step in pointer[2:]:
        current = _step(current, step, mdoc=True)
        if not current:
            break
    return current


_NO_JSON = object()


def cbor_to_json(value: Any) -> Any:
    """RFC 8949 §6.1 conversion of a decoded CBOR scalar to its JSON value, as OpenID4VP 1.0 §6.3 asks for mdoc
    value matching: text, integers, booleans and null as is; byte strings as base64url without padding; tag 0
    date-times and tag 1004 full-dates as their RFC 3339 strings. Other items have no defined conversion and never
    match (a private sentinel is returned)."""
    if value is None or type(value) in (str, int, bool, float):
        return value
    if isinstance(value, bytes | bytearray):
        return b64u_encode(bytes(value))
    if isinstance(value, datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, date):
        return value.isoformat()
    return _NO_JSON


def matches_values(value: Any, values: Sequence[ClaimValue], *, mdoc: bool = False) -> bool:
    """OpenID4VP 1.0 §6.3: true when the claim's type and value both equal one of ``values`` (``True`` != ``1``)."""
    v = cbor_to_json(value) if mdoc else value
    return any(type(v) is type(want) and v == want for want in values)
