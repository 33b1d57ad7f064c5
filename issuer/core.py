"""The issuer service object (:class:`Issuer`): configurations, registers, single-use values, generated secrets,
and this worker's caches. ``issuer.app.create_app`` builds one and injects it into every controller.

Single-use values (OpenID4VCI 1.0 c_nonce, pre-authorized codes, authorization codes, RFC 9126 request URIs,
RFC 9449 DPoP ``jti``, attestation PoP ``jti``, refresh tokens) live in ``rt.store`` under a SHA-256 of the
value, and are taken with the store's atomic ``consume`` so a second worker never accepts what the first took.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeAlias

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from litestar.di import NamedDependency
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from eidcore import jose
from eidcore.credential_types import CredentialType, CredentialTypes, load_credential_types
from eidcore.errors import ConfigurationError, InvalidRequest, ParsingError, UnknownPerson
from eidcore.formats.sd_jwt_vc import SdJwtVcIssuer
from eidcore.identity import LevelOfAssurance
from eidcore.kek import UnwrapError, is_wrapped, needs_rewrap
from eidcore.openid4vci import PRE_AUTHORIZED_CODE_GRANT
from eidcore.registers import Person
from eidcore.registers.sql import SqlOrganisationRegister, SqlPopulationRegister
from eidcore.runtime import Runtime
from eidcore.storage import KeyValueStore
from issuer.allocation import IndexAllocator
from issuer.caches import ClaimsCache, JwksCache, StatusListTokens, WalletStatusLists
from issuer.clients import ClientRegistry, check_registration
from issuer.models import IssSecret
from issuer.options import IssuerOptions
from issuer.records import RecordWriter

__all__ = ["Configuration", "Issuer", "IssuerDep", "secret_aad", "token_hash"]

log = logging.getLogger("lommebok.issuer")

Format = Literal["dc+sd-jwt", "mso_mdoc"]
FORMAT_SUFFIX: dict[str, Format] = {"_vc_sd_jwt": "dc+sd-jwt", "_mso_mdoc": "mso_mdoc"}
PRE_AUTH_GRANT = PRE_AUTHORIZED_CODE_GRANT


def secret_aad(name: str) -> bytes:
    """The associated data an ``iss_secret`` row is wrapped with: the table and the row's name."""
    return b"iss_secret:" + name.encode()


