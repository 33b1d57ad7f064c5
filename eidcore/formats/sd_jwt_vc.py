"""SD-JWT VC: SD-JWT-based Verifiable Digital Credentials, draft-ietf-oauth-sd-jwt-vc (editor's copy after -18).

On top of RFC 9901 (:mod:`eidcore.formats.sd_jwt`):

- issuer JWT header ``typ`` ``dc+sd-jwt`` (§3.2.1); claims ``vct`` (M), ``vct#integrity``, ``iss``, ``iat``,
  ``nbf``, ``exp``, ``cnf`` (``cnf.jwk``), ``status`` (``status_list`` reference ``{idx, uri}`` of the Token
  Status List draft); the claims that must never be selectively disclosed (§3.2.2.2: ``iss``, ``nbf``, ``exp``,
  ``cnf``, ``vct``, ``vct#integrity``, ``aka_vcts``, ``status``) are refused at issuance and at verification;
- issuer key resolution (§3.5): ``x5c`` in the protected header with chain validation against the caller's trust
  anchors (:class:`X5cIssuerKey`), or JWT VC Issuer Metadata at ``/.well-known/jwt-vc-issuer`` through a
  caller-supplied fetcher, https only (:class:`JwtVcIssuerMetadataKey`, §4);
- Type Metadata (§6): parsing, the ``extends`` chain with a cycle guard, W3C SRI ``#integrity`` checks, and the
  claim ``sd`` rules ``always`` / ``allowed`` / ``never``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from eidcore import jose, jsonutil
from eidcore.claims import DEFAULT_LEEWAY
from eidcore.clock import SYSTEM_CLOCK, Clock
from eidcore.errors import (
    InvalidCertificate,
    InvalidClaim,
    InvalidHeader,
    LommebokError,
    MissingClaim,
    ParsingError,
    TypeMetadataError,
    UnsupportedAlgorithm,
    UntrustedIssuer,
)
from eidcore.formats.sd_jwt import (
    SD,
    ClaimPath,
    ConcretePath,
    Disclosable,
    IssuedSdJwt,
    KeyBindingPolicy,
    SdJwtHolder,
    SdJwtIssuer,
    SdJwtVerifier,
    VerifiedSdJwt,
    resolve_claim_path,
)
from eidcore.formats.sd_jwt.model import DEFAULT_SD_ALG
from eidcore.status_list import StatusReference, parse_status_claim, status_from_jwt_claims
from eidcore.trust.x509 import validate_chain

__all__ = [
    "NEVER_DISCLOSABLE",
    "SD_JWT_VC_TYP",
    "ChainValidator",
    "ClaimMetadata",
    "JsonFetcher",
    "JwksIssuerKey",
    "JwtVcIssuerMetadataKey",
    "SdJwtVcIssuer",
    "SdJwtVcVerifier",
    "StatusReference",
    "TypeMetadata",
    "TypeMetadataLoader",
    "VerifiedSdJwtVc",
    "X5cIssuerKey",
    "check_integrity",
    "check_sd_rules",
    "effective_claim_metadata",
    "jwt_vc_issuer_metadata_url",
    "parse_jwt_vc_issuer_metadata",
    "resolve_type_metadata",
    "select_jwk",
]

SD_JWT_VC_TYP = "dc+sd-jwt"
NEVER_DISCLOSABLE = frozenset({"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "aka_vcts", "status"})
"""§3.2.2.2: these claims (and everything under them) are always plaintext in the issuer-signed payload."""


# --------------------------------------------------------------------------------------------------
# issuance
# --------------------------------------------------------------------------------------------------


def _has_marker(value: Any) -> bool:
    if isinstance(value, Disclosable):
        return True
    if isinstance(value, Mapping):
        return any(_has_marker(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_marker(v) for v in value)
    return False


class SdJwtVcIssuer:
    """Issues SD-JWT VCs (§3) with one issuer key; the key's ``x5c`` chain goes in the header when it has one."""

    def __init__(
        self,
        key: jose.SigningKey,
        *,
        iss: str | None = None,
        clock: Clock = SYSTEM_CLOCK,
        sd_alg: str = DEFAULT_SD_ALG,
        decoys: int = 0,
        array_decoys: int = 0,
        include_x5c: bool | None = None,
        salt: Callable[[], str] | None = None,
    ) -> None:
        self._iss = iss
        self._clock = clock
        self._sd = SdJwtIssuer(key, typ=SD_JWT_VC_TYP, sd_alg=sd_alg, decoys=decoys, array_decoys=array_decoys,
                               include_x5c=include_x5c, salt=salt)

    def issue(
        self,
        claims: Mapping[str, Any],
        *,
        vct: str,
        disclosable: Iterable[ClaimPath] = (),
        holder_jwk: Mapping[str, Any] | None = None,
        status: StatusReference | None = None,
        vct_integrity: str | None = None,
        expires_in: int | None = None,
        not_before: int | None = None,
        issued_at: int | None = None,
        type_metadata: Sequence[TypeMetadata] | None = None,
        expires_at: int | None = None,
    ) -> IssuedSdJwt:
        """Issue an SD-JWT VC (§3.2): ``vct``, ``iss`` (from the issuer), ``iat`` (now unless given), ``nbf``,
        ``exp`` (``expires_at``, or now + ``expires_in``), ``cnf.jwk`` (``holder_jwk``), ``status``; ``claims``
        hold the rest.

        Raises :class:`InvalidClaim` when a never-disclosable claim is marked disclosable, when one of the
        claims set here is also in ``claims``, or for anything :class:`SdJwtIssuer` refuses. With
        ``type_metadata`` (the chain from :func:`resolve_type_metadata`), the claim ``sd`` rules are enforced.
        """
        if not isinstance(vct, str) or not vct:
            raise InvalidClaim("vct must be a non-empty string")
        paths = tuple([tuple(p) for p in disclosable])
        for p in paths:
            if p and p[0] in NEVER_DISCLOSABLE:
                raise InvalidClaim(f"{p[0]} must never be selectively disclosed")
        for name in NEVER_DISCLOSABLE:
            if name in claims and _has_marker(claims[name]):
                raise InvalidClaim(f"{name} must never be selectively disclosed")
        now = int(self._clock.timestamp())
        out: dict[str, Any] = {}
        fixed: dict[str, Any] = {"vct": vct}
        if self._iss is not None:
            fixed["iss"] = self._iss
        if vct_integrity is not None:
            fixed["vct#integrity"] = vct_integrity
        if not_before is not None:
            fixed["nbf"] = not_before
        if expires_at is not None and expires_in is not None:
            raise InvalidClaim("give expires_at or expires_in, not both")
        if expires_in is not None:
            fixed["exp"] = now + expires_in
        if expires_at is not None:
            fixed["exp"] = expires_at
        if status is not None:
            fixed["status"] = status.to_json_claim()
        for name in fixed:
            if name in claims:
                raise InvalidClaim(f"{name} is set by the issuer and must not also be in the claims")
        out.update(fixed)
        if "iat" not in claims:
            out["iat"] = now if issued_at is None else issued_at
        out.update(claims)
        if "status" in claims:
            parse_status_claim(claims["status"])
        issued = self._sd.issue(out, disclosable=paths, holder_jwk=holder_jwk)
        if type_metadata is not None:
            held = SdJwtHolder().load(issued.compact)
            for cm in effective_claim_metadata(type_metadata).values():
                if cm.mandatory and not resolve_claim_path(held.claims, cm.path):
                    raise InvalidClaim("a claim the type metadata marks mandatory is missing")
            check_sd_rules(held.claims, set(held.paths), type_metadata, error=InvalidClaim)
        return issued


