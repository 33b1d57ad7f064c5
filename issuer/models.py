"""SQL tables of the issuer (SQLModel; every table name starts with ``iss_``).

- :class:`IssCredential`: one issuance record per issued credential (OpenID4VCI 1.0 §8 response entry): type,
  configuration, holder key thumbprint (RFC 7638), wallet instance key thumbprint, the status list and index
  (draft-ietf-oauth-status-list "Referenced Token"), validity, a pseudonymous subject id, the current status, and
  ``subject_ref``, what the credential was issued for (``mandate:<id>``, ``guardianship:<id>``,
  ``parental:<child person id>``, ``employment:<orgnr>``), so a revocation hits only those. Never a claim value.
- :class:`IssStatusList`: a status list per credential type; its entries live in :class:`IssCredential`
  (``UNIQUE(list_id, idx)`` makes the random index allocation atomic across workers) and ``version`` changes
  with every status change, so cached tokens are rebuilt.
- :class:`IssMandate`: the issuer-side data source of granted mandates (fullmakt) fed by the admin API.
- :class:`MandateByLaw` (table ``iss_mandate_by_law``): every mandate by law
  (guardianship, parental responsibility) the reconciliation job (:mod:`issuer.reconcile`) has seen, so it can
  revoke the agent's mandate credentials once the population register no longer supports them. No claim values.
- :class:`IssSecret`: per-deployment secrets and keys the issuer generates once (token-encryption, seal, DPoP
  nonce and tx_code keys, the request-encryption private key), shared by every worker through the database,
  each wrapped under the deployment's key-encryption key (:mod:`eidcore.kek`), never in clear.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = ["IssCredential", "IssMandate", "IssSecret", "IssStatusList", "MandateByLaw"]


class IssStatusList(SQLModel, table=True):
    """A Token Status List of one credential type (entries of ``bits`` bits, ``size`` entries)."""

    __tablename__ = "iss_status_list"

    id: str = Field(primary_key=True, max_length=64)
    type_id: str = Field(max_length=64, index=True)
    bits: int
    size: int
    allocated: int = 0
    version: int = 0
    created_at: datetime
    active: bool = True


class IssCredential(SQLModel, table=True):
    """An issuance record (no claim values)."""

    __tablename__ = "iss_credential"
    __table_args__ = (UniqueConstraint("list_id", "idx", name="uq_iss_credential_list_idx"),)

    id: str = Field(primary_key=True, max_length=64)
    type_id: str = Field(max_length=64, index=True)
    configuration_id: str = Field(max_length=100)
    format: str = Field(max_length=16)
    subject: str = Field(max_length=64, index=True, description="pseudonymous subject id")
    holder_jkt: str = Field(max_length=64)
    instance_jkt: str | None = Field(default=None, max_length=64, index=True)
    subject_ref: str | None = Field(default=None, max_length=100, index=True,
                                    description="what it was issued for: mandate:<id>, guardianship:<id>, "
                                                "parental:<child id>, employment:<orgnr>")
    client_id: str | None = Field(default=None, max_length=200)
    list_id: str = Field(max_length=64, foreign_key="iss_status_list.id", index=True)
    idx: int
    status: int = Field(default=0, description="0 valid, 1 invalid (revoked), 2 suspended")
    batch_id: str = Field(max_length=64, index=True)
    loa: str = Field(max_length=16)
    issued_at: datetime
    valid_from: datetime
    valid_until: datetime
    updated_at: datetime


class IssMandate(SQLModel, table=True):
    """A granted mandate (fullmakt) the issuer may put in the agent's wallet (principal -> agent, scope)."""

    __tablename__ = "iss_mandate"

    id: str = Field(primary_key=True, max_length=64)
    principal_id: str = Field(max_length=36, index=True)
    agent_id: str = Field(max_length=36, index=True)
    scope: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    legal_basis: str = Field(max_length=32)
    valid_from: datetime
    valid_until: datetime | None = None
    revoked: bool = False
    created_at: datetime


class IssSecret(SQLModel, table=True):
    """A generated secret or private key (created once, shared by every worker).

    ``value`` is the secret wrapped under the key-encryption key with ``iss_secret:<name>`` as associated data
    (:meth:`issuer.core.Issuer.secret`); a plaintext value is a legacy row, wrapped on first read.
    """

    __tablename__ = "iss_secret"

    name: str = Field(primary_key=True, max_length=64)
    value: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime


class MandateByLaw(SQLModel, table=True):
    """A mandate by law the reconciliation job has seen (no claim values: ids, basis, state)."""

    __tablename__ = "iss_mandate_by_law"

    id: str = Field(primary_key=True, max_length=64, description="guardianship-<id>")
    basis: str = Field(max_length=32, description="guardianship or parental_responsibility")
    agent_id: str = Field(max_length=36, index=True)
    principal_id: str = Field(max_length=36, index=True)
    active: bool = True
    first_seen: datetime
    ended_at: datetime | None = None
