"""Youth policy: below the consent age a presentation needs a guardian consent credential (issue 7).

The consent age is ``Settings.consent_age`` (13 in Norway today, personopplysningsloven §5). The policy protects
the holder, so no relying-party parameter turns it off or weakens it; it applies to every transaction:

- every transaction's DCQL query (OpenID4VP 1.0 §6) gets one more Credential Query, ``guardian_consent`` (SD-JWT VC
  ``urn:no:digdir:eudi:guardian_consent:1``, ``specs/credentials/guardian_consent``) in an optional Credential Set
  (§6.2, ``required: false``): an adult's wallet ignores it, a child's wallet answers it
  (:func:`with_consent_query`);
- every Credential Query for a type that carries an age (the PID ``urn:eudi:pid:1`` / ``eu.europa.ec.eudi.pid.1``,
  the youth / age credential ``urn:no:digdir:eudi:age:1`` / ``eu.europa.ec.av.1``) also asks for the claim that
  decides it: ``age_equal_or_over.<consent age>`` (mdoc ``age_over_<consent age>``), or the birth date where the
  type has no such threshold (:func:`with_age_claims`), unless the query already asks for an ``age_over_N`` at or
  above the consent age with ``values: [true]``. The verifier adds it, so a wallet discloses it as part of
  the query; the relying party's result does not get it unless it asked (:func:`strip_claims`).

After the presentations are verified (signature, trust, KB-JWT with this transaction's nonce and client id), the
holder is *below the consent age* when a presented credential discloses ``age_over_N`` = false with
N <= consent age or a birth date (PID ``birthdate`` / ``birth_date``) under the consent age, or when the youth /
age credential is presented without an ``age_over_N`` = true with N >= consent age (nor a birth date showing it).
When a credential that carries an age is presented and nothing decides the holder's age (e.g. a PID with its
names only), the presentation fails ``youth.age_undecidable`` (deny by default). Below the consent age the consent
is required, and each of these checks fails the presentation with its name:

- ``youth.consent_required``: no guardian consent credential was presented;
- ``youth.consent_issuer``: its ``iss`` is not a trusted wallet provider (the signature chain was already checked
  against the type's trust anchors);
- ``youth.consent_holder``: its ``cnf`` key is not the holder key of every other presented credential;
- ``youth.consent_client``: its ``client_id`` is not this transaction's client id;
- ``youth.consent_nonce``: its ``transaction_nonce_hash`` is not base64url(SHA-256(this transaction's nonce));
- ``youth.consent_claims``: a disclosed claim (a claim path the presented Credential Queries asked for) is not
  among its ``approved_claims``.

A presentation of credentials that carry no age (employee role, mandate) is reported ``youth.not_applicable``.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from eidcore.clock import Clock
from eidcore.credential_types import load_credential_types
from eidcore.dcql import MSO_MDOC, SD_JWT_VC, DcqlQuery
from eidcore.encoding import b64u_encode
from eidcore.registers.records import age_on
from verifier.validation import CheckFailed, PresentationResult, ResponseContext

__all__ = ["CONSENT_QUERY_ID", "CONSENT_VCT", "YouthPolicy", "has_consent_query", "strip_claims", "with_age_claims",
           "with_consent_query"]

CONSENT_QUERY_ID: Final = "guardian_consent"
CONSENT_VCT: Final = "urn:no:digdir:eudi:guardian_consent:1"
AGE_VCT: Final = "urn:no:digdir:eudi:age:1"
AGE_DOCTYPE: Final = "eu.europa.ec.av.1"
PID_VCT: Final = "urn:eudi:pid:1"
PID_DOCTYPE: Final = "eu.europa.ec.eudi.pid.1"
AGE_CLAIM_ID: Final = "lommebok_youth_age"
"""The id of the claim :func:`with_age_claims` adds to a Credential Query that uses ``claim_sets``."""
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


@dataclass(frozen=True)
class AgeCarrier:
    """A credential type that carries an age: its SD-JWT VC ``vct``, mdoc docType (= namespace), the
    ``age_over_N`` thresholds it has, and its birth date claim (SD-JWT VC path; mdoc element), if any."""

    vct: str
    doctype: str
    thresholds: frozenset[int]
    birth_date: tuple[str, str] | None


def age_carriers() -> tuple[AgeCarrier, ...]:
    """The credential types with ``age_over_N`` mdoc elements (``specs/credentials``: the PID and youth)."""
    out = []
    for ct in load_credential_types():
        elements = [e for els in ct.mdoc.namespaces.values() for e in els]
        thresholds = frozenset(int(e.element.removeprefix("age_over_")) for e in elements
                               if e.element.startswith("age_over_") and e.element[9:].isdigit())
        if not thresholds:
            continue
        birth = next(((str(e.path[0]), e.element) for e in elements if e.element == "birth_date"), None)
        out.append(AgeCarrier(ct.vct, ct.doctype, thresholds, birth))
    return tuple(out)


def _carrier(query: Mapping[str, Any], carriers: Sequence[AgeCarrier]) -> AgeCarrier | None:
    meta = query.get("meta") if isinstance(query.get("meta"), Mapping) else {}
    assert isinstance(meta, Mapping)
    if query.get("format") == MSO_MDOC:
        return next((c for c in carriers if c.doctype == meta.get("doctype_value")), None)
    vcts = meta.get("vct_values")
    return next((c for c in carriers if isinstance(vcts, list) and c.vct in vcts), None)


def age_claim_path(query: Mapping[str, Any], consent_age: int,
                   carriers: Sequence[AgeCarrier] | None = None) -> list[str] | None:
    """The claim path that decides whether the holder of a Credential Query's credential is under the consent age:
    ``age_equal_or_over.<age>`` / ``[docType, age_over_<age>]``, else the birth date; ``None`` when the query is not
    for a type that carries an age."""
    carrier = _carrier(query, age_carriers() if carriers is None else carriers)
    if carrier is None:
        return None
    mdoc = query.get("format") == MSO_MDOC
    if consent_age in carrier.thresholds:
        return [carrier.doctype, f"age_over_{consent_age}"] if mdoc else ["age_equal_or_over", str(consent_age)]
    if carrier.birth_date is not None:
        return [carrier.doctype, carrier.birth_date[1]] if mdoc else [carrier.birth_date[0]]
    return [carrier.doctype, f"age_over_{min(carrier.thresholds)}"] if mdoc else [
        "age_equal_or_over", str(min(carrier.thresholds))]


def with_age_claims(query: Mapping[str, Any], consent_age: int) -> tuple[dict[str, Any], list[list[Any]]]:
    """The DCQL query (JSON) where every Credential Query for a type that carries an age asks for the claim that
    decides the consent age (:func:`age_claim_path`; OpenID4VP 1.0 §6.1 ``claims``, §6.4.1 ``claim_sets``: the
    claim joins every claim set). Returns the query and the ``[query id, path]`` pairs added (the relying party
    did not ask for them: :func:`strip_claims` keeps them out of its result)."""
    carriers = age_carriers()
    added: list[list[Any]] = []
    creds: list[dict[str, Any]] = []
    for cq in query.get("credentials", []):
        path = age_claim_path(cq, consent_age, carriers) if isinstance(cq, Mapping) else None
        claims = list(cq.get("claims") or []) if path is not None else []
        if path is None or any(isinstance(c, Mapping) and c.get("path") == path for c in claims):
            creds.append(dict(cq))
            continue
        if _decided_by_filter(cq, consent_age):
            creds.append(dict(cq))
            continue
        claim: dict[str, Any] = {"path": path}
        out = dict(cq)
        if cq.get("claim_sets") or any(isinstance(c, Mapping) and "id" in c for c in claims):
            claim["id"] = AGE_CLAIM_ID
            if cq.get("claim_sets"):
                out["claim_sets"] = [[*option, AGE_CLAIM_ID] for option in cq["claim_sets"]]
        out["claims"] = [*claims, claim]
        creds.append(out)
        added.append([cq.get("id"), path])
    return {**query, "credentials": creds}, added


def _decided_by_filter(cq: Mapping[str, Any], consent_age: int) -> bool:
    """The query already decides: it asks for ``age_over_N`` (N at or above the consent age) with ``values: [true]``
    (OpenID4VP 1.0 §6.3: a matching credential must have it true) in every claim set, so nothing is added (an
    age-over-18 check discloses nothing more)."""
    sets = cq.get("claim_sets")
    for c in cq.get("claims") or []:
        path = c.get("path") if isinstance(c, Mapping) else None
        if not isinstance(path, list) or len(path) != 2 or c.get("values") != [True]:
            continue
        name = str(path[1])
        n = name.removeprefix("age_over_") if path[0] != "age_equal_or_over" else name
        if not n.isdigit() or int(n) < consent_age or (path[0] != "age_equal_or_over" and n == name):
            continue
        if not sets or all(isinstance(s, list) and c.get("id") in s for s in sets):
            return True
    return False


def strip_claims(result: Mapping[str, Any], added: Sequence[Sequence[Any]]) -> dict[str, Any]:
    """The validated result without the claims :func:`with_age_claims` added (the relying party did not ask)."""
    out = {qid: [dict(p) for p in items] for qid, items in result.items()}
    for qid, path in added:
        for p in out.get(qid, []):
            claims = copy.deepcopy(p.get("claims"))
            parent = claims
            for step in path[:-1]:
                parent = parent.get(step) if isinstance(parent, dict) else None
            if isinstance(parent, dict):
                parent.pop(path[-1], None)
                if len(path) == 2 and isinstance(claims, dict) and claims.get(path[0]) == {}:
                    del claims[path[0]]
            p["claims"] = claims
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


def decides_consent_age(presentations: Sequence[PresentationResult], consent_age: int,
                        today: date | None = None) -> bool:
    """Some presented credential shows the holder's side of the consent age (an ``age_over_N`` with N at or above
    it true, or one at or below it false, or, with ``today``, a birth date)."""
    for r in presentations:
        if today is not None and _birth_date(r) is not None:
            return True
        if any((v and n >= consent_age) or (not v and n <= consent_age) for n, v in _age_facts(r).items()):
            return True
    return False


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
            if decides_consent_age(others, self.consent_age, today):
                return ["youth.age"]
            carriers = age_carriers()
            names = {n for c in carriers for n in (c.vct, c.doctype)}
            if any(r.type_name in names for r in others):
                raise CheckFailed("youth.age_undecidable", f"a credential that carries an age was presented without "
                                  f"what shows whether the holder is below the consent age ({self.consent_age})")
            return ["youth.not_applicable"]
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
