"""SQL tables of the wallet provider (SQLModel; every table name starts with ``wal_``).

- ``wal_instance``: one registered wallet app instance (its instance key, the platform attestation outcome, its
  lifecycle state, the person it belongs to once known, its index in the wallet-instance status list);
- ``wal_transaction``: the user's transaction log (who was shown which claim *names*, when; never values), each entry
  in the wallet profile (``private`` or ``work``) whose credentials were shown;
- ``wal_backup``: the latest encrypted backup of a person per wallet profile (an opaque blob; the server never holds
  its key);
- ``wal_youth_wallet``, ``wal_youth_request``, ``wal_youth_relying_party``, ``wal_youth_credential_request``,
  ``wal_youth_rule``: youth wallets under guardian control (:mod:`wallet_api.guardian` and its neighbours);
- ``wal_mandate_grant``: mandates one person grants another from the wallet (:mod:`wallet_api.mandates`).

Wallet profiles (Norway's eID strategy: work identity kept apart from private identity): :data:`PROFILES`.

Plain types only (VARCHAR, INTEGER, BOOLEAN, TIMESTAMP, JSON, TEXT): runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

__all__ = ["PRIVATE", "PROFILES", "WORK", "MandateGrant", "WalBackup", "WalInstance", "WalTransaction",
           "YouthCredentialRequest", "YouthRelyingParty", "YouthRequest", "YouthRule", "YouthWallet"]

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


class YouthWallet(SQLModel, table=True):
    """A child's wallet instance, registered by a guardian."""

    __tablename__ = "wal_youth_wallet"

    instance_id: str = Field(primary_key=True, max_length=36)
    child_id: str = Field(max_length=36, index=True)
    registered_by: str = Field(max_length=36)
    created_at: datetime


class YouthRequest(SQLModel, table=True):
    """A child's request to present claims to a verifier, and its outcome (claim paths, never values)."""

    __tablename__ = "wal_youth_request"

    id: str = Field(primary_key=True, max_length=36)
    child_id: str = Field(max_length=36, index=True)
    instance_id: str = Field(max_length=36)
    client_id: str = Field(max_length=2048)
    relying_party_name: str | None = Field(default=None, max_length=200)
    claims: list[list[Any]] = Field(sa_column=Column(JSON, nullable=False))
    nonce_hash: str = Field(max_length=64)
    holder_jwk: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16, index=True)
    decided_by: str | None = Field(default=None, max_length=64)
    consent: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None = None
    approvals: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    category: str | None = Field(default=None, max_length=40)


class YouthRelyingParty(SQLModel, table=True):
    """The wallet provider's registry of relying-party categories, keyed by the verifier's client id."""

    __tablename__ = "wal_youth_relying_party"

    client_id: str = Field(primary_key=True, max_length=2048)
    category: str = Field(max_length=40, index=True)
    name: str | None = Field(default=None, max_length=200)
    updated_at: datetime


class YouthCredentialRequest(SQLModel, table=True):
    """A credential (a PID) for a child, issued through the issuer's deferred issuance once a guardian approves."""

    __tablename__ = "wal_youth_credential_request"

    id: str = Field(primary_key=True, max_length=36)
    child_id: str = Field(max_length=36, index=True)
    instance_id: str = Field(max_length=36)
    configuration_id: str = Field(max_length=100)
    requested_by: str = Field(max_length=64)
    status: str = Field(default="offered", max_length=24, index=True)
    #: the credential offer and its tx_code, wrapped under the key-encryption key (eidcore.kek; with them anyone
    #: could redeem the child's PID): read them with :func:`wallet_api.youth_credentials.offer_of`
    offer_uri: str = Field(sa_column=Column(Text, nullable=False))
    tx_code: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    transaction_id: str | None = Field(default=None, max_length=200)
    approvals: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    decided_by: str | None = Field(default=None, max_length=64)
    created_at: datetime
    decided_at: datetime | None = None


class YouthRule(SQLModel, table=True):
    """A guardian's standing rule for a child: relying party (``*`` = any), claim path (None = any), effect."""

    __tablename__ = "wal_youth_rule"

    id: int | None = Field(default=None, primary_key=True)
    child_id: str = Field(max_length=36, index=True)
    client_id: str = Field(max_length=2048)
    claim: list[Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    effect: str = Field(max_length=8)
    category: str | None = Field(default=None, max_length=40)
    created_by: str = Field(max_length=36)
    created_at: datetime


class MandateGrant(SQLModel, table=True):
    """A mandate one person grants another through the wallet (no claim values beyond the scope)."""

    __tablename__ = "wal_mandate_grant"

    id: str = Field(primary_key=True, max_length=64)
    principal_id: str = Field(max_length=36, index=True)
    agent_id: str = Field(max_length=36, index=True)
    scope: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    valid_until: datetime | None = None
    state: str = Field(default="pending", max_length=16, description="pending|accepted|declined|revoked")
    issuer_mandate_id: str | None = Field(default=None, max_length=64)
    created_at: datetime
    updated_at: datetime