# --------------------------------------------------------------------------------------------------
# issuer key resolution
# --------------------------------------------------------------------------------------------------


class ChainValidator(Protocol):
    """``eidcore.trust.x509.validate_chain``'s signature."""

    def __call__(self, chain: Sequence[x509.Certificate], anchors: Sequence[x509.Certificate], *,
                 at: datetime, purpose: Any = ...) -> x509.Certificate: ...


@dataclass
class X5cIssuerKey:
    """§3.5 "X.509 certificates": the issuer key is the ``x5c`` leaf's key, after chain validation against the
    caller's ``anchors`` (``eidcore.trust.x509.validate_chain``, purpose ``sd_jwt_vc_issuer``).

    When the payload has ``iss``, it must equal a uniformResourceIdentifier SAN of the leaf, or its host must
    equal a dNSName SAN of the leaf (§3.5); otherwise :class:`UntrustedIssuer`.

    A validated chain is cached by its exact ``x5c`` value; a cache hit still re-checks the validity window of
    every certificate against the clock.
    """

    anchors: Sequence[x509.Certificate]
    clock: Clock = SYSTEM_CLOCK
    validator: ChainValidator = validate_chain
    purpose: str = "sd_jwt_vc_issuer"
    cache_size: int = 256
    _cache: dict[tuple[str, ...], tuple[jose.PublicKey, datetime, datetime, frozenset[str], frozenset[str]]] = field(
        default_factory=dict, repr=False
    )

    def __call__(self, jws: jose.UnverifiedJws, claims: Mapping[str, Any]) -> jose.PublicKey:
        if "x5c" not in jws.header:
            raise InvalidHeader("the x5c header is required to find the issuer key")
        raw = jws.header["x5c"]
        key_id = tuple(raw) if isinstance(raw, list) and all(isinstance(x, str) for x in raw) else None
        now = self.clock.now()
        if key_id is not None and key_id in self._cache:
            cached, not_before, not_after, uris, dns = self._cache[key_id]
            if not_before <= now <= not_after:
                _check_iss(claims.get("iss"), uris, dns)
                return cached
            raise InvalidCertificate("a certificate in the x5c chain is outside its validity period")
        chain = jose.x5c_certificates(jws.header)
        leaf = self.validator(chain, self.anchors, at=now, purpose=self.purpose)
        leaf_key = leaf.public_key()
        if not isinstance(leaf_key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
            raise UntrustedIssuer("the issuer certificate key type is not supported")
        key: jose.PublicKey = leaf_key
        uris, dns = _leaf_names(leaf)
        _check_iss(claims.get("iss"), uris, dns)
        if key_id is not None:
            if len(self._cache) >= self.cache_size:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key_id] = (key, max(c.not_valid_before_utc for c in chain),
                                   min(c.not_valid_after_utc for c in chain), uris, dns)
        return key


