"""RFC 9901 §7.1 steps 3 to 6: rebuild the processed payload from the issuer-signed payload and the disclosures.

Shared by the verifier (:mod:`.verify`) and the holder (:mod:`.present`), so both apply exactly the same rules:
every digest at most once (directly or through recursion), every disclosure referenced exactly once, 3-element
disclosures only in ``_sd``, 2-element ones only in arrays, no ``_sd``/``...`` claim names, no name collisions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eidcore.errors import DuplicateDisclosure, InvalidClaim, InvalidDisclosure, UnreferencedDisclosure
from eidcore.formats.sd_jwt.model import (
    ARRAY_DIGEST,
    FORBIDDEN_CLAIM_NAMES,
    SD,
    SD_ALG,
    ConcretePath,
    Disclosure,
)

_SPECIAL = frozenset({SD, ARRAY_DIGEST, SD_ALG})


@dataclass(slots=True)
class Processed:
    """The processed payload and, per used disclosure digest, the path where its claim landed."""

    claims: dict[str, Any]
    paths: dict[str, ConcretePath]


def index_disclosures(disclosures: Sequence[Disclosure], digests: Sequence[str]) -> dict[str, Disclosure]:
    """Map digest -> disclosure (§7.1 step 2); the same disclosure twice is a :class:`DuplicateDisclosure`."""
    by_digest = dict(zip(digests, disclosures, strict=True))
    if len(by_digest) != len(digests):
        raise DuplicateDisclosure("the same disclosure is presented more than once")
    return by_digest


def process(payload: Mapping[str, Any], by_digest: Mapping[str, Disclosure]) -> Processed:
    """Apply §7.1 steps 3-6 to the issuer-signed ``payload``; raises the specific disclosure error."""
    seen: set[str] = set()
    paths: dict[str, ConcretePath] = {}

    def value(v: Any, path: ConcretePath) -> Any:
        t = type(v)
        if t is dict:
            return obj(v, path, False)
        if t is list:
            return arr(v, path)
        return v

    def obj(o: Mapping[str, Any], path: ConcretePath, top: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        sd = None
        for k, v in o.items():
            if k in _SPECIAL:
                if k == SD:
                    sd = v
                    continue
                if k == ARRAY_DIGEST:
                    raise InvalidClaim("the name ... may appear only in an array element {\"...\": digest}")
                if not top:
                    raise InvalidClaim("_sd_alg may appear only at the top level")
                continue
            t = type(v)
            if t is dict:
                out[k] = obj(v, (*path, k), False)
            elif t is list:
                out[k] = arr(v, (*path, k))
            else:
                out[k] = v
        if sd is None:
            return out
        if type(sd) is not list:
            raise InvalidClaim("_sd must be an array of digests")
        for d in sd:
            if type(d) is not str:
                raise InvalidClaim("_sd must be an array of digest strings")
            if d in seen:
                raise DuplicateDisclosure("a digest appears more than once in the payload")
            seen.add(d)
            disclosure = by_digest.get(d)
            if disclosure is None:
                continue  # a decoy or an undisclosed claim
            name = disclosure.name
            if name is None:
                raise InvalidDisclosure("an array-element disclosure is referenced from _sd")
            if name in FORBIDDEN_CLAIM_NAMES:
                raise InvalidDisclosure("a disclosure uses the forbidden claim name _sd or ...")
            if name in out or name in o:
                raise InvalidDisclosure("a disclosed claim name collides with a claim at the same level")
            p = (*path, name)
            paths[d] = p
            out[name] = value(disclosure.value, p)
        return out

    def arr(a: Sequence[Any], path: ConcretePath) -> list[Any]:
        out: list[Any] = []
        for el in a:
            if type(el) is dict and ARRAY_DIGEST in el:
                if len(el) != 1:
                    raise InvalidClaim("an array digest element {\"...\": digest} must have no other keys")
                d = el[ARRAY_DIGEST]
                if type(d) is not str:
                    raise InvalidClaim("an array digest must be a string")
                if d in seen:
                    raise DuplicateDisclosure("a digest appears more than once in the payload")
                seen.add(d)
                disclosure = by_digest.get(d)
                if disclosure is None:
                    continue  # decoy or undisclosed element: dropped (§7.1 step 3)
                if disclosure.name is not None:
                    raise InvalidDisclosure("an object-property disclosure is referenced from an array")
                p = (*path, len(out))
                paths[d] = p
                out.append(value(disclosure.value, p))
            else:
                out.append(value(el, (*path, len(out))))
        return out

    claims = obj(payload, (), True)
    if len(paths) != len(by_digest):
        raise UnreferencedDisclosure("a disclosure is not referenced by any digest")
    return Processed(claims, paths)
