"""The wallet-instance status list's ttl: 300 s, 30 s in dev, or the shared setting LOMMEBOK_STATUS_LIST_TTL."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

from eidcore.settings import Settings
from wallet_api.attestations import status_list_ttl


def rt(environment: str, **kw: Any) -> Any:
    return SimpleNamespace(settings=Settings(environment=environment, **kw))  # type: ignore[arg-type]


def test_defaults_by_environment() -> None:
    assert status_list_ttl(rt("dev")) == 30
    assert status_list_ttl(rt("production")) == 300


def test_the_setting_wins() -> None:
    assert status_list_ttl(rt("production", status_list_ttl=12)) == 12
    assert status_list_ttl(rt("dev", status_list_ttl=600)) == 600


@pytest.mark.parametrize("value", ["0", "86401", "ten", "1.5"])
def test_bad_values_are_refused_naming_the_variable(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOMMEBOK_STATUS_LIST_TTL", value)
    with pytest.raises(ValidationError) as exc:
        Settings()
    assert "status_list_ttl" in str(exc.value)
