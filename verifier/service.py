"""The verifier's transactions: relying parties, OpenID4VP 1.0 Authorization Requests and their responses.

- relying parties authenticate with a bearer API key; only its SHA-256 is stored and compared in constant time
  (:func:`eidcore.runtime.secret_matches` over the hex digests); the embedded default creates ``rp-demo`` whose
  key is ``<data_dir>/secrets/rp-demo`` (0600);
- a transaction is an Authorization Request (OpenID4VP 1.0 §5) passed by reference (``request_uri``, RFC 9101):
  the request object is a JAR with ``typ`` ``oauth-authz-req+jwt`` signed with the access certificate in ``x5c``
  for the ``x509_san_dns`` and ``x509_hash`` client id prefixes (§5.9.3), unsigned (``alg`` ``none``) for the
  ``redirect_uri`` prefix; ``request_uri_method=post`` returns the ``wallet_nonce`` (§5.10);
- ``direct_post`` / ``direct_post.jwt`` responses (§8.2, §8.3) to a per-transaction ``response_uri``; the response
  JWE is ECDH-ES (A128GCM or A256GCM) to an ephemeral P-256 key per transaction (HAIP 1.0);
- single use: the response slot of a transaction (bound to its ``state`` and ``nonce``) is consumed atomically
  from ``rt.store`` once a response validated, and so is the same-device ``response_code``; a response that does
  not validate (or a wallet error response) is recorded as a refused attempt and the transaction stays pending
  until a valid response or its expiry (OpenID4VP 1.0 §14.2: anyone who saw the QR code can post to the
  ``response_uri``);
- results keep only what the query asked for and are deleted after ``result_retention_seconds``; logs carry
  pseudonymous ids and check names, never claim values.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import logging
import secrets
import time
import weakref
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, NoReturn
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import JSON, bindparam, delete, or_, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from eidcore import jose
from eidcore.credential_types import load_credential_types
from eidcore.dcql import DcqlQuery
from eidcore.encoding import b64u_encode
from eidcore.errors import (
    EncryptionError,
    FormatError,
    InvalidRequest,
    InvalidRequestUriMethod,
    InvalidToken,
    NotFound,
    ParsingError,
    UnsupportedAlgorithm,
)
from eidcore.formats.mdoc import jwk_thumbprint_sha256, openid4vp_session_transcript
from eidcore.runtime import Runtime, dev_secret, pseudonym, secret_matches
from verifier.config import load_verifier_config
from verifier.models import VerRelyingParty, VerTransaction
from verifier.profiles import PROFILES, Contains, build_profile, mark_wallet_profiles, wallet_profile_marks
from verifier.validation import CheckFailed, ResponseContext, TrustConfig, Validator
from verifier.youth import YouthPolicy, strip_claims, with_age_claims, with_consent_query

log = logging.getLogger("lommebok.verifier")

JAR_TYP = "oauth-authz-req+jwt"
SELF_ISSUED_AUD = "https://self-issued.me/v2"
RESPONSE_MODES = ("direct_post.jwt", "direct_post")
CLIENT_ID_PREFIXES = ("x509_hash", "x509_san_dns", "redirect_uri")
TERMINAL = ("validated", "failed", "expired")
ENC_VALUES = ["A128GCM", "A256GCM"]
VP_FORMATS_SUPPORTED = {
    "dc+sd-jwt": {"sd-jwt_alg_values": ["ES256"], "kb-jwt_alg_values": ["ES256"]},
    "mso_mdoc": {"issuerauth_alg_values": [-7], "deviceauth_alg_values": [-7]},
}
DEMO_RP = "rp-demo"
CUSTOM_QUERY = "dcql"
"""The pseudo profile a relying party needs in ``allowed_profiles`` to send its own DCQL query."""


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def qr_svg(text: str) -> str:
    """The text as a QR code (SVG, error correction M; a fixed mask pattern: evaluating all eight costs 3x more
    CPU per transaction for no reading benefit at this size)."""
    import segno

    buf = io.BytesIO()
    segno.make(text, error="m", mask=0).save(buf, kind="svg", scale=4, xmldecl=False)
    return buf.getvalue().decode()


_SERVICES: weakref.WeakValueDictionary[int, VerifierService] = weakref.WeakValueDictionary()


def service_for(rt: Runtime) -> VerifierService:
    """The one :class:`VerifierService` of a runtime (created on first use; kept while its app holds it)."""
    svc = _SERVICES.get(id(rt))
    if svc is None or svc.rt is not rt:
        svc = VerifierService(rt)
        _SERVICES[id(rt)] = svc
    return svc


class VerifierService:
    """The verifier of one runtime."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.base = rt.settings.service_url("verifier")
        self._validator: Validator | None = None
        self._demo_ready = False
        self._last_purge = 0.0
        self._retention_task: asyncio.Task[None] | None = None
        self._watchers: dict[str, set[asyncio.Event]] = {}
        self.event_poll_seconds: float = 2.0
        """Server-sent events re-read a transaction at least this often (changes made by another process);
        changes made in this process wake the stream at once."""
        retention = rt.settings.verifier.result_retention_seconds
        self.retention_interval: float = min(300.0, max(1.0, retention / 10))
        """Seconds between two runs of the background retention task."""
        self._rp_cache: dict[str, VerRelyingParty] = {}
        self.config = load_verifier_config(rt.settings.data_dir)
        self.demo_key: str | None = None
        self.demo_key_file = None
        if rt.settings.environment == "dev":
            self.demo_key, self.demo_key_file = dev_secret(rt.settings.data_dir, DEMO_RP)
            log.info("demo relying party %s: its API key is in %s", DEMO_RP, self.demo_key_file)

    # --- configuration ----------------------------------------------------------------------------------

    @property
    def validator(self) -> Validator:
        """Trust from :mod:`verifier.config`; by default every defined type trusts ``rt.keys.trust_anchors``."""
        if self._validator is None:
            if self.rt.keys is None:
                raise InvalidRequest("the verifier is not started")
            types = load_credential_types()
            if self.config.trust is None:
                trust = TrustConfig.for_types(types, self.rt.keys.trust_anchors)
            else:
                trust = TrustConfig.by_type_id(types, self.config.trust)
            prefixes = list(self.config.status_list_prefixes
                            or [f"{self.rt.settings.service_url('issuer')}/status/"])
            self._validator = Validator(trust, clock=self.rt.clock, http=self.rt.http, status_prefixes=prefixes,
                                        status_required=types.status_required)
        self._validator.set_http(self.rt.http)
        return self._validator

    def now(self) -> int:
        return int(self.rt.clock.timestamp())

    def youth_policy(self) -> YouthPolicy:
        """The youth policy (:mod:`verifier.youth`): it protects the holder, so every transaction has it."""
        return YouthPolicy(self.rt.settings.consent_age, (self.rt.settings.service_url("wallet"),), self.rt.clock)

    def client_id(self, prefix: str, response_uri: str) -> str:
        """OpenID4VP 1.0 §5.9: the full client identifier, prefix included."""
        if prefix == "x509_san_dns":
            return f"x509_san_dns:{self.rt.settings.public_host}"
        if prefix == "x509_hash":
            assert self.rt.keys is not None
            return f"x509_hash:{b64u_encode(self.rt.keys.verifier.cert_sha256)}"
        return f"redirect_uri:{response_uri}"

    def response_uri(self, tx_id: str) -> str:
        return f"{self.base}/response/{tx_id}"

    def request_uri(self, tx_id: str) -> str:
        return f"{self.base}/request/{tx_id}"

    # --- relying parties --------------------------------------------------------------------------------

    async def ensure_demo_rp(self) -> None:
        """Create or update the configured relying parties and (dev) the demo one from ``secrets/rp-demo``."""
        if self._demo_ready:
            return
        async with self.rt.db.session() as s:
            for c in self.config.relying_parties:
                known = await s.get(VerRelyingParty, c.id)
                known = known or VerRelyingParty(id=c.id, name=c.name, api_key_sha256=c.api_key_sha256,
                                                 created_at=self.now())
                known.name, known.api_key_sha256 = c.name, c.api_key_sha256
                known.allowed_profiles, known.redirect_uris = list(c.allowed_profiles), list(c.redirect_uris)
                s.add(known)
            await s.commit()
        if self.demo_key is None:
            self._demo_ready = True
            return
        digest = sha256_hex(self.demo_key)
        async with self.rt.db.session() as s:
            rp = await s.get(VerRelyingParty, DEMO_RP)
            if rp is None:
                base = self.rt.settings.public_base_url
                s.add(VerRelyingParty(id=DEMO_RP, name="Demo relying party", api_key_sha256=digest,
                                      allowed_profiles=[*PROFILES, CUSTOM_QUERY],
                                      redirect_uris=[f"{base}/", "http://localhost:3000/"], created_at=self.now()))
            elif rp.api_key_sha256 != digest:
                rp.api_key_sha256 = digest
                s.add(rp)
            await s.commit()
        self._demo_ready = True
        if self.demo_key_file is not None:
            log.info("demo relying party ready; its API key is in %s", self.demo_key_file)

    async def create_relying_party(self, name: str, allowed_profiles: list[str],
                                   redirect_uris: list[str]) -> tuple[VerRelyingParty, str]:
        """Register a relying party; returns it and its API key (shown once, only the hash is kept)."""
        unknown = [p for p in allowed_profiles if p not in PROFILES and p != CUSTOM_QUERY]
        if unknown:
            raise InvalidRequest(f"unknown profiles: {', '.join(unknown)}")
        for uri in redirect_uris:
            parts = urlsplit(uri)
            if parts.scheme not in ("https", "http") or not parts.netloc or parts.fragment or not uri.endswith("/"):
                raise InvalidRequest("redirect_uris must be absolute http(s) URLs ending with / (they are "
                                     "prefixes of the redirect URIs a transaction may use), without fragment")
        key = secrets.token_urlsafe(32)
        rp = VerRelyingParty(id=f"rp-{secrets.token_hex(6)}", name=name, api_key_sha256=sha256_hex(key),
                             allowed_profiles=allowed_profiles, redirect_uris=redirect_uris, created_at=self.now())
        async with self.rt.db.session() as s:
            s.add(rp)
            await s.commit()
        return rp, key

    async def authenticate(self, authorization: str | None) -> VerRelyingParty:
        """RFC 6750 §2.1 bearer API key of a relying party; :class:`InvalidToken` (401) when missing or wrong."""
        self.start_retention()
        await self.ensure_demo_rp()
        if not authorization or not authorization.startswith("Bearer ") or len(authorization) > 512:
            raise InvalidToken("a relying-party API key is required (Authorization: Bearer <key>)",
                               headers={"WWW-Authenticate": 'Bearer realm="verifier"'})
        digest = sha256_hex(authorization[7:].strip())
        rp = self._rp_cache.get(digest)
        if rp is None:
            async with self.rt.db.session() as s:
                rp = (await s.exec(select(VerRelyingParty).where(VerRelyingParty.api_key_sha256 == digest))).first()
            if rp is None or not secret_matches(digest, rp.api_key_sha256):
                raise InvalidToken("the relying-party API key is not valid",
                                   headers={"WWW-Authenticate": 'Bearer realm="verifier", error="invalid_token"'})
            self._rp_cache[digest] = rp
        return rp

    # --- transactions -----------------------------------------------------------------------------------

    async def create_transaction(self, rp: VerRelyingParty, body: Mapping[str, Any], *,
                                 client_name: str | None = None, match_code: str | None = None) -> dict[str, Any]:
        """Create a transaction from a profile or a DCQL query (OpenID4VP 1.0 §5.1, §6).

        The request object names the service the wallet answers (``client_metadata.client_name``, RFC 7591 §2):
        ``client_name``, by default the relying party's name. ``match_code`` (the OIDC bridge's cross-device logins;
        not a relying-party API parameter) is a short code the login page shows and the request object carries as
        ``match_code``, for the user to compare (OpenID4VP 1.0 §14.2, cross-device flows).
        """
        await self.purge()
        profile_name = body.get("profile")
        params = body.get("params") or {}
        if not isinstance(params, Mapping):
            raise InvalidRequest("params must be an object")
        same_holder = None
        contains: tuple[Contains, ...] = ()
        default_prefix = "x509_hash"
        if profile_name is not None and body.get("dcql_query") is not None:
            raise InvalidRequest("give either profile or dcql_query, not both")
        if profile_name is not None:
            if not isinstance(profile_name, str) or profile_name not in rp.allowed_profiles:
                raise InvalidRequest("this relying party may not use that profile")
            profile = build_profile(profile_name, params)
            query = DcqlQuery.parse(profile.dcql_query)
            marks = wallet_profile_marks(profile.dcql_query)
            same_holder = profile.same_holder
            contains = profile.contains
            default_prefix = profile.default_client_id_prefix
        elif body.get("dcql_query") is not None:
            if CUSTOM_QUERY not in rp.allowed_profiles:
                raise InvalidRequest("this relying party may not send its own DCQL queries")
            query = DcqlQuery.parse(body["dcql_query"])
            marks = wallet_profile_marks(body["dcql_query"])
        else:
            raise InvalidRequest("profile or dcql_query is required")
        if "youth_policy" in body:
            raise InvalidRequest("youth_policy is not a relying-party parameter: the youth policy protects the "
                                 "holder (guardian consent below the consent age) and applies to every transaction")
        mode = body.get("response_mode", "direct_post.jwt")
        if mode not in RESPONSE_MODES:
            raise InvalidRequest("response_mode must be direct_post or direct_post.jwt")
        prefix = body.get("client_id_prefix", default_prefix)
        if prefix not in CLIENT_ID_PREFIXES:
            raise InvalidRequest(f"client_id_prefix must be one of {', '.join(CLIENT_ID_PREFIXES)}")
        method = body.get("request_uri_method", "get")
        if method not in ("get", "post"):
            raise InvalidRequest("request_uri_method must be get or post")
        template = body.get("redirect_uri")
        if template is not None:
            if not isinstance(template, str) or len(template) > 1500:
                raise InvalidRequest("redirect_uri must be a string")
            if not any(template.startswith(u) for u in rp.redirect_uris):
                raise InvalidRequest("redirect_uri is not registered for this relying party")
        tx_id = secrets.token_urlsafe(16)
        enc_jwk = None
        if mode == "direct_post.jwt":
            key = jose.SigningKey(ec.generate_private_key(ec.SECP256R1()), "ES256", kid=secrets.token_urlsafe(8))
            enc_jwk = key.private_jwk()
            enc_jwk.pop("alg", None)
        # the database keeps the public half only; the private key lives in the single-use response slot
        # (store, TTL of the transaction), which the response consumes
        public_enc_jwk = {k: v for k, v in enc_jwk.items() if k in PUBLIC_JWK_MEMBERS} if enc_jwk else None
        now = self.now()
        ttl = self.rt.settings.verifier.transaction_ttl
        dcql_query, youth_added = youth_query(mark_wallet_profiles(query.to_json(), marks),
                                              self.rt.settings.consent_age)
        tx = VerTransaction(
            id=tx_id, rp_id=rp.id, status="pending", profile=profile_name, profile_params=dict(params),
            dcql_query=dcql_query,
            client_id=self.client_id(prefix, self.response_uri(tx_id)),
            response_mode=mode, request_uri_method=method, nonce=secrets.token_urlsafe(32),
            state=secrets.token_urlsafe(32), enc_jwk=public_enc_jwk, redirect_uri_template=template,
            checks=[], created_at=now, expires_at=now + ttl,
        )
        if same_holder is not None:
            tx.profile_params = {**tx.profile_params, "_same_holder": list(same_holder)}
        if contains:
            tx.profile_params = {**tx.profile_params, "_contains": [c.to_json() for c in contains]}
        if youth_added:
            tx.profile_params = {**tx.profile_params, "_youth_added": youth_added}
        tx.profile_params = {**tx.profile_params, "_client_name": (client_name or rp.name)[:200]}
        if match_code is not None:
            tx.profile_params = {**tx.profile_params, "_match_code": match_code}
        async with self.rt.db.session() as s:
            s.add(tx)
            await s.commit()
        await self.rt.store.put(f"ver:resp:{tx_id}", replace(Slot.of(tx), enc_jwk=enc_jwk).encode(), ttl)
        log.info("transaction %s created for %s (%s)", pseudonym(tx_id), rp.id, profile_name or "dcql")
        uri = self.authorization_request_uri(tx)
        return {
            "transaction_id": tx_id, "status": "pending", "authorization_request": uri,
            "request_uri": self.request_uri(tx_id), "client_id": tx.client_id, "response_mode": mode,
            "flow": "same_device" if template else "cross_device", "expires_at": tx.expires_at,
            "dcql_query": tx.dcql_query, "qr_svg": qr_svg(uri),
        }

    def authorization_request_uri(self, tx: VerTransaction) -> str:
        """``openid4vp://`` with ``client_id`` and ``request_uri`` (RFC 9101 §5.2; OpenID4VP 1.0 §5.10)."""
        params = {"client_id": tx.client_id, "request_uri": self.request_uri(tx.id)}
        if tx.request_uri_method == "post":
            params["request_uri_method"] = "post"
        return "openid4vp://?" + urlencode(params, quote_via=quote)

    async def _load(self, tx_id: str) -> VerTransaction | None:
        if not isinstance(tx_id, str) or len(tx_id) > 64:
            return None
        async with self.rt.db.session() as s:
            return await s.get(VerTransaction, tx_id)

    async def _expire_if_due(self, tx: VerTransaction) -> VerTransaction:
        if tx.status in ("pending", "responded") and self.now() >= tx.expires_at:
            reason = "the transaction expired before a valid response arrived"
            await self._finish(tx.id, "expired", failed_check="transaction_expired", reason=reason)
            tx.status, tx.failed_check, tx.failure_reason = "expired", "transaction_expired", reason
            tx.enc_jwk = None
        return tx

    async def _finish(self, tx_id: str, status: str, *, failed_check: str | None = None,
                      reason: str | None = None, checks: list[str] | None = None,
                      result: dict[str, Any] | None = None, response_code_sha256: str | None = None,
                      only_if_open: bool = False) -> bool:
        """Write the outcome (one UPDATE); with ``only_if_open`` only while still pending and unexpired."""
        values = {"b_status": status, "b_failed_check": failed_check,
                  "b_failure_reason": reason[:500] if reason else None, "b_checks": checks or [], "b_result": result,
                  "b_enc_jwk": None, "b_finished_at": self.now(), "b_response_code_sha256": response_code_sha256,
                  "b_id": tx_id, "b_now": self.now()}
        async with self.rt.db.engine.connect() as conn:
            # one atomic statement: autocommit spares the BEGIN and COMMIT round trips; the statement is built
            # once with bound parameters, so SQLAlchemy reuses its compiled form (no per-call cache-key walk)
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            done = await auto.execute(_FINISH_OPEN if only_if_open else _FINISH, values)
        if done.rowcount != 1:
            return False
        self._notify(tx_id)
        if failed_check:
            log.info("transaction %s %s: %s", pseudonym(tx_id), status, failed_check)
        else:
            log.info("transaction %s %s", pseudonym(tx_id), status)
        return True

    def _notify(self, tx_id: str) -> None:
        for event in self._watchers.get(tx_id, ()):
            event.set()

    async def wait_change(self, tx_id: str, timeout: float) -> None:
        """Wait until this process changes the transaction (or ``timeout`` seconds pass)."""
        event = asyncio.Event()
        self._watchers.setdefault(tx_id, set()).add(event)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout)
        finally:
            waiting = self._watchers.get(tx_id)
            if waiting is not None:
                waiting.discard(event)
                if not waiting:
                    del self._watchers[tx_id]

    async def get_for_rp(self, rp: VerRelyingParty, tx_id: str) -> VerTransaction:
        await self.purge()
        tx = await self._load(tx_id)
        if tx is None or not secret_matches(tx.rp_id, rp.id):
            raise NotFound("no such transaction")
        tx = await self._expire_if_due(tx)
        if tx.status == "pending" and await self.rt.store.get(f"ver:resp:{tx.id}") is None:
            # the single-use response slot is consumed: a response arrived and is being validated
            tx.status = "responded"
        return tx

    def view(self, tx: VerTransaction) -> dict[str, Any]:
        """The RP's view of a transaction; claims of a same-device transaction only after redemption."""
        out: dict[str, Any] = {
            "transaction_id": tx.id, "status": tx.status, "profile": tx.profile, "client_id": tx.client_id,
            "response_mode": tx.response_mode, "created_at": tx.created_at, "expires_at": tx.expires_at,
            "finished_at": tx.finished_at, "checks": tx.checks,
        }
        if tx.status in ("pending", "responded"):
            out["authorization_request"] = self.authorization_request_uri(tx)
        if tx.failed_check:
            out["failure"] = {"check": tx.failed_check, "reason": tx.failure_reason}
        if tx.refused_count:
            # responses the response_uri refused (the transaction stayed pending): check names and times only
            out["refused_attempts"] = list(tx.refused or [])
            out["refused_count"] = tx.refused_count
        if tx.status == "validated":
            if tx.redirect_uri_template and not tx.redeemed:
                out["result_withheld"] = "same-device transaction: redeem the response_code to read the result"
            else:
                out["result"] = tx.result
        return out

    async def redeem(self, rp: VerRelyingParty, tx_id: str, code: Any) -> VerTransaction:
        """Redeem a same-device ``response_code`` (OpenID4VP 1.0 §13.3, session fixation): single use."""
        tx = await self.get_for_rp(rp, tx_id)
        if not isinstance(code, str) or not code or len(code) > 128:
            raise InvalidRequest("response_code is required")
        stored = await self.rt.store.consume(f"ver:rc:{sha256_hex(code)}")
        if stored is None or stored.decode() != tx.id or tx.response_code_sha256 is None \
                or not secret_matches(sha256_hex(code), tx.response_code_sha256):
            raise InvalidRequest("the response_code is not valid (or was already used)")
        tx.redeemed = True
        async with self.rt.db.session() as s:
            s.add(tx)
            await s.commit()
        return tx

    async def purge(self) -> int:
        """Delete transactions finished (or expired) more than ``result_retention_seconds`` ago."""
        now = time.monotonic()
        if now - self._last_purge < 60:
            return 0
        self._last_purge = now
        cutoff = self.now() - self.rt.settings.verifier.result_retention_seconds
        return await self.purge_before(cutoff)

    def start_retention(self) -> None:
        """Start the periodic retention task (idempotent; needs a running event loop).

        The verifier app starts it in its lifespan; when another app owns the lifespan (the all-in-one server) the
        first relying-party or wallet request starts it. It stops with :meth:`stop_retention`, when the runtime
        stops (checked on each wake-up), or when its event loop closes (pending tasks are cancelled).
        """
        if self._retention_task is None or self._retention_task.done():
            self._retention_task = asyncio.get_running_loop().create_task(self._retention_loop(),
                                                                          name="verifier-retention")

    async def stop_retention(self) -> None:
        task, self._retention_task = self._retention_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _retention_loop(self) -> None:
        while True:
            await asyncio.sleep(self.retention_interval)
            if not self.rt.started:
                return
            try:
                await self.purge_before(self.now() - self.rt.settings.verifier.result_retention_seconds)
            except (SQLAlchemyError, OSError) as exc:
                log.warning("retention run failed (%s); retrying in %.0f s", type(exc).__name__,
                            self.retention_interval)

    async def purge_before(self, cutoff: int) -> int:
        stmt = delete(VerTransaction).where(or_(
            col(VerTransaction.finished_at) < cutoff,
            (col(VerTransaction.finished_at).is_(None)) & (col(VerTransaction.expires_at) < cutoff),
        ))
        async with self.rt.db.session() as s:
            res = await s.exec(stmt)
            await s.commit()
        count = int(getattr(res, "rowcount", 0) or 0)
        if count:
            log.info("deleted %d transactions past the retention period", count)
        return count

    # --- wallet-facing ----------------------------------------------------------------------------------

    async def request_object(self, tx_id: str, *, method: str, wallet_nonce: str | None = None,
                             wallet_metadata: str | None = None) -> str:
        """The request object (RFC 9101 JAR; OpenID4VP 1.0 §5, §5.10)."""
        tx = await self._load(tx_id)
        if tx is None:
            raise NotFound("no such request")
        tx = await self._expire_if_due(tx)
        if tx.status != "pending":
            raise InvalidRequest("the request is no longer valid")
        if method == "post" and tx.request_uri_method != "post":
            raise InvalidRequestUriMethod("this request_uri is fetched with GET")
        if wallet_nonce is not None and (not isinstance(wallet_nonce, str) or len(wallet_nonce) > 256):
            raise InvalidRequest("wallet_nonce is malformed")
        if wallet_metadata is not None:
            try:
                meta = json.loads(wallet_metadata)
            except ValueError:
                raise InvalidRequest("wallet_metadata is not JSON") from None
            if not isinstance(meta, dict):
                raise InvalidRequest("wallet_metadata must be a JSON object")
        claims: dict[str, Any] = {
            "aud": SELF_ISSUED_AUD, "client_id": tx.client_id, "response_type": "vp_token",
            "response_mode": tx.response_mode, "response_uri": self.response_uri(tx.id), "nonce": tx.nonce,
            "state": tx.state, "dcql_query": tx.dcql_query, "client_metadata": self.client_metadata(tx),
            "iat": self.now(), "exp": tx.expires_at,
        }
        if wallet_nonce is not None:
            claims["wallet_nonce"] = wallet_nonce
        match_code = tx.profile_params.get("_match_code")
        if isinstance(match_code, str):
            claims["match_code"] = match_code  # an extension parameter (§5: a wallet ignores what it does not know)
        if tx.client_id.startswith("redirect_uri:"):
            header = b64u_encode(jose.json_dumps({"alg": "none", "typ": JAR_TYP}))
            return f"{header}.{b64u_encode(jose.json_dumps(claims))}."
        assert self.rt.keys is not None
        return jose.sign_jwt(claims, self.rt.keys.verifier.signing_key(), typ=JAR_TYP, include_x5c=True,
                             include_kid=False)

    def client_metadata(self, tx: VerTransaction) -> dict[str, Any]:
        """OpenID4VP 1.0 §5.1 ``client_metadata``: formats, the response encryption key, and ``client_name``
        (RFC 7591 §2: the service the wallet shows the user; a signed request object vouches for it)."""
        meta: dict[str, Any] = {"vp_formats_supported": VP_FORMATS_SUPPORTED}
        name = tx.profile_params.get("_client_name")
        if isinstance(name, str) and name:
            meta["client_name"] = name
        if tx.enc_jwk is not None:
            pub = {k: v for k, v in tx.enc_jwk.items() if k in PUBLIC_JWK_MEMBERS}
            meta["jwks"] = {"keys": [{**pub, "use": "enc", "alg": "ECDH-ES"}]}
            meta["encrypted_response_enc_values_supported"] = ENC_VALUES
        return meta

    async def handle_response(self, tx_id: str, form: Mapping[str, str]) -> dict[str, Any]:
        """The ``response_uri`` (OpenID4VP 1.0 §8.2 direct_post, §8.3.1 direct_post.jwt, §8.5 errors).

        The ``response_uri`` is in the QR code, so anyone who saw it can post to it (OpenID4VP 1.0 §14.2): a
        response that does not validate is refused (400 ``invalid_request`` naming the check) and recorded as a
        refused attempt (check name and time, :meth:`_refuse`), and the transaction stays pending for the real
        wallet until its expiry. A wallet error response (§8.5, e.g. the user declined) is recorded the same way
        (answered 200), without closing the door on a later valid response to the same request.

        Nothing is written before the response is valid: the single-use response slot is read, the response
        validated, and only then the slot consumed atomically (``GETDEL``: one winner across workers) and the
        outcome written with one conditional UPDATE (still pending and unexpired). A valid response is accepted
        exactly once; a second one, or one racing the expiry, is refused.
        """
        self.start_retention()
        key = f"ver:resp:{tx_id}"
        raw = await self.rt.store.get(key) if isinstance(tx_id, str) and len(tx_id) <= 64 else None
        if raw is None:
            await self._not_waiting(tx_id)
        slot = Slot.decode(raw)
        try:
            outcome = await self._evaluate(slot, form)
        except CheckFailed as exc:
            await self._refuse(slot.id, exc.check)
            raise InvalidRequest(f"{exc.check}: {exc.reason}") from None
        except (RecursionError, ValueError, TypeError, LookupError, AttributeError, FormatError) as exc:
            # hostile input that got past the parsers' own checks: refuse it, never a 500 nor a half-written state
            log.info("transaction %s: malformed response refused (%s)", pseudonym(slot.id), type(exc).__name__)
            await self._refuse(slot.id, "response.malformed")
            raise InvalidRequest("response.malformed: the response could not be processed") from None
        if isinstance(outcome, WalletError):
            await self._refuse(slot.id, "wallet_error", error=outcome.code)
            return {}
        result, checks = outcome
        result = strip_claims(result, slot.youth_added)  # what the youth policy asked for, the RP did not
        if await self.rt.store.consume(key) is None:  # another worker accepted a valid response first
            await self._not_waiting(slot.id)
        self._notify(slot.id)  # now "responded"
        code_hash = None
        answer: dict[str, Any] = {}
        if slot.redirect_uri_template:
            code = secrets.token_urlsafe(32)
            code_hash = sha256_hex(code)
            answer["redirect_uri"] = _fill(slot.redirect_uri_template, code)
        await self._close(slot, "validated", checks=checks, result=result, response_code_sha256=code_hash)
        if code_hash is not None:
            await self.rt.store.put(f"ver:rc:{code_hash}", slot.id.encode(), self.rt.settings.verifier.transaction_ttl)
        return answer

    async def _evaluate(self, slot: Slot, form: Mapping[str, str]
                        ) -> tuple[dict[str, Any], list[str]] | WalletError:
        """Decrypt, bind and validate one response (no side effect); :class:`CheckFailed` names what failed."""
        params: Mapping[str, Any] = form
        thumbprint = None
        if "response" in form:
            if slot.enc_jwk is None:
                raise CheckFailed("response_mode", "an encrypted response was sent for direct_post")
            try:
                dec = jose.decrypt_jwe(form["response"], slot.enc_jwk)
                payload = jose.parse_json_object(dec.plaintext, what="response")
            except (EncryptionError, ParsingError, UnsupportedAlgorithm, FormatError) as exc:
                raise CheckFailed("response_encryption", exc.description) from None
            if dec.header.get("kid") not in (None, slot.enc_jwk.get("kid")):
                raise CheckFailed("response_encryption", "the JWE names another key")
            params = payload
            thumbprint = jwk_thumbprint_sha256(slot.enc_jwk)
        elif slot.response_mode == "direct_post.jwt" and "error" not in form:
            raise CheckFailed("response_mode", "direct_post.jwt needs an encrypted response")
        state = params.get("state")
        if not isinstance(state, str) or not secret_matches(state, slot.state):
            raise CheckFailed("state", "the state does not belong to this transaction")
        if "error" in params:
            code = params.get("error")
            return WalletError(code if isinstance(code, str) and code.isascii() and code.replace("_", "").isalnum()
                               and len(code) < 64 else "invalid")
        vp_token = params.get("vp_token")
        if isinstance(vp_token, str):
            try:
                vp_token = jose.parse_json_object(vp_token.encode(), what="vp_token")
            except ParsingError:
                raise CheckFailed("vp_token", "vp_token is not a JSON object") from None
        response_uri = self.response_uri(slot.id)
        ctx = ResponseContext(slot.client_id, slot.nonce, response_uri,
                              openid4vp_session_transcript(slot.client_id, slot.nonce, response_uri, thumbprint))
        return await self.validator.validate(
            DcqlQuery.parse(slot.dcql_query), vp_token, ctx, same_holder=slot.same_holder,
            contains=tuple(Contains.from_json(c) for c in slot.contains), youth=self.youth_policy())

    async def _not_waiting(self, tx_id: str) -> NoReturn:
        """Refuse a response to a transaction that takes none (unknown, expired, or already answered)."""
        tx = await self._load(tx_id)
        if tx is None:
            raise InvalidRequest("unknown transaction")
        tx = await self._expire_if_due(tx)
        if tx.status == "expired":
            raise InvalidRequest("the transaction has expired")
        raise InvalidRequest("the transaction is no longer waiting for a response")

    async def _refuse(self, tx_id: str, check: str, *, error: str | None = None) -> None:
        """Record a refused response: the transaction stays pending (OpenID4VP 1.0 §14.2: anyone who saw the QR code
        can post to the ``response_uri``). Keeps the count and the :data:`MAX_REFUSED` most recent entries, each
        the check's name, the wallet's error code for an error response, and the time: no claim values."""
        entry: dict[str, Any] = {"check": check, "at": self.now()}
        if error is not None:
            entry["error"] = error
        for _ in range(4):
            async with self.rt.db.session() as s:
                tx = await s.get(VerTransaction, tx_id)
            if tx is None or tx.status != "pending":
                return
            refused = [*(tx.refused or []), entry][-MAX_REFUSED:]
            async with self.rt.db.engine.connect() as conn:
                auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
                done = await auto.execute(_REFUSE, {"b_id": tx_id, "b_seen": tx.refused_count,
                                                    "b_refused": refused, "b_count": tx.refused_count + 1})
            if done.rowcount == 1:
                break
        else:  # many refusals at once: count this one, the list keeps the others
            async with self.rt.db.engine.connect() as conn:
                auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await auto.execute(_REFUSE_COUNT, {"b_id": tx_id})
        self._notify(tx_id)
        log.info("transaction %s: response refused (%s%s)", pseudonym(tx_id), check, f" {error}" if error else "")

    async def _close(self, slot: Slot, status: str, **outcome: Any) -> None:
        """Record the outcome of a response; an expired (or already closed) transaction refuses it."""
        if not await self._finish(slot.id, status, only_if_open=True, **outcome):
            await self._not_waiting(slot.id)


