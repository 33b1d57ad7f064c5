"""The reference holder's orchestration: what the wallet app does, step by step, on the protocol clients.

- :meth:`Wallet.register`: an instance key, a platform attestation (:class:`~wallet_api.holder.provider_client.Device`),
  registration at the wallet provider;
- :meth:`Wallet.receive`: an OpenID4VCI 1.0 credential offer, by the pre-authorized code flow (with ``tx_code``)
  or the authorization code flow (PAR, PKCE S256, the user's login through a :class:`~wallet_api.holder.login.Login`);
  :meth:`Wallet.request`: wallet-initiated issuance by the authorization code flow. Both authenticate with the
  wallet attestation (client authentication, DPoP with the instance key) and send one key attestation per request
  (``key_attestation`` in the ``jwt`` proof, nonce = the c_nonce); deferred credentials (§9) wait as pending and
  :meth:`Wallet.poll_deferred` collects them at the issuer's ``interval``; after a PID arrives the instance is bound
  to its person by presenting that PID to the wallet provider;
- :meth:`Wallet.inspect_request` / :meth:`Wallet.present`: an OpenID4VP request (verified request object; what is
  asked and by whom: the service's ``client_name`` and, for a cross-device login, the ``match_code`` the user
  confirms against the login page), the user's decision, the response, and an entry in the transaction log
  (claim names only).
  A request for a work-profile credential (:func:`requested_profile`) is answered from the ``work`` profile only,
  any other from the ``private`` profile (:mod:`wallet_api.holder.store`): one answer never mixes the two, and the
  log entry (local and at the provider) names the profile whose credentials were used;
- :meth:`Wallet.backup` / :meth:`Wallet.restore`: the store's credentials encrypted on the device (AES-256-GCM,
  key from the user's passphrase by scrypt, RFC 7914) and uploaded as opaque blobs, one per wallet profile.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from eidcore import jose
from eidcore.clock import SYSTEM_CLOCK, Clock
from eidcore.encoding import b64u_decode, b64u_encode
from eidcore.errors import (
    AccessDenied,
    ConfigurationError,
    InvalidRequest,
    InvalidToken,
    InvalidTransactionId,
    ParsingError,
    RemoteProblem,
    UnknownCredentialConfiguration,
)
from eidcore.formats.sd_jwt.present import KeyBinding, SdJwtHolder
from wallet_api.holder import vci, vp
from wallet_api.holder.login import Login
from wallet_api.holder.provider_client import Device, ProviderClient
from wallet_api.holder.store import PRIVATE, PROFILES, WORK, LocalStore, profile_for_type, profile_of

PID_VCT = "urn:eudi:pid:1"
#: OpenID4VCI 1.0 §9: the wait before a deferred poll when the issuer names no interval
DEFAULT_INTERVAL = 5
BACKUP_MEDIA_TYPE = "application/vnd.lommebok.backup+json"
SCRYPT_N = 2**14


def _query_types(query: Any) -> set[str]:
    meta = query.get("meta") if isinstance(query, dict) else None
    if not isinstance(meta, dict):
        return set()
    vcts = meta.get("vct_values")
    out = {v for v in vcts if isinstance(v, str)} if isinstance(vcts, list) else set()
    if isinstance(meta.get("doctype_value"), str):
        out.add(meta["doctype_value"])
    return out


def requested_profile(claims: dict[str, Any]) -> str | None:
    """``work`` when an OpenID4VP request object (its ``claims``) asks for a work-profile credential, else ``None``.

    Work is asked for when a Credential Query (OpenID4VP 1.0 §6.1) names an employee role type (``store.WORK_TYPES``)
    or carries the extension member ``"wallet_profile": "work"`` (the verifier's ``employee-role`` profile sets it;
    §6: other wallets ignore unknown members). Such a request is answered from the work profile only.
    """
    dcql = claims.get("dcql_query")
    queries = dcql.get("credentials") if isinstance(dcql, dict) else None
    for q in queries if isinstance(queries, list) else []:
        if not isinstance(q, dict):
            continue
        if q.get("wallet_profile") == WORK or any(profile_for_type(t) == WORK for t in _query_types(q)):
            return WORK
    return None


@dataclass(frozen=True)
class RequestPreview:
    """What a relying party asks for, shown to the user before anything is shared."""

    request: vp.AuthorizationRequest
    verifier: str
    verifier_name: str | None
    credentials: list[dict[str, Any]] = field(default_factory=list)

    @property
    def match_code(self) -> str | None:
        """The code a cross-device login page shows (OpenID4VP 1.0 §14.2): the user must confirm it matches."""
        return self.request.match_code

    @property
    def claim_names(self) -> list[str]:
        return [c for q in self.credentials for c in q["claims"]]

    @property
    def credential_types(self) -> list[str]:
        return sorted({t for q in self.credentials for t in q["types"]})


@dataclass(frozen=True)
class PresentationOutcome:
    """How a presentation ended: ``shared``, ``declined`` (by the user), ``refused`` (by the verifier)."""

    outcome: str
    status_code: int
    body: dict[str, Any]
    redirect_uri: str | None


def _claim_name(path: Sequence[Any]) -> str:
    return ".".join("*" if p is None else str(p) for p in path)


def describe_query(dcql: Any) -> list[dict[str, Any]]:
    """A readable summary of a DCQL query: per credential query its format, types and claim names."""
    out: list[dict[str, Any]] = []
    creds = dcql.get("credentials") if isinstance(dcql, dict) else None
    for q in creds if isinstance(creds, list) else []:
        if not isinstance(q, dict):
            continue
        raw_meta = q.get("meta")
        meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
        types = meta.get("vct_values") or ([meta["doctype_value"]] if meta.get("doctype_value") else [])
        claims = [_claim_name(c["path"]) for c in q.get("claims") or []
                  if isinstance(c, dict) and isinstance(c.get("path"), list)]
        out.append({"id": q.get("id"), "format": q.get("format"), "types": [str(t) for t in types],
                    "claims": claims or ["(all claims)"]})
    return out


class Wallet:
    """One wallet (a store) talking to a Lommebok deployment at ``base_url`` (e.g. ``http://localhost:8000``).

    The wallet provider is at ``provider_url`` (default ``<base_url>/wallet``); issuers and verifiers are found
    through their offers and requests. ``sleep`` waits between deferred polls (tests pass their own).
    """

    def __init__(self, store: LocalStore, http: httpx.AsyncClient, *, base_url: str,
                 trust_anchors: Sequence[x509.Certificate], clock: Clock = SYSTEM_CLOCK,
                 provider_url: str | None = None,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> None:
        self.store = store
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.provider_url = (provider_url or f"{self.base_url}/wallet").rstrip("/")
        self.trust_anchors = list(trust_anchors)
        self.clock = clock
        self.sleep = sleep

    # -- instance ----------------------------------------------------------------------------------

    @property
    def registered(self) -> bool:
        return self.store.instance is not None

    def instance_key(self) -> jose.SigningKey:
        inst = self.store.instance
        if inst is None:
            raise ConfigurationError("this wallet is not registered yet: run `lommebok wallet register`")
        return self.store.key(inst["key_id"])

    @property
    def provider(self) -> ProviderClient:
        inst = self.store.instance
        base = inst["provider"] if inst else self.provider_url
        return ProviderClient(self.http, base, self.instance_key(), self.clock)

    async def register(self, device: Device, *, wallet_version: str = "0.1.0") -> dict[str, Any]:
        """Create the instance key and register it (once per store)."""
        if self.store.instance is not None:
            raise InvalidRequest("this wallet is registered already")
        kid, key = self.store.new_key()
        client = ProviderClient(self.http, self.provider_url, key, self.clock)
        view = await client.register(device, wallet_version=wallet_version)
        self.store.set_instance({"id": view["id"], "key_id": kid, "jkt": view["jkt"],
                                 "provider": self.provider_url, "registered_at": view["created_at"]})
        return view

    async def status(self) -> dict[str, Any]:
        inst = self.store.instance
        if inst is None:
            raise ConfigurationError("this wallet is not registered yet")
        return await self.provider.instance(inst["id"])

    # -- issuance ----------------------------------------------------------------------------------

    async def receive(self, offer_uri: str, tx_code: str | None = None, *, login: Login | None = None,
                      wait_deferred: float = 0.0) -> list[dict[str, Any]]:
        """Receive what a credential offer names (OpenID4VCI 1.0 §4): the pre-authorized code flow (with
        ``tx_code``) when the offer has that grant, else the authorization code flow with ``login``.

        Deferred credentials (§9) are kept as pending; with ``wait_deferred`` seconds the wallet polls for them at
        the issuer's ``interval``. Returns the credentials stored now.
        """
        offer = await vci.resolve_offer(self.http, offer_uri)
        metadata = await vci.fetch_metadata(self.http, offer.credential_issuer)
        client = await self._vci_client(metadata)
        if offer.pre_authorized_code is not None:
            if offer.tx_code is not None and not tx_code:
                raise InvalidRequest("this offer needs the transaction code (tx_code) the issuer gave you")
            token = await client.token_pre_authorized(offer.pre_authorized_code,
                                                      tx_code if offer.tx_code is not None else None)
        elif "authorization_code" in offer.grants or not offer.grants:
            if login is None:
                raise InvalidRequest("this offer needs a login at the issuer (authorization code flow)")
            token = await self._authorize(client, offer.credential_configuration_ids, login,
                                          issuer_state=offer.issuer_state)
        else:
            raise InvalidRequest("the offer names no grant this wallet supports")
        return await self._issue(client, token, offer.credential_configuration_ids, wait_deferred)

    async def request(self, credential_issuer: str, configuration_ids: Sequence[str], login: Login, *,
                      wait_deferred: float = 0.0) -> list[dict[str, Any]]:
        """Wallet-initiated issuance (OpenID4VCI 1.0 §3.4, §5): the authorization code flow without an offer."""
        metadata = await vci.fetch_metadata(self.http, credential_issuer.rstrip("/"))
        supported = metadata.credential_issuer.get("credential_configurations_supported") or {}
        unknown = [c for c in configuration_ids if c not in supported]
        if unknown or not configuration_ids:
            raise UnknownCredentialConfiguration(f"the issuer offers no {', '.join(unknown) or 'configuration'}; "
                                                 f"it has: {', '.join(sorted(supported))}")
        client = await self._vci_client(metadata)
        token = await self._authorize(client, list(configuration_ids), login)
        return await self._issue(client, token, list(configuration_ids), wait_deferred)

    async def _vci_client(self, metadata: vci.IssuerMetadata) -> vci.VciClient:
        """An OpenID4VCI client that authenticates with a fresh wallet attestation and DPoP by the instance key."""
        instance_key = self.instance_key()
        attestation = await self.provider.wallet_attestation()
        return vci.VciClient(self.http, metadata, clock=self.clock, dpop_key=instance_key,
                             attestation=vci.WalletAttestation(attestation, instance_key))

    async def _authorize(self, client: vci.VciClient, configuration_ids: Sequence[str], login: Login, *,
                         issuer_state: str | None = None) -> vci.TokenResponse:
        """PAR (RFC 9126) with PKCE S256, DPoP and the wallet attestation; the user's login; the code for tokens."""
        redirect_uri = await login.start()
        try:
            details = [{"type": "openid_credential", "credential_configuration_id": c} for c in configuration_ids]
            auth = await client.push_authorization(redirect_uri=redirect_uri, authorization_details=details,
                                                   issuer_state=issuer_state)
            location = await login.authorize(auth.authorize_url)
        finally:
            await login.close()
        code = client.authorization_code(location, auth)
        return await client.token_authorization_code(code, auth)

    async def _issue(self, client: vci.VciClient, token: vci.TokenResponse, configuration_ids: Sequence[str],
                     wait_deferred: float) -> list[dict[str, Any]]:
        """One credential request per configuration, each with a new key and a key attestation over the c_nonce."""
        metadata = client.metadata
        configs = metadata.credential_issuer.get("credential_configurations_supported") or {}
        received: list[dict[str, Any]] = []
        deferred = False
        for config_id in configuration_ids:
            fmt = (configs.get(config_id) or {}).get("format")
            nonce = await client.nonce()
            kid, key = self.store.new_key()
            key_attestation = await self.provider.key_attestation([key.public_jwk], nonce=nonce)
            proof = client.proof(key, nonce, key_attestation=key_attestation)
            resp = await client.request_credential(token, proofs=[proof], credential_configuration_id=config_id)
            if resp.transaction_id is not None:
                self.store.add_pending({
                    "issuer": metadata.issuer_id, "configuration_id": config_id, "format": fmt, "key_id": kid,
                    "transaction_id": resp.transaction_id, "interval": resp.interval or DEFAULT_INTERVAL,
                    "token": {"access_token": token.access_token, "token_type": token.token_type,
                              "refresh_token": token.refresh_token},
                    "deferred_at": datetime.now(UTC).isoformat(timespec="seconds")})
                deferred = True
                continue
            if not resp.credentials:
                self.store.delete_key(kid)
                raise InvalidRequest(f"the issuer answered {config_id} with neither a credential nor a "
                                     "transaction_id")
            for credential in resp.credentials:
                record = self._record(credential, fmt, config_id, kid, metadata.issuer_id)
                received.append(self.store.add_credential(record))
            if resp.notification_id:
                await client.notify(token, resp.notification_id, "credential_accepted")
        await self._bind_if_pid(received)
        if deferred and wait_deferred > 0:
            received.extend(await self.poll_deferred(wait=wait_deferred, sleep_first=True))
        return received

    async def _bind_if_pid(self, received: list[dict[str, Any]]) -> None:
        for rec in received:
            if rec.get("type") == PID_VCT and rec["format"] == "dc+sd-jwt":
                await self.bind_with_pid(rec)
                return

    async def poll_deferred(self, *, wait: float = 0.0, sleep_first: bool = False) -> list[dict[str, Any]]:
        """OpenID4VCI 1.0 §9: ask the deferred credential endpoint for every pending issuance; with ``wait``
        seconds, keep asking, each time after the issuer's ``interval``, until they arrive or the time is spent.
        An access token that expired meanwhile is refreshed with the refresh token (authorization code flow).
        Returns the credentials that arrived."""
        received: list[dict[str, Any]] = []
        waited = 0.0
        first = True
        while self.store.pending():
            if sleep_first or not first:
                interval = float(min(p.get("interval") or DEFAULT_INTERVAL for p in self.store.pending()))
                if waited + interval > wait:
                    break
                await self.sleep(interval)
                waited += interval
            first = False
            for entry in self.store.pending():
                received.extend(await self._poll_one(entry))
        await self._bind_if_pid(received)
        return received

    async def _poll_one(self, entry: dict[str, Any]) -> list[dict[str, Any]]:
        metadata = await vci.fetch_metadata(self.http, entry["issuer"])
        client = vci.VciClient(self.http, metadata, clock=self.clock, dpop_key=self.instance_key())
        t = entry["token"]
        token = vci.TokenResponse(t["access_token"], t["token_type"], refresh_token=t.get("refresh_token"))
        try:
            try:
                resp = await client.deferred(token, entry["transaction_id"])
            except InvalidToken:
                if not token.refresh_token:
                    raise
                # the access token expired while the issuance waited: refresh it (RFC 6749 §6, the issuer rotates
                # the refresh token; client authentication with a fresh wallet attestation, DPoP by the same key)
                client = await self._vci_client(metadata)
                token = await client.refresh(token)
                entry["token"] = {"access_token": token.access_token, "token_type": token.token_type,
                                  "refresh_token": token.refresh_token}
                self._update_pending(entry)
                resp = await client.deferred(token, entry["transaction_id"])
        except InvalidTransactionId:
            self.store.remove_pending(entry["id"], delete_key=True)
            raise
        if resp.transaction_id is not None or not resp.credentials:
            if resp.interval and resp.interval != entry.get("interval"):
                entry["interval"] = resp.interval
                self._update_pending(entry)
            return []
        out = [self.store.add_credential(self._record(c, entry.get("format"), entry["configuration_id"],
                                                      entry["key_id"], metadata.issuer_id))
               for c in resp.credentials]
        self.store.remove_pending(entry["id"])
        if resp.notification_id:
            await client.notify(token, resp.notification_id, "credential_accepted")
        return out

    def _update_pending(self, entry: dict[str, Any]) -> None:
        self.store.doc["pending"] = [entry if p["id"] == entry["id"] else p for p in self.store.pending()]
        self.store.save()

    def _record(self, credential: str, fmt: Any, config_id: str, kid: str, issuer: str) -> dict[str, Any]:
        rec: dict[str, Any] = {"format": fmt or "unknown", "configuration_id": config_id, "credential": credential,
                               "key_id": kid, "issuer": issuer,
                               "received_at": datetime.now(UTC).isoformat(timespec="seconds")}
        if fmt == "dc+sd-jwt":
            held = SdJwtHolder(clock=self.clock).load(credential)
            rec["type"] = held.claims.get("vct")
            rec["expires_at"] = held.claims.get("exp")
        elif fmt == "mso_mdoc":
            from eidcore.formats import mdoc

            rec["type"] = mdoc.IssuerSigned.from_b64u(credential).mso.doc_type
        return rec

    def claims(self, record: dict[str, Any]) -> dict[str, Any]:
        """The claims of a held credential (for display)."""
        if record["format"] == "dc+sd-jwt":
            return dict(SdJwtHolder(clock=self.clock).load(record["credential"]).claims)
        if record["format"] == "mso_mdoc":
            from eidcore.formats import mdoc

            issued = mdoc.IssuerSigned.from_b64u(record["credential"])
            return {ns: {it.element_identifier: it.element_value for it in items}
                    for ns, items in issued.items().items()}
        return {}

    async def bind_with_pid(self, record: dict[str, Any]) -> dict[str, Any]:
        """Bind the instance to the PID's person at the wallet provider (KB-JWT over the provider's nonce)."""
        nonce = await self.provider.binding_nonce()
        presentation = SdJwtHolder(clock=self.clock).present(
            record["credential"], disclose=[["personal_administrative_number"]],
            key_binding=KeyBinding(self.store.key(record["key_id"]), audience=self.provider.base_url, nonce=nonce))
        assert isinstance(presentation, str)
        return await self.provider.bind_by_pid(presentation, nonce)

    # -- presentation ------------------------------------------------------------------------------

    def held(self, profile: str | None = None) -> list[vp.Held]:
        """The held credentials ready to present: all, or only those of ``profile`` (``private`` / ``work``)."""
        out: list[vp.Held] = []
        for c in self.store.credentials(profile):
            key = self.store.key(c["key_id"])
            if c["format"] == "dc+sd-jwt":
                out.append(vp.HeldSdJwtVc(c["credential"], key))
            elif c["format"] == "mso_mdoc":
                from cryptography.hazmat.primitives.asymmetric import ec

                assert isinstance(key.private_key, ec.EllipticCurvePrivateKey)
                out.append(vp.HeldMdoc(c["credential"], key.private_key))
        return out

    async def inspect_request(self, uri: str) -> RequestPreview:
        """Fetch and verify the request object; describe who asks for what."""
        request = await vp.fetch_request(self.http, uri, trust_anchors=self.trust_anchors, clock=self.clock)
        name = None
        if request.verifier_certificate is not None:
            from cryptography.x509.oid import NameOID

            cns = request.verifier_certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            name = str(cns[0].value) if cns else None
        meta_name = request.client_metadata.get("client_name")
        if isinstance(meta_name, str):
            name = meta_name
        return RequestPreview(request, request.client_id, name, describe_query(request.claims.get("dcql_query")))

    async def present(self, preview: RequestPreview, *, consent: bool,
                      match_code: str | None = None) -> PresentationOutcome:
        """Answer the request: the matching presentations when the user consents, ``access_denied`` if not.

        A request with a :attr:`RequestPreview.match_code` (a cross-device login, OpenID4VP 1.0 §14.2) is answered
        only when ``match_code`` (what the user read on the page they started from) equals it; otherwise it is
        declined (deny by default)."""
        request = preview.request
        queries = preview.credentials
        profile = requested_profile(request.claims) or PRIVATE
        if consent and not await vp.confirmed(request, expected_code=match_code):
            res = await vp.send_error(self.http, request, "access_denied", "the matching code was not confirmed")
            outcome = PresentationOutcome("declined", res.status_code, res.body, res.redirect_uri)
        elif not consent:
            res = await vp.send_error(self.http, request, "access_denied", "the user declined")
            outcome = PresentationOutcome("declined", res.status_code, res.body, res.redirect_uri)
        else:
            try:
                held = self.held(profile)
                token = vp.build_vp_token(request, held, clock=self.clock)
            except AccessDenied:
                await vp.send_error(self.http, request, "access_denied", "no matching credentials")
                raise
            queries = [q for q in preview.credentials if q["id"] in token]
            res = await vp.send_response(self.http, request, token)
            outcome = PresentationOutcome("shared" if res.status_code < 400 else "refused", res.status_code,
                                          res.body, res.redirect_uri)
        await self._log(preview, queries, outcome.outcome, profile)
        return outcome

    async def _log(self, preview: RequestPreview, queries: list[dict[str, Any]], outcome: str, profile: str) -> None:
        """Log what was shown (claim names of the answered queries, never values) and from which wallet profile,
        here and at the provider."""
        claims = sorted({c for q in queries for c in q["claims"] if c != "(all claims)"})
        types = sorted({t for q in queries for t in q["types"]})
        entry = {"relying_party": preview.verifier[:512], "relying_party_name": preview.verifier_name,
                 "credential_types": types[:20], "claims": claims[:100],
                 "outcome": outcome, "profile": profile, "shared_at": datetime.now(UTC).isoformat(timespec="seconds")}
        self.store.add_log(entry)
        try:
            await self.provider.record_transaction(entry)
        except RemoteProblem:
            pass  # the local log keeps it; a suspended instance cannot write to the provider's log

    # -- backup ------------------------------------------------------------------------------------

    def export_profile(self, profile: str) -> dict[str, Any]:
        """The store's export (credentials, their keys, the local log) restricted to one wallet profile."""
        if profile not in PROFILES:
            raise InvalidRequest(f"no wallet profile {profile[:20]!r}")
        data = self.store.export()
        creds = [c for c in data["credentials"] if profile_of(c) == profile]
        return {"credentials": creds, "keys": {c["key_id"]: data["keys"][c["key_id"]] for c in creds},
                "log": [e for e in data["log"] if e.get("profile", PRIVATE) == profile]}

    async def backup(self, passphrase: str, *, profile: str | None = None) -> dict[str, Any]:
        """Encrypt the credentials and their keys with the passphrase and upload one blob per wallet profile.

        ``profile`` given: that profile's backup only, and its view is returned. Otherwise the ``private`` profile
        is always backed up and ``work`` when it holds credentials; the ``private`` view is returned, with every
        uploaded view under ``profiles``.
        """
        targets = [profile] if profile is not None else [
            p for p in PROFILES if p == PRIVATE or self.store.credentials(p)]
        views: dict[str, dict[str, Any]] = {}
        for p in targets:
            blob = encrypt_backup(json.dumps(self.export_profile(p)).encode(), passphrase)
            views[p] = await self.provider.put_backup(blob, media_type=BACKUP_MEDIA_TYPE, profile=p)
        if profile is not None:
            return views[profile]
        return {**views[PRIVATE], "profiles": views}

    async def restore(self, passphrase: str, *, profile: str | None = None) -> int:
        """Download and decrypt the backup of ``profile`` (default: of every profile that has one); add the
        credentials to this store. Returns how many were added; :class:`InvalidRequest` when there is no backup."""
        added, found = 0, False
        for p in [profile] if profile is not None else list(PROFILES):
            got = await self.provider.get_backup(profile=p)
            if got is None:
                continue
            found = True
            data = json.loads(decrypt_backup(got["ciphertext"], passphrase))
            # a profile's backup restores into that profile only: nothing of the other one slips in
            data["credentials"] = [c for c in data.get("credentials") or [] if profile_of(c) == p]
            added += self.store.import_(data)
        if not found:
            raise InvalidRequest("there is no backup for this person" + (f" in profile {profile}" if profile else ""))
        return added


def _kdf(passphrase: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=SCRYPT_N, r=8, p=1).derive(passphrase.encode("utf-8"))


def encrypt_backup(plaintext: bytes, passphrase: str) -> str:
    """AES-256-GCM under a scrypt key (RFC 7914); the result is base64url of a small JSON envelope."""
    salt, nonce = os.urandom(16), os.urandom(12)
    ct = AESGCM(_kdf(passphrase, salt)).encrypt(nonce, plaintext, b"lommebok-backup-v1")
    env = {"v": 1, "kdf": "scrypt", "n": SCRYPT_N, "salt": b64u_encode(salt), "nonce": b64u_encode(nonce),
           "ct": b64u_encode(ct)}
    return b64u_encode(json.dumps(env, separators=(",", ":")).encode())


def decrypt_backup(blob: str, passphrase: str) -> bytes:
    """Open :func:`encrypt_backup` output; :class:`InvalidRequest` for a wrong passphrase or a damaged blob."""
    try:
        env = json.loads(b64u_decode(blob, what="backup"))
        if env.get("v") != 1 or env.get("kdf") != "scrypt" or env.get("n") != SCRYPT_N:
            raise InvalidRequest("unknown backup format")
        key = _kdf(passphrase, b64u_decode(env["salt"], what="salt"))
        return AESGCM(key).decrypt(b64u_decode(env["nonce"], what="nonce"), b64u_decode(env["ct"], what="ct"),
                                   b"lommebok-backup-v1")
    except InvalidTag:
        raise InvalidRequest("the passphrase is wrong or the backup is damaged") from None
    except (ValueError, KeyError, TypeError, ParsingError):
        raise InvalidRequest("the backup is damaged") from None
