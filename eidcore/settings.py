"""Settings of every Lommebok service: pydantic-settings with the ``LOMMEBOK_`` environment prefix.

Nothing is read at import time: call :func:`load_settings` (or build :class:`Settings` directly in tests).
Nested groups use ``__`` in environment names, e.g. ``LOMMEBOK_ISSUER__REQUIRE_WALLET_ATTESTATION=true``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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

    require_wallet_attestation: bool = False
    tx_code_length: int = Field(default=6, ge=4, le=12)
    tx_code_max_attempts: int = Field(default=5, ge=1, le=20)
    pre_authorized_code_ttl: int = Field(default=600, ge=30)
    c_nonce_ttl: int = Field(default=300, ge=30)
    batch_size: int = Field(default=10, ge=2, le=100)
    clients: tuple[OAuthClientRegistration, ...] | None = None
    wallet_providers: tuple[WalletProviderRegistration, ...] | None = None


class VerifierSettings(BaseModel):
    """Verifier (OpenID4VP) settings."""

    transaction_ttl: int = Field(default=600, ge=30)
    result_retention_seconds: int = Field(default=7 * 24 * 3600, ge=60)


class Settings(BaseSettings):
    """All settings; every field can be set as ``LOMMEBOK_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="LOMMEBOK_", env_nested_delimiter="__", extra="forbid")

    environment: Literal["dev", "production"] = "dev"
    data_dir: Path = Path("var")
    database_url: str | None = None
    redis_url: str | None = None
    public_base_url: str = "http://localhost:8000"
    #: where each service is reachable when they run apart (default: ``<public_base_url>/<service>``)
    issuer_url: str | None = None
    verifier_url: str | None = None
    wallet_url: str | None = None
    workers: int = Field(default=1, ge=1, le=256)
    consent_age: int = Field(default=13, ge=0, le=18)
    require_both_guardians: bool = False
    seed_register: bool = True
    keys_dir: Path | None = None
    #: key-encryption key of the secrets stored in the database (eidcore.kek): base64url of 32 random bytes,
    #: or a file holding it (mode 0600); required in production, generated under keys_dir in development
    kek: SecretStr | None = None
    kek_file: Path | None = None
    #: earlier KEKs (comma-separated) whose wrapped values still unwrap while rotating; rewrapped on read
    kek_previous: SecretStr | None = None
    #: development only: one token for every admin API (refused in production, see eidcore.admin_tokens)
    admin_token: str | None = Field(default=None, repr=False)
    #: each service's own admin API bearer token (required in production where used; at least 256 bits)
    issuer_admin_token: str | None = Field(default=None, repr=False)
    verifier_admin_token: str | None = Field(default=None, repr=False)
    wallet_admin_token: str | None = Field(default=None, repr=False)
    #: the wallet provider's own credential at the issuer's admin API (eidcore.admin_auth.PEERS): only the scopes
    #: the issuer grants it; required in production where the wallet or the issuer runs (at least 256 bits)
    wallet_issuer_token: str | None = Field(default=None, repr=False)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    issuer: IssuerSettings = IssuerSettings()
    verifier: VerifierSettings = VerifierSettings()

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
            loc = "__".join(str(p) for p in err["loc"]) if err["loc"] else ""
            name = f"LOMMEBOK_{loc.upper()}" if loc else "settings"
            lines.append(f"{name}: {err['msg']}")
        raise ConfigurationError("invalid settings:\n  " + "\n  ".join(lines)) from None