@dataclass(frozen=True)
class WalletError:
    """A wallet's error response (OpenID4VP 1.0 §8.5): its ``error`` code only (ASCII, at most 63 characters)."""

    code: str


MAX_REFUSED = 20
"""How many refused responses a transaction lists (the most recent; ``refused_count`` counts them all)."""

PUBLIC_JWK_MEMBERS = ("kty", "crv", "x", "y", "kid")
"""The members of an EC JWK that may be stored and published (RFC 7518 §6.2.1; never ``d``)."""

_OUTCOME_COLUMNS = ("status", "failed_check", "failure_reason", "checks", "result", "enc_jwk", "finished_at",
                   "response_code_sha256")
_FINISH = update(VerTransaction).where(col(VerTransaction.id) == bindparam("b_id")).values(
    **{c: bindparam(f"b_{c}") for c in _OUTCOME_COLUMNS})
"""Write a transaction's outcome (one UPDATE, bound parameters: compiled once per engine)."""
_FINISH_OPEN = _FINISH.where(col(VerTransaction.status) == "pending",
                             col(VerTransaction.expires_at) > bindparam("b_now"))
"""The same, only while the transaction is still pending and unexpired (a response racing the expiry loses)."""
_REFUSE = update(VerTransaction).where(
    col(VerTransaction.id) == bindparam("b_id"), col(VerTransaction.status) == "pending",
    col(VerTransaction.refused_count) == bindparam("b_seen"),
).values(refused=bindparam("b_refused", type_=JSON), refused_count=bindparam("b_count"))
"""Append a refused response (optimistic: only if no other refusal was written since it was read)."""
_REFUSE_COUNT = update(VerTransaction).where(
    col(VerTransaction.id) == bindparam("b_id"), col(VerTransaction.status) == "pending",
).values(refused_count=VerTransaction.refused_count + 1)
"""Count a refused response without listing it."""