def token_hash(value: str) -> str:
    """The store key part for a secret value (the store never holds a usable token)."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Configuration:
    """One entry of ``credential_configurations_supported`` (OpenID4VCI 1.0 §12.2.4)."""

    id: str
    type: CredentialType
    format: Format

    @property
    def scope(self) -> str:
        return self.id

    @property
    def required_loa(self) -> LevelOfAssurance:
        return LevelOfAssurance(self.type.required_loa)


class Issuer:
    """The issuer service: built once per app by ``issuer.app.create_app`` and injected into the controllers.

    Options come from the runtime's settings (:meth:`IssuerOptions.from_settings`) unless given.
    """

    def __init__(self, rt: Runtime, options: IssuerOptions | None = None) -> None:
        self.rt = rt
        check_registration(rt.settings)  # production: no start without a client registration
        self.options = options or IssuerOptions.from_settings(rt.settings)
        self.types: CredentialTypes = load_credential_types()
        self.configurations: dict[str, Configuration] = {}
        for type_id in self.options.types:
            ct = self.types.get(type_id)
            for suffix, fmt in FORMAT_SUFFIX.items():
                if fmt in ct.formats:
                    cid = f"{type_id}{suffix}"
                    self.configurations[cid] = Configuration(cid, ct, fmt)
        self._secrets: dict[str, bytes] = {}
        self._signing_key: jose.SigningKey | None = None
        self._allocator: IndexAllocator | None = None
        self._records: RecordWriter | None = None
        self._aesgcm: tuple[bytes, AESGCM] | None = None
        self._clients: tuple[object, ClientRegistry] | None = None
        #: this worker's caches (:mod:`issuer.caches`)
        self.claims_cache = ClaimsCache(rt.clock)
        self.status_tokens = StatusListTokens(rt.clock)
        self.wallet_status_lists = WalletStatusLists(rt.clock)
        self.bridge_keys = JwksCache(rt.clock)
        #: SD-JWT VC issuers per credential type id (one per configured type), rebuilt when the key changes
        self.sd_jwt_vc_issuers: dict[str, tuple[jose.SigningKey, SdJwtVcIssuer, str]] = {}

    @property
    def records(self) -> RecordWriter:
        """The writer of issuance records (:class:`issuer.records.RecordWriter`)."""
        if self._records is None or self._records.db is not self.rt.db:
            self._records = RecordWriter(self.rt.db)
        return self._records

    @property
    def clients(self) -> ClientRegistry:
        """The registered OAuth clients and wallet providers (:mod:`issuer.clients`); the dev default names this
        runtime's own wallet provider, so it is built once the keys are loaded."""
        if self._clients is None or self._clients[0] is not self.rt.keys:
            self._clients = (self.rt.keys, ClientRegistry.from_settings(self.rt.settings, self.rt.keys))
        return self._clients[1]

    @property
    def allocator(self) -> IndexAllocator:
        """This worker's status list index blocks (:class:`issuer.allocation.IndexAllocator`)."""
        if self._allocator is None:
            self._allocator = IndexAllocator(self.rt.db, self.options, self.secret, self.now)
        return self._allocator

    # -- identity -----------------------------------------------------------------------------------

    @property
    def issuer_id(self) -> str:
        """The Credential Issuer Identifier, also the authorization server's ``issuer`` (RFC 8414)."""
        return self.rt.settings.service_url("issuer")

    def url(self, path: str) -> str:
        return f"{self.issuer_id}{path}"

    @property
    def store(self) -> KeyValueStore:
        return self.rt.store

    @property
    def signing_key(self) -> jose.SigningKey:
        """The issuer's document signer key (ES256) with its ``x5c`` chain and a thumbprint ``kid``."""
        if self._signing_key is None:
            if self.rt.keys is None:
                raise ConfigurationError("the runtime has not loaded its keys yet")
            ident = self.rt.keys.issuer
            kid = jose.jwk_thumbprint_b64u(jose.public_jwk(ident.key.public_key()))
            self._signing_key = ident.signing_key(kid=kid)
        return self._signing_key

    def population(self) -> SqlPopulationRegister:
        return SqlPopulationRegister(self.rt.db, clock=self.rt.clock)

    async def resolve_person(self, value: object) -> Person:
        """A person by F/D-number, story alias or person id (:class:`~eidcore.errors.UnknownPerson`, 404, if none)."""
        if not isinstance(value, str) or not value or len(value) > 64:
            raise InvalidRequest("person must be an identity number, alias or person id")
        pop = self.population()
        if value.isdigit():
            return await pop.find_by_identifier(value)
        try:
            return await pop.get_by_alias(value)
        except UnknownPerson:
            return await pop.get_person(value)

    def organisations(self) -> SqlOrganisationRegister:
        return SqlOrganisationRegister(self.rt.db, clock=self.rt.clock)

    def configuration(self, config_id: str) -> Configuration | None:
        return self.configurations.get(config_id)

    def now(self) -> datetime:
        return self.rt.clock.now().astimezone(UTC)

    def timestamp(self) -> int:
        return int(self.rt.clock.timestamp())

    # -- single-use values --------------------------------------------------------------------------

    async def put(self, kind: str, value: str, data: dict[str, Any], ttl: int) -> None:
        """Store ``data`` under (kind, value) for ``ttl`` seconds."""
        await self.store.put(f"iss:{kind}:{token_hash(value)}", json.dumps(data).encode(), ttl)

    async def get(self, kind: str, value: str) -> dict[str, Any] | None:
        raw = await self.store.get(f"iss:{kind}:{token_hash(value)}")
        return _load(raw)

    async def consume(self, kind: str, value: str) -> dict[str, Any] | None:
        """Take the value atomically: at most one caller (across workers sharing the store) gets it."""
        raw = await self.store.consume(f"iss:{kind}:{token_hash(value)}")
        return _load(raw)

    async def delete(self, kind: str, value: str) -> None:
        await self.store.delete(f"iss:{kind}:{token_hash(value)}")

    async def first_use(self, kind: str, value: str, ttl: int) -> bool:
        """Record a ``jti``-like value; False when it was seen before (replay)."""
        return await self.store.put(f"iss:{kind}:{token_hash(value)}", b"1", ttl, only_if_absent=True)

    async def incr(self, kind: str, value: str, ttl: int) -> int:
        return await self.store.incr(f"iss:{kind}:{token_hash(value)}", ttl)

    # -- generated secrets --------------------------------------------------------------------------

    async def secret(self, name: str, make: Any = None) -> bytes:
        """A per-deployment secret created once and shared by every worker through the database.

        The row holds it wrapped under the runtime's key-encryption key (:mod:`eidcore.kek`) with the row's name
        as associated data: reading ``iss_secret`` gives no key material, and a value moved to another name does
        not unwrap. A legacy plaintext row (written before secrets were wrapped) is wrapped on first read.
        """
        cached = self._secrets.get(name)
        if cached is not None:
            return cached
        kek = self.rt.kek
        async with self.rt.db.session() as s:
            row = await s.get(IssSecret, name)
            if row is None:
                value = make() if make is not None else secrets.token_bytes(32)
                s.add(IssSecret(name=name, value=await kek.wrap(value, aad=secret_aad(name)), created_at=self.now()))
                try:
                    await s.commit()
                except IntegrityError:
                    await s.rollback()
                    row = await s.get(IssSecret, name)
                    if row is None:  # pragma: no cover - the other writer's row must be there
                        raise ConfigurationError(f"cannot create the issuer secret {name}") from None
                    value = await self._open_secret(s, row)
            else:
                value = await self._open_secret(s, row)
        self._secrets[name] = value
        return value

    async def _open_secret(self, s: Any, row: IssSecret) -> bytes:
        """Unwrap a stored secret; a legacy plaintext row, or one under a previous KEK, is stored wrapped anew."""
        kek = self.rt.kek
        aad = secret_aad(row.name)
        if not is_wrapped(row.value):
            value = row.value
            log.warning("issuer secret %s was stored in clear: wrapping it under key-encryption key %s",
                        row.name, kek.key_id)
        else:
            try:
                value = await kek.unwrap(row.value, aad=aad)
            except UnwrapError as exc:
                raise UnwrapError(f"the issuer secret {row.name!r} in iss_secret does not unwrap: {exc}") from None
            if not needs_rewrap(kek, row.value):
                return value
        row.value = await kek.wrap(value, aad=aad)
        s.add(row)
        await s.commit()
        return value

    async def check_secrets(self) -> None:
        """At start: every stored secret unwraps under the configured KEK (a wrong KEK stops the start with a
        :class:`~eidcore.errors.ConfigurationError`, not garbage later), and legacy plaintext rows get wrapped."""
        self._secrets.clear()
        async with self.rt.db.session() as s:
            rows = list((await s.exec(select(IssSecret))).all())
            for row in rows:
                self._secrets[row.name] = await self._open_secret(s, row)

    async def request_encryption_key(self) -> jose.SigningKey:
        """The P-256 key wallets encrypt credential requests to (OpenID4VCI 1.0 §10, ECDH-ES)."""

        def make() -> bytes:
            return ec.generate_private_key(ec.SECP256R1()).private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )

        der = await self.secret("request-encryption-key", make)
        key = serialization.load_der_private_key(der, None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        kid = "enc-" + jose.jwk_thumbprint_b64u(jose.public_jwk(key.public_key()))[:16]
        return jose.SigningKey(key, "ES256", kid)

    async def encryption_jwk(self) -> dict[str, Any]:
        key = await self.request_encryption_key()
        jwk = jose.public_jwk(key.public_key)
        jwk.update({"kid": key.kid, "use": "enc", "alg": "ECDH-ES"})
        return jwk

    # -- sealed values: body + timestamp + HMAC (stateless; single use, where needed, is kept in the store) --

    async def seal(self, purpose: str, body: bytes) -> str:
        """``body`` with the current time, authenticated for ``purpose`` with a per-deployment key (base64url)."""
        key = await self.secret("seal-key")
        data = body + self.timestamp().to_bytes(8, "big")
        mac = hmac.new(key, purpose.encode() + b"\0" + data, hashlib.sha256).digest()[:16]
        return jose.b64url_encode(data + mac)

    async def unseal(self, purpose: str, token: str, max_age: int) -> bytes | None:
        """The body of a value :meth:`seal` made for ``purpose`` no more than ``max_age`` seconds ago, else None."""
        if not token or len(token) > 512:
            return None
        try:
            raw = jose.b64url_decode(token, what="sealed value")
        except ParsingError:
            return None
        if len(raw) < 24:
            return None
        data, mac = raw[:-16], raw[-16:]
        key = await self.secret("seal-key")
        if not hmac.compare_digest(mac, hmac.new(key, purpose.encode() + b"\0" + data, hashlib.sha256).digest()[:16]):
            return None
        age = self.timestamp() - int.from_bytes(data[-8:], "big")
        if not -self.options.clock_skew <= age <= max_age:
            return None
        return data[:-8]

    def _aead(self, key: bytes) -> AESGCM:
        if self._aesgcm is None or self._aesgcm[0] != key:
            self._aesgcm = (key, AESGCM(key))
        return self._aesgcm[1]

    async def encrypt(self, purpose: str, data: dict[str, Any], ttl: int) -> str:
        """A self-contained opaque value (AES-256-GCM, key per deployment, ``purpose`` as associated data)."""
        key = await self.secret("token-encryption-key")
        body = json.dumps({"d": data, "exp": self.timestamp() + ttl}, separators=(",", ":")).encode()
        iv = secrets.token_bytes(12)
        return jose.b64url_encode(iv + self._aead(key).encrypt(iv, body, purpose.encode()))

    async def decrypt(self, purpose: str, token: str) -> dict[str, Any] | None:
        """The data of a value :meth:`encrypt` made for ``purpose`` and not yet expired, else None."""
        if not token or len(token) > 4096:
            return None
        try:
            raw = jose.b64url_decode(token, what="token")
        except ParsingError:
            return None
        if len(raw) < 12 + 16:
            return None
        key = await self.secret("token-encryption-key")
        try:
            body = json.loads(self._aead(key).decrypt(raw[:12], raw[12:], purpose.encode()))
        except (InvalidTag, ValueError):
            return None
        if not isinstance(body, dict) or not isinstance(body.get("d"), dict) or not isinstance(body.get("exp"), int):
            return None
        if body["exp"] <= self.timestamp():
            return None
        data: dict[str, Any] = body["d"]
        return data

    # -- DPoP server nonces (RFC 9449 §8), stateless: timestamp + HMAC -------------------------------

    async def dpop_nonce(self) -> str:
        key = await self.secret("dpop-nonce-key")
        ts = self.timestamp().to_bytes(8, "big")
        return jose.b64url_encode(ts + hmac.new(key, ts, hashlib.sha256).digest()[:16])

    async def dpop_nonce_valid(self, nonce: str | None) -> bool:
        if not nonce or len(nonce) > 64:
            return False
        try:
            raw = jose.b64url_decode(nonce, what="DPoP nonce")
        except ParsingError:
            return False
        if len(raw) != 24:
            return False
        key = await self.secret("dpop-nonce-key")
        ts, mac = raw[:8], raw[8:]
        if not hmac.compare_digest(mac, hmac.new(key, ts, hashlib.sha256).digest()[:16]):
            return False
        age = self.timestamp() - int.from_bytes(ts, "big")
        return -self.options.clock_skew <= age <= self.options.dpop_nonce_lifetime


def _load(raw: bytes | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise InvalidRequest("corrupt stored state")
    return value


IssuerDep: TypeAlias = NamedDependency[Issuer]
"""A handler parameter ``issuer: IssuerDep`` gets the app's :class:`Issuer` (litestar dependency ``issuer``)."""
