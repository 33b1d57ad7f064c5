"""Reconciliation of mandates by law with the population register (guardianship, ``vergemaal``, and parental
responsibility, ``foreldreansvar``).

Folkeregisteret is the authentic source: a guardianship with service areas gives the guardian a mandate credential
(:mod:`issuer.credentials`, ``legal_basis`` ``guardianship``), and the parental responsibility for a child under 18
gives the parent one (``legal_basis`` ``parental_responsibility``). When the register changes (the guardianship or
the responsibility ends) or the child turns 18 (on the injected clock), :func:`reconcile` revokes the agent's
mandate credentials for that basis (and no other: ``subject_ref`` ``guardianship:<id>`` / ``parental:<child id>``)
in the status list (draft-ietf-oauth-status-list §7).

The job is idempotent and safe to rerun or to run in two workers at once: it records each mandate by law it has
seen (:class:`issuer.models.MandateByLaw`: ``guardianship-<id>``, ``parental-<responsibility id>``), marks one
ended with a conditional ``UPDATE`` (only one run wins), and a revocation is final and repeatable
(:func:`issuer.status.change_status`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from eidcore.registers.models import RegGuardianship, RegParentalResponsibility, RegPerson
from issuer.core import Issuer
from issuer.credentials import majority_date
from issuer.models import MandateByLaw
from issuer.status import revoke_mandate_ref

__all__ = ["ReconcileReport", "reconcile"]


@dataclass
class ReconcileReport:
    """What one run did: mandates by law newly seen, ended, and the credentials it revoked."""

    seen: int = 0
    new: list[str] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)
    revoked_credentials: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {"seen": self.seen, "new": self.new, "ended": self.ended,
                "revoked_credentials": self.revoked_credentials}


@dataclass(frozen=True)
class _Basis:
    basis: str
    agent_id: str
    principal_id: str


def _in_force(start: date | None, end: date | None, today: date) -> bool:
    return (start is None or start <= today) and (end is None or today < end)


def _mandate_id(m: MandateByLaw) -> str:
    """The mandate id the credentials carry (``guardianship-<id>`` or ``parental-<child person id>``)."""
    return f"parental-{m.principal_id}" if m.basis == "parental_responsibility" else m.id


async def _current(issuer: Issuer, today: date) -> dict[str, _Basis]:
    """Mandates by law the register supports today, by record id."""
    async with issuer.rt.db.session() as s:
        guardianships = (await s.exec(select(RegGuardianship))).all()
        responsibilities = (await s.exec(
            select(RegParentalResponsibility, col(RegPerson.birth_date))
            .join(RegPerson, col(RegPerson.id) == col(RegParentalResponsibility.child_id)))).all()
    current: dict[str, _Basis] = {}
    for g in guardianships:
        if _in_force(g.valid_from, g.valid_to, today) and bool(g.scope):
            current[f"guardianship-{g.id}"] = _Basis("guardianship", g.guardian_id, g.ward_id)
    for r, born in responsibilities:
        if _in_force(r.valid_from, r.valid_to, today) and today < majority_date(born):
            current[f"parental-{r.id}"] = _Basis("parental_responsibility", r.parent_id, r.child_id)
    return current


async def reconcile(issuer: Issuer) -> ReconcileReport:
    """One reconciliation run: record the mandates by law in force, end (and revoke) those the register ended or
    that ended with the child's 18th birthday."""
    report = ReconcileReport()
    today = issuer.now().date()
    now = issuer.now().replace(microsecond=0)
    current = await _current(issuer, today)
    async with issuer.rt.db.session() as s:
        known = {m.id: m for m in (await s.exec(select(MandateByLaw))).all()}
    report.seen = len(current)
    for mid, b in current.items():
        if mid in known:
            continue
        try:
            async with issuer.rt.db.session() as s:
                s.add(MandateByLaw(id=mid, basis=b.basis, agent_id=b.agent_id, principal_id=b.principal_id,
                                   first_seen=now))
                await s.commit()
            report.new.append(mid)
        except IntegrityError:
            pass  # another run recorded it first
    for mid, m in known.items():
        if not m.active or mid in current:
            continue
        async with issuer.rt.db.session() as s:
            result = await s.exec(update(MandateByLaw).where(col(MandateByLaw.id) == mid,
                                                             col(MandateByLaw.active).is_(True))
                                  .values(active=False, ended_at=now))
            await s.commit()
        if result.rowcount:
            report.ended.append(mid)
            report.revoked_credentials += await revoke_mandate_ref(issuer, _mandate_id(m), m.agent_id)
    return report
