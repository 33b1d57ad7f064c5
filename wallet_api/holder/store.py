"""The reference holder's local store: a folder with a JSON document and one private JWK file per key.

Layout (directory 0700; every file 0600, written atomically: temporary file, fsync, rename)::

    <dir>/wallet.json        instance registration, credentials (as issued), deferred issuances, local log
    <dir>/keys/<kid>.jwk     private JWKs (RFC 7517): the instance key and one key per credential

A phone keeps these in its secure hardware and an encrypted database; the CLI wallet and the tests keep them here.

Profiles (Norway's eID strategy: work identity kept apart from private identity): every credential record belongs to
the ``private`` or the ``work`` profile (``record["profile"]``). Employee role credentials (:data:`WORK_TYPES`, by
SD-JWT VC ``vct`` or mdoc docType) go to ``work``, everything else to ``private``; a record stored before profiles
existed is classified by its type (:func:`profile_of`).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import Any

from eidcore import jose
from eidcore.errors import ConfigurationError, NotFound

_KID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
VERSION = 1

PRIVATE = "private"
WORK = "work"
PROFILES = (PRIVATE, WORK)
WORK_TYPES = frozenset({"urn:no:digdir:eudi:employee:1", "no.digdir.eudi.employee.1"})
"""Credential types (SD-JWT VC ``vct`` / mdoc docType) kept in the work profile: the employee role credential."""


def profile_for_type(credential_type: Any) -> str:
    """The profile a credential of ``credential_type`` (``vct`` or docType) belongs to."""
    return WORK if credential_type in WORK_TYPES else PRIVATE


def profile_of(record: dict[str, Any]) -> str:
    """The profile of a stored credential record (its ``profile``, else by its ``type``)."""
    value = record.get("profile")
    return value if value in PROFILES else profile_for_type(record.get("type"))


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class LocalStore:
    """Keys and credentials of one wallet on disk."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self._doc_path = directory / "wallet.json"
        self.doc: dict[str, Any] = self._load()

    def _load(self) -> dict[str, Any]:
        if not self._doc_path.exists():
            return {"version": VERSION, "instance": None, "credentials": [], "log": [], "pending": []}
        try:
            doc = json.loads(self._doc_path.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"the wallet store {self._doc_path} is unreadable: {exc}") from None
        if not isinstance(doc, dict) or doc.get("version") != VERSION:
            raise ConfigurationError(f"the wallet store {self._doc_path} has an unknown format")
        return doc

    def save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write(self._doc_path, json.dumps(self.doc, indent=2, sort_keys=True).encode())

    # -- keys --------------------------------------------------------------------------------------

    def new_key(self) -> tuple[str, jose.SigningKey]:
        """Generate a P-256 key, keep its private JWK in ``keys/<kid>.jwk`` (0600) and return it."""
        kid = secrets.token_urlsafe(12)
        key = jose.generate_signing_key("ES256")
        _write(self.dir / "keys" / f"{kid}.jwk", json.dumps(key.private_jwk()).encode())
        return kid, key

    def key(self, kid: str) -> jose.SigningKey:
        if not _KID.match(kid):
            raise NotFound("no such key")
        path = self.dir / "keys" / f"{kid}.jwk"
        try:
            jwk = json.loads(path.read_text())
        except FileNotFoundError:
            raise NotFound(f"key {kid} is missing from the store") from None
        return jose.signing_key_from_jwk(jwk)

    def delete_key(self, kid: str) -> None:
        if _KID.match(kid):
            (self.dir / "keys" / f"{kid}.jwk").unlink(missing_ok=True)

    # -- instance ----------------------------------------------------------------------------------

    @property
    def instance(self) -> dict[str, Any] | None:
        value = self.doc.get("instance")
        return value if isinstance(value, dict) else None

    def set_instance(self, value: dict[str, Any] | None) -> None:
        self.doc["instance"] = value
        self.save()

    # -- credentials -------------------------------------------------------------------------------

    def credentials(self, profile: str | None = None) -> list[dict[str, Any]]:
        """The held credential records, all or only those of ``profile`` (``private`` or ``work``)."""
        records = list(self.doc.get("credentials", []))
        if profile is None:
            return records
        if profile not in PROFILES:
            raise NotFound(f"no wallet profile {profile[:20]!r}")
        return [r for r in records if profile_of(r) == profile]

    def credential(self, ident: str) -> dict[str, Any]:
        for c in self.credentials():
            if c["id"] == ident or c["id"].startswith(ident):
                return c
        raise NotFound(f"no credential {ident!r} in this wallet")

    def add_credential(self, record: dict[str, Any]) -> dict[str, Any]:
        record = {"id": secrets.token_hex(6), **record}
        record["profile"] = profile_of(record)
        self.doc.setdefault("credentials", []).append(record)
        self.save()
        return record

    def remove_credential(self, ident: str) -> None:
        rec = self.credential(ident)
        self.doc["credentials"] = [c for c in self.credentials() if c["id"] != rec["id"]]
        self.delete_key(rec["key_id"])
        self.save()

    # -- deferred issuance (OpenID4VCI 1.0 §9) -------------------------------------------------------

    def pending(self) -> list[dict[str, Any]]:
        """Deferred issuances still waiting at their issuers (transaction id, token, key)."""
        return list(self.doc.get("pending", []))

    def add_pending(self, entry: dict[str, Any]) -> dict[str, Any]:
        entry = {"id": secrets.token_hex(6), **entry}
        self.doc.setdefault("pending", []).append(entry)
        self.save()
        return entry

    def remove_pending(self, ident: str, *, delete_key: bool = False) -> None:
        entries = self.pending()
        gone = [p for p in entries if p["id"] == ident]
        self.doc["pending"] = [p for p in entries if p["id"] != ident]
        if delete_key:
            for p in gone:
                self.delete_key(p["key_id"])
        self.save()

    # -- local transaction log ---------------------------------------------------------------------

    def log(self) -> list[dict[str, Any]]:
        return list(self.doc.get("log", []))

    def add_log(self, entry: dict[str, Any]) -> None:
        self.doc.setdefault("log", []).append(entry)
        self.save()

    # -- backup ------------------------------------------------------------------------------------

    def export(self) -> dict[str, Any]:
        """Everything needed to restore the credentials elsewhere (the document and the credential keys)."""
        keys = {c["key_id"]: self.key(c["key_id"]).private_jwk() for c in self.credentials()}
        return {"credentials": self.credentials(), "log": self.log(), "keys": keys}

    def import_(self, data: dict[str, Any]) -> int:
        """Restore credentials and their keys from :meth:`export` output; returns how many were added."""
        have = {c["id"] for c in self.credentials()}
        keys = data.get("keys") or {}
        added = 0
        for c in data.get("credentials") or []:
            if c["id"] in have or c["key_id"] not in keys or not _KID.match(c["key_id"]):
                continue
            _write(self.dir / "keys" / f"{c['key_id']}.jwk", json.dumps(keys[c["key_id"]]).encode())
            self.doc.setdefault("credentials", []).append(c)
            added += 1
        self.save()
        return added