def _leaf_names(leaf: x509.Certificate) -> tuple[frozenset[str], frozenset[str]]:
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return frozenset(), frozenset()
    uris = frozenset(san.get_values_for_type(x509.UniformResourceIdentifier))
    dns = frozenset(d.lower() for d in san.get_values_for_type(x509.DNSName))
    return uris, dns


def _check_iss(iss: Any, uris: frozenset[str], dns: frozenset[str]) -> None:
    """§3.5: ``iss`` matches a URI SAN of the leaf, or its host a dNSName SAN."""
    if iss is None:
        return
    if not isinstance(iss, str):
        raise InvalidClaim("iss must be a string")
    if iss in uris:
        return
    host = urlsplit(iss).hostname
    if host and host.lower() in dns:
        return
    raise UntrustedIssuer("iss does not match a subjectAltName of the issuer certificate")


class JsonFetcher(Protocol):
    """Fetches an https URL and returns the parsed JSON body; raises on any HTTP or network failure. The caller
    owns timeouts, size limits, redirects and SSRF checks (§4, §10)."""

    def __call__(self, url: str) -> Any: ...


def _https(url: str, what: str) -> tuple[str, str]:
    if not isinstance(url, str):
        raise InvalidClaim(f"{what} must be a string")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment:
        raise UntrustedIssuer(f"{what} must be an https URL without query or fragment")
    return parts.netloc, parts.path


