"""Settings of every Lommebok service: pydantic-settings with the ``LOMMEBOK_`` environment prefix.

Nothing is read at import time: call :func:`load_settings` (or build :class:`Settings` directly in tests).
Nested groups use ``__`` in environment names, e.g. ``LOMMEBOK_ISSUER__REQUIRE_WALLET_ATTESTATION=true``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from eidcore.errors import ConfigurationError

ServiceName = Literal["issuer", "verifier", "wallet"]
SERVICES: tuple[ServiceName, ...] = ("issuer", "verifier", "wallet")


#: loopback hosts whose registered redirect URIs match any port (RFC 8252 §7.3, OAuth 2.1 §8.4.2)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1"})
_FORBIDDEN_REDIRECT_SCHEMES = frozenset({"javascript", "data", "file", "vbscript", "blob", "about", "ftp", "ws", "wss"})


def check_registered_redirect_uri(uri: str) -> str:
    """A redirect URI fit for registration (RFC 9700 §2.1, §4.1.3; OAuth 2.1 §2.3; RFC 8252 §7).

    Absolute, no fragment (RFC 6749 §3.1.2), no wildcard, no userinfo; ``https``, a private-use scheme of a native
    app (reverse domain name, RFC 8252 §7.1) or ``http`` on a loopback IP literal (RFC 8252 §7.3, §8.3).
    """
    if not uri or len(uri) > 2048 or uri != uri.strip() or any(c in uri for c in "*\\ \t\r\n"):
        raise ValueError(f"redirect URI {uri[:80]!r} is not an absolute URI without wildcards")
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if not scheme or scheme in _FORBIDDEN_REDIRECT_SCHEMES:
        raise ValueError(f"redirect URI {uri[:80]!r} has no acceptable scheme")
    if "#" in uri:
        raise ValueError(f"redirect URI {uri[:80]!r} must not carry a fragment (RFC 6749 §3.1.2)")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValueError(f"redirect URI {uri[:80]!r} must not carry userinfo")
    if scheme in ("http", "https"):
        if not parts.hostname:
            raise ValueError(f"redirect URI {uri[:80]!r} needs a host")
        if scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
            raise ValueError(f"redirect URI {uri[:80]!r}: plain http only on a loopback IP literal "
                             "(http://127.0.0.1 or http://[::1], RFC 8252 §7.3); use https")
    elif "." not in scheme:
        raise ValueError(f"redirect URI {uri[:80]!r}: a private-use scheme must be a reverse domain name "
                         "(RFC 8252 §7.1), e.g. no.example.wallet:/callback")
    return uri


class OAuthClientRegistration(BaseModel):
    """An OAuth client registered at the issuer's authorization server (RFC 6749 §2; names from RFC 7591 §2).

    ``redirect_uris`` are compared exactly (RFC 9700 §2.1), except that a loopback URI matches any port
    (RFC 8252 §7.3). When the client authenticates with a wallet attestation, the redirect URIs of the wallet
    provider that signed it apply instead (:class:`WalletProviderRegistration`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(min_length=1, max_length=200)
    redirect_uris: tuple[str, ...] = Field(default=(), max_length=50)
    #: the client must authenticate with a wallet attestation (attestation-based client authentication)
    require_wallet_attestation: bool = False

    @field_validator("redirect_uris")
    @classmethod
    def _check_uris(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_registered_redirect_uri(u) for u in v)


class WalletProviderRegistration(BaseModel):
    """A wallet provider whose wallet attestations the issuer accepts (OpenID4VCI 1.0 Appendix E), and the
    redirect URIs of its wallet app (app-claimed https links or a private-use scheme, RFC 8252 §7).

    The provider is recognised by the certificate that signed the attestation, after chain validation: its
    SHA-256 fingerprint (``certificate_sha256``, hex, colons allowed) or a URI in its subjectAltName
    (``certificate_uris``), never by anything the request claims. ``client_ids`` are the ``sub`` values its
    attestations may carry.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    certificate_sha256: tuple[str, ...] = Field(default=(), max_length=20)
    certificate_uris: tuple[str, ...] = Field(default=(), max_length=20)
    client_ids: tuple[str, ...] = Field(min_length=1, max_length=20)
    redirect_uris: tuple[str, ...] = Field(min_length=1, max_length=50)

    @field_validator("certificate_sha256")
    @classmethod
    def _check_fingerprints(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        out = []
        for f in v:
            hexed = f.replace(":", "").strip().lower()
            if len(hexed) != 64 or any(c not in "0123456789abcdef" for c in hexed):
                raise ValueError("certificate_sha256 entries are SHA-256 fingerprints (64 hex digits)")
            out.append(hexed)
        return tuple(out)

    @field_validator("redirect_uris")
    @classmethod
    def _check_uris(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_registered_redirect_uri(u) for u in v)

    @model_validator(mode="after")
    def _check_identified(self) -> WalletProviderRegistration:
        if not self.certificate_sha256 and not self.certificate_uris:
            raise ValueError("a wallet provider needs certificate_sha256 or certificate_uris to be recognised by")
        return self


class IssuerSettings(BaseModel):
    """Issuer (OpenID4VCI) settings.

    ``clients`` and ``wallet_providers`` are the authorization server's registrations (deny by default), set as
    JSON, e.g. ``LOMMEBOK_ISSUER__WALLET_PROVIDERS='[{"name": ..., "certificate_sha256": [...], "client_ids":
    [...], "redirect_uris": [...]}]'``. Both unset: in dev the reference wallet is registered (loopback redirect
    URIs, the runtime's own wallet provider); production refuses to start without a registration.
    """

    model_config = ConfigDict(use_attribute_docstrings=True)

    require_wallet_attestation: bool = False
    """Every client must authenticate with a wallet attestation at the token endpoint (OpenID4VCI 1.0 Appendix E)."""
    tx_code_length: int = Field(default=6, ge=4, le=12)
    """Digits of the transaction code of a pre-authorized offer (OpenID4VCI 1.0 §4.1.1)."""
    tx_code_max_attempts: int = Field(default=5, ge=1, le=20)
    """Wrong transaction codes before the pre-authorized code is dead."""
    pre_authorized_code_ttl: int = Field(default=600, ge=30)
    """Seconds a credential offer's pre-authorized code stays redeemable."""
    c_nonce_ttl: int = Field(default=300, ge=30)
    """Seconds a nonce from the nonce endpoint is accepted in a key proof (OpenID4VCI 1.0 §7)."""
    batch_size: int = Field(default=10, ge=2, le=100)
    """Most credentials one credential request may ask for (batch issuance, OpenID4VCI 1.0 §8.2)."""
    clients: tuple[OAuthClientRegistration, ...] | None = None
    """Registered OAuth clients, JSON (dev default: the reference wallet; production: this or wallet_providers)."""
    wallet_providers: tuple[WalletProviderRegistration, ...] | None = None
    """Wallet providers whose attestations are accepted, JSON (dev default: the runtime's own provider)."""
    idporten: IdPortenSettings | None = None
    """ID-porten (an OpenID Connect provider) instead of the test login, JSON ``{"issuer": ..., "client_id": ...,
    "client_secret": ..., "scope": ...}`` (scope optional); unset: the test login (dev only)."""
    attestation_challenge_required: bool = False
    """Attestation-based client authentication: every PoP must carry a challenge from the challenge endpoint."""
    key_attestation_required: tuple[str, ...] = ()
    """Configuration ids whose ``jwt`` proofs must carry a key attestation (OpenID4VCI 1.0 Appendix D), JSON list."""


