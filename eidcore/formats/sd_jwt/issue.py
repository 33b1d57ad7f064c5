"""SD-JWT issuer: RFC 9901 §4 (SD-JWT and disclosures), §4.2.5 (decoys), §4.2.6 (recursive disclosures), §8 (JSON).

One role, one module. :class:`SdJwtIssuer` turns a claims set into an issuer-signed JWT plus disclosures:

- which claims are selectively disclosable is said either by claims path pointers (``disclosable=[["address",
  "street_address"], ["nationalities", None]]``: string = key, int = index, ``None`` = every element) or by
  wrapping a value in :func:`sd` inside the claims; both work at any depth, for object properties and array
  elements, and combine into recursive disclosures (a disclosable object whose members are disclosable too);
- salts are 16 CSPRNG bytes, base64url (§4.2.1, §9.3); digests use ``_sd_alg`` (``sha-256`` by default, §4.1.1);
- ``_sd`` arrays are sorted (§4.2.4.1), optional decoy digests are added (§4.2.5);
- the disclosure JSON is written exactly as the RFC's examples (``json.dumps`` defaults: ``", "`` separators and
  raw UTF-8), so a fixed salt reproduces the published disclosures byte for byte.
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eidcore import jose, jsonutil
from eidcore.encoding import b64u_encode
from eidcore.errors import InvalidClaim, InvalidHeader, ParsingError, UnsupportedAlgorithm
from eidcore.formats.sd_jwt.model import (
    ARRAY_DIGEST,
    DEFAULT_SD_ALG,
    FORBIDDEN_CLAIM_NAMES,
    SD,
    SD_ALG,
    ClaimPath,
    Disclosure,
    hash_function,
    serialize_compact,
    serialize_json,
)

__all__ = ["Disclosable", "IssuedSdJwt", "SdJwtIssuer", "sd"]


class Disclosable:
    """Marks a claim value or array element as selectively disclosable (see :func:`sd`)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "Disclosable(...)"


def sd(value: Any) -> Disclosable:
    """Mark ``value`` (an object property's value or an array element) as selectively disclosable (RFC 9901 §4.2)."""
    return Disclosable(value)


@dataclass(slots=True)
class IssuedSdJwt:
    """What the issuer hands to the holder: the issuer-signed JWT, all disclosures and the signed payload."""

    jwt: str
    disclosures: tuple[Disclosure, ...]
    payload: dict[str, Any]

    @property
    def compact(self) -> str:
        """The compact SD-JWT ``jwt~d1~...~dn~`` (RFC 9901 §4), as sent in a credential response."""
        return serialize_compact(self.jwt, [d.encoded for d in self.disclosures])

    def to_json(self) -> dict[str, Any]:
        """The flattened JWS JSON serialization (RFC 9901 §8.1)."""
        return serialize_json(self.jwt, [d.encoded for d in self.disclosures])


class _Node:
    __slots__ = ("children", "required", "sd")

    def __init__(self) -> None:
        self.children: dict[str | int | None, _Node] = {}
        self.sd = False
        self.required = True


@functools.lru_cache(maxsize=256)
def _trie(paths: tuple[tuple[str | int | None, ...], ...]) -> tuple[_Node, int]:
    root = _Node()
    required = 0
    for path in paths:
        if not path:
            raise InvalidClaim("a claims path pointer must not be empty")
        node = root
        wildcard = False
        for step in path:
            if step is None:
                wildcard = True
            elif type(step) is int:
                if step < 0:
                    raise InvalidClaim("a claims path index must not be negative")
            elif type(step) is not str:
                raise InvalidClaim("a claims path step must be a string, an integer or null")
            node = node.children.setdefault(step, _Node())
        if not node.sd:
            node.sd = True
            node.required = not wildcard
            required += not wildcard
    return root, required


def _merge(a: _Node | None, b: _Node | None) -> _Node | None:
    if a is None:
        return b
    if b is None:
        return a
    m = _Node()
    m.sd = a.sd or b.sd
    m.required = False
    for key in set(a.children) | set(b.children):
        merged = _merge(a.children.get(key), b.children.get(key))
        assert merged is not None
        m.children[key] = merged
    return m