def jwt_vc_issuer_metadata_url(iss: str) -> str:
    """§4.1: ``https://<host>/.well-known/jwt-vc-issuer<path of iss>`` (a trailing ``/`` of ``iss`` removed)."""
    host, path = _https(iss, "iss")
    return f"https://{host}/.well-known/jwt-vc-issuer{path.rstrip('/')}"


def parse_jwt_vc_issuer_metadata(doc: Any, iss: str) -> tuple[list[dict[str, Any]] | None, str | None]:
    """§4.2: validate ``{"issuer": iss, "jwks": {...}}`` or ``{"issuer", "jwks_uri"}``; returns (keys, jwks_uri)."""
    if not isinstance(doc, Mapping):
        raise ParsingError("JWT VC issuer metadata must be a JSON object")
    if doc.get("issuer") != iss:
        raise UntrustedIssuer("the issuer metadata names a different issuer")
    has_jwks, has_uri = "jwks" in doc, "jwks_uri" in doc
    if has_jwks == has_uri:
        raise ParsingError("issuer metadata must have exactly one of jwks and jwks_uri")
    if has_uri:
        _https(doc["jwks_uri"], "jwks_uri")
        return None, str(doc["jwks_uri"])
    return _jwks_keys(doc["jwks"]), None


def _jwks_keys(jwks: Any) -> list[dict[str, Any]]:
    if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
        raise ParsingError("a JWK Set must be an object with a keys array")
    keys = [dict(k) for k in jwks["keys"] if isinstance(k, Mapping)]
    if len(keys) != len(jwks["keys"]):
        raise ParsingError("every JWK Set entry must be an object")
    return keys


def select_jwk(keys: Sequence[Mapping[str, Any]], kid: Any) -> jose.PublicKey:
    """Pick the issuer key by the header ``kid`` (required when the set has more than one key)."""
    if kid is not None:
        matches = [k for k in keys if k.get("kid") == kid]
    elif len(keys) == 1:
        matches = list(keys)
    else:
        raise UntrustedIssuer("the issuer JWT has no kid and the issuer publishes several keys")
    if len(matches) != 1:
        raise UntrustedIssuer("no unique issuer key with this kid")
    try:
        return jose.public_key_from_jwk(matches[0])
    except (ParsingError, InvalidHeader, UnsupportedAlgorithm) as exc:
        raise UntrustedIssuer("the published issuer key is not a usable public key") from exc


@dataclass(frozen=True)
class JwksIssuerKey:
    """A resolver over an already fetched issuer JWK Set (e.g. by an async caller), bound to one ``iss``."""

    iss: str
    keys: Sequence[Mapping[str, Any]]

    def __call__(self, jws: jose.UnverifiedJws, claims: Mapping[str, Any]) -> jose.PublicKey:
        if claims.get("iss") != self.iss:
            raise UntrustedIssuer("the credential's iss is not the issuer whose keys were fetched")
        return select_jwk(self.keys, jws.header.get("kid"))


@dataclass(frozen=True)
class JwtVcIssuerMetadataKey:
    """§3.5 "Web-based Key Resolution": fetch ``/.well-known/jwt-vc-issuer`` for the credential's ``iss`` (and its
    ``jwks_uri`` when used) with ``fetcher``; https only; the key is chosen by ``kid``."""

    fetcher: JsonFetcher

    def __call__(self, jws: jose.UnverifiedJws, claims: Mapping[str, Any]) -> jose.PublicKey:
        iss = claims.get("iss")
        if not isinstance(iss, str):
            raise MissingClaim("iss is required to resolve the issuer key from metadata")
        url = jwt_vc_issuer_metadata_url(iss)
        keys, jwks_uri = parse_jwt_vc_issuer_metadata(self._fetch(url), iss)
        if jwks_uri is not None:
            keys = _jwks_keys(self._fetch(jwks_uri))
        assert keys is not None
        return select_jwk(keys, jws.header.get("kid"))

    def _fetch(self, url: str) -> Any:
        try:
            return self.fetcher(url)
        except LommebokError:
            raise
        except Exception as exc:  # the fetcher's own transport errors
            raise UntrustedIssuer("the issuer metadata could not be fetched") from exc


