"""The runtime every service shares: settings, clock, database, key-value store, keys and dev secrets.

One :class:`Runtime` per process. ``lommebok serve`` creates it once and hands it to each service's
``create_app``; a service app built without one creates its own and runs its start/stop in its lifespan.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from eidcore.admin_auth import PEERS
from eidcore.admin_tokens import (
    bearer_matches,
    peer_setting,
    production_admin_tokens,
    production_peer_tokens,
    refuse_shared_token,
)
from eidcore.clock import SYSTEM_CLOCK, Clock
from eidcore.errors import ConfigurationError
from eidcore.events import EventBus, open_event_bus
from eidcore.kek import KeyEncryptionKey, load_kek
from eidcore.keys import KeySet, atomic_create, load_keyset, load_or_create_dev_pki
from eidcore.settings import SERVICES, ServiceName, Settings
from eidcore.storage import Database, KeyValueStore, ServiceSchema, open_store, private_dir

log = logging.getLogger("lommebok")


def dev_secret(data_dir: Path, name: str) -> tuple[str, Path]:
    """Read (or create, 0600) a random dev secret under ``<data_dir>/secrets/<name>``."""
    path = data_dir / "secrets" / name
    if path.exists():
        value = path.read_text().strip()
        if len(value) < 32:
            raise ConfigurationError(f"{path} is too short to be a secret; delete it to generate a new one")
        return value, path
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    # 0600 from the first byte, and two processes starting at once agree on one value
    atomic_create(path, (secrets.token_urlsafe(32) + "\n").encode(), 0o600)
    return path.read_text().strip(), path


def secret_matches(presented: str, expected: str) -> bool:
    """Constant-time comparison of a presented bearer secret with the expected one."""
    return hmac.compare_digest(presented.encode(), expected.encode())


def pseudonym(value: str, *, salt: str = "lommebok") -> str:
    """A stable pseudonymous id for logs (never log names, numbers or claim values)."""
    return hashlib.sha256(f"{salt}:{value}".encode()).hexdigest()[:16]


@dataclass
class Runtime:
    """Shared state of one process."""

    settings: Settings
    clock: Clock = SYSTEM_CLOCK
    db: Database = field(init=False)
    store: KeyValueStore = field(init=False)
    #: wake-ups across workers (eidcore.events): Redis pub/sub with Redis, in-memory without
    events: EventBus = field(init=False)
    keys: KeySet | None = None
    #: the services this process serves (each service app adds its own): production needs their admin tokens
    services: set[ServiceName] = field(default_factory=set)
    #: each service's admin API bearer token (see :mod:`eidcore.admin_tokens`), and in dev the files holding them
    admin_tokens: dict[ServiceName, str] = field(default_factory=dict)
    admin_token_files: dict[ServiceName, Path] = field(default_factory=dict)
    #: peer credentials (caller, called service) -> token (eidcore.admin_auth.PEERS): the caller sends it, the called
    #: service accepts it with the scopes in :attr:`peer_scopes`
    peer_tokens: dict[tuple[ServiceName, ServiceName], str] = field(default_factory=dict)
    #: called service -> caller -> the scopes the called service grants that caller (see :meth:`allow_peer`)
    peer_scopes: dict[ServiceName, dict[ServiceName, frozenset[str]]] = field(default_factory=dict)
    started: bool = False
    #: transport for outbound HTTP (status lists, the issuer's admin API, ...); tests route it in-process
    outbound_transport: httpx.AsyncBaseTransport | None = None
    http: httpx.AsyncClient = field(init=False)
    #: wraps every secret kept in the database (eidcore.kek); loaded by start()
    _kek: KeyEncryptionKey | None = field(default=None, init=False, repr=False)
    #: checks the services register to run at the end of start() (e.g. that the stored secrets unwrap)
    _start_hooks: list[Callable[[], Awaitable[None]]] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        self.db = Database(self.settings.effective_database_url)
        self.store = open_store(self.settings.redis_url)
        self.events = open_event_bus(self.settings.redis_url)
        self.http = self._make_http()

    def _make_http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=self.outbound_transport, timeout=httpx.Timeout(10.0, connect=5.0),
            follow_redirects=False, limits=httpx.Limits(max_connections=50),
            headers={"User-Agent": "Lommebok/0.1"},
        )

    @property
    def kek(self) -> KeyEncryptionKey:
        """The key-encryption key of the secrets stored in the database (loaded by :meth:`start`)."""
        if self._kek is None:
            raise ConfigurationError("the runtime has not loaded its key-encryption key yet: start it first")
        return self._kek

    def use_kek(self, kek: KeyEncryptionKey) -> None:
        """Use ``kek`` instead of the one the settings name (a KMS client; tests)."""
        self._kek = kek

    def on_start(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Run ``hook`` at the end of every :meth:`start` (one added after a start runs from the next one)."""
        if hook not in self._start_hooks:
            self._start_hooks.append(hook)

    def add_schema(self, schema: ServiceSchema) -> None:
        """Migrate ``schema`` (a service's tables and Alembic branch) with the database at :meth:`start`."""
        self.db.add_schema(schema)

    def route_outbound(self, transport: httpx.AsyncBaseTransport) -> None:
        """Send every outbound request through ``transport`` (tests: an in-process ASGI app)."""
        self.outbound_transport = transport
        self.http = self._make_http()

    async def start(self) -> None:
        """Migrate, check the store, load (or in dev create) keys and secrets, seed the dev register."""
        if self.started:
            return
        s = self.settings
        if s.environment == "production":  # configuration first: refuse weak or shared admin tokens before anything
            self.admin_tokens = production_admin_tokens(s, self.services)
            self.peer_tokens = production_peer_tokens(s, self.services, self.admin_tokens, PEERS)
        private_dir(s.data_dir)
        if self._kek is None:
            self._kek = load_kek(s)
        await self.db.ping()
        await self.db.migrate()
        await self.store.ping()
        if s.environment == "production":
            if s.keys_dir is None:
                raise ConfigurationError("production needs LOMMEBOK_KEYS_DIR with the keys and chains of each role")
            self.keys = load_keyset(s.keys_dir)
        else:
            self.keys = load_or_create_dev_pki(s.effective_keys_dir, s.public_base_url, clock=self.clock,
                                               service_urls=s.service_urls)
            self._dev_admin_tokens()
            if s.seed_register:
                await self._seed()
        for hook in self._start_hooks:
            await hook()
        self.started = True

    def _dev_admin_tokens(self) -> None:
        """Each service's token from its setting, else generated (``<data_dir>/secrets/admin-token-<service>``);
        each peer credential from its setting, else generated (``<data_dir>/secrets/peer-token-<caller>-<service>``),
        so a peer's scopes hold in development too. One token for every admin API is refused."""
        s = self.settings
        refuse_shared_token(s)
        for service in SERVICES:
            value: str | None = getattr(s, f"{service}_admin_token")
            if value:
                self.admin_tokens[service] = value
            else:
                self.admin_tokens[service], self.admin_token_files[service] = dev_secret(
                    s.data_dir, f"admin-token-{service}")
        for caller, service in PEERS:
            self.peer_tokens[(caller, service)] = (peer_setting(s, caller, service)
                                                   or dev_secret(s.data_dir, f"peer-token-{caller}-{service}")[0])

    def allow_peer(self, service: ServiceName, caller: ServiceName, scopes: frozenset[str]) -> None:
        """``service`` grants ``caller``'s peer credential ``scopes`` on its admin API (declared by the service when
        its app is built; eidcore.admin_auth)."""
        if "*" in scopes:
            raise ConfigurationError("a peer never holds every scope: name them")
        self.peer_scopes.setdefault(service, {})[caller] = frozenset(scopes)

    def peer_token(self, caller: ServiceName, service: ServiceName) -> str:
        """The credential ``caller`` sends to ``service``'s admin API (loaded by :meth:`start`)."""
        try:
            return self.peer_tokens[(caller, service)]
        except KeyError:
            raise ConfigurationError(f"no {caller} credential for the {service}'s admin API: start the runtime "
                                     "first") from None

    def admin_authorized(self, service: ServiceName, authorization: str | None) -> bool:
        """Whether ``authorization`` carries ``service``'s admin bearer token (RFC 6750 §2.1; constant time).
        Another service's token never matches (unless development shares one on purpose)."""
        return bearer_matches(authorization, self.admin_tokens.get(service))

    async def _seed(self) -> None:
        from eidcore.registers import seed_register

        result = await seed_register(self.db, clock=self.clock)
        if result.created:
            log.info("seeded the synthetic register: %s", result.message)

    async def stop(self) -> None:
        await self.http.aclose()
        self.http = self._make_http()
        await self.store.close()
        await self.events.close()
        self.events = open_event_bus(self.settings.redis_url)
        await self.db.dispose()
        self.started = False
