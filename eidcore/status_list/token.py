"""Status List Tokens in JWT and CWT form (draft-ietf-oauth-status-list-18, "Status List Token").

JWT ("Status List Token in JWT Format"): header ``typ`` ``statuslist+jwt``; claims ``sub`` (the list's URI),
``iat``, ``exp``, ``ttl`` (positive number of seconds) and ``status_list`` ``{bits, lst, aggregation_uri?}``.
Signed and verified through :mod:`eidcore.jose` only.

CWT ("Status List Token in CWT Format"): a COSE_Sign1 (tag 18, never wrapped in CWT tag 61) whose protected
header holds ``1`` (alg) and ``16`` (typ, RFC 9596) = ``"application/statuslist+cwt"``; claims ``2`` sub,
``6`` iat, ``4`` exp, ``65534`` ttl (unsigned integer) and ``65533`` the CBOR Status List map. Signed and
verified through :mod:`eidcore.cose` and :mod:`eidcore.cbor` only.

Verification ("Validation Rules" of the Referenced Token section) takes the caller's trusted keys (a
sequence, or a mapping by ``kid``) or trust anchors for an ``x5c`` / ``x5chain`` chain, and an injected
:class:`~eidcore.clock.Clock`. It checks ``typ`` and ``alg``, the signature, that ``sub`` equals the URI the
Referenced Token named, ``iat`` (not in the future), ``exp`` (not passed) and, on request, a maximum age and
a historical point in time, then returns a :class:`VerifiedStatusList`. Errors: generic JOSE/COSE/JWT
failures raise the generic classes (:class:`ParsingError`, :class:`InvalidHeader`,
:class:`UnsupportedAlgorithm`, :class:`InvalidSignature`, :class:`UntrustedIssuer`, :class:`MissingClaim`,
:class:`InvalidClaim`, :class:`Expired`, :class:`NotYetValid`); Status-List-specific failures raise
:class:`StatusListError` with a ``reason`` (``sub_mismatch``, ``time_not_covered``, ``bits``, ...).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from eidcore import cbor, cose, jose
from eidcore.claims import CWT_KEYS, JWT_KEYS, TimeClaim, validate_times
from eidcore.claims import DEFAULT_LEEWAY as CLAIMS_LEEWAY
from eidcore.clock import Clock
from eidcore.errors import (
    InvalidClaim,
    InvalidHeader,
    InvalidSignature,
    MissingClaim,
    ParsingError,
    StatusInvalid,
    StatusListError,
    StatusSuspended,
    UnsupportedAlgorithm,
    UntrustedIssuer,
)
from eidcore.status_list.bits import DEFAULT_MAX_BYTES, StatusList, StatusValue
from eidcore.status_list.reference import StatusReference
from eidcore.trust.x509 import load_der_chain, validate_chain

#: JWT ``typ`` of a Status List Token.
JWT_TYP: Final = "statuslist+jwt"
#: Media types of the two token forms (HTTP ``Accept`` / ``Content-Type``).
JWT_MEDIA_TYPE: Final = "application/statuslist+jwt"
CWT_MEDIA_TYPE: Final = "application/statuslist+cwt"
#: CWT claim keys (RFC 8392 §4 and the spec's CWT registrations).
CWT_ISS: Final = 1
CWT_SUB: Final = 2
CWT_EXP: Final = 4
CWT_IAT: Final = 6
CWT_STATUS_LIST: Final = 65533
CWT_TTL: Final = 65534
CWT_TAG: Final = 61

#: Default largest token accepted (a 2^24-entry list of random 8-bit values does not compress below this).
DEFAULT_MAX_TOKEN_BYTES: Final = 24 * 1024 * 1024
#: Default clock skew tolerated on ``iat``, ``nbf`` and ``exp``, seconds (the one leeway of :mod:`eidcore.claims`).
DEFAULT_LEEWAY: Final = CLAIMS_LEEWAY

TrustedKeys = Sequence[jose.PublicKey] | Mapping[str, jose.PublicKey]
_JWS_ALGS: Final = {"ES256": cose.ES256, "ES384": cose.ES384, "ES512": cose.ES512, "EdDSA": None}


@dataclass(frozen=True)
class VerifiedStatusList:
    """A Status List Token whose signature, type, subject and times were verified."""

    uri: str
    """The ``sub`` claim, equal to the URI the Referenced Token named."""
    iat: int
    exp: int | None
    ttl: int | None
    status_list: StatusList
    form: Literal["jwt", "cwt"]
    iss: str | None = None
    kid: str | None = None
    key: jose.PublicKey | None = None

    def get(self, idx: int) -> int:
        """The raw status value at ``idx`` ("Status List"); :class:`StatusListError` past the end."""
        return self.status_list.get(idx)

    def cache_until(self, fetched_at: int) -> int | None:
        """Until when a consumer may reuse this token ("Status List Token" ``exp`` and ``ttl``), or ``None``."""
        limits = [t for t in (self.exp, fetched_at + self.ttl if self.ttl is not None else None)
                  if t is not None]
        return min(limits) if limits else None


# --------------------------------------------------------------------------------------------------
# Issuing
# --------------------------------------------------------------------------------------------------


def _times(clock: Clock, expires_in: int | None, ttl: int | None) -> tuple[int, int | None]:
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0):
        raise InvalidClaim("ttl must be a positive integer", claim="ttl")
    if expires_in is not None and (isinstance(expires_in, bool) or not isinstance(expires_in, int)
                                   or expires_in <= 0):
        raise InvalidClaim("expires_in must be a positive integer", claim="exp")
    iat = int(clock.timestamp())
    return iat, (iat + expires_in if expires_in is not None else None)


def issue_jwt(status_list: StatusList, *, uri: str, key: jose.SigningKey, clock: Clock,
              expires_in: int | None = 86400, ttl: int | None = 43200, iss: str | None = None,
              include_x5c: bool = False) -> str:
    """Sign a Status List Token in JWT form ("Status List Token in JWT Format").

    Claims ``sub`` = ``uri``, ``iat`` = now, ``exp`` = now + ``expires_in`` (omitted when ``None``), ``ttl``
    (omitted when ``None``), ``status_list``, and ``iss`` when given. Header ``typ`` ``statuslist+jwt``,
    ``alg`` from ``key``, ``kid`` when the key has one, ``x5c`` with ``include_x5c``.
    """
    iat, exp = _times(clock, expires_in, ttl)
    claims: dict[str, Any] = {"sub": uri, "iat": iat}
    if exp is not None:
        claims["exp"] = exp
    if ttl is not None:
        claims["ttl"] = ttl
    if iss is not None:
        claims["iss"] = iss
    claims["status_list"] = status_list.to_json()
    return jose.sign_jwt(claims, key, typ=JWT_TYP, include_x5c=include_x5c)


def issue_cwt(status_list: StatusList, *, uri: str, key: jose.SigningKey, clock: Clock,
              expires_in: int | None = 86400, ttl: int | None = 43200, iss: str | None = None,
              include_x5chain: bool = False) -> bytes:
    """Sign a Status List Token in CWT form ("Status List Token in CWT Format"), tagged COSE_Sign1 (18).

    Protected header ``{1: alg, 16: "application/statuslist+cwt"}``; unprotected ``{4: kid}`` (UTF-8 bytes)
    when the key has a ``kid`` and ``{33: x5chain}`` with ``include_x5chain``. Claims ``{2: sub, 6: iat,
    4: exp?, 65534: ttl?, 65533: status list, 1: iss?}``.
    """
    if not isinstance(key.private_key, ec.EllipticCurvePrivateKey):
        raise UnsupportedAlgorithm("CWT status lists are signed with ECDSA keys")
    alg = _JWS_ALGS.get(key.alg)
    if alg is None:
        raise UnsupportedAlgorithm(f"alg {key.alg} has no COSE counterpart here")
    iat, exp = _times(clock, expires_in, ttl)
    claims: dict[int, Any] = {CWT_SUB: uri, CWT_IAT: iat}
    if exp is not None:
        claims[CWT_EXP] = exp
    if ttl is not None:
        claims[CWT_TTL] = ttl
    claims[CWT_STATUS_LIST] = status_list.to_cbor_map()
    if iss is not None:
        claims[CWT_ISS] = iss
    unprotected: dict[int | str, Any] = {}
    if key.kid is not None:
        unprotected[cose.HEADER_KID] = key.kid.encode("utf-8")
    if include_x5chain and not key.x5c:
        raise InvalidHeader("the signing key has no certificate chain")
    msg = cose.sign1(cbor.dumps(claims), key.private_key, alg=alg,
                     protected={cose.HEADER_TYP: CWT_MEDIA_TYPE}, unprotected=unprotected,
                     x5chain=list(key.x5c) if include_x5chain else None)
    return msg.encode(tag=True)


# --------------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------------


def _candidates(kid: str | None, keys: TrustedKeys, chain: list[x509.Certificate] | None,
                anchors: Sequence[x509.Certificate], clock: Clock) -> list[jose.PublicKey]:
    if chain and anchors:
        leaf = validate_chain(chain, anchors, at=clock.now(), purpose="status_list")
        pub = leaf.public_key()
        if not isinstance(pub, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
            raise UntrustedIssuer("the status list signer's certificate key type is not supported")
        return [pub]
    if isinstance(keys, Mapping):
        if kid is not None:
            found = keys.get(kid)
            if found is None:
                raise UntrustedIssuer("no trusted status list key has this kid")
            return [found]
        out = list(keys.values())
    else:
        out = list(keys)
    if not out:
        raise UntrustedIssuer("no trusted key for status list tokens was given")
    return out


def _number(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidClaim(f"{name} must be a number", claim=name)
    return int(value)


def _check_claims(claims: Mapping[Any, Any], keys: Mapping[TimeClaim, str | int], sub: object, ttl: object, *,
                  uri: str, clock: Clock, leeway: int, max_age: int | None, at_time: int | None, ttl_integer: bool
                  ) -> tuple[str, int, int | None, int | None]:
    iat, exp = claims.get(keys["iat"]), claims.get(keys["exp"])
    if sub is None:
        raise MissingClaim("the status list token has no sub", claim="sub")
    if not isinstance(sub, str):
        raise InvalidClaim("sub must be a string", claim="sub")
    if iat is None:
        raise MissingClaim("the status list token has no iat", claim="iat")
    iat_i = _number(iat, "iat")
    exp_i = None if exp is None else _number(exp, "exp")
    ttl_i: int | None = None
    if ttl is not None:
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or (ttl_integer and isinstance(ttl, float)) \
                or not math.isfinite(ttl) or ttl <= 0:
            raise InvalidClaim("ttl must be a positive number", claim="ttl")
        ttl_i = int(ttl)
    if sub != uri:
        raise StatusListError("the status list token's sub is not the URI the credential names",
                              reason="sub_mismatch")
    validate_times(claims, now=clock.timestamp(), leeway=leeway, require=("iat",), max_age=max_age, keys=keys,
                   what="the status list token")
    if at_time is not None and (at_time < iat_i or (exp_i is not None and at_time >= exp_i)):
        raise StatusListError("the status list token does not cover the requested time",
                              reason="time_not_covered")
    return sub, iat_i, exp_i, ttl_i


def verify_jwt(token: str, *, uri: str, clock: Clock, keys: TrustedKeys = (),
               trust_anchors: Sequence[x509.Certificate] = (),
               algorithms: frozenset[str] = frozenset({"ES256"}), leeway: int = DEFAULT_LEEWAY,
               max_age: int | None = None, at_time: int | None = None,
               max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES,
               max_list_bytes: int = DEFAULT_MAX_BYTES) -> VerifiedStatusList:
    """Verify a Status List Token in JWT form ("Status List Token in JWT Format", "Validation Rules").

    ``uri`` is the ``status.status_list.uri`` of the Referenced Token. The signer is one of ``keys`` (picked
    by ``kid`` when ``keys`` is a mapping), or the leaf of an ``x5c`` chain that validates to one of
    ``trust_anchors``. See the module docstring for the errors.
    """
    policy = jose.JwsPolicy(algorithms=algorithms, typ=JWT_TYP, max_bytes=max_token_bytes)
    jws = jose.parse_jws(token, max_bytes=max_token_bytes)
    alg = jws.header.get("alg")
    if not isinstance(alg, str) or alg not in algorithms:
        raise UnsupportedAlgorithm(f"alg {alg!r} is not allowed for status list tokens")
    typ = jws.header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in (JWT_TYP, JWT_MEDIA_TYPE):
        raise InvalidHeader(f"the status list token typ must be {JWT_TYP}")
    kid = jws.header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise InvalidHeader("kid must be a string")
    chain = jose.x5c_certificates(jws.header) if "x5c" in jws.header and trust_anchors else None
    verified: jose.VerifiedJwt | None = None
    for candidate in _candidates(kid, keys, chain, trust_anchors, clock):
        try:
            verified = jose.verify_jwt(jws, candidate, policy)
            break
        except (InvalidSignature, UnsupportedAlgorithm):
            continue
    if verified is None:
        raise InvalidSignature("the status list token signature does not verify with a trusted key")
    c = verified.claims
    sub, iat, exp, ttl = _check_claims(c, JWT_KEYS, c.get("sub"), c.get("ttl"), uri=uri, clock=clock,
                                       leeway=leeway, max_age=max_age, at_time=at_time, ttl_integer=False)
    if "status_list" not in c:
        raise MissingClaim("the status list token has no status_list", claim="status_list")
    iss = c.get("iss")
    if iss is not None and not isinstance(iss, str):
        raise InvalidClaim("iss must be a string", claim="iss")
    lst = StatusList.from_json(c["status_list"], max_bytes=max_list_bytes)
    return VerifiedStatusList(uri=sub, iat=iat, exp=exp, ttl=ttl, status_list=lst, form="jwt",
                              iss=iss, kid=kid, key=verified.key)


def verify_cwt(token: bytes, *, uri: str, clock: Clock, keys: TrustedKeys = (),
               trust_anchors: Sequence[x509.Certificate] = (),
               algorithms: frozenset[int] = frozenset({cose.ES256}), leeway: int = DEFAULT_LEEWAY,
               max_age: int | None = None, at_time: int | None = None,
               max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES,
               max_list_bytes: int = DEFAULT_MAX_BYTES) -> VerifiedStatusList:
    """Verify a Status List Token in CWT form ("Status List Token in CWT Format", "Validation Rules").

    ``token`` is a COSE_Sign1 (tag 18 or untagged; a CWT tag 61 wrapper is refused). The protected header must
    carry ``16`` = ``"application/statuslist+cwt"``. ``kid`` (label 4, bytes) is read as UTF-8 to pick from a
    mapping of ``keys``; an ``x5chain`` (label 33) is validated against ``trust_anchors`` when given.
    """
    if not isinstance(token, bytes):
        raise ParsingError("a CWT status list token is a byte string")
    if len(token) > max_token_bytes:
        raise ParsingError("the status list token is larger than allowed")
    raw = cbor.loads(token, max_size=max_token_bytes, what="status list CWT")
    if isinstance(raw, cbor.CBORTag) and raw.tag == CWT_TAG:
        raise ParsingError("a status list CWT must not be wrapped in the CWT tag 61")
    msg = cose.decode_sign1(raw)
    alg = msg.alg
    if not isinstance(alg, int) or isinstance(alg, bool) or alg not in algorithms:
        raise UnsupportedAlgorithm(f"COSE alg {alg!r} is not allowed for status list tokens")
    if msg.protected_header.get(cose.HEADER_TYP) != CWT_MEDIA_TYPE:
        raise InvalidHeader(f"the status list CWT protected header 16 (typ) must be {CWT_MEDIA_TYPE}")
    kid_raw = msg.header(cose.HEADER_KID)
    kid: str | None = None
    if kid_raw is not None:
        if not isinstance(kid_raw, bytes):
            raise InvalidHeader("COSE kid must be a byte string")
        try:
            kid = kid_raw.decode("utf-8")
        except UnicodeDecodeError:
            kid = kid_raw.hex()
    chain = load_der_chain(msg.x5chain()) if trust_anchors and msg.header(cose.HEADER_X5CHAIN) else None
    payload: bytes | None = None
    used: jose.PublicKey | None = None
    for candidate in _candidates(kid, keys, chain, trust_anchors, clock):
        if not isinstance(candidate, ec.EllipticCurvePublicKey):
            continue
        try:
            payload = cose.verify_sign1(msg, candidate, allowed_algs=algorithms)
            used = candidate
            break
        except (InvalidSignature, UnsupportedAlgorithm):
            continue
    if payload is None:
        raise InvalidSignature("the status list token signature does not verify with a trusted key")
    claims = cbor.loads(payload, max_size=max_token_bytes, what="status list CWT claims")
    if not isinstance(claims, dict):
        raise ParsingError("the status list CWT claims are not a map")
    sub, iat, exp, ttl = _check_claims(claims, CWT_KEYS, claims.get(CWT_SUB), claims.get(CWT_TTL), uri=uri,
                                       clock=clock, leeway=leeway, max_age=max_age, at_time=at_time,
                                       ttl_integer=True)
    if CWT_STATUS_LIST not in claims:
        raise MissingClaim("the status list token has no status list (65533)", claim="status_list")
    iss = claims.get(CWT_ISS)
    if iss is not None and not isinstance(iss, str):
        raise InvalidClaim("iss must be a string", claim="iss")
    lst = StatusList.from_cbor_map(claims[CWT_STATUS_LIST], max_bytes=max_list_bytes)
    return VerifiedStatusList(uri=sub, iat=iat, exp=exp, ttl=ttl, status_list=lst, form="cwt",
                              iss=iss, kid=kid, key=used)


# --------------------------------------------------------------------------------------------------
# Lookup
# --------------------------------------------------------------------------------------------------

_APPLICATION_SPECIFIC: Final = frozenset({0x03, 0x0C, 0x0D, 0x0E, 0x0F})


def check_status(reference: StatusReference, verified: VerifiedStatusList) -> StatusValue:
    """The status of a Referenced Token ("Validation Rules" steps 4 and 5, "Status Types").

    Returns :attr:`StatusValue.VALID` or an application-specific value (0x03, 0x0C–0x0F) for the caller to
    interpret; raises :class:`StatusInvalid` (0x01), :class:`StatusSuspended` (0x02), and
    :class:`StatusListError` for a list of another URI (``sub_mismatch``), an index past the end
    (``index_out_of_range``) or a reserved value (``reserved_status``).
    """
    if reference.uri != verified.uri:
        raise StatusListError("the status list is not the one the credential names", reason="sub_mismatch")
    value = verified.status_list.get(reference.idx)
    if value == StatusValue.VALID:
        return StatusValue.VALID
    if value == StatusValue.INVALID:
        raise StatusInvalid("the credential is revoked")
    if value == StatusValue.SUSPENDED:
        raise StatusSuspended("the credential is suspended")
    if value in _APPLICATION_SPECIFIC:
        return StatusValue(value)
    raise StatusListError(f"the status list holds the reserved status value {value:#04x}",
                          reason="reserved_status")
