"""DCQL on the holder side: which held credentials answer a query and what to disclose (OpenID4VP 1.0 §6.4).

:func:`match_credentials` takes the parsed query and a list of :class:`HeldCredential` views and returns either a
:class:`MatchResult` (every matching credential per Credential Query, with the exact claim paths to disclose, and
the default selection after ``credential_sets``) or a :class:`NoMatch` with the reason (§6.4.2: if the required
part cannot be met, nothing is returned).

Rules applied per credential (a credential failing any of them is "treated as if it did not exist"):
``format``; ``meta`` (``vct_values`` with type inheritance, ``doctype_value``); ``trusted_authorities`` (one entry
matches: ``aki`` against the credential's chain AKIs, the other types against caller-supplied identifiers);
``require_cryptographic_holder_binding``; the claims: the first satisfiable ``claim_sets`` option in order of
preference (all ``claims`` without ``claim_sets``; nothing selectively disclosable without ``claims``), with
``values`` filtering out non-matching elements.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from eidcore.dcql._evaluate import (
    ClaimEvaluation,
    concrete_paths,
    describe_meta,
    evaluate_claim_sets,
    meta_matches,
)
from eidcore.dcql.models import MSO_MDOC, SD_JWT_VC, ClaimsPath, CredentialFormat, CredentialQuery, DcqlQuery
from eidcore.dcql.paths import ConcretePath

__all__ = ["CredentialMatch", "HeldCredential", "MatchResult", "NoMatch", "Rejection", "match_credentials"]


@dataclass(frozen=True)
class HeldCredential:
    """What the matcher needs to know about one held credential.

    ``claims``: for ``dc+sd-jwt`` the processed claims with every disclosure applied (everything the holder could
    disclose); for ``mso_mdoc`` the namespaces (namespace -> element identifier -> value).
    ``vct_extends``: the types the credential's ``vct`` extends (SD-JWT VC type metadata ``extends`` chain).
    ``authority_key_ids``: base64url AuthorityKeyIdentifier keyIdentifiers of the certificates in the issuer chain.
    ``other_authorities``: for ``etsi_tl`` / ``openid_federation``, the identifiers the caller knows apply.
    ``holder_binding``: the credential is bound to a holder key (``cnf`` / mdoc device key).
    ``ref``: the caller's handle, returned untouched in matches.
    """

    format: CredentialFormat
    claims: Mapping[str, Any]
    vct: str | None = None
    vct_extends: tuple[str, ...] = ()
    doctype: str | None = None
    authority_key_ids: tuple[str, ...] = ()
    other_authorities: Mapping[str, Collection[str]] = field(default_factory=dict)
    holder_binding: bool = True
    ref: Any = None

    @classmethod
    def sd_jwt_vc(
        cls,
        vct: str,
        claims: Mapping[str, Any],
        *,
        vct_extends: Sequence[str] = (),
        authority_key_ids: Sequence[str] = (),
        other_authorities: Mapping[str, Collection[str]] | None = None,
        holder_binding: bool = True,
        ref: Any = None,
    ) -> HeldCredential:
        """A held SD-JWT VC (``claims`` = the fully processed payload)."""
        return cls(
            SD_JWT_VC, claims, vct=vct, vct_extends=tuple(vct_extends), authority_key_ids=tuple(authority_key_ids),
            other_authorities=dict(other_authorities or {}), holder_binding=holder_binding, ref=ref,
        )  # fmt: skip

    @classmethod
    def mdoc(
        cls,
        doctype: str,
        namespaces: Mapping[str, Mapping[str, Any]],
        *,
        authority_key_ids: Sequence[str] = (),
        other_authorities: Mapping[str, Collection[str]] | None = None,
        holder_binding: bool = True,
        ref: Any = None,
    ) -> HeldCredential:
        """A held mdoc (``namespaces`` = namespace -> element identifier -> value)."""
        return cls(
            MSO_MDOC, namespaces, doctype=doctype, authority_key_ids=tuple(authority_key_ids),
            other_authorities=dict(other_authorities or {}), holder_binding=holder_binding, ref=ref,
        )  # fmt: skip


@dataclass(frozen=True)
class CredentialMatch:
    """One held credential that answers one Credential Query, and exactly what to disclose.

    ``disclose``: the concrete claim paths to reveal (for SD-JWT pass them to the presentation builder, which adds
    parent disclosures; always-visible claims need none); ``()`` when the query has no ``claims``.
    For mdoc each path is ``(namespace, element)``.
    """

    query_id: str
    candidate: int
    """Index of the credential in the list given to :func:`match_credentials`."""
    credential: HeldCredential
    claim_set: int | None
    """Index of the chosen ``claim_sets`` option; ``None`` without ``claim_sets``."""
    claim_ids: tuple[str, ...]
    """The ``id`` of each chosen Claims Query that has one."""
    paths: tuple[ClaimsPath, ...]
    """The chosen Claims Queries' path pointers, in query order."""
    disclose: tuple[ConcretePath, ...]
    intent_to_retain: Mapping[ConcretePath, bool] = field(default_factory=dict)
    """mdoc: the verifier's ``intent_to_retain`` per disclosed ``(namespace, element)`` where it said so."""


@dataclass(frozen=True)
class Rejection:
    """Why a held credential does not answer a Credential Query (``check`` names the rule)."""

    query_id: str
    candidate: int
    check: Literal["format", "meta", "trusted_authorities", "holder_binding", "claims", "values"]
    reason: str


