"""Admin API bearer tokens (RFC 6750): one per service, at least 256 bits in production, the shared dev token refused
there (eidcore.admin_tokens)."""

from __future__ import annotations

import secrets
import string
from pathlib import Path

import pytest

from eidcore.admin_tokens import (
    ENV,
    MIN_BITS,
    bearer_matches,
    peer_env,
    production_admin_tokens,
    production_peer_tokens,
    token_bits,
    token_weakness,
)
from eidcore.errors import ConfigurationError
from eidcore.runtime import Runtime
from eidcore.settings import Settings


def strong() -> str:
    return secrets.token_urlsafe(32)


def production(tmp_path: Path, **tokens: str | None) -> Settings:
    return Settings(environment="production", data_dir=tmp_path / "var", **tokens)  # type: ignore[arg-type]


@pytest.mark.parametrize("make", [lambda: secrets.token_urlsafe(32), lambda: secrets.token_hex(32),
                                  lambda: secrets.token_urlsafe(48)], ids=["urlsafe32", "hex32", "urlsafe48"])
def test_random_tokens_of_256_bits_are_strong_enough(make: object) -> None:
    for _ in range(2000):  # no false refusals of what the documented generators produce
        token = make()  # type: ignore[operator]
        assert token_weakness(token) is None, token
        assert token_bits(token) >= MIN_BITS


@pytest.mark.parametrize("token", [
    "x",                                                   # the one-character token the security test found
    "a" * 64,                                              # one repeated character
    "ab" * 40,                                             # few distinct symbols
    "0123456789abcdef" * 4,                                # a repeated pattern
    string.ascii_lowercase + string.ascii_uppercase + string.digits,  # a run along the alphabet
    "correct-horse-battery-staple-correct-horse",          # words, lowercase only: too few bits for its length
    secrets.token_urlsafe(31)[:41],                        # random, but under 256 bits
    secrets.token_hex(31),                                 # hex, 248 bits
    " " + secrets.token_urlsafe(32),                       # white space around it
], ids=["one-char", "repeated", "two-symbols", "pattern", "alphabet", "words", "short-urlsafe", "short-hex",
        "space"])
def test_low_entropy_tokens_are_refused(token: str) -> None:
    assert token_weakness(token) is not None


@pytest.mark.parametrize("service", ["issuer", "verifier", "wallet"])
async def test_a_weak_production_token_refuses_to_start_naming_the_variable(tmp_path: Path, service: str) -> None:
    tokens = {f"{s}_admin_token": strong() for s in ("issuer", "verifier", "wallet")}
    tokens[f"{service}_admin_token"] = "hunter2"
    rt = Runtime(production(tmp_path, **tokens))
    rt.services.update({"issuer", "verifier", "wallet"})
    with pytest.raises(ConfigurationError) as err:
        await rt.start()
    assert ENV[service] in err.value.description and "too weak" in err.value.description
    assert "hunter2" not in err.value.description  # the message names the variable, never the value
    await rt.stop()


def test_the_shared_admin_token_is_refused_naming_the_per_service_variables(tmp_path: Path) -> None:
    settings = production(tmp_path, admin_token=strong())
    with pytest.raises(ConfigurationError) as err:
        production_admin_tokens(settings, {"issuer"})
    for variable in ENV.values():
        assert variable in err.value.description
    assert "LOMMEBOK_ADMIN_TOKEN" in err.value.description


def test_production_needs_the_token_of_each_service_it_serves(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="LOMMEBOK_VERIFIER_ADMIN_TOKEN"):
        production_admin_tokens(production(tmp_path, issuer_admin_token=strong()), {"issuer", "verifier"})
    # the wallet provider calls the issuer's admin API with a credential of its own, not the issuer's token
    assert set(production_admin_tokens(production(tmp_path, wallet_admin_token=strong()), {"wallet"})) == {"wallet"}
    # a verifier alone needs (and holds) no other service's token
    tokens = production_admin_tokens(production(tmp_path, verifier_admin_token=strong()), {"verifier"})
    assert set(tokens) == {"verifier"}


def test_production_refuses_one_token_for_two_services(tmp_path: Path) -> None:
    same = strong()
    settings = production(tmp_path, issuer_admin_token=same, verifier_admin_token=strong(), wallet_admin_token=same)
    with pytest.raises(ConfigurationError, match="LOMMEBOK_ISSUER_ADMIN_TOKEN and LOMMEBOK_WALLET_ADMIN_TOKEN"):
        production_admin_tokens(settings, {"issuer", "verifier", "wallet"})


def test_admin_tokens_do_not_show_in_the_settings_repr(tmp_path: Path) -> None:
    token = strong()
    assert token not in repr(production(tmp_path, issuer_admin_token=token))


def test_bearer_matches_only_the_expected_token() -> None:
    token = strong()
    assert bearer_matches(f"Bearer {token}", token)
    assert bearer_matches(f"bearer  {token} ", token)
    assert not bearer_matches(f"Basic {token}", token)
    assert not bearer_matches(f"Bearer {token}x", token)
    assert not bearer_matches("Bearer ", token)
    assert not bearer_matches(None, token)
    assert not bearer_matches(f"Bearer {token}", None)
    assert not bearer_matches(f"Bearer {token}", "")


PEERS = (("wallet", "issuer"),)


@pytest.mark.parametrize("serving", [{"wallet"}, {"issuer"}])
def test_production_needs_the_peer_credential_where_the_caller_or_the_called_service_runs(
        tmp_path: Path, serving: set[str]) -> None:
    with pytest.raises(ConfigurationError, match="LOMMEBOK_WALLET_ISSUER_TOKEN"):
        production_peer_tokens(production(tmp_path), serving, {}, PEERS)  # type: ignore[arg-type]
    assert production_peer_tokens(production(tmp_path), {"verifier"}, {}, PEERS) == {}  # neither end runs here


def test_a_peer_credential_must_be_strong_and_differ_from_every_admin_token(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="LOMMEBOK_WALLET_ISSUER_TOKEN is too weak"):
        production_peer_tokens(production(tmp_path, wallet_issuer_token="hunter2hunter2"), {"wallet"}, {}, PEERS)
    same = strong()
    with pytest.raises(ConfigurationError) as err:
        production_peer_tokens(production(tmp_path, wallet_issuer_token=same), {"wallet", "issuer"},
                               {"issuer": same}, PEERS)
    assert "LOMMEBOK_ISSUER_ADMIN_TOKEN and LOMMEBOK_WALLET_ISSUER_TOKEN are the same" in err.value.description
    assert same not in err.value.description
    token = strong()
    assert production_peer_tokens(production(tmp_path, wallet_issuer_token=token), {"wallet"}, {"issuer": strong()},
                                  PEERS) == {("wallet", "issuer"): token}
    assert peer_env("wallet", "issuer") == "LOMMEBOK_WALLET_ISSUER_TOKEN"
