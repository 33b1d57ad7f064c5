"""Guardians' standing rules for a child's presentations (issue 7): relying party (or ``*``), claim path (or any),
relying-party category, and ``allow`` / ``ask`` / ``never`` (``never`` wins over ``ask``, ``ask`` over ``allow``).

- ``GET|PUT /guardian/children/{child}/rules``.

Relying-party categories (``video``, ``public``, ``health``...): a rule may target a category instead of one
relying party. The category of a verifier comes from the wallet provider's own registry, keyed by the verifier's
client id (``PUT /admin/youth/relying-parties``, :mod:`wallet_api.admin`), never from what the child's wallet says:
a modified app could relabel a relying party to reach an ``allow`` rule, whereas the client id is bound into the
consent credential and checked by the verifier, so a request can only borrow the category of the verifier it is
really for. A relying party not in the registry has no category (only client-id and ``*`` rules apply).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import Controller, Request, get, put
from litestar.params import FromPath, JSONBody
from sqlmodel import col, select

from eidcore.runtime import Runtime
from wallet_api.conventions import DPoPHeader, problems
from wallet_api.guardian import TAGS_GUARDIAN, basis_for, guardian_of
from wallet_api.models import YouthRelyingParty, YouthRule
from wallet_api.provider import Wallet
from wallet_api.schemas import RuleIn, Rules

__all__ = ["RulesController", "category_of", "decide_by_rules"]


def _matches(rule: YouthRule, client_id: str, claim: list[Any] | None, category: str | None) -> bool:
    return (rule.client_id in ("*", client_id) and (rule.claim is None or rule.claim == claim)
            and (rule.category is None or rule.category == category))


def decide_by_rules(rules: Sequence[YouthRule], client_id: str, claims: Sequence[list[Any]],
                    category: str | None = None) -> str | None:
    """``denied`` when a ``never`` rule matches a claim, ``approved`` when ``allow`` rules cover every claim and
    no ``ask`` rule matches, else None (a guardian decides). A rule with a category matches only relying parties
    of that ``category``."""
    for c in claims:
        if any(r.effect == "never" and _matches(r, client_id, c, category) for r in rules):
            return "denied"
    for c in claims:
        if any(r.effect == "ask" and _matches(r, client_id, c, category) for r in rules):
            return None
        if not any(r.effect == "allow" and _matches(r, client_id, c, category) for r in rules):
            return None
    return "approved"


async def category_of(rt: Runtime, client_id: str) -> str | None:
    """The relying party's category in the wallet provider's registry (None when not registered)."""
    async with rt.db.session() as s:
        row = await s.get(YouthRelyingParty, client_id)
    return None if row is None else row.category


class RulesController(Controller):
    """``/guardian/children/{child_id}/rules``: read and replace the child's standing rules."""

    path = "/guardian/children/{child_id:str}/rules"
    tags = TAGS_GUARDIAN

    @get("/", operation_id="guardianGetRules", responses=problems(400, 403, 404))
    async def get_rules(self, wallet: Wallet, request: Request[Any, Any, Any], child_id: FromPath[str],
                        dpop: DPoPHeader = None) -> Rules:
        """The child's standing rules."""
        me = await guardian_of(wallet, request, dpop)
        await basis_for(wallet.rt, me, child_id)
        async with wallet.rt.db.session() as s:
            rows = (await s.exec(select(YouthRule).where(YouthRule.child_id == child_id)
                                 .order_by(col(YouthRule.id)))).all()
        return Rules(rules=[RuleIn.model_validate({"client_id": r.client_id, "claim": r.claim, "effect": r.effect,
                                                   "category": r.category}) for r in rows])

    @put("/", operation_id="guardianPutRules", responses=problems(400, 403, 404), status_code=200)
    async def put_rules(self, wallet: Wallet, request: Request[Any, Any, Any], child_id: FromPath[str],
                        data: JSONBody[Rules], dpop: DPoPHeader = None) -> Rules:
        """Replace the child's standing rules (``never`` wins over ``ask``, ``ask`` over ``allow``)."""
        me = await guardian_of(wallet, request, dpop)
        await basis_for(wallet.rt, me, child_id)
        now = wallet.now()
        async with wallet.rt.db.session() as s:
            for old in (await s.exec(select(YouthRule).where(YouthRule.child_id == child_id))).all():
                await s.delete(old)
            for r in data.rules:
                s.add(YouthRule(child_id=child_id, client_id=r.client_id, claim=r.claim, effect=r.effect,
                                category=r.category, created_by=me, created_at=now))
            await s.commit()
        return data
