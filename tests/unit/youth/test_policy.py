"""The verifier's youth policy (verifier/youth.py) and the guardian's standing rules (wallet_api/guardian.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from eidcore.dcql import DcqlQuery, VerifiedPresentation
from eidcore.formats.mdoc import openid4vp_session_transcript
from verifier.validation import CheckFailed, PresentationResult, ResponseContext
from verifier.youth import (
    AGE_DOCTYPE,
    AGE_VCT,
    CONSENT_QUERY_ID,
    CONSENT_VCT,
    YouthPolicy,
    below_consent_age,
    has_consent_query,
    with_consent_query,
)
from wallet_api.consent import nonce_hash
from wallet_api.guardian_rules import decide_by_rules
from wallet_api.models import YouthRule

PID_VCT = "urn:eudi:pid:1"
WALLET = "http://localhost:8000/wallet"
CLIENT = "x509_hash:abc"
NONCE = "n-0S6_WzA2Mj"
AGE = {"id": "age", "format": "dc+sd-jwt", "meta": {"vct_values": [AGE_VCT]},
       "claims": [{"path": ["age_equal_or_over", "13"]}]}


def sd(qid: str, vct: str, claims: dict[str, Any], jkt: str | None = "key-1") -> PresentationResult:
    vp = VerifiedPresentation.sd_jwt_vc(vct, claims, disclosed_paths=(), holder_bound=True)
    return PresentationResult(qid, vp, claims, [], jkt, None, (), vct)


def mdoc(qid: str, ns: str, items: dict[str, Any]) -> PresentationResult:
    vp = VerifiedPresentation.mdoc(ns, {ns: items}, holder_bound=True)
    return PresentationResult(qid, vp, {ns: items}, [], "key-1", None, (), ns)


def consent(**over: Any) -> PresentationResult:
    claims = {"iss": WALLET, "vct": CONSENT_VCT, "client_id": CLIENT, "transaction_nonce_hash": nonce_hash(NONCE),
              "approved_claims": [["age_equal_or_over", "13"]], **over}
    return sd(CONSENT_QUERY_ID, CONSENT_VCT, claims)


CTX = ResponseContext(CLIENT, NONCE, "http://v/response/1", openid4vp_session_transcript(CLIENT, NONCE,
                                                                                        "http://v/response/1", None))
QUERY = DcqlQuery.parse(with_consent_query({"credentials": [AGE]}))
POLICY = YouthPolicy(13, (WALLET,))


def test_consent_query_is_an_optional_set_and_the_original_stays_required() -> None:
    q = with_consent_query({"credentials": [AGE]})
    assert q["credential_sets"] == [{"options": [["age"]], "required": True},
                                    {"options": [[CONSENT_QUERY_ID]], "required": False}]
    assert has_consent_query(q) and not has_consent_query({"credentials": [AGE]})
    assert with_consent_query(q) == q  # once only
    other = {**AGE, "id": "pid", "meta": {"vct_values": [PID_VCT]}}
    two = with_consent_query({"credentials": [AGE, other],
                              "credential_sets": [{"options": [["age"], ["pid"]], "required": True}]})
    assert two["credential_sets"][0] == {"options": [["age"], ["pid"]], "required": True}
    assert DcqlQuery.parse(two).credential(CONSENT_QUERY_ID).meta.vct_values == (CONSENT_VCT,)


@pytest.mark.parametrize(("presented", "age", "below"), [
    ([sd("age", AGE_VCT, {"age_equal_or_over": {"13": False}})], 13, True),
    ([sd("age", AGE_VCT, {"age_equal_or_over": {"13": True}})], 13, False),
    ([sd("age", AGE_VCT, {"age_equal_or_over": {"13": True}})], 15, True),  # youth type, not shown >= 15
    ([sd("age", AGE_VCT, {"age_equal_or_over": {"15": True}})], 15, False),
    ([sd("pid", PID_VCT, {"age_equal_or_over": {"13": True}})], 15, False),  # a PID is no youth credential
    ([sd("pid", PID_VCT, {"age_equal_or_over": {"18": False}})], 13, False),  # under 18 says nothing about 13
    ([sd("pid", PID_VCT, {"age_equal_or_over": {"13": False}})], 13, True),
    ([mdoc("age_mdoc", AGE_DOCTYPE, {"age_over_13": False})], 13, True),
    ([mdoc("age_mdoc", AGE_DOCTYPE, {"age_over_18": True})], 13, False),
    ([sd("pid", PID_VCT, {"given_name": "Kari"})], 13, False),
])
def test_below_consent_age_comes_from_the_presented_credentials(presented: list[PresentationResult], age: int,
                                                                below: bool) -> None:
    assert below_consent_age(presented, age) is below


def under13() -> PresentationResult:
    return sd("age", AGE_VCT, {"age_equal_or_over": {"13": False}})


def test_policy_accepts_a_matching_consent_and_passes_adults_without_one() -> None:
    assert POLICY(QUERY, {"age": [under13()], CONSENT_QUERY_ID: [consent()]}, CTX) == ["youth.age", "youth.consent"]
    adult = sd("age", AGE_VCT, {"age_equal_or_over": {"13": True}})
    assert POLICY(QUERY, {"age": [adult]}, CTX) == ["youth.age"]


@pytest.mark.parametrize(("results", "check"), [
    ({"age": [under13()]}, "youth.consent_required"),
    ({"age": [under13()], CONSENT_QUERY_ID: [consent(iss="https://evil.example/wallet")]}, "youth.consent_issuer"),
    ({"age": [sd("age", AGE_VCT, {"age_equal_or_over": {"13": False}}, jkt="key-2")],
      CONSENT_QUERY_ID: [consent()]}, "youth.consent_holder"),
    ({"age": [under13()], CONSENT_QUERY_ID: [consent(client_id="x509_hash:other")]}, "youth.consent_client"),
    ({"age": [under13()], CONSENT_QUERY_ID: [consent(transaction_nonce_hash=nonce_hash("other"))]},
     "youth.consent_nonce"),
    ({"age": [under13()], CONSENT_QUERY_ID: [consent(approved_claims=[["age_equal_or_over", "18"]])]},
     "youth.consent_claims"),
])
def test_policy_names_the_failed_check(results: dict[str, list[PresentationResult]], check: str) -> None:
    with pytest.raises(CheckFailed) as exc:
        POLICY(QUERY, results, CTX)
    assert exc.value.check == check and exc.value.query_id == CONSENT_QUERY_ID


def rule(client: str, claim: list[Any] | None, effect: str) -> YouthRule:
    return YouthRule(child_id="c", client_id=client, claim=claim, effect=effect, created_by="g",
                     created_at=datetime(2026, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(("rules", "claims", "outcome"), [
    ([], [["a"]], None),
    ([rule(CLIENT, ["a"], "allow")], [["a"]], "approved"),
    ([rule(CLIENT, ["a"], "allow")], [["a"], ["b"]], None),
    ([rule("*", None, "allow")], [["a"], ["b"]], "approved"),
    ([rule("other", None, "allow")], [["a"]], None),
    ([rule("*", None, "allow"), rule(CLIENT, ["b"], "ask")], [["a"], ["b"]], None),
    ([rule("*", None, "allow"), rule("*", ["b"], "never")], [["a"], ["b"]], "denied"),
    ([rule(CLIENT, None, "ask"), rule("*", None, "never")], [["a"]], "denied"),
])
def test_standing_rules_never_beats_ask_beats_allow(rules: list[YouthRule], claims: list[list[Any]],
                                                    outcome: str | None) -> None:
    assert decide_by_rules(rules, CLIENT, claims) == outcome


@pytest.mark.parametrize(("claims", "below"), [
    ({"birthdate": "2016-06-01"}, True),   # 10 on the day below
    ({"birthdate": "2013-11-29"}, True),   # turns 13 tomorrow
    ({"birthdate": "2013-11-28"}, False),  # 13 today
    ({"birthdate": "not-a-date"}, False),
])
def test_a_disclosed_birth_date_tells_the_age(claims: dict[str, Any], below: bool) -> None:
    today = datetime(2026, 11, 28, tzinfo=UTC).date()
    assert below_consent_age([sd("pid", PID_VCT, claims)], 13, today) is below
    assert below_consent_age([sd("pid", PID_VCT, claims)], 13) is False  # without a date, no birth date rule


def test_policy_with_a_clock_requires_consent_for_a_child_pid() -> None:
    from eidcore.clock import FixedClock

    policy = YouthPolicy(13, (WALLET,), FixedClock(datetime(2026, 11, 28, tzinfo=UTC)))
    pid = sd("age", PID_VCT, {"birthdate": "2016-06-01"})
    with pytest.raises(CheckFailed) as exc:
        policy(QUERY, {"age": [pid]}, CTX)
    assert exc.value.check == "youth.consent_required"
