"""Settings of a deployment: the public URL follows the port unless it is set, the services a process serves,
and the one hand-over to worker processes."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from eidcore.errors import ConfigurationError
from eidcore.settings import Settings, default_settings, env_name, hand_over_to_workers, load_settings


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in [v for v in os.environ if v.startswith("LOMMEBOK_")]:
        monkeypatch.delenv(var)
    yield
    for var in [v for v in os.environ if v.startswith("LOMMEBOK_")]:  # what hand_over_to_workers put there
        del os.environ[var]


def test_public_url_follows_the_port_when_not_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().public_base_url == "http://localhost:8000"
    assert load_settings(port=9000).service_url("issuer") == "http://localhost:9000/issuer"
    monkeypatch.setenv("LOMMEBOK_PORT", "9100")
    s = load_settings()
    assert (s.port, s.public_base_url) == (9100, "http://localhost:9100")
    assert "public_base_url" not in s.model_fields_set  # derived, not configured
    assert "public_base_url" in load_settings(public_base_url="http://localhost:9100").model_fields_set


def test_a_set_public_url_wins_over_any_port_and_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOMMEBOK_PUBLIC_BASE_URL", "https://id.example.no/")
    s = load_settings(port=9000, host="0.0.0.0")  # noqa: S104
    assert s.public_base_url == "https://id.example.no"
    assert s.service_urls == {"issuer": "https://id.example.no/issuer", "verifier": "https://id.example.no/verifier",
                              "wallet": "https://id.example.no/wallet"}
    assert load_settings(public_base_url="https://proxy.example.no", port=1234).public_host == "proxy.example.no"


def test_services_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().services == ("issuer", "verifier", "wallet")
    monkeypatch.setenv("LOMMEBOK_SERVICES", "wallet, issuer,wallet")
    assert load_settings().services == ("issuer", "wallet")  # mount order, no repeats
    monkeypatch.setenv("LOMMEBOK_SERVICES", "issuer,mail")
    with pytest.raises(ConfigurationError, match="LOMMEBOK_SERVICES"):
        load_settings()
    monkeypatch.setenv("LOMMEBOK_SERVICES", "")
    with pytest.raises(ConfigurationError, match="LOMMEBOK_SERVICES"):
        load_settings()


@pytest.mark.parametrize("port", ["0", "70000", "http"])
def test_a_bad_port_names_the_variable(monkeypatch: pytest.MonkeyPatch, port: str) -> None:
    monkeypatch.setenv("LOMMEBOK_PORT", port)
    with pytest.raises(ConfigurationError, match="LOMMEBOK_PORT"):
        load_settings()


def test_hand_over_to_workers_round_trips(monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = Settings(port=9001, host="0.0.0.0", services=("verifier",))  # noqa: S104
    hand_over_to_workers(chosen, ("host", "port", "services"))
    assert os.environ["LOMMEBOK_SERVICES"] == "verifier"
    worker = load_settings()
    assert (worker.host, worker.port, worker.services, worker.public_base_url) == (
        "0.0.0.0", 9001, ("verifier",), "http://localhost:9001")  # noqa: S104


def test_secrets_are_never_handed_over(monkeypatch: pytest.MonkeyPatch) -> None:
    s = Settings(issuer_admin_token="t" * 43, kek="k" * 43)
    for field in ("issuer_admin_token", "kek"):
        with pytest.raises(ValueError, match="secret"):
            hand_over_to_workers(s, (field,))
        assert env_name(field) not in os.environ
    with pytest.raises(KeyError):
        env_name("no_such_setting")


def test_default_settings_ignore_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOMMEBOK_ENVIRONMENT", "production")
    monkeypatch.setenv("LOMMEBOK_PUBLIC_BASE_URL", "https://id.example.no")
    assert load_settings().environment == "production"
    s = default_settings(port=9000)
    assert isinstance(s, Settings)
    assert (s.environment, s.public_base_url) == ("dev", "http://localhost:9000")
