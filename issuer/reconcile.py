"""Reconciliation of mandates by law with the population register (guardianship, ``vergemaal``).

Folkeregisteret is the authentic source: a guardianship with service areas gives the guardian a mandate credential
(:mod:`issuer.credentials`, ``legal_basis`` ``guardianship``). When the register changes (the guardianship ends),
:func:`reconcile` revokes the guardian's mandate credentials in the status list (draft-ietf-oauth-status-list §7).

The job is idempotent and safe to rerun or to run in two workers at once: it records each mandate by law it has
seen (:class:`issuer.mandates.MandateByLaw`), marks one ended with a conditional ``UPDATE`` (only one run wins),
and a revocation is final and repeatable (:func:`issuer.status.change_status`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from eidcore.registers.models import RegGuardianship
from issuer.core import Issuer
from issuer.mandates import MandateByLaw, revoke_agent_mandates

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


async def reconcile(issuer: Issuer) -> ReconcileReport:
    """One reconciliation run: record active guardianships, end (and revoke) those the register ended."""
    report = ReconcileReport()
    today = issuer.now().date()
    now = issuer.now().replace(microsecond=0)
    async with issuer.rt.db.session() as s:
        rows = (await s.exec(select(RegGuardianship))).all()
        known = {m.id: m for m in (await s.exec(select(MandateByLaw))).all()}
    current: dict[str, RegGuardianship] = {}
    for g in rows:
        active = g.valid_from <= today and (g.valid_to is None or today < g.valid_to) and bool(g.scope)
        if active:
            current[f"guardianship-{g.id}"] = g
    report.seen = len(current)
    for mid, g in current.items():
        if mid in known:
            continue
        try:
            async with issuer.rt.db.session() as s:
                s.add(MandateByLaw(id=mid, basis="guardianship", agent_id=g.guardian_id, principal_id=g.ward_id,
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
            report.revoked_credentials += await revoke_agent_mandates(issuer, m.agent_id)
    return report
