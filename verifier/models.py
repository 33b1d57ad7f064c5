"""SQL tables of the verifier (SQLModel; every table name starts with ``ver_``).

- :class:`VerRelyingParty`: a relying party of the verifier's API (OpenID4VP 1.0 §5: the Verifier acting for it):
  name, allowed profiles, allowed redirect URIs, and the SHA-256 of its bearer API key (never the key).
- :class:`OidcClient`: a client of the OpenID Connect bridge (:mod:`verifier.oidc`): redirect URIs, login kind and
  its parameters, and the SHA-256 of its secret for a confidential client (table ``ver_oidc_client``).
- :class:`VerTransaction`: one presentation transaction (an OpenID4VP 1.0 Authorization Request and its
  response): the request parameters (client id, nonce, state, response mode, DCQL query), the public half
  of the ephemeral ``direct_post.jwt`` key (its private half lives only in the transaction's single-use slot in
  the key-value store, never in the database), status, the checks and the result, and the refused responses
  (check names and times: a response that does not validate leaves the transaction pending). The result
  holds disclosed claim values and is deleted after ``Settings.verifier.result_retention_seconds``.

Times are Unix seconds (BIGINT), so SQLite and PostgreSQL store them the same way.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Integer
from sqlmodel import Field, SQLModel

__all__ = ["OidcClient", "VerRelyingParty", "VerTransaction"]


class VerRelyingParty(SQLModel, table=True):
    """A relying party allowed to create transactions (bearer API key stored as a SHA-256 hash)."""

    __tablename__ = "ver_relying_party"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    api_key_sha256: str = Field(max_length=64, unique=True, index=True)
    allowed_profiles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    redirect_uris: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: int = Field(sa_column=Column(BigInteger, nullable=False))


class VerTransaction(SQLModel, table=True):
    """One OpenID4VP transaction of one relying party."""

    __tablename__ = "ver_transaction"

    id: str = Field(primary_key=True, max_length=64)
    rp_id: str = Field(max_length=64, foreign_key="ver_relying_party.id", index=True)
    status: str = Field(max_length=16, index=True, description="pending|responded|validated|failed|expired")
    # (``failed`` is no longer written: a refused response leaves the transaction pending, see ``refused``)
    profile: str | None = Field(default=None, max_length=64)
    profile_params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    dcql_query: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    client_id: str = Field(max_length=300)
    response_mode: str = Field(max_length=32)
    request_uri_method: str = Field(default="get", max_length=8)
    nonce: str = Field(max_length=128)
    state: str = Field(max_length=128)
    enc_jwk: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    redirect_uri_template: str | None = Field(default=None, max_length=2000)
    response_code_sha256: str | None = Field(default=None, max_length=64)
    redeemed: bool = False
    failed_check: str | None = Field(default=None, max_length=100)
    failure_reason: str | None = Field(default=None, max_length=500)
    checks: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    refused_count: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    """How many responses the ``response_uri`` refused (each left the transaction pending)."""
    refused: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """The most recent refused responses (at most ``verifier.transactions.MAX_REFUSED``): check name, wallet error code
    and time only, never claim values."""
    created_at: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    expires_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    finished_at: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True, index=True))


class OidcClient(SQLModel, table=True):
    """A relying party of the bridge (OIDC client): redirect URIs, login kind, optional secret (SHA-256)."""

    __tablename__ = "ver_oidc_client"

    id: str = Field(primary_key=True, max_length=100)
    name: str = Field(max_length=200)
    redirect_uris: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    login: str = Field(max_length=16, description="pid | employee")
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    secret_sha256: str | None = Field(default=None, max_length=64)
    created_at: int = Field(sa_column=Column(BigInteger, nullable=False))
