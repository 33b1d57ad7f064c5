"""SD-JWT (RFC 9901) data model: constants, disclosures, digests and the two serializations.

- Disclosures (RFC 9901 §4.2.1, §4.2.2): base64url of the UTF-8 JSON array ``[salt, name, value]`` (object
  property) or ``[salt, value]`` (array element). Digests (§4.2.3) are over the ASCII bytes of that string.
- Compact serialization (§4): ``<issuer JWT>~<disclosure>~...~[<KB-JWT>]``.
- JWS JSON serialization (§8): the unprotected header carries ``disclosures`` and ``kb_jwt``; ``sd_hash`` is
  still computed over the compact form rebuilt from it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from eidcore import jsonutil
from eidcore.encoding import b64u_decode, b64u_encode
from eidcore.errors import InvalidDisclosure, ParsingError, UnsupportedAlgorithm

# Spec constants (RFC 9901), grouped in one place.
SD = "_sd"
"""§4.2.4.1: the array of digests of selectively disclosable object properties."""
ARRAY_DIGEST = "..."
"""§4.2.4.2: the key of ``{"...": digest}`` array elements."""
SD_ALG = "_sd_alg"
"""§4.1.1: the hash algorithm name, top level only."""
DEFAULT_SD_ALG = "sha-256"
KB_JWT_TYP = "kb+jwt"
"""§4.3: the KB-JWT ``typ``."""
SD_HASH = "sd_hash"
SEPARATOR = "~"
FORBIDDEN_CLAIM_NAMES = frozenset({SD, ARRAY_DIGEST})
"""§4.2.1: names a disclosure (or an issued claim) must never use."""

HASH_FUNCTIONS: dict[str, Callable[[bytes], Any]] = {
    "sha-256": hashlib.sha256,
    "sha-384": hashlib.sha384,
    "sha-512": hashlib.sha512,
}
"""IANA "Named Information Hash Algorithm" names understood for ``_sd_alg`` (§4.1.1)."""

ClaimPath = Sequence[str | int | None]
"""A claims path pointer (OpenID4VP 1.0 §7, OpenID4VCI 1.0 Appendix C): string = object key, int = array index,
``None`` = all array elements."""

ConcretePath = tuple[str | int, ...]
"""A path to one value in the processed payload (object keys and array indices only)."""


def hash_function(sd_alg: str) -> Callable[[bytes], Any]:
    """The hash for an ``_sd_alg`` name (§4.1.1); :class:`UnsupportedAlgorithm` when unknown."""
    try:
        return HASH_FUNCTIONS[sd_alg]
    except (KeyError, TypeError):
        raise UnsupportedAlgorithm("the _sd_alg hash algorithm is not supported") from None


def digest(encoded: str, sd_alg: str = DEFAULT_SD_ALG) -> str:
    """RFC 9901 §4.2.3: base64url of the hash over the ASCII bytes of a disclosure (or any SD-JWT string)."""
    return b64u_encode(hash_function(sd_alg)(encoded.encode("ascii")).digest())


class Disclosure(NamedTuple):
    """One disclosure: its transmitted base64url form and the decoded salt, name (``None`` for an array element)
    and value."""

    encoded: str
    salt: str
    name: str | None
    value: Any

    @property
    def is_array_element(self) -> bool:
        return self.name is None

    @classmethod
    def create(cls, salt: str, name: str | None, value: Any) -> Disclosure:
        """Encode a disclosure (§4.2.1 / §4.2.2) as the RFC's examples do (``json.dumps`` defaults, raw UTF-8)."""
        if name is not None and name in FORBIDDEN_CLAIM_NAMES:
            raise InvalidDisclosure("a disclosure must not use the claim name _sd or ...")
        array = [salt, value] if name is None else [salt, name, value]
        return cls(b64u_encode(jsonutil.dumps_spaced(array)), salt, name, value)

    @classmethod
    def parse(cls, encoded: str) -> Disclosure:
        """Decode a received disclosure; :class:`InvalidDisclosure` unless it is a well-formed 2- or 3-array."""
        try:
            array = jsonutil.loads(b64u_decode(encoded, what="disclosure"), what="disclosure")
        except (ParsingError, ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise InvalidDisclosure("a disclosure is not base64url-encoded JSON") from exc
        if type(array) is not list or len(array) not in (2, 3):
            raise InvalidDisclosure("a disclosure must be a JSON array of 2 or 3 elements")
        if type(array[0]) is not str:
            raise InvalidDisclosure("a disclosure salt must be a string")
        if len(array) == 2:
            return cls(encoded, array[0], None, array[1])
        if type(array[1]) is not str:
            raise InvalidDisclosure("a disclosure claim name must be a string")
        return cls(encoded, array[0], array[1], array[2])

    def digest(self, sd_alg: str = DEFAULT_SD_ALG) -> str:
        """This disclosure's digest (§4.2.3)."""
        return digest(self.encoded, sd_alg)


@dataclass(slots=True)
class SdJwtParts:
    """An SD-JWT or SD-JWT+KB split into its components; nothing verified."""

    jwt: str
    disclosures: tuple[str, ...]
    kb_jwt: str | None
    compact_prefix: str | None = None
    """The received ``jwt~d1~...~`` when the input was compact (saves rebuilding it for ``sd_hash``)."""

    @property
    def sd_jwt(self) -> str:
        """The SD-JWT without KB-JWT, i.e. the string ``sd_hash`` covers (§4.3.1): ``jwt~d1~...~``."""
        if self.compact_prefix is not None:
            return self.compact_prefix
        return serialize_compact(self.jwt, self.disclosures)


def serialize_compact(jwt: str, disclosures: Sequence[str], kb_jwt: str | None = None) -> str:
    """RFC 9901 §4: ``jwt~d1~...~dn~[kb_jwt]`` (the trailing ``~`` is always there)."""
    if disclosures:
        return f"{jwt}~{'~'.join(disclosures)}~{kb_jwt or ''}"
    return f"{jwt}~{kb_jwt or ''}"


def serialize_json(jwt: str, disclosures: Sequence[str], kb_jwt: str | None = None) -> dict[str, Any]:
    """RFC 9901 §8.1: flattened JWS JSON serialization with ``disclosures`` (and ``kb_jwt``) unprotected."""
    protected, payload, signature = jwt.split(".")
    header: dict[str, Any] = {"disclosures": list(disclosures)}
    if kb_jwt is not None:
        header["kb_jwt"] = kb_jwt
    return {"header": header, "payload": payload, "protected": protected, "signature": signature}


def split_compact(serialized: str, *, max_bytes: int) -> SdJwtParts:
    """Split the compact form (§4, §7.1 step 1); :class:`ParsingError` when it is not an SD-JWT shape."""
    if not isinstance(serialized, str):
        raise ParsingError("an SD-JWT must be a string")
    if len(serialized) > max_bytes:
        raise ParsingError("the SD-JWT is larger than allowed")
    parts = serialized.split(SEPARATOR)
    if len(parts) < 2:
        raise ParsingError("an SD-JWT needs at least one ~ separator")
    jwt, *middle, last = parts
    if jwt.count(".") != 2:
        raise ParsingError("the issuer-signed JWT is not a compact JWS")
    if any(not d for d in middle):
        raise InvalidDisclosure("an empty disclosure (~~) is not allowed")
    if last and last.count(".") != 2:
        raise ParsingError("the last component is neither empty nor a KB-JWT")
    return SdJwtParts(jwt, tuple(middle), last or None, serialized[: len(serialized) - len(last)])


def split_json(document: Mapping[str, Any] | str, *, max_bytes: int) -> SdJwtParts:
    """Read the flattened or one-signature general JWS JSON serialization (§8.1); returns compact parts."""
    if isinstance(document, str):
        if len(document) > max_bytes:
            raise ParsingError("the SD-JWT is larger than allowed")
        document = jsonutil.loads(document, what="the SD-JWT JSON serialization")
    if not isinstance(document, Mapping):
        raise ParsingError("the SD-JWT JSON serialization must be an object")
    if "signatures" in document:
        sigs = document["signatures"]
        if not isinstance(sigs, list) or len(sigs) != 1 or not isinstance(sigs[0], Mapping):
            raise ParsingError("only a single signature is supported in the general JSON serialization")
        protected, signature, header = sigs[0].get("protected"), sigs[0].get("signature"), sigs[0].get("header")
    else:
        protected, signature, header = document.get("protected"), document.get("signature"), document.get("header")
    payload = document.get("payload")
    if not all(isinstance(v, str) and v for v in (protected, payload, signature)):
        raise ParsingError("protected, payload and signature must be non-empty strings")
    if not isinstance(header, Mapping):
        raise ParsingError("the unprotected header with disclosures is missing")
    disclosures = header.get("disclosures", [])
    if not isinstance(disclosures, list) or not all(isinstance(d, str) and d for d in disclosures):
        raise InvalidDisclosure("disclosures must be an array of non-empty strings")
    kb_jwt = header.get("kb_jwt")
    if kb_jwt is not None and (not isinstance(kb_jwt, str) or kb_jwt.count(".") != 2):
        raise ParsingError("kb_jwt must be a compact JWS string")
    return SdJwtParts(f"{protected}.{payload}.{signature}", tuple(disclosures), kb_jwt)


def split(serialized: str | Mapping[str, Any], *, max_bytes: int) -> SdJwtParts:
    """Split either serialization: a mapping or a string starting with ``{`` is the JSON one."""
    if isinstance(serialized, Mapping) or (isinstance(serialized, str) and serialized.startswith("{")):
        return split_json(serialized, max_bytes=max_bytes)
    return split_compact(serialized, max_bytes=max_bytes)