@dataclass(frozen=True)
class Slot:
    """What answering a transaction needs, kept in the store for its lifetime and consumed by the response."""

    id: str
    state: str
    nonce: str
    client_id: str
    response_mode: str
    dcql_query: dict[str, Any]
    enc_jwk: dict[str, Any] | None
    redirect_uri_template: str | None
    same_holder: tuple[str, str] | None
    contains: list[list[Any]] = field(default_factory=list)
    """:class:`verifier.profiles.Contains` checks as JSON."""
    youth_added: list[list[Any]] = field(default_factory=list)
    """``[query id, claim path]`` the youth policy added to the query (:func:`verifier.youth.with_age_claims`)."""

    @classmethod
    def of(cls, tx: VerTransaction) -> Slot:
        same = tx.profile_params.get("_same_holder")
        return cls(tx.id, tx.state, tx.nonce, tx.client_id, tx.response_mode, tx.dcql_query, tx.enc_jwk,
                   tx.redirect_uri_template, (same[0], same[1]) if isinstance(same, list) and len(same) == 2 else None,
                   list(tx.profile_params.get("_contains", [])), list(tx.profile_params.get("_youth_added", [])))

    def encode(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Slot:
        d = json.loads(raw)
        same = d.get("same_holder")
        d["same_holder"] = (same[0], same[1]) if isinstance(same, list) and len(same) == 2 else None
        return cls(**d)


def youth_query(query: dict[str, Any], consent_age: int) -> tuple[dict[str, Any], list[list[Any]]]:
    """The transaction's DCQL query with what the youth policy (:mod:`verifier.youth`) needs: the claim that decides
    the consent age in every Credential Query for a type that carries an age, and the optional guardian consent
    query. Returns it and the ``[query id, path]`` pairs added."""
    with_age, added = with_age_claims(query, consent_age)
    out = with_consent_query(with_age)
    DcqlQuery.parse(out)  # still a valid query (OpenID4VP 1.0 §6)
    return out, added


def _fill(template: str, code: str) -> str:
    """Put the ``response_code`` into the RP's redirect URI template (``{response_code}`` or a query member)."""
    if "{response_code}" in template:
        return template.replace("{response_code}", quote(code, safe=""))
    parts = urlsplit(template)
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("response_code", code)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))
