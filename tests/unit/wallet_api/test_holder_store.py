"""The reference holder's local store and the backup envelope (wallet_api.holder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eidcore.errors import ConfigurationError, InvalidRequest, NotFound
from wallet_api.holder.store import LocalStore
from wallet_api.holder.wallet import decrypt_backup, describe_query, encrypt_backup


def test_keys_are_private_files_and_reload(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "w")
    kid, key = store.new_key()
    path = tmp_path / "w" / "keys" / f"{kid}.jwk"
    assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "w" / "keys").stat().st_mode & 0o077 == 0
    assert json.loads(path.read_text())["d"]
    assert LocalStore(tmp_path / "w").key(kid).public_jwk == key.public_jwk


def test_credentials_persist_and_are_found_by_prefix(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    kid, _ = store.new_key()
    rec = store.add_credential({"format": "dc+sd-jwt", "credential": "x~", "key_id": kid, "issuer": "i",
                                "received_at": "now"})
    again = LocalStore(tmp_path)
    assert again.credential(rec["id"][:4])["credential"] == "x~"
    assert (tmp_path / "wallet.json").stat().st_mode & 0o777 == 0o600
    again.remove_credential(rec["id"])
    assert again.credentials() == []
    assert not (tmp_path / "keys" / f"{kid}.jwk").exists()
    with pytest.raises(NotFound):
        again.credential("nope")


def test_key_ids_cannot_escape_the_store(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        LocalStore(tmp_path).key("../../etc/passwd")


def test_corrupt_store_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "wallet.json").write_text("{nope")
    with pytest.raises(ConfigurationError):
        LocalStore(tmp_path)


def test_export_import_moves_credentials_and_keys(tmp_path: Path) -> None:
    old = LocalStore(tmp_path / "old")
    kid, key = old.new_key()
    old.add_credential({"format": "dc+sd-jwt", "credential": "c~", "key_id": kid, "issuer": "i", "received_at": "t"})
    new = LocalStore(tmp_path / "new")
    assert new.import_(old.export()) == 1
    assert new.import_(old.export()) == 0  # idempotent
    assert new.key(kid).public_jwk == key.public_jwk


def test_backup_envelope_round_trip_and_wrong_passphrase() -> None:
    blob = encrypt_backup(b"secret credentials", "pass phrase")
    assert b"secret" not in blob.encode()
    assert decrypt_backup(blob, "pass phrase") == b"secret credentials"
    with pytest.raises(InvalidRequest, match="passphrase"):
        decrypt_backup(blob, "wrong")
    with pytest.raises(InvalidRequest, match="damaged"):
        decrypt_backup("not-a-backup", "pass phrase")


def test_describe_query_lists_claim_names() -> None:
    dcql = {"credentials": [
        {"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:eudi:pid:1"]},
         "claims": [{"path": ["age_equal_or_over", "18"]}, {"path": ["nationalities", None]}]},
        {"id": "m", "format": "mso_mdoc", "meta": {"doctype_value": "eu.europa.ec.eudi.pid.1"}},
    ]}
    out = describe_query(dcql)
    assert out[0]["claims"] == ["age_equal_or_over.18", "nationalities.*"]
    assert out[0]["types"] == ["urn:eudi:pid:1"]
    assert out[1]["claims"] == ["(all claims)"] and out[1]["types"] == ["eu.europa.ec.eudi.pid.1"]
    assert describe_query("garbage") == []


def test_pending_deferred_issuances_persist_and_release_their_keys(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "w")
    kid, _ = store.new_key()
    kept, _ = store.new_key()
    a = store.add_pending({"issuer": "http://localhost:8000/issuer", "configuration_id": "pid_vc_sd_jwt",
                           "key_id": kid, "transaction_id": "t1", "interval": 5, "token": {}})
    b = store.add_pending({"issuer": "http://localhost:8000/issuer", "configuration_id": "pid_mso_mdoc",
                           "key_id": kept, "transaction_id": "t2", "interval": 5, "token": {}})
    assert [p["transaction_id"] for p in LocalStore(tmp_path / "w").pending()] == ["t1", "t2"]
    store.remove_pending(a["id"], delete_key=True)  # refused: its key goes
    store.remove_pending(b["id"])  # arrived: its key stays with the credential
    assert LocalStore(tmp_path / "w").pending() == []
    assert not (tmp_path / "w" / "keys" / f"{kid}.jwk").exists()
    assert store.key(kept).public_jwk
