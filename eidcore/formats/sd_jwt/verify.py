"""SD-JWT verifier: RFC 9901 §7.1 (SD-JWT verification) and §7.3 (verifier and key binding).

One role, one module. :class:`SdJwtVerifier` checks, in this order: the serialization; the issuer-signed JWT
(algorithm allow-list, ``typ`` when the profile sets one, signature with the issuer key or a resolver); ``_sd_alg``;
every disclosure's digest, uniqueness and use (via the shared processor); the validity claims ``exp``/``nbf``/``iat``
of the processed payload against an injected clock with a skew; and key binding as an explicit policy:
:class:`KeyBindingRequired` (a KB-JWT with ``typ`` ``kb+jwt``, a valid signature by the ``cnf`` key, ``iat`` in a
window, matching ``nonce``, ``aud`` and ``sd_hash``) or :class:`KeyBindingForbidden` (an SD-JWT without KB-JWT).
Each failure raises the specific class from :mod:`eidcore.errors`; key binding failures carry a ``reason``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from eidcore import jose, jsonutil
from eidcore.claims import DEFAULT_LEEWAY, validate_times
from eidcore.clock import SYSTEM_CLOCK, Clock
from eidcore.encoding import b64u_encode
from eidcore.errors import (
    FormatError,
    InvalidClaim,
    InvalidHeader,
    InvalidSignature,
    KeyBindingFailed,
    MissingClaim,
    ParsingError,
    UnsupportedAlgorithm,
)
from eidcore.formats.sd_jwt._process import index_disclosures, process
from eidcore.formats.sd_jwt.model import (
    DEFAULT_SD_ALG,
    HASH_FUNCTIONS,
    KB_JWT_TYP,
    SD_ALG,
    SD_HASH,
    ConcretePath,
    Disclosure,
    SdJwtParts,
    digest,
    hash_function,
    split,
)

__all__ = [
    "MUST_NOT_BE_PRESENT",
    "IssuerKeyResolver",
    "KeyBindingForbidden",
    "KeyBindingPolicy",
    "KeyBindingRequired",
    "SdJwtVerifier",
    "VerifiedSdJwt",
    "check_time_claims",
    "holder_key_from_cnf",
]


class IssuerKeyResolver(Protocol):
    """Finds the issuer's verification key for an issuer-signed JWT (RFC 9901 §7.1 step 1: "the key belongs to
    the issuer"). It sees the header and the still unverified claims (e.g. ``iss``, ``x5c``, ``kid``) and must raise
    :class:`~eidcore.errors.UntrustedIssuer` (or a more specific error) when it cannot vouch for a key."""

    def __call__(self, jws: jose.UnverifiedJws, claims: Mapping[str, Any]) -> jose.KeyLike: ...


def holder_key_from_cnf(claims: Mapping[str, Any]) -> jose.PublicKey:
    """The holder key from ``cnf.jwk`` (RFC 7800 §3.2) of the processed payload; ``KeyBindingFailed('cnf')``."""
    cnf = claims.get("cnf")
    if type(cnf) is not dict or type(cnf.get("jwk")) is not dict:
        raise KeyBindingFailed("the credential has no cnf.jwk holder key", reason="cnf")
    try:
        return jose.public_key_from_jwk(cnf["jwk"])
    except (ParsingError, InvalidHeader, UnsupportedAlgorithm) as exc:
        raise KeyBindingFailed("cnf.jwk is not a usable public key", reason="cnf") from exc


@dataclass(frozen=True)
class KeyBindingRequired:
    """Key binding must be present and valid (RFC 9901 §7.3): the KB-JWT ``nonce`` and ``aud`` must equal these
    values, ``iat`` must lie within ``max_age_seconds`` (plus the verifier's clock skew) of now."""

    audience: str
    nonce: str
    algorithms: frozenset[str] = frozenset({"ES256"})
    max_age_seconds: int = 300
    holder_key: Callable[[Mapping[str, Any]], jose.KeyLike] | None = None
    """How to find the holder key in the processed payload; ``cnf.jwk`` by default."""

    @functools.cached_property
    def jws_policy(self) -> jose.JwsPolicy:
        return jose.JwsPolicy(algorithms=self.algorithms, typ=KB_JWT_TYP, max_bytes=16 * 1024)


@dataclass(frozen=True)
class KeyBindingForbidden:
    """Key binding must not be present: the input must end with ``~`` (RFC 9901 §7.1, plain SD-JWT)."""


KeyBindingPolicy = KeyBindingRequired | KeyBindingForbidden
MUST_NOT_BE_PRESENT = KeyBindingForbidden()


@dataclass(slots=True)
class VerifiedSdJwt:
    """A verified SD-JWT (and KB-JWT when the policy required one).

    ``claims`` is the processed payload (§7.1 step 5: no ``_sd``, no ``_sd_alg``, undisclosed claims absent).
    ``signed_payload`` is the issuer-signed payload as is. ``disclosed_paths`` maps each disclosed claim's path in
    ``claims`` to its disclosure. ``key_binding`` is the verified KB-JWT or ``None`` (policy forbidden).
    """

    header: dict[str, Any]
    claims: dict[str, Any]
    signed_payload: dict[str, Any] = field(repr=False)
    disclosures: tuple[Disclosure, ...] = field(repr=False)
    disclosed_paths: dict[ConcretePath, Disclosure] = field(repr=False)
    issuer_key: jose.PublicKey = field(repr=False)
    key_binding: jose.VerifiedJwt | None = field(repr=False)
    sd_alg: str = DEFAULT_SD_ALG


def check_time_claims(claims: Mapping[str, Any], now: float, skew: float, *, require_exp: bool = False) -> None:
    """RFC 9901 §7.1 step 5 with RFC 7519 §4.1.4/§4.1.5/§4.1.6: ``exp``, ``nbf`` and a future ``iat``, by
    :func:`eidcore.claims.validate_times`."""
    validate_times(claims, now=now, leeway=skew, require=("exp",) if require_exp else (), what="the credential")


class SdJwtVerifier:
    """Verifies SD-JWTs and SD-JWT+KBs from one issuer key (or resolver) under one profile.

    ``typ`` is the issuer JWT type the profile requires (e.g. ``dc+sd-jwt``; ``None`` skips the check), ``algorithms``
    the issuer JWS allow-list, ``sd_algorithms`` the acceptable ``_sd_alg`` values, ``clock_skew`` in seconds.
    """

    def __init__(
        self,
        issuer_key: jose.KeyLike | jose.SigningKey | IssuerKeyResolver,
        *,
        clock: Clock = SYSTEM_CLOCK,
        algorithms: frozenset[str] = frozenset({"ES256"}),
        typ: str | None = None,
        sd_algorithms: frozenset[str] = frozenset({DEFAULT_SD_ALG}),
        clock_skew: int = DEFAULT_LEEWAY,
        require_exp: bool = False,
        required_claims: tuple[str, ...] = (),
        max_bytes: int = 512 * 1024,
        understood_crit: frozenset[str] = frozenset(),
    ) -> None:
        self._resolver: IssuerKeyResolver | None
        if callable(issuer_key) and not isinstance(issuer_key, Mapping | jose.SigningKey):
            self._resolver = issuer_key
            self._key: jose.PublicKey | None = None
        else:
            self._resolver = None
            self._key = jose.as_public_key(issuer_key)
        self._clock = clock
        self._policy = jose.JwsPolicy(algorithms=algorithms, typ=typ, max_bytes=max_bytes,
                                      understood_crit=understood_crit)
        self._sd_algorithms = sd_algorithms
        self._skew = clock_skew
        self._require_exp = require_exp
        self._required = required_claims
        self._max_bytes = max_bytes

    def verify(self, serialized: str | Mapping[str, Any], key_binding: KeyBindingPolicy) -> VerifiedSdJwt:
        """RFC 9901 §7.1 and §7.3 on a compact or JSON-serialized SD-JWT / SD-JWT+KB."""
        parts = split(serialized, max_bytes=self._max_bytes)
        return self.verify_parts(parts, key_binding)

    def verify_parts(self, parts: SdJwtParts, key_binding: KeyBindingPolicy) -> VerifiedSdJwt:
        """As :meth:`verify`, on an already split input."""
        if isinstance(key_binding, KeyBindingForbidden):
            if parts.kb_jwt is not None:
                raise KeyBindingFailed("a KB-JWT is present but key binding must not be", reason="unexpected")
        elif not isinstance(key_binding, KeyBindingRequired):
            raise TypeError("key_binding must be KeyBindingRequired or KeyBindingForbidden")
        elif parts.kb_jwt is None:
            raise KeyBindingFailed("a KB-JWT is required", reason="missing")

        # Step 1: the issuer-signed JWT.
        jws = jose.parse_jws(parts.jwt, max_bytes=self._max_bytes)
        payload = jsonutil.loads_object(jws.payload, what="SD-JWT payload", reject_duplicates=False)
        key = self._key if self._resolver is None else jose.as_public_key(self._resolver(jws, payload))
        verified = jose.verify_jws(jws, key, self._policy)  # type: ignore[arg-type]
        sd_alg = payload.get(SD_ALG, DEFAULT_SD_ALG)
        if not isinstance(sd_alg, str):
            raise InvalidClaim("_sd_alg must be a string")
        hash_function(sd_alg)
        if sd_alg not in self._sd_algorithms:
            raise UnsupportedAlgorithm(f"_sd_alg {sd_alg} is not acceptable here")

        # Steps 2-6: disclosures.
        parse = Disclosure.parse
        disclosures = tuple([parse(d) for d in parts.disclosures])
        hashf = HASH_FUNCTIONS[sd_alg]
        digests = [b64u_encode(hashf(d.encode("ascii")).digest()) for d in parts.disclosures]
        by_digest = index_disclosures(disclosures, digests)
        processed = process(payload, by_digest)
        claims = processed.claims

        # Step 7: validity claims of the processed payload.
        now = self._clock.timestamp()
        check_time_claims(claims, now, self._skew, require_exp=self._require_exp)
        for name in self._required:
            if name not in claims:
                raise MissingClaim(f"{name} is required")

        kb = None
        if isinstance(key_binding, KeyBindingRequired):
            assert parts.kb_jwt is not None
            kb = _verify_key_binding(parts.kb_jwt, parts.sd_jwt, claims, key_binding, sd_alg, now, self._skew)
        return VerifiedSdJwt(
            header=verified.header,
            claims=claims,
            signed_payload=payload,
            disclosures=disclosures,
            disclosed_paths={p: by_digest[d] for d, p in processed.paths.items()},
            issuer_key=verified.key,
            key_binding=kb,
            sd_alg=sd_alg,
        )


def _verify_key_binding(
    kb_jwt: str,
    sd_jwt: str,
    claims: Mapping[str, Any],
    policy: KeyBindingRequired,
    sd_alg: str,
    now: float,
    skew: float,
) -> jose.VerifiedJwt:
    """RFC 9901 §7.3 step 5: the KB-JWT, checked field by field; every failure is ``KeyBindingFailed(reason)``."""
    holder = policy.holder_key(claims) if policy.holder_key is not None else holder_key_from_cnf(claims)
    try:
        jws = jose.parse_jws(kb_jwt, max_bytes=policy.jws_policy.max_bytes)
    except ParsingError as exc:
        raise KeyBindingFailed("the KB-JWT is malformed", reason="malformed") from exc
    typ = jws.header.get("typ")
    if not isinstance(typ, str) or typ.lower() != KB_JWT_TYP:
        raise KeyBindingFailed("the KB-JWT typ must be kb+jwt", reason="typ")
    try:
        v = jose.verify_jwt(jws, holder, policy.jws_policy)
    except UnsupportedAlgorithm as exc:
        raise KeyBindingFailed("the KB-JWT algorithm is not allowed", reason="alg") from exc
    except InvalidSignature as exc:
        raise KeyBindingFailed("the KB-JWT signature does not verify with the holder key", reason="signature") from exc
    except (InvalidHeader, ParsingError) as exc:
        raise KeyBindingFailed("the KB-JWT header or payload is malformed", reason="malformed") from exc
    except FormatError as exc:  # pragma: no cover - defensive: jose raises only the classes above
        raise KeyBindingFailed("the KB-JWT is invalid", reason="malformed") from exc
    kb = v.claims
    try:
        validate_times(kb, now=now, leeway=skew, require=("iat",), max_age=policy.max_age_seconds, what="the KB-JWT")
    except FormatError as exc:
        raise KeyBindingFailed(exc.description, reason=str(exc.details.get("claim", "iat"))) from exc
    if not isinstance(kb.get("nonce"), str) or kb["nonce"] != policy.nonce:
        raise KeyBindingFailed("the KB-JWT nonce does not match", reason="nonce")
    if not isinstance(kb.get("aud"), str) or kb["aud"] != policy.audience:
        raise KeyBindingFailed("the KB-JWT aud does not match", reason="aud")
    if not isinstance(kb.get(SD_HASH), str) or kb[SD_HASH] != digest(sd_jwt, sd_alg):
        raise KeyBindingFailed("the KB-JWT sd_hash does not match the presented SD-JWT", reason="sd_hash")
    return v
