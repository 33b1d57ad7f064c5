"""Shared evaluation of a Credential Query against one credential's claims and type (OpenID4VP 1.0 §6.4.1).

Used by the holder (:mod:`eidcore.dcql.holder`) and the verifier (:mod:`eidcore.dcql.verifier`) so that both sides
apply exactly the same rules for ``meta``, ``claims``, ``claim_sets`` and ``values``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from eidcore.dcql.models import MSO_MDOC, SD_JWT_VC, ClaimsPath, ClaimsQuery, CredentialQuery
from eidcore.dcql.paths import ConcretePath, SelectedClaim, matches_values, select_json, select_mdoc
from eidcore.errors import ClaimsPathError

ClaimStatus = Literal["ok", "missing", "value_mismatch", "path_error"]


def format_path(path: Sequence[Any]) -> str:
    """A claims path as JSON text, for error descriptions (claim names and indices, never values)."""
    return json.dumps(list(path), ensure_ascii=False)


@dataclass(frozen=True)
class ClaimEvaluation:
    """How one Claims Query fares against one credential: the selected elements left after ``values`` filtering."""

    claim: ClaimsQuery
    status: ClaimStatus
    selected: tuple[SelectedClaim, ...]
    reason: str = ""


@dataclass(frozen=True)
class ClaimSetEvaluation:
    """The outcome of the ``claim_sets`` rule: the satisfied option (index, claims) or the failing claims."""

    option: int | None
    """Index of the first satisfied option in :meth:`CredentialQuery.claim_options`; ``None`` when none is."""
    evaluations: tuple[ClaimEvaluation, ...]
    """The claims of the satisfied option, or the failing claims of the closest option."""
    satisfied: tuple[int, ...] = ()
    """Every satisfied option (most preferred first)."""


def meta_matches(query: CredentialQuery, vct: str | None, vct_extends: Sequence[str], doctype: str | None) -> bool:
    """Appendix B.3.5 ``vct_values`` (the credential's ``vct`` or a type it extends) / B.2.3 ``doctype_value``."""
    if query.format == SD_JWT_VC:
        allowed = query.meta.vct_values or ()
        return (vct is not None and vct in allowed) or any(t in allowed for t in vct_extends)
    return doctype is not None and doctype == query.meta.doctype_value


def describe_meta(query: CredentialQuery) -> str:
    if query.format == SD_JWT_VC:
        return "the credential type is not one of meta.vct_values (nor extends one)"
    return "the doctype is not meta.doctype_value"


def evaluate_claim(fmt: str, claims: Mapping[str, Any], claim: ClaimsQuery) -> ClaimEvaluation:
    """§6.3 / §7: select the claim; with ``values``, keep only the elements whose type and value match."""
    try:
        found = select_mdoc(claims, claim.path) if fmt == MSO_MDOC else select_json(claims, claim.path)
    except ClaimsPathError as e:
        return ClaimEvaluation(claim, "path_error", (), f"claim {format_path(claim.path)}: {e.description}")
    if not found:
        return ClaimEvaluation(claim, "missing", (), f"claim {format_path(claim.path)} is not present")
    if claim.values is not None:
        kept = tuple(s for s in found if matches_values(s.value, claim.values, mdoc=fmt == MSO_MDOC))
        if not kept:
            return ClaimEvaluation(
                claim,
                "value_mismatch",
                (),
                f"claim {format_path(claim.path)} does not have one of the requested values",
            )
        return ClaimEvaluation(claim, "ok", kept)
    return ClaimEvaluation(claim, "ok", tuple(found))


def evaluate_claim_sets(query: CredentialQuery, claims: Mapping[str, Any]) -> ClaimSetEvaluation:
    """§6.4.1: the first option of ``claim_sets`` (or all ``claims``) whose every claim is present and matches."""
    cache: dict[ClaimsPath, ClaimEvaluation] = {}
    satisfied: list[int] = []
    first_ok: tuple[ClaimEvaluation, ...] | None = None
    closest: tuple[ClaimEvaluation, ...] | None = None
    for i, option in enumerate(query.claim_options()):
        evals = []
        for c in option:
            if c.path not in cache:
                cache[c.path] = evaluate_claim(query.format, claims, c)
            evals.append(cache[c.path])
        failing = tuple(e for e in evals if e.status != "ok")
        if not failing:
            satisfied.append(i)
            if first_ok is None:
                first_ok = tuple(evals)
        elif closest is None or len(failing) < len(closest):
            closest = failing
    if first_ok is not None:
        return ClaimSetEvaluation(satisfied[0], first_ok, tuple(satisfied))
    return ClaimSetEvaluation(None, closest or ())


def option_evaluations(query: CredentialQuery, claims: Mapping[str, Any], option: int) -> tuple[ClaimEvaluation, ...]:
    """The evaluations of the claims of one option of :meth:`CredentialQuery.claim_options`."""
    return tuple(evaluate_claim(query.format, claims, c) for c in query.claim_options()[option])


def concrete_paths(evaluations: Sequence[ClaimEvaluation]) -> tuple[ConcretePath, ...]:
    """The concrete paths of every selected element, de-duplicated, in order."""
    out: dict[ConcretePath, None] = {}
    for e in evaluations:
        for s in e.selected:
            out.setdefault(s.path, None)
    return tuple(out)
