"""Youth policy: below the consent age a presentation needs a guardian consent credential (issue 7).

The consent age is ``Settings.consent_age`` (13 in Norway today, personopplysningsloven §5). Every transaction's
DCQL query (OpenID4VP 1.0 §6) gets one more Credential Query, ``guardian_consent`` (SD-JWT VC
``urn:no:digdir:eudi:guardian_consent:1``, ``specs/credentials/guardian_consent``) in an optional Credential Set
(§6.2, ``required: false``): an adult's wallet ignores it, a child's wallet answers it.

After the presentations are verified (signature, trust, KB-JWT with this transaction's nonce and client id), the
holder is *below the consent age* when a presented credential discloses ``age_over_N`` = false with
N <= consent age or a birth date (PID ``birthdate`` / ``birth_date``) under the consent age, or when the youth /
age credential (``urn:no:digdir:eudi:age:1``, ``eu.europa.ec.av.1``) is presented without an ``age_over_N`` =
true with N >= consent age (nor a birth date showing it). Then the consent is required, and each of these
checks fails the presentation with its name:

- ``youth.consent_required``: no guardian consent credential was presented;
- ``youth.consent_issuer``: its ``iss`` is not a trusted wallet provider (the signature chain was already checked
  against the type's trust anchors);
- ``youth.consent_holder``: its ``cnf`` key is not the holder key of every other presented credential;
- ``youth.consent_client``: its ``client_id`` is not this transaction's client id;
- ``youth.consent_nonce``: its ``transaction_nonce_hash`` is not base64url(SHA-256(this transaction's nonce));
- ``youth.consent_claims``: a disclosed claim (a claim path the presented Credential Queries asked for) is not
  among its ``approved_claims``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from eidcore.clock import Clock
from eidcore.dcql import MSO_MDOC, SD_JWT_VC, DcqlQuery
from eidcore.encoding import b64u_encode
from eidcore.registers.records import age_on
from verifier.validation import CheckFailed, PresentationResult, ResponseContext

__all__ = ["CONSENT_QUERY_ID", "CONSENT_VCT", "YouthPolicy", "has_consent_query", "with_consent_query"]

CONSENT_QUERY_ID: Final = "guardian_consent"
CONSENT_VCT: Final = "urn:no:digdir:eudi:guardian_consent:1"
AGE_VCT: Final = "urn:no:digdir:eudi:age:1"
AGE_DOCTYPE: Final = "eu.europa.ec.av.1"
CONSENT_CLAIMS: Final = ("child_pseudonym", "guardian_pseudonym", "guardian_basis", "client_id",
                         "approved_claims", "transaction_nonce_hash", "approved_at")

YouthHook = Callable[[DcqlQuery, Mapping[str, list[PresentationResult]], ResponseContext], list[str]]


def with_consent_query(query: Mapping[str, Any]) -> dict[str, Any]:
    """The DCQL query (JSON) with the optional ``guardian_consent`` Credential Query (OpenID4VP 1.0 §6.2).

    The query's own credentials stay required: when it has no ``credential_sets`` one required set lists them
    all as one option; an existing set list is kept and the optional set appended.
    """
    out = dict(query)
    creds = list(out.get("credentials", []))
    if any(c.get("id") == CONSENT_QUERY_ID for c in creds):
        return out
    sets = list(out.get("credential_sets") or [])
    if not sets:
        sets = [{"options": [[c["id"] for c in creds]], "required": True}]
    creds.append({"id": CONSENT_QUERY_ID, "format": SD_JWT_VC, "meta": {"vct_values": [CONSENT_VCT]},
                  "claims": [{"path": [name]} for name in CONSENT_CLAIMS]})
    sets.append({"options": [[CONSENT_QUERY_ID]], "required": False})
    out["credentials"], out["credential_sets"] = creds, sets
    return out


def has_consent_query(query: Mapping[str, Any]) -> bool:
    """True when the query carries the ``guardian_consent`` Credential Query (so the policy applies)."""
    return any(isinstance(c, Mapping) and c.get("id") == CONSENT_QUERY_ID for c in query.get("credentials", []))


def _age_facts(r: PresentationResult) -> dict[int, bool]:
    """``age_over_N`` values a presentation discloses (SD-JWT ``age_equal_or_over.N``, mdoc ``age_over_N``)."""
    facts: dict[int, bool] = {}
    if r.presentation.format == MSO_MDOC:
        items: Mapping[str, Any] = {}
        for ns in r.claims.values():
            if isinstance(ns, Mapping):
                items = {**items, **ns}
        pairs = [(k.removeprefix("age_over_"), v) for k, v in items.items() if k.startswith("age_over_")]
    else:
        ages = r.claims.get("age_equal_or_over")
        pairs = list(ages.items()) if isinstance(ages, Mapping) else []
    for k, v in pairs:
        if str(k).isdigit() and isinstance(v, bool):
            facts[int(k)] = v
    return facts


def _birth_date(r: PresentationResult) -> date | None:
    """A disclosed birth date (PID SD-JWT VC ``birthdate``, mdoc ``birth_date``), if any."""
    value: Any = r.claims.get("birthdate")
    if r.presentation.format == MSO_MDOC:
        ns = r.claims.get(r.type_name)
        value = ns.get("birth_date") if isinstance(ns, Mapping) else None
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def below_consent_age(presentations: Sequence[PresentationResult], consent_age: int,
                      today: date | None = None) -> bool:
    """The holder is below the consent age according to the presented credentials (see the module docstring);
    with ``today``, a disclosed birth date counts too."""
    youth_type = False
    proven = False
    for r in presentations:
        born = _birth_date(r) if today is not None else None
        if born is not None and today is not None:
            if age_on(born, today) < consent_age:
                return True
            proven = True
        for n, value in _age_facts(r).items():
            if not value and n <= consent_age:
                return True
            if value and n >= consent_age:
                proven = True
        youth_type = youth_type or r.type_name in (AGE_VCT, AGE_DOCTYPE)
    return youth_type and not proven


def _approved(value: Any) -> set[tuple[Any, ...]]:
    if not isinstance(value, list):
        return set()
    return {tuple(p) for p in value if isinstance(p, list)}


@dataclass(frozen=True)
class YouthPolicy:
    """The enforcement for one transaction: the consent age and the wallet providers trusted to issue consents
    (their ``iss`` values)."""

    consent_age: int
    wallet_providers: tuple[str, ...]
    clock: Clock | None = None
    """With a clock, a disclosed birth date also tells the holder's age."""

    def __call__(self, query: DcqlQuery, results: Mapping[str, list[PresentationResult]],
                 ctx: ResponseContext) -> list[str]:
        """Check the consent when the holder is below the consent age; returns the checks passed."""
        others = [r for qid, rs in results.items() if qid != CONSENT_QUERY_ID for r in rs]
        consents = results.get(CONSENT_QUERY_ID, [])
        today = self.clock.now().date() if self.clock is not None else None
        if not below_consent_age(others, self.consent_age, today):
            return ["youth.age"]
        if len(consents) != 1:
            raise CheckFailed("youth.consent_required", f"the holder is below the consent age "
                              f"({self.consent_age}): a guardian consent credential is required", CONSENT_QUERY_ID)
        consent = consents[0]
        c = consent.claims
        if c.get("iss") not in self.wallet_providers:
            raise CheckFailed("youth.consent_issuer", "the guardian consent is not from a trusted wallet provider",
                              CONSENT_QUERY_ID)
        if consent.holder_jkt is None or any(r.holder_jkt != consent.holder_jkt for r in others):
            raise CheckFailed("youth.consent_holder", "the guardian consent is bound to another holder key",
                              CONSENT_QUERY_ID)
        if c.get("client_id") != ctx.client_id:
            raise CheckFailed("youth.consent_client", "the guardian consent names another verifier",
                              CONSENT_QUERY_ID)
        expected = b64u_encode(hashlib.sha256(ctx.nonce.encode()).digest())
        if c.get("transaction_nonce_hash") != expected:
            raise CheckFailed("youth.consent_nonce", "the guardian consent is for another transaction",
                              CONSENT_QUERY_ID)
        approved = _approved(c.get("approved_claims"))
        for qid in results:
            if qid == CONSENT_QUERY_ID:
                continue
            for cq_claim in query.credential(qid).claims or ():
                if tuple(cq_claim.path) not in approved:
                    raise CheckFailed("youth.consent_claims", "a disclosed claim is not covered by the guardian "
                                      "consent", CONSENT_QUERY_ID)
        return ["youth.age", "youth.consent"]
