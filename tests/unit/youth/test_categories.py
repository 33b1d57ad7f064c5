"""Guardian rules that target a relying-party category (wallet_api/guardian.py ``decide_by_rules``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from wallet_api.guardian_rules import decide_by_rules
from wallet_api.models import YouthRule

CLIENT = "x509_hash:abc"


def rule(client: str, claim: list[Any] | None, effect: str, category: str | None) -> YouthRule:
    return YouthRule(child_id="c", client_id=client, claim=claim, effect=effect, category=category, created_by="g",
                     created_at=datetime(2026, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(("rules", "category", "outcome"), [
    ([rule("*", ["a"], "allow", "video")], "video", "approved"),
    ([rule("*", ["a"], "allow", "video")], "health", None),
    ([rule("*", ["a"], "allow", "video")], None, None),
    ([rule("*", None, "allow", None), rule("*", None, "never", "health")], "health", "denied"),
    ([rule("*", None, "allow", None), rule("*", None, "never", "health")], "video", "approved"),
    ([rule("*", None, "allow", "video"), rule("*", ["a"], "ask", "video")], "video", None),
    ([rule("other", None, "allow", "video")], "video", None),  # client id and category both must match
    ([rule(CLIENT, None, "allow", "video")], "video", "approved"),
])
def test_a_category_rule_matches_only_its_category(rules: list[YouthRule], category: str | None,
                                                   outcome: str | None) -> None:
    assert decide_by_rules(rules, CLIENT, [["a"]], category) == outcome
