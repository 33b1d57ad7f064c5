"""The wallet-instance status list's ttl: 300 s, 30 s in dev, or LOMMEBOK_STATUS_LIST_TTL."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from eidcore.errors import ConfigurationError
from eidcore.settings import Settings
from wallet_api.attestations import status_list_ttl


def rt(environment: str) -> Any:
    return SimpleNamespace(settings=Settings(environment=environment))  # type: ignore[arg-type]


def test_defaults_by_environment() -> None:
    assert status_list_ttl(rt("dev"), {}) == 30
    assert status_list_ttl(rt("production"), {}) == 300


def test_environment_variable_wins() -> None:
    assert status_list_ttl(rt("production"), {"LOMMEBOK_STATUS_LIST_TTL": "12"}) == 12
    assert status_list_ttl(rt("dev"), {"LOMMEBOK_STATUS_LIST_TTL": " "}) == 30


@pytest.mark.parametrize("value", ["0", "86401", "ten", "1.5"])
def test_bad_values_are_refused(value: str) -> None:
    with pytest.raises(ConfigurationError) as exc:
        status_list_ttl(rt("dev"), {"LOMMEBOK_STATUS_LIST_TTL": value})
    assert "LOMMEBOK_STATUS_LIST_TTL" in exc.value.description