@dataclass(frozen=True)
class MatchResult:
    """The query can be answered.

    ``matches``: every matching credential per Credential Query id (queries with none are absent).
    ``selected``: the default answer: the Credential Query ids picked by ``credential_sets`` (every query without
    it), each with its first match, or every match when ``multiple`` is true. A wallet UI may offer the other
    matches and options instead.
    ``options``: per Credential Set Query, the chosen option (``None`` for an optional set that cannot be met).
    """

    matches: Mapping[str, tuple[CredentialMatch, ...]]
    selected: Mapping[str, tuple[CredentialMatch, ...]]
    options: tuple[tuple[str, ...] | None, ...]
    rejections: tuple[Rejection, ...]
    ok: Literal[True] = True


@dataclass(frozen=True)
class NoMatch:
    """The required part of the query cannot be met: nothing may be returned (§6.4.2)."""

    reason: str
    query_ids: tuple[str, ...]
    """The Credential Query ids that could not be answered (of the failing set, or all unanswered ones)."""
    matches: Mapping[str, tuple[CredentialMatch, ...]]
    rejections: tuple[Rejection, ...]
    ok: Literal[False] = False


_CHECK_ORDER = ("format", "meta", "trusted_authorities", "holder_binding", "claims", "values")


def _authorities_match(query: CredentialQuery, cred: HeldCredential) -> bool:
    if query.trusted_authorities is None:
        return True
    for ta in query.trusted_authorities:
        known = cred.authority_key_ids if ta.type == "aki" else tuple(cred.other_authorities.get(ta.type, ()))
        if any(v in known for v in ta.values):
            return True
    return False


def _match_one(query: CredentialQuery, index: int, cred: HeldCredential) -> CredentialMatch | Rejection:
    qid = query.id
    if cred.format != query.format:
        return Rejection(qid, index, "format", f"format is not {query.format}")
    if not meta_matches(query, cred.vct, cred.vct_extends, cred.doctype):
        return Rejection(qid, index, "meta", describe_meta(query))
    if not _authorities_match(query, cred):
        return Rejection(qid, index, "trusted_authorities", "no trusted_authorities entry matches the issuer")
    if query.require_cryptographic_holder_binding and not cred.holder_binding:
        return Rejection(qid, index, "holder_binding", "holder binding is required and the credential has none")
    result = evaluate_claim_sets(query, cred.claims)
    if result.option is None:
        first = result.evaluations[0] if result.evaluations else None
        check: Literal["claims", "values"] = (
            "values" if result.evaluations and all(e.status == "value_mismatch" for e in result.evaluations)
            else "claims"
        )  # fmt: skip
        return Rejection(qid, index, check, first.reason if first else "no claim set can be satisfied")
    chosen: tuple[ClaimEvaluation, ...] = result.evaluations
    retain = {
        s.path: e.claim.intent_to_retain for e in chosen if e.claim.intent_to_retain is not None for s in e.selected
    }
    return CredentialMatch(
        query_id=qid,
        candidate=index,
        credential=cred,
        claim_set=result.option if query.claim_sets is not None else None,
        claim_ids=tuple(e.claim.id for e in chosen if e.claim.id is not None),
        paths=tuple(e.claim.path for e in chosen),
        disclose=concrete_paths(chosen),
        intent_to_retain=retain,
    )


def match_credentials(query: DcqlQuery, candidates: Sequence[HeldCredential]) -> MatchResult | NoMatch:
    """OpenID4VP 1.0 §6.4: match held credentials to a DCQL query, then apply ``credential_sets``.

    Returns :class:`MatchResult` when every required Credential Query (every query without ``credential_sets``;
    one option of every required set with them) has a match; optional sets are met best effort, the first option
    that can be met (in the verifier's order of preference) is chosen. Otherwise :class:`NoMatch` with the reason.
    """
    matches: dict[str, tuple[CredentialMatch, ...]] = {}
    rejections: list[Rejection] = []
    for q in query.credentials:
        found: list[CredentialMatch] = []
        for i, cred in enumerate(candidates):
            outcome = _match_one(q, i, cred)
            if isinstance(outcome, CredentialMatch):
                found.append(outcome)
            else:
                rejections.append(outcome)
        if found:
            matches[q.id] = tuple(found)

    options: list[tuple[str, ...] | None] = []
    if query.credential_sets is None:
        missing = tuple(q.id for q in query.credentials if q.id not in matches)
        if missing:
            return NoMatch(_no_match_reason(missing, rejections), missing, matches, tuple(rejections))
        wanted: list[str] = list(query.ids)
    else:
        wanted = []
        for n, cs in enumerate(query.credential_sets):
            chosen = next((o for o in cs.options if all(i in matches for i in o)), None)
            if chosen is None and cs.required:
                unanswered = tuple(dict.fromkeys(i for o in cs.options for i in o if i not in matches))
                reason = f"credential_sets[{n}]: no option can be met; " + _no_match_reason(unanswered, rejections)
                return NoMatch(reason, unanswered, matches, tuple(rejections))
            options.append(chosen)
            wanted.extend(i for i in chosen or () if i not in wanted)
    selected = {
        qid: matches[qid] if query.credential(qid).multiple else matches[qid][:1] for qid in query.ids if qid in wanted
    }
    return MatchResult(matches, selected, tuple(options), tuple(rejections))


def _no_match_reason(missing: Sequence[str], rejections: Sequence[Rejection]) -> str:
    parts = []
    for qid in missing:
        why = [r for r in rejections if r.query_id == qid]
        # the candidate that came closest: the one rejected by the latest rule
        best = max(why, key=lambda r: _CHECK_ORDER.index(r.check), default=None)
        detail = f"{best.check}: {best.reason}" if best else "no candidate credentials"
        parts.append(f"credential query {qid!r} has no matching credential ({detail})")
    return "; ".join(parts)
