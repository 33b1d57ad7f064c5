"""Validation of an OpenID4VP 1.0 ``vp_token`` (§8.6), every check reported by name.

Per presentation (the format comes from the Credential Query the ``vp_token`` key names):

- SD-JWT VC (draft-ietf-oauth-sd-jwt-vc over RFC 9901): ``sd_jwt.issuer_trust`` (x5c chain to a trust anchor
  configured for one of the query's ``vct_values``; deny by default), ``sd_jwt.signature``, ``sd_jwt.header``
  (``typ`` ``dc+sd-jwt``), ``sd_jwt.vct``, ``sd_jwt.validity`` (``exp``/``nbf``/``iat`` with clock skew),
  ``sd_jwt.disclosures``, ``key_binding.<reason>`` (KB-JWT: ``signature``, ``typ``, ``nonce``, ``aud`` = the full
  client id, ``iat`` window, ``sd_hash``; OpenID4VP 1.0 §B.3.6), ``holder_key`` (``cnf.jwk``); when the Credential
  Query sets ``require_cryptographic_holder_binding`` to false (§6.1) an SD-JWT without KB-JWT passes as
  ``key_binding.not_required`` (``state`` stays mandatory: every request carries one and every response must
  return it);
- mdoc (ISO/IEC 18013-5 §9.3.1): ``mdoc.issuer_trust``, ``mdoc.issuer_auth``, ``mdoc.doctype``, ``mdoc.validity``,
  ``mdoc.digests``, ``mdoc.device_auth`` over the OpenID4VP SessionTranscript (OpenID4VP 1.0 §B.2.6.1: client id,
  nonce, encryption-key thumbprint, response URI);
- status (draft-ietf-oauth-status-list): ``status_list.uri`` (allow-listed scheme/host/path only),
  ``status_list.fetch``, ``status_list.signature`` (signed by a key chaining to the type's trust anchors),
  ``status_list.validity`` (``exp``/``ttl``), ``status.revoked`` / ``status.suspended``; verified tokens are cached
  until their ``exp``/``ttl``; ``status.missing``: a credential of a type that carries status
  (``credential.json`` ``carries_status``: PID, employee role, youth, mandate) without a status reference (deny
  by default: it could not be checked for revocation).

Then DCQL (:func:`eidcore.dcql.check_vp_token`: ``dcql.<check>``), the profile's array checks DCQL cannot express
for an mdoc (``employee.roles``, ``mandate.scope``) and its cross-credential checks (``same_holder``,
``mandate.validity``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography import x509

from eidcore import jose
from eidcore.cache import BoundedCache
from eidcore.clock import Clock
from eidcore.credential_types import CredentialTypes, load_credential_types
from eidcore.dcql import MSO_MDOC, CredentialQuery, DcqlQuery, VerifiedPresentation, cbor_to_json, check_vp_token
from eidcore.errors import (
    DeviceAuthenticationFailed,
    DigestMismatch,
    DisclosureError,
    DoctypeMismatch,
    DuplicateDisclosure,
    Expired,
    FormatError,
    InvalidCertificate,
    InvalidClaim,
    InvalidHeader,
    InvalidSignature,
    KeyBindingFailed,
    KeyNotAuthorized,
    LommebokError,
    MissingClaim,
    NotYetValid,
    ParsingError,
    StatusInvalid,
    StatusSuspended,
    UnsupportedAlgorithm,
    UntrustedIssuer,
)
from eidcore.formats.mdoc import MdocVerifier, SessionTranscript
from eidcore.formats.sd_jwt import MUST_NOT_BE_PRESENT, KeyBindingPolicy, KeyBindingRequired
from eidcore.formats.sd_jwt_vc import SdJwtVcVerifier, X5cIssuerKey
from eidcore.status_list import (
    CWT_MEDIA_TYPE,
    JWT_MEDIA_TYPE,
    StatusReference,
    VerifiedStatusList,
    check_status,
    parse_status_claim,
    verify_cwt,
    verify_jwt,
)
from verifier.profiles import Contains

log = logging.getLogger("lommebok.verifier")

SD_JWT_CHECKS = (
    "sd_jwt.issuer_trust", "sd_jwt.signature", "sd_jwt.header", "sd_jwt.vct", "sd_jwt.validity",
    "sd_jwt.disclosures", "key_binding.signature", "key_binding.typ", "key_binding.nonce", "key_binding.aud",
    "key_binding.iat", "key_binding.sd_hash", "holder_key",
)
MDOC_CHECKS = (
    "mdoc.issuer_trust", "mdoc.issuer_auth", "mdoc.doctype", "mdoc.validity", "mdoc.digests", "mdoc.device_auth",
)
TECHNICAL_CLAIMS = frozenset({"cnf", "status", "_sd_alg", "vct#integrity"})
MAX_STATUS_LIST_BYTES = 4 * 1024 * 1024


class CheckFailed(Exception):
    """A named validation check failed; ``reason`` is safe to show (no claim values)."""

    def __init__(self, check: str, reason: str, query_id: str | None = None) -> None:
        super().__init__(f"{check}: {reason}")
        self.check = check
        self.reason = reason[:400]
        self.query_id = query_id


@dataclass(frozen=True)
class TrustConfig:
    """Which trust anchors vouch for which credential type (deny by default: a type not listed has none)."""

    anchors_by_vct: Mapping[str, tuple[x509.Certificate, ...]]
    anchors_by_doctype: Mapping[str, tuple[x509.Certificate, ...]]

    @classmethod
    def for_types(cls, types: CredentialTypes, anchors: Sequence[x509.Certificate],
                  type_ids: Iterable[str] | None = None) -> TrustConfig:
        """Trust ``anchors`` for the credential types ``type_ids`` (every defined type when None)."""
        wanted = set(type_ids) if type_ids is not None else None
        by_vct: dict[str, tuple[x509.Certificate, ...]] = {}
        by_doctype: dict[str, tuple[x509.Certificate, ...]] = {}
        for ct in types:
            if wanted is not None and ct.id not in wanted:
                continue
            by_vct[ct.vct] = tuple(anchors)
            by_doctype[ct.doctype] = tuple(anchors)
        return cls(by_vct, by_doctype)


    @classmethod
    def by_type_id(cls, types: CredentialTypes, trust: Mapping[str, Sequence[x509.Certificate]]) -> TrustConfig:
        """Trust per credential type id (``trust``); every other type is untrusted."""
        by_vct: dict[str, tuple[x509.Certificate, ...]] = {}
        by_doctype: dict[str, tuple[x509.Certificate, ...]] = {}
        for type_id, anchors in trust.items():
            ct = types.get(type_id)
            by_vct[ct.vct] = tuple(anchors)
            by_doctype[ct.doctype] = tuple(anchors)
        return cls(by_vct, by_doctype)


@dataclass(frozen=True)
class ResponseContext:
    """What the presentations must be bound to (the transaction's request)."""

    client_id: str
    nonce: str
    response_uri: str
    transcript: SessionTranscript
    kb_max_age: int = 300


@dataclass
class PresentationResult:
    """One verified presentation: what DCQL sees plus the result to report."""

    query_id: str
    presentation: VerifiedPresentation
    claims: dict[str, Any]
    checks: list[str]
    holder_jkt: str | None
    status: StatusReference | None
    anchors: tuple[x509.Certificate, ...]
    type_name: str


STATUS_CACHE_SIZE = 1024
"""How many verified status list tokens a validator keeps (least recently used go first)."""
VERIFIER_CACHE_SIZE = 256
"""How many SD-JWT VC / mdoc verifiers (one per trust set) a validator keeps."""


class Validator:
    """Verifies presentations for one runtime; caches verifiers per trust set and status lists by ``ttl``."""

    def __init__(self, trust: TrustConfig, *, clock: Clock, http: Any, status_prefixes: Sequence[str],
                 default_status_ttl: int = 300, status_required: Collection[str] | None = None) -> None:
        """``status_required``: the ``vct`` / docType values whose credentials must carry a status reference
        (default: the types whose ``credential.json`` sets ``carries_status``)."""
        self.trust = trust
        self.status_required = frozenset(status_required if status_required is not None
                                         else load_credential_types().status_required)
        self.clock = clock
        self._http = http
        self.status_prefixes = tuple(status_prefixes)
        self.status_cache: BoundedCache[str, VerifiedStatusList] = BoundedCache(STATUS_CACHE_SIZE, clock=clock)
        """Verified status list tokens by URI, each until its ``exp`` / ``iat + ttl`` (the earlier; at most 1 h)."""
        self._sd: BoundedCache[tuple[str, ...], SdJwtVcVerifier] = BoundedCache(VERIFIER_CACHE_SIZE)
        self._mdoc: BoundedCache[str, MdocVerifier] = BoundedCache(VERIFIER_CACHE_SIZE)
        self._default_ttl = default_status_ttl

    def set_http(self, http: Any) -> None:
        self._http = http

    # --- SD-JWT VC -----------------------------------------------------------------------------------------

    def _sd_verifier(self, vcts: tuple[str, ...]) -> tuple[SdJwtVcVerifier, tuple[x509.Certificate, ...]]:
        anchors: list[x509.Certificate] = []
        for v in vcts:
            for a in self.trust.anchors_by_vct.get(v, ()):
                if a not in anchors:
                    anchors.append(a)
        if not anchors:
            raise CheckFailed("sd_jwt.issuer_trust", "no issuer is trusted for this credential type")
        verifier = self._sd.get(vcts)
        if verifier is None:
            verifier = SdJwtVcVerifier(X5cIssuerKey(anchors, clock=self.clock), clock=self.clock)
            self._sd.set(vcts, verifier)
        return verifier, tuple(anchors)

    def verify_sd_jwt(self, cq: CredentialQuery, presentation: str, ctx: ResponseContext) -> PresentationResult:
        """SD-JWT VC + KB-JWT (RFC 9901 §7.3 with the key binding policy of OpenID4VP 1.0 §B.3.6).

        When the Credential Query sets ``require_cryptographic_holder_binding`` to false (OpenID4VP 1.0 §6.1) a
        presentation without a KB-JWT (ending with ``~``) is accepted and reported as
        ``key_binding.not_required``; a KB-JWT that is sent anyway is verified in full.
        """
        vcts = tuple(cq.meta.vct_values or ())
        verifier, anchors = self._sd_verifier(vcts)
        bound = cq.require_cryptographic_holder_binding or not presentation.endswith("~")
        policy: KeyBindingPolicy = (
            KeyBindingRequired(audience=ctx.client_id, nonce=ctx.nonce, max_age_seconds=ctx.kb_max_age)
            if bound else MUST_NOT_BE_PRESENT)
        try:
            vc = verifier.verify(presentation, policy)
        except KeyBindingFailed as exc:
            raise CheckFailed(f"key_binding.{exc.reason}", exc.description) from None
        except (UntrustedIssuer, InvalidCertificate) as exc:
            raise CheckFailed("sd_jwt.issuer_trust", exc.description) from None
        except InvalidSignature as exc:
            raise CheckFailed("sd_jwt.signature", exc.description) from None
        except (InvalidHeader, UnsupportedAlgorithm) as exc:
            raise CheckFailed("sd_jwt.header", exc.description) from None
        except (Expired, NotYetValid) as exc:
            raise CheckFailed("sd_jwt.validity", exc.description) from None
        except DisclosureError as exc:
            raise CheckFailed("sd_jwt.disclosures", exc.description) from None
        except ParsingError as exc:
            raise CheckFailed("sd_jwt.format", exc.description) from None
        except (InvalidClaim, MissingClaim) as exc:
            raise CheckFailed("sd_jwt.claims", exc.description) from None
        except FormatError as exc:
            raise CheckFailed("sd_jwt.invalid", exc.description) from None
        if vc.vct not in vcts:
            raise CheckFailed("sd_jwt.vct", "the credential's vct is not one the query asked for")
        jwk = vc.holder_jwk
        if jwk is None and bound:
            raise CheckFailed("holder_key", "the credential has no cnf.jwk holder key")
        claims = {k: v for k, v in vc.claims.items() if k not in TECHNICAL_CLAIMS}
        vp = VerifiedPresentation.sd_jwt_vc(vc.vct, vc.claims, disclosed_paths=vc.sd_jwt.disclosed_paths,
                                            holder_bound=bound)
        checks = list(SD_JWT_CHECKS) if bound else [*SD_JWT_CHECKS[:6], "key_binding.not_required"]
        return PresentationResult(cq.id, vp, claims, checks,
                                  jose.jwk_thumbprint_b64u(jwk) if jwk is not None and bound else None,
                                  _sd_status(vc.claims), anchors, vc.vct)

    # --- mdoc ----------------------------------------------------------------------------------------------

    def verify_mdoc(self, cq: CredentialQuery, presentation: str, ctx: ResponseContext) -> PresentationResult:
        """One DeviceResponse (HAIP: one per Credential Query) with one Document (ISO/IEC 18013-5 §9.3.1)."""
        doctype = cq.meta.doctype_value
        anchors = self.trust.anchors_by_doctype.get(doctype or "", ())
        if doctype is None or not anchors:
            raise CheckFailed("mdoc.issuer_trust", "no issuer is trusted for this document type")
        verifier = self._mdoc.get(doctype)
        if verifier is None:
            verifier = MdocVerifier(anchors, clock=self.clock)
            self._mdoc.set(doctype, verifier)
        try:
            docs = verifier.verify_device_response(presentation, ctx.transcript, expected_doc_types={doctype})
        except (DeviceAuthenticationFailed, KeyNotAuthorized) as exc:
            raise CheckFailed("mdoc.device_auth", exc.description) from None
        except (DigestMismatch, DuplicateDisclosure) as exc:
            raise CheckFailed("mdoc.digests", exc.description) from None
        except DoctypeMismatch as exc:
            raise CheckFailed("mdoc.doctype", exc.description) from None
        except (Expired, NotYetValid) as exc:
            raise CheckFailed("mdoc.validity", exc.description) from None
        except (UntrustedIssuer, InvalidCertificate) as exc:
            raise CheckFailed("mdoc.issuer_trust", exc.description) from None
        except (InvalidSignature, InvalidHeader, UnsupportedAlgorithm) as exc:
            raise CheckFailed("mdoc.issuer_auth", exc.description) from None
        except ParsingError as exc:
            raise CheckFailed("mdoc.format", exc.description) from None
        except FormatError as exc:
            raise CheckFailed("mdoc.invalid", exc.description) from None
        if len(docs) != 1:
            raise CheckFailed("mdoc.format", "a DeviceResponse must hold exactly one document")
        doc = docs[0]
        status = None
        if doc.status is not None:
            try:
                status = parse_status_claim(doc.status, cbor=True)
            except FormatError as exc:
                raise CheckFailed("status_list.reference", exc.description) from None
        jwk = jose.public_jwk(doc.device_key)
        vp = VerifiedPresentation.mdoc(doc.doc_type, doc.claims, holder_bound=True)
        claims = {ns: {k: _json_value(v) for k, v in items.items()} for ns, items in doc.claims.items()}
        return PresentationResult(cq.id, vp, claims, list(MDOC_CHECKS), jose.jwk_thumbprint_b64u(jwk), status,
                                  anchors, doc.doc_type)

    # --- status --------------------------------------------------------------------------------------------

    def _allowed(self, uri: str) -> bool:
        try:
            parts = urlsplit(uri)
        except ValueError:
            return False
        if parts.scheme not in ("https", "http") or parts.username or parts.password or parts.fragment:
            return False
        if ".." in parts.path or "%" in parts.path or "\\" in uri:
            return False
        return any(uri.startswith(p) for p in self.status_prefixes)

    async def check_status(self, ref: StatusReference, anchors: Sequence[x509.Certificate]) -> None:
        """Fetch (or reuse) the status list token, verify it against ``anchors``, and read the entry."""
        if not self._allowed(ref.uri):
            raise CheckFailed("status_list.uri", "the status list URI is not on the verifier's allow-list")
        now = self.clock.timestamp()
        token = self.status_cache.get(ref.uri)
        if token is None:
            token = await self._fetch(ref.uri, anchors)
            until = token.cache_until(int(now))
            ttl = min(until, now + 3600) - now if until else self._default_ttl
            if ttl > 0:
                self.status_cache.set(ref.uri, token, ttl=ttl)
        try:
            check_status(ref, token)
        except StatusInvalid as exc:
            raise CheckFailed("status.revoked", exc.description) from None
        except StatusSuspended as exc:
            raise CheckFailed("status.suspended", exc.description) from None
        except FormatError as exc:
            raise CheckFailed("status_list.entry", exc.description) from None

    async def _fetch(self, uri: str, anchors: Sequence[x509.Certificate]) -> VerifiedStatusList:
        try:
            resp = await self._http.get(uri, headers={"Accept": f"{JWT_MEDIA_TYPE}, {CWT_MEDIA_TYPE};q=0.9"})
        except httpx.HTTPError:
            raise CheckFailed("status_list.fetch", "the status list could not be fetched") from None
        if resp.status_code != 200:
            raise CheckFailed("status_list.fetch", f"the status list server answered {resp.status_code}")
        body = resp.content
        if len(body) > MAX_STATUS_LIST_BYTES:
            raise CheckFailed("status_list.fetch", "the status list token is too large")
        ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            if ctype == CWT_MEDIA_TYPE:
                return verify_cwt(body, uri=uri, clock=self.clock, trust_anchors=anchors)
            return verify_jwt(body.decode("ascii", "replace").strip(), uri=uri, clock=self.clock,
                              trust_anchors=anchors)
        except (InvalidSignature, UntrustedIssuer, InvalidCertificate, UnsupportedAlgorithm) as exc:
            raise CheckFailed("status_list.signature", exc.description) from None
        except (Expired, NotYetValid) as exc:
            raise CheckFailed("status_list.validity", exc.description) from None
        except LommebokError as exc:
            raise CheckFailed("status_list.token", exc.description) from None

    # --- the whole vp_token -------------------------------------------------------------------------------

    async def validate(self, query: DcqlQuery, vp_token: Any, ctx: ResponseContext,
                       same_holder: tuple[str, str] | None = None,
                       contains: Sequence[Contains] = (),
                       youth: Callable[[DcqlQuery, Mapping[str, list[PresentationResult]], ResponseContext],
                                       list[str]] | None = None) -> tuple[dict[str, Any], list[str]]:
        """Validate a ``vp_token`` (OpenID4VP 1.0 §8.1, §8.6); returns (result per query id, passed checks).

        ``youth`` is the youth policy (:class:`verifier.youth.YouthPolicy`), run after each presentation is verified
        and before the DCQL and cross-credential checks.
        Raises :class:`CheckFailed` naming the first failed check.
        """
        if not isinstance(vp_token, Mapping) or not vp_token:
            raise CheckFailed("vp_token", "vp_token must be a non-empty JSON object keyed by credential query id")
        results: dict[str, list[PresentationResult]] = {}
        for qid, items in vp_token.items():
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise CheckFailed("vp_token", "each vp_token member is an array of presentation strings", qid)
            try:
                cq = query.credential(qid)
            except KeyError:
                raise CheckFailed("dcql.vp_token_keys", "vp_token has a key that is no credential query id") from None
            out = []
            for item in items:
                try:
                    r = (self.verify_mdoc if cq.format == MSO_MDOC else self.verify_sd_jwt)(cq, item, ctx)
                    if r.status is not None:
                        await self.check_status(r.status, r.anchors)
                        r.checks.append("status")
                    elif r.type_name in self.status_required:
                        raise CheckFailed("status.missing", "this credential type carries a status list reference "
                                          "and this credential has none: its revocation cannot be checked")
                except CheckFailed as exc:
                    exc.query_id = qid
                    raise
                out.append(r)
            results[qid] = out
        # the youth policy first: a presentation that leaves the holder's age undecided fails youth.age_undecidable
        youth_checks = youth(query, results, ctx) if youth is not None else []
        dcql = check_vp_token(query, {q: [r.presentation for r in rs] for q, rs in results.items()})
        if dcql.failure is not None:
            root = dcql.failure.cause or dcql.failure
            raise CheckFailed(f"dcql.{root.name}", root.reason, dcql.failure.query_id)
        checks = sorted({c for rs in results.values() for r in rs for c in r.checks} | {"dcql"})
        for c in contains:
            _check_contains(results, c)
            checks.append(c.check)
        if same_holder is not None:
            self._same_holder(results, *same_holder)
            checks.append("same_holder")
            checks.append("mandate.validity")
        checks.extend(youth_checks)
        out_result = {
            qid: [{"format": r.presentation.format, "type": r.type_name, "claims": r.claims, "checks": r.checks}
                  for r in rs]
            for qid, rs in results.items()
        }
        return out_result, checks

    def _same_holder(self, results: Mapping[str, list[PresentationResult]], pid_id: str, mandate_id: str) -> None:
        pid = results.get(pid_id, [])
        mandate = results.get(mandate_id, [])
        if len(pid) != 1 or len(mandate) != 1:
            raise CheckFailed("same_holder", "the profile needs exactly one PID and one mandate")
        p, m = pid[0], mandate[0]
        pid_claims, mandate_claims = _flat(p), _flat(m)
        agent = mandate_claims.get("agent")
        agent_pan = (agent.get("personal_administrative_number") if isinstance(agent, Mapping)
                     else mandate_claims.get("agent_personal_administrative_number"))
        pid_pan = pid_claims.get("personal_administrative_number")
        same_key = p.holder_jkt is not None and p.holder_jkt == m.holder_jkt
        same_id = isinstance(agent_pan, str) and agent_pan == pid_pan
        if not (same_key or same_id):
            raise CheckFailed("same_holder", "the mandate's agent is not the holder of the PID")
        now = datetime.fromtimestamp(self.clock.timestamp(), UTC)
        try:
            start = _parse_time(mandate_claims.get("valid_from"))
            end = _parse_time(mandate_claims.get("valid_until"))
        except ValueError:
            raise CheckFailed("mandate.validity", "the mandate's validity period is malformed") from None
        if (start is not None and now < start) or (end is not None and now >= end):
            raise CheckFailed("mandate.validity", "the mandate is not valid now")


def _json_value(value: Any) -> Any:
    """An mdoc element value as JSON (RFC 8949 §6.1 via :func:`cbor_to_json`, arrays and maps element-wise);
    an item without a JSON form (e.g. a tagged value other than dates) becomes ``None``."""
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    out = cbor_to_json(value)
    return out if out is None or type(out) in (str, int, bool, float) else None


def _flat(r: PresentationResult) -> Mapping[str, Any]:
    """The claims of a presentation: the SD-JWT VC claims, or the elements of the mdoc's own namespace."""
    if r.presentation.format == MSO_MDOC:
        ns = r.claims.get(r.type_name)
        return ns if isinstance(ns, Mapping) else {}
    return r.claims


def _check_contains(results: Mapping[str, list[PresentationResult]], c: Contains) -> None:
    """A profile's array claim contains one of its values (for each presentation of that query)."""
    for r in results.get(c.query_id, []):
        value: Any = r.claims
        for step in c.path:
            value = value.get(step) if isinstance(value, Mapping) else None
        if not isinstance(value, list) or not any(v in value for v in c.values):
            raise CheckFailed(c.check, "the credential does not hold any of the values the profile asks for",
                              c.query_id)


def _parse_time(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("not a string")
    t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _sd_status(claims: Mapping[str, Any]) -> StatusReference | None:
    if "status" not in claims:
        return None
    try:
        return parse_status_claim(claims["status"])
    except FormatError as exc:
        raise CheckFailed("status_list.reference", exc.description) from None
