"""Settings of every Lommebok service: pydantic-settings with the ``LOMMEBOK_`` environment prefix.

Nothing is read at import time: call :func:`load_settings` (or build :class:`Settings` directly in tests).
Nested groups use ``__`` in environment names, e.g. ``LOMMEBOK_ISSUER__REQUIRE_WALLET_ATTESTATION=true``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from eidcore.errors import ConfigurationError

ServiceName = Literal["issuer", "verifier", "wallet"]
SERVICES: tuple[ServiceName, ...] = ("issuer", "verifier", "wallet")


class IssuerSettings(BaseModel):
    """Issuer (OpenID4VCI) settings."""

    require_wallet_attestation: bool = False
    tx_code_length: int = Field(default=6, ge=4, le=12)
    tx_code_max_attempts: int = Field(default=5, ge=1, le=20)
    pre_authorized_code_ttl: int = Field(default=600, ge=30)
    c_nonce_ttl: int = Field(default=300, ge=30)
    batch_size: int = Field(default=10, ge=2, le=100)


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
    admin_token: str | None = None
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
