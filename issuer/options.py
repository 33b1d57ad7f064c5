"""Issuer options beyond :class:`eidcore.settings.IssuerSettings` (OpenID4VCI 1.0, RFC 9449, RFC 9126).

``eidcore/settings.py`` holds the operator-facing issuer settings (wallet attestation required, tx_code length
and attempt limit, TTLs, batch size, the registered OAuth clients and wallet providers of :mod:`issuer.clients`,
ID-porten, a required attestation challenge, configurations that need a key attestation) and the Token Status
List ``ttl`` shared with the wallet provider (``LOMMEBOK_STATUS_LIST_TTL``). The protocol knobs have safe defaults
here; :meth:`IssuerOptions.from_settings` applies the operator's settings. Nothing here reads the environment.
"""

from __future__ import annotations

from dataclasses import dataclass

from eidcore.settings import Settings

__all__ = ["DEV_STATUS_LIST_TTL", "IdPortenOptions", "IssuerOptions"]

DEV_STATUS_LIST_TTL = 30


@dataclass(frozen=True)
class IdPortenOptions:
    """An OpenID Connect provider (ID-porten) the issuer sends users to for login."""

    issuer: str
    client_id: str
    client_secret: str
    scope: str = "openid profile"


@dataclass(frozen=True)
class IssuerOptions:
    """Protocol knobs of the issuer, with HAIP-friendly defaults."""

    access_token_ttl: int = 600
    refresh_token_ttl: int = 7 * 24 * 3600
    authorization_code_ttl: int = 60
    par_ttl: int = 90
    login_session_ttl: int = 600
    offer_uri_ttl: int = 600
    #: DPoP (RFC 9449 §8): require a server nonce in proofs at the token and credential endpoints
    dpop_nonce_required: bool = True
    dpop_nonce_lifetime: int = 300
    #: OpenID4VCI 1.0 §8.2.1.1: accepted age of a proof's ``iat`` (seconds) and clock skew
    proof_max_age: int = 300
    clock_skew: int = 60
    #: attestation-based client authentication: require a challenge from the challenge endpoint in the PoP
    attestation_challenge_required: bool = False
    attestation_challenge_ttl: int = 300
    #: configuration ids whose ``jwt`` proofs must carry a key attestation (OpenID4VCI 1.0 Appendix D)
    key_attestation_required: frozenset[str] = frozenset()
    #: entries per status list (2 bits each) and the fill level at which a new list is started
    status_list_size: int = 16384
    status_list_max_fill: float = 0.5
    #: Token Status List ``ttl`` (seconds): how long a relying party may cache a list (300; 30 in dev)
    status_list_ttl: int = 300
    #: status list counters a worker reserves with one durable write
    status_block_size: int = 64
    status_list_exp: int = 86400
    #: interval a wallet waits between deferred polls (OpenID4VCI 1.0 §9)
    deferred_interval: int = 5
    deferred_ttl: int = 7 * 24 * 3600
    notification_ttl: int = 7 * 24 * 3600
    issuing_authority: str = "DIGITALISERINGSDIREKTORATET"
    #: credential types this issuer offers (guardian_consent is issued by wallet_api)
    types: tuple[str, ...] = ("pid", "employee_role", "youth", "mandate")
    idporten: IdPortenOptions | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> IssuerOptions:
        """The defaults, with what the operator set: ID-porten (which replaces the test login), the status list
        ``ttl`` (``Settings.status_list_ttl``; 300 s, 30 s in dev so a revocation shows at verifiers quickly), a
        required attestation challenge and the configurations that need a key attestation."""
        s = settings.issuer
        idp = None
        if s.idporten is not None:
            idp = IdPortenOptions(s.idporten.issuer, s.idporten.client_id,
                                  s.idporten.client_secret.get_secret_value(), s.idporten.scope)
        ttl = settings.status_list_ttl
        if ttl is None:
            ttl = DEV_STATUS_LIST_TTL if settings.environment == "dev" else cls.status_list_ttl
        return cls(idporten=idp, status_list_ttl=ttl, attestation_challenge_required=s.attestation_challenge_required,
                   key_attestation_required=frozenset(s.key_attestation_required))
