"""DCQL on the verifier side: does a (cryptographically verified) ``vp_token`` answer the query (OpenID4VP 1.0 §8.6).

:func:`check_vp_token` takes the parsed query and, per Credential Query id, the presentations already verified and
reduced to :class:`VerifiedPresentation` (format, type, disclosed claims, which of them were selectively
disclosed, holder binding). It returns a :class:`VpTokenResult` that names every check:

VP Token level (a failure rejects the whole token):
  ``vp_token_keys``        every key is a Credential Query id of the query (§8.1);
  ``presentation_count``   each array holds at least one presentation, exactly one unless ``multiple`` (§8.1);
  ``required_credentials`` every required Credential Query (all without ``credential_sets``; one option of every
                           required set) has an accepted presentation (§6.4.2).
Presentation level (a failure discards that presentation, §8.6):
  ``format``, ``meta`` (``vct_values`` with inheritance / ``doctype_value``), ``holder_binding``
  (``require_cryptographic_holder_binding``), ``claims`` (one ``claim_sets`` option, or all ``claims``, is
  present), ``values`` (the ``values`` constraints), ``no_extra_disclosure`` (no selectively disclosed claim beyond
  the satisfied option, §6.4: "Wallets MUST NOT send selectively disclosable claims that have not been selected").

A discarded presentation of a required credential makes ``required_credentials`` fail with the presentation's
check as the cause, so :meth:`VpTokenResult.raise_for_failure` raises :class:`eidcore.errors.DcqlMismatch` with the
check that actually failed (e.g. ``no_extra_disclosure``), the query id and the claim path.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from eidcore.dcql._evaluate import (
    ClaimEvaluation,
    concrete_paths,
    describe_meta,
    evaluate_claim,
    evaluate_claim_sets,
    format_path,
    meta_matches,
    option_evaluations,
)
from eidcore.dcql.models import MSO_MDOC, SD_JWT_VC, ClaimsPath, CredentialFormat, CredentialQuery, DcqlQuery
from eidcore.dcql.paths import ConcretePath
from eidcore.errors import DcqlMismatch

__all__ = [
    "CheckName",
    "DcqlCheck",
    "PresentationOutcome",
    "VerifiedPresentation",
    "VpTokenResult",
    "check_vp_token",
]

CheckName = Literal[
    "vp_token_keys",
    "presentation_count",
    "format",
    "meta",
    "holder_binding",
    "claims",
    "values",
    "no_extra_disclosure",
    "required_credentials",
]


@dataclass(frozen=True)
class VerifiedPresentation:
    """One presentation after signature, key binding and trust checks, as DCQL needs to see it.

    ``claims``: SD-JWT VC: the processed payload of the presentation (undisclosed claims absent); mdoc: the
    disclosed namespaces (namespace -> element identifier -> value).
    ``selectively_disclosed``: the concrete paths in ``claims`` that a disclosure revealed (SD-JWT:
    ``VerifiedSdJwt.disclosed_paths``); everything else in ``claims`` is always visible. For mdoc every element is
    selectively disclosed (:meth:`mdoc` fills it in).
    ``holder_bound``: the presentation carried a verified holder binding proof (KB-JWT / deviceAuth).
    """

    format: CredentialFormat
    claims: Mapping[str, Any]
    selectively_disclosed: frozenset[ConcretePath]
    holder_bound: bool
    vct: str | None = None
    vct_extends: tuple[str, ...] = ()
    doctype: str | None = None

    @classmethod
    def sd_jwt_vc(
        cls,
        vct: str,
        claims: Mapping[str, Any],
        *,
        disclosed_paths: Collection[ConcretePath],
        holder_bound: bool,
        vct_extends: Sequence[str] = (),
    ) -> VerifiedPresentation:
        """An SD-JWT VC presentation: ``disclosed_paths`` = where each disclosure landed in ``claims``."""
        return cls(
            SD_JWT_VC, claims, frozenset(tuple(p) for p in disclosed_paths), holder_bound, vct=vct,
            vct_extends=tuple(vct_extends),
        )  # fmt: skip

    @classmethod
    def mdoc(
        cls, doctype: str, namespaces: Mapping[str, Mapping[str, Any]], *, holder_bound: bool
    ) -> VerifiedPresentation:
        """An mdoc presentation (one Document): every presented element counts as selectively disclosed."""
        disclosed = frozenset((ns, el) for ns, items in namespaces.items() for el in items)
        return cls(MSO_MDOC, namespaces, disclosed, holder_bound, doctype=doctype)


@dataclass(frozen=True)
class DcqlCheck:
    """One named check: passed or not, why, and where (query id, presentation index, claim path)."""

    name: CheckName
    passed: bool
    reason: str = ""
    query_id: str | None = None
    presentation: int | None = None
    path: tuple[Any, ...] | None = None
    cause: DcqlCheck | None = None
    """For ``required_credentials``: the presentation check that discarded the missing credential."""

    def error(self) -> DcqlMismatch:
        """This failed check as the typed error (the cause's check name when there is one)."""
        root = self.cause or self
        where = f"credential query {self.query_id!r}: " if self.query_id else ""
        return DcqlMismatch(
            f"{root.name}: {where}{self.reason}", check=root.name, query_id=self.query_id, path=root.path
        )


@dataclass(frozen=True)
class PresentationOutcome:
    """The presentation-level checks of one presentation and, when accepted, which claims it answered."""

    query_id: str
    index: int
    presentation: VerifiedPresentation
    accepted: bool
    checks: tuple[DcqlCheck, ...]
    claim_set: int | None = None
    """Index of the ``claim_sets`` option the presentation satisfies (``None`` without ``claim_sets``)."""
    claim_ids: tuple[str, ...] = ()
    paths: tuple[ClaimsPath, ...] = ()
    """The answered Claims Queries' path pointers."""

    @property
    def failure(self) -> DcqlCheck | None:
        return next((c for c in self.checks if not c.passed), None)


@dataclass(frozen=True)
class VpTokenResult:
    """The outcome of :func:`check_vp_token`.

    ``ok``: the VP Token is accepted (all token-level checks passed). ``accepted``: per query id, the presentations
    kept (discarded ones are in ``presentations`` with their failing check). ``options``: per Credential Set Query,
    the first option met by the accepted presentations (``None`` when none is).
    """

    ok: bool
    checks: tuple[DcqlCheck, ...]
    presentations: tuple[PresentationOutcome, ...]
    accepted: Mapping[str, tuple[PresentationOutcome, ...]]
    options: tuple[tuple[str, ...] | None, ...]
    failure: DcqlCheck | None

    @property
    def failures(self) -> tuple[DcqlCheck, ...]:
        """Every failed check (token level and discarded presentations)."""
        return tuple(c for c in self.checks if not c.passed)

    def raise_for_failure(self) -> None:
        """Raise :class:`DcqlMismatch` for the check that rejects the token; nothing when ``ok``."""
        if self.failure is not None:
            raise self.failure.error()


def _covered(path: ConcretePath, allowed: Collection[ConcretePath]) -> bool:
    """A disclosed path is asked for when it lies on the way to (ancestor) or inside (descendant) a selected claim."""
    n = len(path)
    for a in allowed:
        m = len(a)
        if (n <= m and a[:n] == path) or (m < n and path[:m] == a):
            return True
    return False


def _mdoc_covered(path: ConcretePath, allowed: Collection[ConcretePath]) -> bool:
    return any(a[:2] == path[:2] for a in allowed)


def _claims_failure(qid: str, index: int, evaluations: Sequence[ClaimEvaluation]) -> DcqlCheck:
    first = evaluations[0] if evaluations else None
    if evaluations and all(e.status == "value_mismatch" for e in evaluations):
        name: CheckName = "values"
    else:
        name = "claims"
    reason = first.reason if first else "no claim set is satisfied"
    path = first.claim.path if first else None
    return DcqlCheck(name, False, reason, qid, index, path)


def _check_presentation(
    query: DcqlQuery, cq: CredentialQuery, index: int, p: VerifiedPresentation, present_ids: Collection[str]
) -> PresentationOutcome:
    qid = cq.id
    checks: list[DcqlCheck] = []

    def done(fail: DcqlCheck | None = None, **kw: Any) -> PresentationOutcome:
        if fail is not None:
            checks.append(fail)
        return PresentationOutcome(qid, index, p, fail is None, tuple(checks), **kw)

    if p.format != cq.format:
        return done(DcqlCheck("format", False, f"presentation {index} is not {cq.format}", qid, index))
    checks.append(DcqlCheck("format", True, query_id=qid, presentation=index))
    if not meta_matches(cq, p.vct, p.vct_extends, p.doctype):
        return done(DcqlCheck("meta", False, f"presentation {index}: {describe_meta(cq)}", qid, index))
    checks.append(DcqlCheck("meta", True, query_id=qid, presentation=index))
    if cq.require_cryptographic_holder_binding and not p.holder_bound:
        reason = f"presentation {index} has no holder binding and require_cryptographic_holder_binding is true"
        return done(DcqlCheck("holder_binding", False, reason, qid, index))
    checks.append(DcqlCheck("holder_binding", True, query_id=qid, presentation=index))

    result = evaluate_claim_sets(cq, p.claims)
    if result.option is None:
        fail = _claims_failure(qid, index, result.evaluations)
        return done(DcqlCheck(fail.name, False, f"presentation {index}: {fail.reason}", qid, index, fail.path))
    checks.append(DcqlCheck("claims", True, query_id=qid, presentation=index))
    if any(e.claim.values is not None for e in result.evaluations):
        checks.append(DcqlCheck("values", True, query_id=qid, presentation=index))

    # §6.4: only the claims of one satisfied option may be selectively disclosed; claims another Credential Query
    # of the same request asks of the same kind of credential may be carried along (§6.4, last paragraph).
    extra_allowed: list[ConcretePath] = []
    for other in query.credentials:
        if other.id == qid or other.id not in present_ids or other.format != p.format or other.claims is None:
            continue
        if meta_matches(other, p.vct, p.vct_extends, p.doctype):
            extra_allowed.extend(concrete_paths([evaluate_claim(p.format, p.claims, c) for c in other.claims]))
    covered = _mdoc_covered if p.format == MSO_MDOC else _covered
    best: tuple[int, tuple[ClaimEvaluation, ...], list[ConcretePath]] | None = None
    for option in result.satisfied:
        evals = result.evaluations if option == result.option else option_evaluations(cq, p.claims, option)
        allowed = [*concrete_paths(evals), *extra_allowed]
        uncovered = sorted((d for d in p.selectively_disclosed if not covered(d, allowed)), key=repr)
        if best is None or len(uncovered) < len(best[2]):
            best = (option, evals, uncovered)
        if not uncovered:
            break
    assert best is not None  # result.option is not None, so result.satisfied is not empty
    option, evals, uncovered = best
    if uncovered:
        names = ", ".join(format_path(u) for u in uncovered[:5])
        more = f" and {len(uncovered) - 5} more" if len(uncovered) > 5 else ""
        reason = f"presentation {index} discloses claims the query did not ask for: {names}{more}"
        return done(DcqlCheck("no_extra_disclosure", False, reason, qid, index, uncovered[0]))
    checks.append(DcqlCheck("no_extra_disclosure", True, query_id=qid, presentation=index))
    return done(
        claim_set=option if cq.claim_sets is not None else None,
        claim_ids=tuple(e.claim.id for e in evals if e.claim.id is not None),
        paths=tuple(e.claim.path for e in evals),
    )


def check_vp_token(query: DcqlQuery, vp_token: Mapping[str, Sequence[VerifiedPresentation]]) -> VpTokenResult:
    """OpenID4VP 1.0 §8.1 / §8.6 / §6.4: check verified presentations, keyed by Credential Query id, against the query.

    Never raises for a mismatch: the result names every check; call :meth:`VpTokenResult.raise_for_failure` to get
    :class:`DcqlMismatch` for the one that rejects the token.
    """
    checks: list[DcqlCheck] = []
    token_failure: DcqlCheck | None = None

    def token_check(check: DcqlCheck) -> None:
        nonlocal token_failure
        checks.append(check)
        if not check.passed and token_failure is None:
            token_failure = check

    known = set(query.ids)
    unknown = [k for k in vp_token if k not in known]
    if unknown:
        shown = ", ".join(repr(k[:40]) for k in unknown[:3])
        token_check(DcqlCheck("vp_token_keys", False, f"vp_token has keys that are no credential query id: {shown}"))
    else:
        token_check(DcqlCheck("vp_token_keys", True))

    outcomes: list[PresentationOutcome] = []
    accepted: dict[str, tuple[PresentationOutcome, ...]] = {}
    discarded: dict[str, DcqlCheck] = {}
    present_ids = [k for k in query.ids if k in vp_token]
    for cq in query.credentials:
        if cq.id not in vp_token:
            continue
        presented = vp_token[cq.id]
        if len(presented) == 0:
            token_check(DcqlCheck("presentation_count", False, "the array of presentations is empty", cq.id))
            continue
        if len(presented) > 1 and not cq.multiple:
            reason = f"{len(presented)} presentations but multiple is false (exactly one allowed)"
            token_check(DcqlCheck("presentation_count", False, reason, cq.id))
            continue
        token_check(DcqlCheck("presentation_count", True, query_id=cq.id))
        kept: list[PresentationOutcome] = []
        for i, p in enumerate(presented):
            outcome = _check_presentation(query, cq, i, p, present_ids)
            outcomes.append(outcome)
            checks.extend(outcome.checks)
            if outcome.accepted:
                kept.append(outcome)
            elif cq.id not in discarded and outcome.failure is not None:
                discarded[cq.id] = outcome.failure
        if kept:
            accepted[cq.id] = tuple(kept)

    options: list[tuple[str, ...] | None] = []
    if query.credential_sets is None:
        missing = [q for q in query.ids if q not in accepted]
        if missing:
            qid = missing[0]
            cause = discarded.get(qid)
            reason = cause.reason if cause else "no presentation for a required credential"
            token_check(DcqlCheck("required_credentials", False, reason, qid, cause=cause))
        else:
            token_check(DcqlCheck("required_credentials", True))
    else:
        failed = False
        for n, cs in enumerate(query.credential_sets):
            chosen = next((o for o in cs.options if all(i in accepted for i in o)), None)
            options.append(chosen)
            if chosen is None and cs.required and not failed:
                failed = True
                first_missing = next((i for o in cs.options for i in o if i not in accepted), None)
                cause = next((discarded[i] for o in cs.options for i in o if i in discarded), None)
                reason = f"credential_sets[{n}]: no option is met" + (f" ({cause.reason})" if cause else "")
                where = cause.query_id if cause else first_missing
                token_check(DcqlCheck("required_credentials", False, reason, where, cause=cause))
        if not failed:
            token_check(DcqlCheck("required_credentials", True))

    return VpTokenResult(
        ok=token_failure is None,
        checks=tuple(checks),
        presentations=tuple(outcomes),
        accepted=accepted,
        options=tuple(options),
        failure=token_failure,
    )