class IdPortenSettings(BaseModel):
    """An OpenID Connect provider (ID-porten) the issuer sends users to for login."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    issuer: str = Field(min_length=1, max_length=500)
    """The provider's issuer identifier (its discovery document lives under it)."""
    client_id: str = Field(min_length=1, max_length=200)
    """The issuer's client id at the provider."""
    client_secret: SecretStr
    """The issuer's client secret at the provider."""
    scope: str = "openid profile"
    """Scopes asked for at login."""


IssuerSettings.model_rebuild()


class VerifierSettings(BaseModel):
    """Verifier (OpenID4VP) settings."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    transaction_ttl: int = Field(default=600, ge=30)
    """Seconds a presentation transaction waits for the wallet's answer."""
    result_retention_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    """Seconds a finished transaction's result is kept for the relying party, then deleted."""


#: the port the services listen on when none is given (``lommebok serve``; the default public URL follows it)
DEFAULT_PORT = 8000


class Settings(BaseSettings):
    """All settings; every field can be set as ``LOMMEBOK_<FIELD>`` (nested groups: ``LOMMEBOK_<GROUP>__<FIELD>``).

    This is the only place that reads the process environment; docs/operations.md lists every variable
    (generated from this class by ``lommebok docs``).
    """

    model_config = SettingsConfigDict(env_prefix="LOMMEBOK_", env_nested_delimiter="__", extra="forbid",
                                      use_attribute_docstrings=True)

    environment: Literal["dev", "production"] = "dev"
    """``dev`` generates what is missing (keys, KEK, tokens, register); ``production`` generates nothing."""
    data_dir: Path = Path("var")
    """Working directory: the embedded SQLite database, dev keys and dev secrets."""
    database_url: str | None = None
    """``postgresql://user@host/db`` (or ``sqlite:///file``); unset: SQLite file ``<data_dir>/lommebok.db``."""
    redis_url: str | None = None
    """``redis://`` or ``rediss://`` store for single-use values and wake-ups; unset: in-memory (one worker)."""
    host: str = "127.0.0.1"
    """Interface ``lommebok serve`` listens on (``0.0.0.0`` for every interface)."""
    port: int = Field(default=DEFAULT_PORT, ge=1, le=65535)
    """TCP port ``lommebok serve`` listens on."""
    public_base_url: str = f"http://localhost:{DEFAULT_PORT}"
    """The URL clients reach the deployment at (behind a proxy: the proxy's https URL); each service lives at
    ``<public_base_url>/<service>`` and names it in its metadata and certificates. Unset: ``http://localhost:<port>``."""
    issuer_url: str | None = None
    """Where the issuer is reachable when the services run apart (default ``<public_base_url>/issuer``)."""
    verifier_url: str | None = None
    """Where the verifier is reachable when the services run apart (default ``<public_base_url>/verifier``)."""
    wallet_url: str | None = None
    """Where the wallet provider is reachable when the services run apart (default ``<public_base_url>/wallet``)."""
    services: Annotated[tuple[ServiceName, ...], NoDecode] = SERVICES
    """The services this process serves, comma-separated (``lommebok serve --service``)."""
    workers: int = Field(default=1, ge=1, le=256)
    """Worker processes of ``lommebok serve`` (more than one needs ``LOMMEBOK_REDIS_URL``)."""
    consent_age: int = Field(default=13, ge=0, le=18)
    """Age below which a holder needs a guardian's consent to share (the verifier adds this check to every query)."""
    require_both_guardians: bool = False
    """A child's wallet needs the approval of every guardian with parental responsibility, not just one."""
    seed_register: bool = True
    """Development: fill an empty database with the synthetic population register on start."""
    keys_dir: Path | None = None
    """Keys and certificate chains of each role (required in production); dev default ``<data_dir>/keys``."""
    kek: SecretStr | None = None
    """Key-encryption key of the secrets stored in the database (eidcore.kek), base64url of 32 random bytes;
    required in production (this or kek_file), generated under keys_dir in development."""
    kek_file: Path | None = None
    """A file (mode 0600) holding the key-encryption key, instead of ``LOMMEBOK_KEK``."""
    kek_previous: SecretStr | None = None
    """Earlier KEKs (comma-separated) whose wrapped values still unwrap while rotating; rewrapped on read."""
    admin_token: str | None = Field(default=None, repr=False)
    """No longer read: one token for every admin API is refused in every environment (each admin API has its own
    token, each peer service its own credential; see eidcore.admin_tokens)."""
    issuer_admin_token: str | None = Field(default=None, repr=False)
    """The issuer's admin API bearer token (production: required, at least 256 bits; dev: generated)."""
    verifier_admin_token: str | None = Field(default=None, repr=False)
    """The verifier's admin API bearer token (production: required, at least 256 bits; dev: generated)."""
    wallet_admin_token: str | None = Field(default=None, repr=False)
    """The wallet provider's admin API bearer token (production: required, at least 256 bits; dev: generated)."""
    wallet_issuer_token: str | None = Field(default=None, repr=False)
    """The wallet provider's own credential at the issuer's admin API (eidcore.admin_auth.PEERS): only the scopes
    the issuer grants it; required in production where the wallet or the issuer runs (at least 256 bits)."""
    status_list_ttl: int | None = Field(default=None, ge=1, le=86400)
    """Seconds relying parties may cache a status list (Token Status List ``ttl``) of the issuer and the wallet
    provider; unset: 300, or 30 in dev so a revocation shows at verifiers quickly."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """Log level of every logger (no personal data is logged at any level)."""
    issuer: IssuerSettings = IssuerSettings()
    """Issuer settings (``LOMMEBOK_ISSUER__<FIELD>``)."""
    verifier: VerifierSettings = VerifierSettings()
    """Verifier settings (``LOMMEBOK_VERIFIER__<FIELD>``)."""

    @field_validator("services", mode="before")
    @classmethod
    def _split_services(cls, v: object) -> object:
        if isinstance(v, str):
            return tuple(s.strip() for s in v.split(",") if s.strip())
        return v

    @field_validator("services")
    @classmethod
    def _check_services(cls, v: tuple[ServiceName, ...]) -> tuple[ServiceName, ...]:
        if not v:
            raise ValueError(f"name at least one of {', '.join(SERVICES)}")
        return tuple(s for s in SERVICES if s in v)  # the mount order, without repeats

    @field_validator("public_base_url", "issuer_url", "verifier_url", "wallet_url")
    @classmethod
    def _check_base_url(cls, v: str | None) -> str | None:
        if v is None:
            return None
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL, e.g. https://id.example.no")
        if parts.query or parts.fragment:
            raise ValueError("must not carry a query or fragment")
        if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
            raise ValueError("plain http is allowed for localhost only; use https")
        return v.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _check_db(cls, v: str | None) -> str | None:
        if v is None:
            return None
        scheme = v.split(":", 1)[0]
        if scheme in ("postgres", "postgresql", "postgresql+asyncpg"):
            return "postgresql+asyncpg:" + v.split(":", 1)[1]
        if scheme in ("sqlite", "sqlite+aiosqlite"):
            return "sqlite+aiosqlite:" + v.split(":", 1)[1]
        raise ValueError("must be a postgresql:// or sqlite:/// URL")

    @field_validator("redis_url")
    @classmethod
    def _check_redis(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis:// or rediss:// URL")
        return v

    @model_validator(mode="after")
    def _default_public_url(self) -> Settings:
        if "public_base_url" not in self.model_fields_set:
            self.public_base_url = f"http://localhost:{self.port}"
            self.model_fields_set.discard("public_base_url")  # derived, not set: model_fields_set stays the truth
        return self

    @model_validator(mode="after")
    def _check_workers(self) -> Settings:
        if self.workers > 1 and not self.redis_url:
            raise ValueError(
                "more than one worker needs a shared store for single-use values: set LOMMEBOK_REDIS_URL"
            )
        return self

    # derived values -------------------------------------------------------------------------------

    @property
    def effective_database_url(self) -> str:
        """The configured database URL, or the embedded SQLite file under ``data_dir``."""
        return self.database_url or f"sqlite+aiosqlite:///{(self.data_dir / 'lommebok.db').resolve()}"

    @property
    def effective_keys_dir(self) -> Path:
        return self.keys_dir or self.data_dir / "keys"

    @property
    def public_host(self) -> str:
        return urlsplit(self.public_base_url).hostname or "localhost"

    def service_url(self, service: ServiceName) -> str:
        """Public base URL of one service, e.g. ``http://localhost:8000/issuer`` (or its ``<service>_url``)."""
        override: str | None = getattr(self, f"{service}_url")
        return override or f"{self.public_base_url}/{service}"

    @property
    def service_urls(self) -> dict[str, str]:
        return {s: self.service_url(s) for s in SERVICES}


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment (and ``overrides``); a clear ConfigurationError when invalid."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = "__".join(str(p) for p in err["loc"] if not isinstance(p, int))
            name = f"LOMMEBOK_{loc.upper()}" if loc else "settings"
            lines.append(f"{name}: {err['msg']}")
        raise ConfigurationError("invalid settings:\n  " + "\n  ".join(lines)) from None


