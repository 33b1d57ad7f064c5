"""The issuer's generated secrets are wrapped under a key-encryption key that is not in the database.

A security test read ``iss_secret`` and, with the token-encryption key it found there in clear, forged an access
token for a person who was never offered anything and got their PID. These tests read the table as that
attacker would, on SQLite and on PostgreSQL + Redis.
"""

from __future__ import annotations

import json
import secrets

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import text

from eidcore import jose
from eidcore.errors import ConfigurationError
from eidcore.kek import LocalKek, is_wrapped
from eidcore.runtime import Runtime
from issuer.app import create_app, issuer_of
from issuer.core import Issuer
from tests.e2e.issuer.conftest import Helper


async def _rows(rt: Runtime) -> dict[str, bytes]:
    async with rt.db.engine.connect() as conn:
        return {n: bytes(v) for n, v in (await conn.execute(text("SELECT name, value FROM iss_secret"))).all()}


async def _set_row(rt: Runtime, name: str, value: bytes) -> None:
    async with rt.db.engine.begin() as conn:
        await conn.execute(text("UPDATE iss_secret SET value = :v WHERE name = :n"), {"v": value, "n": name})


def _forge(raw_key: bytes, token: str, person_id: str) -> str | None:
    """What an attacker holding the column value does: decrypt a token, change the person, encrypt it again."""
    try:
        aead = AESGCM(raw_key)
        raw = jose.b64url_decode(token, what="token")
        body = json.loads(aead.decrypt(raw[:12], raw[12:], b"access_token"))
    except (ValueError, InvalidTag):
        return None
    body["d"]["person_id"] = person_id
    iv = secrets.token_bytes(12)
    return jose.b64url_encode(iv + aead.encrypt(iv, json.dumps(body).encode(), b"access_token"))


async def _second_runtime(h: Helper, kek: LocalKek | None = None) -> tuple[Runtime, Issuer]:
    """Another process of the same deployment (same settings, same database), started with ``kek``."""
    rt = Runtime(h.stack.settings, clock=h.rt.clock)
    if kek is not None:
        rt.use_kek(kek)
    return rt, issuer_of(create_app(runtime=rt))


async def test_the_secret_table_yields_no_key_to_forge_an_access_token(h: Helper) -> None:
    client, tok = await h.pre_authorized_token("amir", ["pid_vc_sd_jwt"])
    issuer = issuer_of(h.stack.app)
    await issuer.secret("seal-key")
    await issuer.request_encryption_key()
    rows = await _rows(h.rt)
    assert {"token-encryption-key", "tx-code-key", "seal-key", "request-encryption-key"} <= rows.keys()
    for name, raw in rows.items():
        assert is_wrapped(raw), name
        assert await issuer.secret(name) not in raw, f"{name} is stored in clear"

    victim = await h.rt_person("ola")
    forged = _forge(rows["token-encryption-key"], tok.access_token, victim.person_id)
    if forged is not None:  # the column value was the key: the forged token must still be refused
        keys = [jose.generate_signing_key()]
        nonce = await client.nonce()
        r = await h.stack.client.post("/issuer/credential", headers={"Authorization": f"Bearer {forged}"},
                                      json={"credential_configuration_id": "pid_vc_sd_jwt",
                                            "proofs": {"jwt": [client.proof(keys[0], nonce)]}})
        assert r.status_code == 401, f"a token forged from the iss_secret table was accepted: {r.status_code}"
    # the honest token still works
    creds, _, _ = await h.credentials(client, tok, "pid_vc_sd_jwt")
    assert len(creds) == 1


async def test_a_secret_moved_to_another_row_does_not_unwrap(h: Helper) -> None:
    issuer = issuer_of(h.stack.app)
    await issuer.secret("seal-key")
    await issuer.secret("dpop-nonce-key")
    rows = await _rows(h.rt)
    await _set_row(h.rt, "seal-key", rows["dpop-nonce-key"])

    fresh = Issuer(h.rt)  # another worker: nothing cached
    with pytest.raises(ConfigurationError, match="seal-key"):
        await fresh.secret("seal-key")
    assert await fresh.secret("dpop-nonce-key") == await issuer.secret("dpop-nonce-key")


async def test_a_wrong_kek_stops_the_start_with_a_clear_error(h: Helper) -> None:
    await issuer_of(h.stack.app).secret("seal-key")
    rt, _ = await _second_runtime(h, LocalKek.generate())
    try:
        with pytest.raises(ConfigurationError, match="LOMMEBOK_KEK"):
            await rt.start()
    finally:
        await rt.stop()


async def test_the_same_kek_in_another_process_unwraps_every_secret(h: Helper) -> None:
    issuer = issuer_of(h.stack.app)
    seal = await issuer.secret("seal-key")
    rt, other = await _second_runtime(h)
    try:
        await rt.start()
        assert await other.secret("seal-key") == seal
    finally:
        await rt.stop()


async def test_a_legacy_plaintext_secret_is_wrapped_at_start(h: Helper) -> None:
    issuer = issuer_of(h.stack.app)
    await issuer.secret("seal-key")
    legacy = secrets.token_bytes(32)
    await _set_row(h.rt, "seal-key", legacy)  # as an older deployment wrote it

    rt, other = await _second_runtime(h)
    try:
        await rt.start()
        raw = (await _rows(h.rt))["seal-key"]
        assert is_wrapped(raw) and legacy not in raw
        assert await other.secret("seal-key") == legacy  # the same secret, now only stored wrapped
    finally:
        await rt.stop()


async def test_a_legacy_plaintext_secret_is_wrapped_on_first_read(h: Helper) -> None:
    issuer = issuer_of(h.stack.app)
    await issuer.secret("dpop-nonce-key")
    legacy = secrets.token_bytes(32)
    await _set_row(h.rt, "dpop-nonce-key", legacy)

    assert await Issuer(h.rt).secret("dpop-nonce-key") == legacy
    raw = (await _rows(h.rt))["dpop-nonce-key"]
    assert is_wrapped(raw) and legacy not in raw


async def test_a_rotated_kek_still_unwraps_and_rewraps_under_the_new_key(h: Helper) -> None:
    issuer = issuer_of(h.stack.app)
    seal = await issuer.secret("seal-key")
    old_id = h.rt.kek.key_id
    assert isinstance(h.rt.kek, LocalKek)
    old_key = _kek_bytes(h)
    new = LocalKek(secrets.token_bytes(32), [old_key])
    rt, other = await _second_runtime(h, new)
    try:
        await rt.start()
        assert await other.secret("seal-key") == seal
        raw = (await _rows(h.rt))["seal-key"]
        assert raw[5:13].hex() == new.key_id != old_id
    finally:
        await rt.stop()


def _kek_bytes(h: Helper) -> bytes:
    from eidcore.kek import decode_kek

    return decode_kek((h.stack.settings.effective_keys_dir / "kek").read_text(), source="test")