# --------------------------------------------------------------------------------------------------
# verification
# --------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class VerifiedSdJwtVc:
    """A verified SD-JWT VC: the RFC 9901 result plus the VC fields."""

    sd_jwt: VerifiedSdJwt
    vct: str
    iss: str | None
    status: StatusReference | None
    issuer_certificates: tuple[x509.Certificate, ...] = ()

    @property
    def claims(self) -> dict[str, Any]:
        return self.sd_jwt.claims

    @property
    def holder_jwk(self) -> dict[str, Any] | None:
        cnf = self.sd_jwt.claims.get("cnf")
        jwk = cnf.get("jwk") if isinstance(cnf, Mapping) else None
        return dict(jwk) if isinstance(jwk, Mapping) else None


def _contains_sd(value: Any) -> bool:
    t = type(value)
    if t is dict:
        if SD in value or "..." in value:
            return True
        return any(_contains_sd(v) for v in value.values())
    if t is list:
        return any(_contains_sd(v) for v in value)
    return False


class SdJwtVcVerifier:
    """Verifies SD-JWT VCs (§3.4 / §3.5): RFC 9901 processing with ``typ`` ``dc+sd-jwt``, the issuer key from a
    resolver (:class:`X5cIssuerKey`, :class:`JwtVcIssuerMetadataKey`, :class:`JwksIssuerKey`) or a fixed key,
    the never-disclosable rule, ``vct`` (optionally from ``accepted_vcts``), ``status`` shape, and optional
    type metadata ``sd`` rules."""

    def __init__(
        self,
        issuer_key: Any,
        *,
        clock: Clock = SYSTEM_CLOCK,
        algorithms: frozenset[str] = frozenset({"ES256"}),
        clock_skew: int = DEFAULT_LEEWAY,
        accepted_vcts: Collection[str] | None = None,
        require_exp: bool = False,
        require_status: bool = False,
        max_bytes: int = 512 * 1024,
    ) -> None:
        self._sd = SdJwtVerifier(issuer_key, clock=clock, algorithms=algorithms, typ=SD_JWT_VC_TYP,
                                 clock_skew=clock_skew, require_exp=require_exp, max_bytes=max_bytes)
        self._vcts = None if accepted_vcts is None else frozenset(accepted_vcts)
        self._require_status = require_status

    def verify(
        self,
        serialized: str | Mapping[str, Any],
        key_binding: KeyBindingPolicy,
        *,
        type_metadata: Sequence[TypeMetadata] | None = None,
    ) -> VerifiedSdJwtVc:
        """Verify an SD-JWT VC (or SD-JWT VC + KB-JWT, by ``key_binding`` policy)."""
        r = self._sd.verify(serialized, key_binding)
        claims, signed = r.claims, r.signed_payload
        for name in NEVER_DISCLOSABLE:
            if name in signed:
                if _contains_sd(signed[name]):
                    raise InvalidClaim(f"{name} must not contain selectively disclosable parts")
            elif name in claims:
                raise InvalidClaim(f"{name} must not be selectively disclosed")
        vct = claims.get("vct")
        if vct is None:
            raise MissingClaim("vct is required")
        if not isinstance(vct, str) or not vct:
            raise InvalidClaim("vct must be a non-empty string")
        if self._vcts is not None and vct not in self._vcts:
            raise InvalidClaim("vct is not an accepted credential type")
        if "vct#integrity" in claims and not isinstance(claims["vct#integrity"], str):
            raise InvalidClaim("vct#integrity must be a string")
        iss = claims.get("iss")
        if iss is not None and not isinstance(iss, str):
            raise InvalidClaim("iss must be a string")
        status = status_from_jwt_claims(claims)  # Token Status List "Referenced Token in JOSE"
        if self._require_status and status is None:
            raise MissingClaim("a status_list status reference is required")
        if type_metadata is not None:
            if type_metadata and type_metadata[0].vct != vct:
                raise TypeMetadataError("the type metadata is for a different vct")
            check_sd_rules(claims, set(r.disclosed_paths), type_metadata)
        certs = tuple(jose.x5c_certificates(r.header)) if "x5c" in r.header else ()  # cached decode
        return VerifiedSdJwtVc(r, vct, iss, status, certs)


