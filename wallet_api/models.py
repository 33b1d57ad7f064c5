"""SQL tables of the wallet provider (SQLModel; every table name starts with ``wal_``).

- ``wal_instance``: one registered wallet app instance (its instance key, the platform attestation outcome, its
  lifecycle state, the person it belongs to once known, its index in the wallet-instance status list);
- ``wal_transaction``: the user's transaction log (who was shown which claim *names*, when; never values), each entry
  in the wallet profile (``private`` or ``work``) whose credentials were shown;
- ``wal_backup``: the latest encrypted backup of a person per wallet profile (an opaque blob; the server never holds
  its key).

Wallet profiles (Norway's eID strategy: work identity kept apart from private identity): :data:`PROFILES`.

Plain types only (VARCHAR, INTEGER, BOOLEAN, TIMESTAMP, JSON, TEXT): runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

__all__ = ["PRIVATE", "PROFILES", "WORK", "WalBackup", "WalInstance", "WalTransaction"]

PRIVATE = "private"
WORK = "work"
PROFILES = (PRIVATE, WORK)
"""The wallet profiles: ``private`` (the default) and ``work`` (employee role credentials)."""


class WalInstance(SQLModel, table=True):
    """A wallet instance. ``jkt`` (RFC 7638 thumbprint of the instance key) is what the issuer records."""

    __tablename__ = "wal_instance"

    id: str = Field(primary_key=True, max_length=36)
    status_idx: int = Field(unique=True, index=True)
    jkt: str = Field(max_length=64, unique=True, index=True)
    public_jwk: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    platform: str = Field(max_length=16)
    security_level: str = Field(max_length=16)
    attestation_roots: str = Field(max_length=16)
    wallet_version: str = Field(default="", max_length=32)
    state: str = Field(default="active", max_length=16, index=True)
    person_id: str | None = Field(default=None, max_length=36, index=True)
    bound_by: str | None = Field(default=None, max_length=16)
    version: int = Field(default=1)
    issuer_sync: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime
    updated_at: datetime


class WalTransaction(SQLModel, table=True):
    """One presentation the wallet made: relying party, credential type, claim names and time (no values)."""

    __tablename__ = "wal_transaction"

    id: int | None = Field(default=None, primary_key=True)
    instance_id: str = Field(max_length=36, index=True)
    person_id: str | None = Field(default=None, max_length=36, index=True)
    relying_party: str = Field(max_length=512)
    relying_party_name: str | None = Field(default=None, max_length=200)
    credential_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    claims: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    outcome: str = Field(max_length=16)
    profile: str = Field(default=PRIVATE, max_length=16, index=True)
    shared_at: datetime
    recorded_at: datetime


class WalBackup(SQLModel, table=True):
    """The latest encrypted backup of a person (or of an instance not yet bound to a person) in one wallet profile."""

    __tablename__ = "wal_backup"

    owner: str = Field(primary_key=True, max_length=48)
    profile: str = Field(default=PRIVATE, primary_key=True, max_length=16)
    ciphertext: str = Field(sa_column=Column(Text, nullable=False))
    media_type: str = Field(max_length=100)
    version: int = Field(default=1)
    size: int
    updated_at: datetime
    updated_by: str = Field(max_length=36)