class _SaltSource:
    """Salts from the OS CSPRNG (RFC 9901 §4.2.1, §9.3).

    Each salt is 22 base64url characters cut from the encoding of a batch of ``os.urandom`` bytes: 132 random
    bits, at least the 128 bits (16 bytes) the RFC recommends, at a fraction of the cost of one call per salt.
    """

    __slots__ = ("_buf", "_pos")

    _BATCH_BYTES = 1188  # encodes to 1584 characters = 72 salts, no padding

    def __init__(self) -> None:
        self._buf = ""
        self._pos = 0

    def __call__(self) -> str:
        p = self._pos
        if p >= len(self._buf):
            self._buf = b64u_encode(os.urandom(self._BATCH_BYTES))
            p = 0
        self._pos = p + 22
        return self._buf[p:p + 22]


_RESERVED = FORBIDDEN_CLAIM_NAMES | {SD_ALG}
_new_disclosure: Callable[[tuple[str, str, str | None, Any]], Disclosure] = functools.partial(
    tuple.__new__, Disclosure)
# Disclosures are written as json.dumps(value, ensure_ascii=False) (the RFC 9901 examples' form), byte for byte.
_spaced_json: Callable[[Any], bytes] = jsonutil.dumps_spaced
_json_string: Callable[[str], bytes] = jsonutil.dumps_string