# --------------------------------------------------------------------------------------------------
# type metadata
# --------------------------------------------------------------------------------------------------

_SRI_ALGS = {"sha256": (hashlib.sha256, 1), "sha384": (hashlib.sha384, 2), "sha512": (hashlib.sha512, 3)}


def check_integrity(data: bytes, integrity: str) -> None:
    """W3C Subresource Integrity (§7 of SD-JWT VC ``#integrity``): ``<alg>-<base64>`` values separated by spaces;
    the strongest supported algorithm present decides, any of its values may match. :class:`TypeMetadataError`."""
    if not isinstance(integrity, str):
        raise TypeMetadataError("an integrity value must be a string")
    candidates: dict[str, list[bytes]] = {}
    for token in integrity.split():
        alg, sep, value = token.partition("-")
        if not sep or alg not in _SRI_ALGS:
            continue
        value = value.split("?", 1)[0]
        try:
            candidates.setdefault(alg, []).append(base64.b64decode(value, validate=True))
        except ValueError:
            continue
    if not candidates:
        raise TypeMetadataError("no supported integrity value")
    best = max(candidates, key=lambda a: _SRI_ALGS[a][1])
    actual = _SRI_ALGS[best][0](data).digest()
    if not any(hmac.compare_digest(actual, expected) for expected in candidates[best]):
        raise TypeMetadataError("the document does not match its integrity value")


@dataclass(frozen=True)
class ClaimMetadata:
    """§6.4 claim metadata: ``path``, ``sd`` (``always`` | ``allowed`` | ``never``), ``mandatory``."""

    path: tuple[str | int | None, ...]
    sd: Literal["always", "allowed", "never"] = "allowed"
    mandatory: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class TypeMetadata:
    """§6.2 Type Metadata document (the fields Lommebok checks; ``raw`` keeps the rest, e.g. ``display``)."""

    vct: str
    extends: str | None = None
    extends_integrity: str | None = None
    claims: tuple[ClaimMetadata, ...] = ()
    name: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def parse(cls, doc: Any) -> TypeMetadata:
        """Validate a Type Metadata document field by field; :class:`TypeMetadataError` when malformed."""
        if not isinstance(doc, Mapping):
            raise TypeMetadataError("type metadata must be a JSON object")
        vct = doc.get("vct")
        if not isinstance(vct, str) or not vct:
            raise TypeMetadataError("type metadata needs a vct string")
        extends, ext_int = doc.get("extends"), doc.get("extends#integrity")
        if extends is not None and not isinstance(extends, str):
            raise TypeMetadataError("extends must be a string")
        if ext_int is not None and (not isinstance(ext_int, str) or extends is None):
            raise TypeMetadataError("extends#integrity must be a string next to extends")
        name = doc.get("name")
        if name is not None and not isinstance(name, str):
            raise TypeMetadataError("name must be a string")
        raw_claims = doc.get("claims", [])
        if not isinstance(raw_claims, list):
            raise TypeMetadataError("claims must be an array")
        claims: list[ClaimMetadata] = []
        seen: set[tuple[Any, ...]] = set()
        for c in raw_claims:
            if not isinstance(c, Mapping):
                raise TypeMetadataError("each claim metadata must be an object")
            path = c.get("path")
            if (not isinstance(path, list) or not path
                    or not all(isinstance(s, str) or s is None or (type(s) is int and s >= 0) for s in path)):
                raise TypeMetadataError("claim metadata path must be a non-empty claims path pointer")
            key = tuple(path)
            if key in seen:
                raise TypeMetadataError("claim metadata lists the same path twice")
            seen.add(key)
            sdv = c.get("sd", "allowed")
            if sdv not in ("always", "allowed", "never"):
                raise TypeMetadataError("claim metadata sd must be always, allowed or never")
            mandatory = c.get("mandatory", False)
            if not isinstance(mandatory, bool):
                raise TypeMetadataError("claim metadata mandatory must be a boolean")
            claims.append(ClaimMetadata(key, sdv, mandatory, c))
        return cls(vct, extends, ext_int, tuple(claims), name, doc)


