"""SD-JWT holder: RFC 9901 §4.3 (Key Binding JWT), §5.2 (presentation), §7.2 (processing by the holder).

One role, one module. :class:`SdJwtHolder` loads an issued SD-JWT (rejecting an SD-JWT+KB from an issuer and
applying the same disclosure rules as the verifier), selects disclosures by claims path pointers (OpenID4VP 1.0
§7: string = key, int = index, ``None`` = all elements) and presents them, optionally with a KB-JWT
(``typ`` ``kb+jwt``; ``iat``, ``aud``, ``nonce``, ``sd_hash`` over ``jwt~d1~...~``).

Selecting a claim discloses the claim, every disclosure it is nested in (a disclosure sent requires its parents,
§4.2.6) and everything inside it. The holder checks the issuer's signature separately, at receipt, with
:class:`~eidcore.formats.sd_jwt.verify.SdJwtVerifier` and :data:`~eidcore.formats.sd_jwt.verify.MUST_NOT_BE_PRESENT`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from eidcore import jose, jsonutil
from eidcore.clock import SYSTEM_CLOCK, Clock
from eidcore.errors import InvalidClaim, KeyBindingFailed, MissingClaim, ParsingError
from eidcore.formats.sd_jwt._process import index_disclosures, process
from eidcore.formats.sd_jwt.model import (
    DEFAULT_SD_ALG,
    KB_JWT_TYP,
    SD_ALG,
    SD_HASH,
    ClaimPath,
    ConcretePath,
    Disclosure,
    digest,
    hash_function,
    serialize_compact,
    serialize_json,
    split,
)

__all__ = ["HeldSdJwt", "KeyBinding", "SdJwtHolder", "resolve_claim_path"]


@dataclass(frozen=True)
class KeyBinding:
    """What the KB-JWT binds to (RFC 9901 §4.3): the holder key, the verifier's ``aud`` and ``nonce``.

    ``issued_at`` defaults to the holder's clock. ``extra_claims`` adds e.g. ``transaction_data_hashes``
    (OpenID4VP 1.0 Appendix B.3.3); it cannot override ``iat``, ``aud``, ``nonce`` or ``sd_hash``.
    """

    key: jose.SigningKey
    audience: str
    nonce: str
    issued_at: int | None = None
    extra_claims: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HeldSdJwt:
    """An issued SD-JWT as the holder keeps it: the issuer JWT, all disclosures and where each one lands."""

    jwt: str
    header: dict[str, Any]
    payload: dict[str, Any]
    claims: dict[str, Any]
    disclosures: tuple[Disclosure, ...]
    paths: tuple[ConcretePath, ...]
    """``paths[i]`` is where ``disclosures[i]`` lands in ``claims``."""
    sd_alg: str = DEFAULT_SD_ALG

    @property
    def compact(self) -> str:
        return serialize_compact(self.jwt, [d.encoded for d in self.disclosures])


def resolve_claim_path(claims: Mapping[str, Any], path: ClaimPath) -> list[ConcretePath]:
    """Resolve a claims path pointer (OpenID4VP 1.0 §7) against processed claims; [] when nothing matches.

    Raises :class:`InvalidClaim` for an empty path or a step that is not string / non-negative int / null.
    """
    if not path:
        raise InvalidClaim("a claims path pointer must not be empty")
    current: list[tuple[ConcretePath, Any]] = [((), claims)]
    for step in path:
        nxt: list[tuple[ConcretePath, Any]] = []
        if type(step) is str:
            for p, v in current:
                if isinstance(v, Mapping) and step in v:
                    nxt.append(((*p, step), v[step]))
        elif step is None:
            for p, v in current:
                if isinstance(v, list):
                    nxt.extend(((*p, i), e) for i, e in enumerate(v))
        elif type(step) is int and step >= 0:
            for p, v in current:
                if isinstance(v, list) and step < len(v):
                    nxt.append(((*p, step), v[step]))
        else:
            raise InvalidClaim("a claims path step must be a string, a non-negative integer or null")
        current = nxt
    return [p for p, _ in current]


class SdJwtHolder:
    """Loads issued SD-JWTs and builds presentations (RFC 9901 §5.2, §7.2)."""

    def __init__(self, *, clock: Clock = SYSTEM_CLOCK, max_bytes: int = 512 * 1024) -> None:
        self._clock = clock
        self._max_bytes = max_bytes

    def load(self, issued: str | Mapping[str, Any]) -> HeldSdJwt:
        """Parse an issued SD-JWT and process its disclosures (§7.2 step 1); refuses an SD-JWT+KB (§5.1).

        Applies every disclosure rule of the verifier (duplicates, unreferenced, collisions, forbidden names).
        """
        parts = split(issued, max_bytes=self._max_bytes)
        if parts.kb_jwt is not None:
            raise KeyBindingFailed("an issuer must not send an SD-JWT+KB", reason="unexpected")
        jws = jose.parse_jws(parts.jwt, max_bytes=self._max_bytes)
        payload = jsonutil.loads_object(jws.payload, what="SD-JWT payload")
        sd_alg = payload.get(SD_ALG, DEFAULT_SD_ALG)
        if not isinstance(sd_alg, str):
            raise InvalidClaim("_sd_alg must be a string")
        hash_function(sd_alg)
        disclosures = tuple(Disclosure.parse(d) for d in parts.disclosures)
        digests = [digest(d, sd_alg) for d in parts.disclosures]
        processed = process(payload, index_disclosures(disclosures, digests))
        paths = tuple(processed.paths[d] for d in digests)
        return HeldSdJwt(parts.jwt, jws.header, payload, processed.claims, disclosures, paths, sd_alg)

    def select(self, held: HeldSdJwt, disclose: Iterable[ClaimPath]) -> list[Disclosure]:
        """The disclosures needed to reveal the claims at ``disclose`` (with their parents and their contents).

        Raises :class:`MissingClaim` when a path matches nothing in the credential.
        """
        targets: list[ConcretePath] = []
        for path in disclose:
            found = resolve_claim_path(held.claims, path)
            if not found:
                raise MissingClaim("a requested claim is not in the credential")
            targets.extend(found)
        chosen: list[Disclosure] = []
        for d, dp in zip(held.disclosures, held.paths, strict=True):
            n = len(dp)
            for t in targets:
                m = len(t)
                if (n <= m and t[:n] == dp) or (m < n and dp[:m] == t):
                    chosen.append(d)
                    break
        return chosen

    def present(
        self,
        held: HeldSdJwt | str,
        *,
        disclose: Iterable[ClaimPath] | None,
        key_binding: KeyBinding | None = None,
        serialization: Literal["compact", "json"] = "compact",
    ) -> str | dict[str, Any]:
        """Build a presentation (§5.2): the selected disclosures (all when ``disclose`` is None) and a KB-JWT.

        The compact form is ``jwt~d1~...~dn~`` or ``jwt~d1~...~dn~<KB-JWT>``; ``"json"`` gives the flattened JWS
        JSON serialization (§8.1) with ``sd_hash`` still over the compact form.
        """
        if isinstance(held, str):
            held = self.load(held)
        chosen = list(held.disclosures) if disclose is None else self.select(held, disclose)
        encoded = [d.encoded for d in chosen]
        kb_jwt = None
        if key_binding is not None:
            kb_jwt = self.key_binding_jwt(serialize_compact(held.jwt, encoded), key_binding, held.sd_alg)
        if serialization == "json":
            return serialize_json(held.jwt, encoded, kb_jwt)
        if serialization != "compact":
            raise ParsingError("serialization must be compact or json")
        return serialize_compact(held.jwt, encoded, kb_jwt)

    def key_binding_jwt(self, sd_jwt: str, kb: KeyBinding, sd_alg: str = DEFAULT_SD_ALG) -> str:
        """RFC 9901 §4.3: sign ``{iat, aud, nonce, sd_hash}`` with ``typ`` ``kb+jwt`` over ``sd_jwt`` (``jwt~...~``)."""
        reserved = {"iat", "aud", "nonce", SD_HASH}.intersection(kb.extra_claims)
        if reserved:
            raise InvalidClaim("extra KB-JWT claims must not override iat, aud, nonce or sd_hash")
        claims: dict[str, Any] = {
            "iat": int(self._clock.timestamp()) if kb.issued_at is None else kb.issued_at,
            "aud": kb.audience,
            "nonce": kb.nonce,
            SD_HASH: digest(sd_jwt, sd_alg),
            **kb.extra_claims,
        }
        return jose.sign_jwt(claims, kb.key, typ=KB_JWT_TYP, include_kid=False)
