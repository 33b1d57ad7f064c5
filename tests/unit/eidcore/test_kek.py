"""eidcore.kek: the key-encryption key that wraps the secrets stored in the database, and where it comes from."""

from __future__ import annotations

import secrets
import stat
from pathlib import Path

import pytest

from eidcore.errors import ConfigurationError
from eidcore.kek import (
    KeyEncryptionKey,
    LocalKek,
    UnwrapError,
    encode_kek,
    is_wrapped,
    load_kek,
    needs_rewrap,
    unwrap_text,
    wrap_text,
    wrapped_key_id,
)
from eidcore.runtime import Runtime
from eidcore.settings import Settings


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


async def test_wrapped_value_unwraps_with_the_same_associated_data_only() -> None:
    kek = LocalKek.generate()
    assert isinstance(kek, KeyEncryptionKey)
    secret = secrets.token_bytes(32)
    wrapped = await kek.wrap(secret, aad=b"iss_secret:seal-key")
    assert is_wrapped(wrapped) and secret not in wrapped and wrapped_key_id(wrapped) == kek.key_id
    assert await kek.unwrap(wrapped, aad=b"iss_secret:seal-key") == secret
    with pytest.raises(UnwrapError, match="moved"):
        await kek.unwrap(wrapped, aad=b"iss_secret:dpop-nonce-key")
    tampered = wrapped[:-1] + bytes([wrapped[-1] ^ 1])
    with pytest.raises(UnwrapError):
        await kek.unwrap(tampered, aad=b"iss_secret:seal-key")
    assert await kek.wrap(secret, aad=b"a") != await kek.wrap(secret, aad=b"a")  # a fresh nonce each time


async def test_another_kek_is_named_in_the_error_not_garbage() -> None:
    wrapped = await LocalKek.generate().wrap(b"x" * 32, aad=b"n")
    other = LocalKek(secrets.token_bytes(32), source="LOMMEBOK_KEK")
    with pytest.raises(ConfigurationError, match="LOMMEBOK_KEK"):
        await other.unwrap(wrapped, aad=b"n")


async def test_a_rotated_kek_unwraps_values_of_the_previous_one_and_asks_to_rewrap() -> None:
    old_key, new_key = secrets.token_bytes(32), secrets.token_bytes(32)
    old = LocalKek(old_key)
    wrapped = await old.wrap(b"secret", aad=b"n")
    new = LocalKek(new_key, [old_key])
    assert await new.unwrap(wrapped, aad=b"n") == b"secret"
    assert needs_rewrap(new, wrapped) and not needs_rewrap(old, wrapped)
    assert needs_rewrap(new, b"legacy plaintext")
    assert not needs_rewrap(new, await new.wrap(b"secret", aad=b"n"))


async def test_text_columns_wrap_to_text_and_legacy_text_is_told_apart() -> None:
    kek = LocalKek.generate()
    wrapped = await wrap_text(kek, "123456", aad=b"row:1")
    assert wrapped.startswith("lkek1.") and "123456" not in wrapped
    assert await unwrap_text(kek, wrapped, aad=b"row:1") == "123456"
    with pytest.raises(UnwrapError):
        await unwrap_text(kek, wrapped, aad=b"row:2")
    with pytest.raises(UnwrapError):
        await unwrap_text(kek, "123456", aad=b"row:1")


def test_kek_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="32 bytes"):
        LocalKek(b"short")
    with pytest.raises(ConfigurationError, match="LOMMEBOK_KEK"):
        load_kek(Settings(environment="production", kek=encode_kek(b"x" * 16)))  # type: ignore[arg-type]


def test_production_without_a_kek_refuses_to_start_naming_the_variable(tmp_path: Path) -> None:
    settings = Settings(environment="production", data_dir=tmp_path / "var", keys_dir=tmp_path / "keys",
                        issuer_admin_token="a" * 40)
    with pytest.raises(ConfigurationError, match="LOMMEBOK_KEK"):
        load_kek(settings)


async def test_production_runtime_without_a_kek_does_not_start(tmp_path: Path) -> None:
    # strong per-service admin tokens, so the missing KEK is what stops the start
    tokens = {f"{s}_admin_token": secrets.token_urlsafe(32) for s in ("issuer", "verifier", "wallet")}
    rt = Runtime(Settings(environment="production", data_dir=tmp_path / "var", keys_dir=tmp_path / "keys",
                          **tokens))
    try:
        with pytest.raises(ConfigurationError, match="LOMMEBOK_KEK"):
            await rt.start()
    finally:
        await rt.stop()


def test_production_kek_from_the_environment_or_a_private_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    key = secrets.token_bytes(32)
    monkeypatch.setenv("LOMMEBOK_KEK", encode_kek(key))
    from_env = load_kek(Settings(environment="production"))
    assert from_env.key_id == LocalKek(key).key_id
    assert encode_kek(key) not in repr(Settings(environment="production"))  # a SecretStr: never in a log line
    monkeypatch.delenv("LOMMEBOK_KEK")

    path = tmp_path / "kek"
    path.write_text(encode_kek(key) + "\n")
    path.chmod(0o640)
    with pytest.raises(ConfigurationError, match=r"LOMMEBOK_KEK_FILE.*chmod 600"):
        load_kek(Settings(environment="production", kek_file=path))
    path.chmod(0o600)
    assert load_kek(Settings(environment="production", kek_file=path)).key_id == from_env.key_id


def test_dev_kek_is_created_once_0600_in_a_0700_directory(tmp_path: Path, umask_000: None) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    first = load_kek(settings)
    path = settings.effective_keys_dir / "kek"
    assert _mode(path) == 0o600 and _mode(path.parent) == 0o700
    assert load_kek(settings).key_id == first.key_id  # the same key on the next start
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_kek(settings)


def test_processes_starting_at_once_agree_on_one_dev_kek(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from eidcore.keys import load_or_create_dev_kek

    path = tmp_path / "keys" / "kek"
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: load_or_create_dev_kek(path), range(16)))
    assert len(keys) == 1 and [p.name for p in path.parent.iterdir()] == ["kek"]  # no temporary file left
