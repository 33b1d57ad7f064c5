"""Settings: environment prefix, validation with messages that name the variable."""

from __future__ import annotations

import pytest

from eidcore.errors import ConfigurationError
from eidcore.settings import load_settings


def test_defaults_are_the_embedded_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("LOMMEBOK_DATABASE_URL", "LOMMEBOK_REDIS_URL", "LOMMEBOK_WORKERS"):
        monkeypatch.delenv(var, raising=False)
    s = load_settings()
    assert s.effective_database_url.startswith("sqlite+aiosqlite:///")
    assert s.effective_database_url.endswith("/var/lommebok.db")
    assert s.redis_url is None
    assert s.consent_age == 13
    assert s.service_url("issuer") == "http://localhost:8000/issuer"


def test_environment_prefix_and_nested(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOMMEBOK_CONSENT_AGE", "15")
    monkeypatch.setenv("LOMMEBOK_DATABASE_URL", "postgresql://u@db:5432/x")
    monkeypatch.setenv("LOMMEBOK_ISSUER__TX_CODE_MAX_ATTEMPTS", "3")
    s = load_settings()
    assert s.consent_age == 15
    assert s.effective_database_url == "postgresql+asyncpg://u@db:5432/x"
    assert s.issuer.tx_code_max_attempts == 3


@pytest.mark.parametrize(
    ("var", "value", "named"),
    [
        ("LOMMEBOK_CONSENT_AGE", "abc", "LOMMEBOK_CONSENT_AGE"),
        ("LOMMEBOK_PUBLIC_BASE_URL", "http://id.example.no", "plain http is allowed for localhost only"),
        ("LOMMEBOK_PUBLIC_BASE_URL", "not a url", "LOMMEBOK_PUBLIC_BASE_URL"),
        ("LOMMEBOK_DATABASE_URL", "mysql://x/y", "LOMMEBOK_DATABASE_URL"),
        ("LOMMEBOK_REDIS_URL", "http://x", "LOMMEBOK_REDIS_URL"),
        ("LOMMEBOK_ISSUER__TX_CODE_LENGTH", "2", "LOMMEBOK_ISSUER__TX_CODE_LENGTH"),
    ],
)
def test_bad_settings_name_the_variable(monkeypatch: pytest.MonkeyPatch, var: str, value: str, named: str) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigurationError) as err:
        load_settings()
    assert named in err.value.description


def test_more_than_one_worker_needs_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOMMEBOK_REDIS_URL", raising=False)
    with pytest.raises(ConfigurationError, match="LOMMEBOK_REDIS_URL"):
        load_settings(workers=2)
    assert load_settings(workers=2, redis_url="redis://127.0.0.1:6379/0").workers == 2