class TypeMetadataLoader(Protocol):
    """Returns the raw bytes of the Type Metadata document for a ``vct`` (from https, a registry or a cache)."""

    def __call__(self, vct: str) -> bytes: ...


def resolve_type_metadata(vct: str, loader: TypeMetadataLoader, *, integrity: str | None = None,
                          max_depth: int = 8) -> list[TypeMetadata]:
    """§6.5-6.6: load ``vct`` and its whole ``extends`` chain (the type first), checking each ``#integrity`` and
    guarding against cycles and overlong chains. :class:`TypeMetadataError` on any failure."""
    chain: list[TypeMetadata] = []
    seen: set[str] = set()
    current: str | None = vct
    while current is not None:
        if current in seen:
            raise TypeMetadataError("the type metadata extends chain has a cycle")
        if len(chain) >= max_depth:
            raise TypeMetadataError("the type metadata extends chain is too long")
        seen.add(current)
        try:
            data = loader(current)
        except LommebokError:
            raise
        except Exception as exc:
            raise TypeMetadataError("type metadata could not be loaded") from exc
        if integrity is not None:
            check_integrity(data, integrity)
        try:
            doc = jsonutil.loads(data, what="type metadata")
        except ParsingError as exc:
            raise TypeMetadataError("type metadata is not JSON") from exc
        tm = TypeMetadata.parse(doc)
        if tm.vct != current:
            raise TypeMetadataError("the type metadata document is for a different vct")
        chain.append(tm)
        current, integrity = tm.extends, tm.extends_integrity
    return chain


def effective_claim_metadata(chain: Sequence[TypeMetadata]) -> dict[tuple[Any, ...], ClaimMetadata]:
    """§6.6: merge claim metadata from the base type to the most specific; an extending type may override a
    claim, but not relax an ``always`` or ``never`` it inherits (:class:`TypeMetadataError`)."""
    merged: dict[tuple[Any, ...], ClaimMetadata] = {}
    for tm in reversed(chain):
        for cm in tm.claims:
            parent = merged.get(cm.path)
            if parent is not None and parent.sd != "allowed" and cm.sd != parent.sd:
                raise TypeMetadataError("an extending type changes an inherited sd always/never rule")
            merged[cm.path] = cm
    return merged


def check_sd_rules(
    claims: Mapping[str, Any],
    disclosed_paths: Collection[ConcretePath],
    chain: Sequence[TypeMetadata],
    *,
    error: type[LommebokError] = TypeMetadataError,
) -> None:
    """§6.4.2: each claim present with ``sd: always`` must have come from a disclosure, with ``sd: never`` must
    have been plaintext. ``disclosed_paths`` are the paths of disclosed claims in ``claims``."""
    disclosed = set(disclosed_paths)
    for cm in effective_claim_metadata(chain).values():
        if cm.sd == "allowed":
            continue
        for p in resolve_claim_path(claims, cm.path):
            if cm.sd == "always" and p not in disclosed:
                raise error("a claim the type metadata marks sd: always is not selectively disclosable")
            if cm.sd == "never" and p in disclosed:
                raise error("a claim the type metadata marks sd: never is selectively disclosable")
