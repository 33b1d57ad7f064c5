"""Relying parties of the verifier (OpenID4VP 1.0 §5: the Verifier acting for them): API keys and their admin API.

- a relying party authenticates with a bearer API key (RFC 6750 §2.1): only its SHA-256 is stored and compared in
  constant time (:func:`eidcore.runtime.secret_matches` over the hex digests); :func:`relying_party_guard` lets a
  request in and hands the relying party to the handler (``rp``, :func:`current_relying_party`);
- the configured relying parties (:mod:`verifier.config`) and, in dev, ``rp-demo`` (its key in
  ``<data_dir>/secrets/rp-demo``, 0600) are written on first use (:meth:`RelyingParties.ensure_configured`);
- ``POST /admin/relying-parties`` (:class:`RelyingPartyAdminController`, admin scope ``relying-parties``)
  registers one and answers its API key, once.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from litestar import Controller, Request, Response, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler
from litestar.params import JSONBody
from sqlmodel import select

from eidcore.admin_auth import admin_security
from eidcore.cache import BoundedCache
from eidcore.errors import InvalidRequest, InvalidToken
from eidcore.runtime import Runtime, secret_matches
from verifier.config import VerifierConfig
from verifier.guards import verifier_admin
from verifier.models import VerRelyingParty
from verifier.profiles import PROFILES
from verifier.schemas import CreateRelyingParty, RelyingPartyCreated, errors

if TYPE_CHECKING:
    from verifier.transactions import Verifier

__all__ = ["CUSTOM_QUERY", "RelyingParties", "RelyingPartyAdminController", "current_relying_party",
           "relying_party_guard"]

log = logging.getLogger("lommebok.verifier")

DEMO_RP = "rp-demo"
CUSTOM_QUERY = "dcql"
"""The pseudo profile a relying party needs in ``allowed_profiles`` to send its own DCQL query."""
NO_STORE = {"Cache-Control": "no-store"}
_RP_STATE = "verifier_relying_party"
RP_CACHE_SIZE = 1024
RP_CACHE_TTL = 300.0


def _sha256_hex(value: str) -> str:
    import hashlib

    return hashlib.sha256(value.encode()).hexdigest()


class RelyingParties:
    """The relying parties of one verifier: registration, the configured and demo ones, API key lookup."""

    def __init__(self, rt: Runtime, config: VerifierConfig, demo_key: str | None,
                 demo_key_file: Path | None) -> None:
        self.rt = rt
        self.config = config
        self.demo_key = demo_key
        self.demo_key_file = demo_key_file
        self._ready = False
        self._by_digest: BoundedCache[str, VerRelyingParty] = BoundedCache(RP_CACHE_SIZE, ttl=RP_CACHE_TTL,
                                                                            clock=rt.clock)
        """Relying parties by the SHA-256 of their API key (a key changed in the configuration or the database is
        seen within :data:`RP_CACHE_TTL`)."""

    def now(self) -> int:
        return int(self.rt.clock.timestamp())

    async def ensure_configured(self) -> None:
        """Create or update the configured relying parties and (dev) the demo one from ``secrets/rp-demo``."""
        if self._ready:
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
            self._ready = True
            return
        digest = _sha256_hex(self.demo_key)
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
        self._ready = True
        if self.demo_key_file is not None:
            log.info("demo relying party ready; its API key is in %s", self.demo_key_file)

    async def create(self, name: str, allowed_profiles: list[str],
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
        rp = VerRelyingParty(id=f"rp-{secrets.token_hex(6)}", name=name, api_key_sha256=_sha256_hex(key),
                             allowed_profiles=allowed_profiles, redirect_uris=redirect_uris, created_at=self.now())
        async with self.rt.db.session() as s:
            s.add(rp)
            await s.commit()
        return rp, key

    async def authenticate(self, authorization: str | None) -> VerRelyingParty:
        """RFC 6750 §2.1 bearer API key of a relying party; :class:`InvalidToken` (401) when missing or wrong."""
        await self.ensure_configured()
        if not authorization or not authorization.startswith("Bearer ") or len(authorization) > 512:
            raise InvalidToken("a relying-party API key is required (Authorization: Bearer <key>)",
                               headers={"WWW-Authenticate": 'Bearer realm="verifier"'})
        digest = _sha256_hex(authorization[7:].strip())
        rp = self._by_digest.get(digest)
        if rp is None:
            async with self.rt.db.session() as s:
                rp = (await s.exec(select(VerRelyingParty).where(VerRelyingParty.api_key_sha256 == digest))).first()
            if rp is None or not secret_matches(digest, rp.api_key_sha256):
                raise InvalidToken("the relying-party API key is not valid",
                                   headers={"WWW-Authenticate": 'Bearer realm="verifier", error="invalid_token"'})
            self._by_digest.set(digest, rp)
        return rp


def verifier_of_connection(connection: ASGIConnection[Any, Any, Any, Any]) -> Verifier:
    """The :class:`~verifier.transactions.Verifier` of the app serving this connection."""
    return cast("Verifier", connection.app.state["verifier"])


async def relying_party_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard of the relying-party API: a valid API key (401 ``invalid_token`` otherwise, with
    ``WWW-Authenticate: Bearer``); the relying party is kept for :func:`current_relying_party`."""
    verifier = verifier_of_connection(connection)
    verifier.start_retention()
    rp = await verifier.relying_parties.authenticate(connection.headers.get("authorization"))
    connection.scope.setdefault("state", {})[_RP_STATE] = rp


def current_relying_party(request: Request[Any, Any, Any]) -> VerRelyingParty:
    """The relying party :func:`relying_party_guard` let in (a dependency, ``rp``)."""
    return cast(VerRelyingParty, request.scope["state"][_RP_STATE])


class RelyingPartyAdminController(Controller):
    """Admin API: register relying parties (admin scope ``relying-parties``)."""

    path = "/admin/relying-parties"
    tags = ["admin"]  # noqa: RUF012
    guards = [verifier_admin("relying-parties")]  # noqa: RUF012
    security = admin_security("relying-parties")

    @post("/", operation_id="createRelyingParty", status_code=201, responses=errors(400, 401, 403))
    async def create(self, data: JSONBody[CreateRelyingParty],
                     relying_parties: NamedDependency[RelyingParties]) -> Response[RelyingPartyCreated]:
        """Register a relying party (admin bearer token); the API key is in the answer, only once."""
        rp, key = await relying_parties.create(data.name, list(data.allowed_profiles), list(data.redirect_uris))
        return Response(RelyingPartyCreated(id=rp.id, name=rp.name, allowed_profiles=rp.allowed_profiles,
                                            redirect_uris=rp.redirect_uris, api_key=key),
                        status_code=201, headers=NO_STORE)