class _Defaults(Settings):
    """Settings whose only source is the values given: the environment is not read."""

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def default_settings(**values: object) -> Settings:
    """Settings from ``values`` and the defaults alone, whatever the environment holds (for generated documents
    such as the OpenAPI files, which must not depend on the machine that generates them)."""
    return _Defaults(**values)  # type: ignore[arg-type]


def env_name(field: str) -> str:
    """The environment variable of a top-level setting, e.g. ``public_base_url`` -> ``LOMMEBOK_PUBLIC_BASE_URL``."""
    if field not in Settings.model_fields:
        raise KeyError(f"no setting named {field!r}")
    return f"LOMMEBOK_{field.upper()}"


def hand_over_to_workers(settings: Settings, fields: Iterable[str]) -> None:
    """Put ``fields`` of ``settings`` into this process's environment, for worker processes to read back.

    The one hand-over through the environment: an ASGI server with several workers (``lommebok serve
    --workers N``) starts processes that build the app themselves (``lommebok.asgi:create``) and inherit this
    environment, so values the command line chose (port, host, services) reach their :func:`load_settings`
    as the ``LOMMEBOK_*`` variables an operator would have set. Secrets are never handed over this way.
    """
    for field in fields:
        value = getattr(settings, field)
        if isinstance(value, SecretStr) or Settings.model_fields[field].repr is False:
            raise ValueError(f"{field} is a secret: it is not handed over through the environment")
        os.environ[env_name(field)] = ",".join(value) if isinstance(value, tuple) else str(value)