class SdJwtIssuer:
    """Issues SD-JWTs with one signing key (RFC 9901 §4).

    ``typ`` is the explicit type of the issuer JWT (§9.11; e.g. ``dc+sd-jwt`` for SD-JWT VC). ``decoys`` is the
    number of decoy digests added to every ``_sd`` array, ``array_decoys`` the number of decoy elements added to
    every array that has a disclosable element (§4.2.5). ``salt`` replaces the CSPRNG salt source (tests only).
    """

    def __init__(
        self,
        key: jose.SigningKey,
        *,
        typ: str | None = None,
        sd_alg: str = DEFAULT_SD_ALG,
        decoys: int = 0,
        array_decoys: int = 0,
        include_x5c: bool | None = None,
        header: Mapping[str, Any] | None = None,
        salt: Callable[[], str] | None = None,
    ) -> None:
        hash_function(sd_alg)
        if decoys < 0 or array_decoys < 0:
            raise ValueError("decoy counts must not be negative")
        self._key = key
        self._typ = typ
        self._sd_alg = sd_alg
        self._hash = hash_function(sd_alg)
        self._decoys = decoys
        self._array_decoys = array_decoys
        self._include_x5c = bool(key.x5c) if include_x5c is None else include_x5c
        self._header = dict(header or {})
        self._signer = jose.JwsSigner(key, typ=typ, header=self._header or None, include_x5c=self._include_x5c)
        self._salt = salt or _SaltSource()

    def issue(
        self,
        claims: Mapping[str, Any],
        *,
        disclosable: Iterable[ClaimPath] = (),
        holder_jwk: Mapping[str, Any] | None = None,
        header: Mapping[str, Any] | None = None,
    ) -> IssuedSdJwt:
        """Issue ``claims`` with the claims at ``disclosable`` paths (and :func:`sd` values) selectively disclosable.

        ``holder_jwk`` adds ``cnf: {"jwk": ...}`` (RFC 7800 §3.2) for key binding. Raises :class:`InvalidClaim`
        for a forbidden claim name (``_sd``, ``...``, ``_sd_alg``), a path that matches no claim, or a path that
        runs through a non-container.
        """
        if not isinstance(claims, Mapping):
            raise InvalidClaim("claims must be a JSON object")
        paths = tuple([p if type(p) is tuple else tuple(p) for p in disclosable])
        root, required = _trie(paths) if paths else (None, 0)
        hits: set[int] = set()
        disclosures: list[Disclosure] = []
        salt = self._salt
        hashf = self._hash

        def digest_of(encoded: str) -> str:
            return b64u_encode(hashf(encoded.encode("ascii")).digest())

        def decoy() -> str:
            return digest_of(b64u_encode(secrets.token_bytes(16)))

        def walk(v: Any, node: _Node | None) -> Any:
            t = type(v)
            if t is dict:
                return walk_obj(v, node)
            if t is list:
                return walk_arr(v, node)
            if t is str or t is int or t is bool or t is float or v is None:
                if node is not None and node.children:
                    raise InvalidClaim("a claims path runs through a value that is neither object nor array")
                return v
            if t is Disclosable:
                raise InvalidClaim("a disclosable value must not itself be wrapped in sd()")
            if isinstance(v, Mapping):
                return walk_obj(dict(v), node)
            if isinstance(v, tuple):
                return walk_arr(list(v), node)
            raise InvalidClaim("a claim value is not JSON-serializable")

        def walk_obj(o: Mapping[str, Any], node: _Node | None) -> dict[str, Any]:
            out: dict[str, Any] = {}
            digests: list[str] | None = None
            children = node.children if node is not None else None
            for k, v in o.items():
                if k in _RESERVED or type(k) is not str:
                    raise InvalidClaim("claim names must be strings other than _sd, ... and _sd_alg")
                is_sd = False
                if type(v) is Disclosable:
                    is_sd = True
                    v = v.value
                child = children.get(k) if children else None
                if child is not None and child.sd:
                    is_sd = True
                    if child.required:
                        hits.add(id(child))
                tv = type(v)
                if (tv is str or tv is int or tv is bool) and (child is None or not child.children):
                    enc = v
                else:
                    enc = walk(v, child)
                if is_sd:
                    s = salt()
                    encoded = b64u_encode(b"[%b, %b, %b]" % (_json_string(s), _json_string(k), _spaced_json(enc)))
                    disclosures.append(_new_disclosure((encoded, s, k, enc)))
                    if digests is None:
                        digests = []
                    digests.append(b64u_encode(hashf(encoded.encode("ascii")).digest()))
                else:
                    out[k] = enc
            if digests is not None:
                for _ in range(self._decoys):
                    digests.append(decoy())
                digests.sort()
                out[SD] = digests
            return out

        def walk_arr(a: list[Any], node: _Node | None) -> list[Any]:
            out: list[Any] = []
            children = node.children if node is not None else None
            wildcard = children.get(None) if children else None
            any_sd = False
            for i, el in enumerate(a):
                is_sd = False
                if type(el) is Disclosable:
                    is_sd = True
                    el = el.value
                idx = children.get(i) if children else None
                if idx is not None and idx.sd and idx.required:
                    hits.add(id(idx))
                child = _merge(idx, wildcard)
                if child is not None and child.sd:
                    is_sd = True
                enc = walk(el, child)
                if is_sd:
                    any_sd = True
                    s = salt()
                    encoded = b64u_encode(b"[%b, %b]" % (_json_string(s), _spaced_json(enc)))
                    disclosures.append(_new_disclosure((encoded, s, None, enc)))
                    out.append({ARRAY_DIGEST: digest_of(encoded)})
                else:
                    out.append(enc)
            if any_sd:
                for _ in range(self._array_decoys):
                    out.insert(secrets.randbelow(len(out) + 1), {ARRAY_DIGEST: decoy()})
            return out

        try:
            payload = walk_obj(claims, root)
        except (ParsingError, TypeError, ValueError, RecursionError) as exc:
            raise InvalidClaim("the claims are not JSON-serializable") from exc
        if len(hits) != required:
            raise InvalidClaim("a disclosable claims path matches no claim")
        payload[SD_ALG] = self._sd_alg
        if holder_jwk is not None:
            if "cnf" in claims:
                raise InvalidClaim("cnf is given twice (claims and holder_jwk)")
            try:
                jose.public_key_from_jwk(holder_jwk)
            except (InvalidHeader, ParsingError, UnsupportedAlgorithm) as exc:
                raise InvalidClaim("the holder key must be a public JWK") from exc
            payload["cnf"] = {"jwk": dict(holder_jwk)}
        try:
            body = jsonutil.dumps(payload)
        except ParsingError as exc:
            raise InvalidClaim("the claims are not JSON-serializable") from exc
        if header is None:
            jwt = self._signer.sign(body)
        else:
            jwt = jose.sign_jws(body, self._key, typ=self._typ, header={**self._header, **header},
                                include_x5c=self._include_x5c)
        return IssuedSdJwt(jwt, tuple(disclosures), payload)
