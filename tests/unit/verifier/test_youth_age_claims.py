"""verifier.youth.with_age_claims / strip_claims: the claim that decides the consent age joins every Credential
Query for a type that carries an age (PID, youth), in every claim set, and leaves the relying party's result."""

from __future__ import annotations

from eidcore.dcql import DcqlQuery
from verifier.profiles import build_profile
from verifier.youth import AGE_CLAIM_ID, strip_claims, with_age_claims

PID = {"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:eudi:pid:1"]},
       "claims": [{"path": ["given_name"]}]}


def test_added_to_pid_and_youth_queries_only() -> None:
    query = build_profile("mandate", {"scope": "nav:arbeid"}).dcql_query
    out, added = with_age_claims(query, 13)
    assert added == [["pid", ["age_equal_or_over", "13"]]]
    mandate = next(c for c in out["credentials"] if c["id"] == "mandate")
    assert mandate == next(c for c in query["credentials"] if c["id"] == "mandate")
    DcqlQuery.parse(out)


def test_mdoc_path_and_a_claim_already_asked_for_is_not_added_twice() -> None:
    query = build_profile("age-over-13", {"format": "mso_mdoc"}).dcql_query
    out, added = with_age_claims(query, 13)
    assert added == [] and out == query
    out, added = with_age_claims(query, 15)
    assert added == [["pid_mdoc", ["eu.europa.ec.eudi.pid.1", "age_over_15"]],
                     ["age_mdoc", ["eu.europa.ec.av.1", "age_over_15"]]]


def test_consent_age_without_a_threshold_falls_back_to_the_birth_date() -> None:
    _, added = with_age_claims({"credentials": [PID]}, 14)
    assert added == [["pid", ["birthdate"]]]


def test_joins_every_claim_set() -> None:
    claims = [{"id": "a", "path": ["given_name"]}, {"id": "b", "path": ["nationalities"]}]
    query = {"credentials": [{**PID, "claims": claims, "claim_sets": [["a", "b"], ["a"]]}]}
    out, _ = with_age_claims(query, 13)
    pid = out["credentials"][0]
    assert pid["claims"][-1] == {"id": AGE_CLAIM_ID, "path": ["age_equal_or_over", "13"]}
    assert pid["claim_sets"] == [["a", "b", AGE_CLAIM_ID], ["a", AGE_CLAIM_ID]]
    DcqlQuery.parse(out)


def test_strip_claims_removes_only_what_was_added() -> None:
    result = {"pid": [{"claims": {"given_name": "Kari", "age_equal_or_over": {"13": True}}}],
              "pid_mdoc": [{"claims": {"ns": {"age_over_13": True, "age_over_18": True}}}]}
    out = strip_claims(result, [["pid", ["age_equal_or_over", "13"]], ["pid_mdoc", ["ns", "age_over_13"]]])
    assert out == {"pid": [{"claims": {"given_name": "Kari"}}], "pid_mdoc": [{"claims": {"ns": {"age_over_18": True}}}]}
    assert result["pid"][0]["claims"]["age_equal_or_over"] == {"13": True}  # the input is left alone


def test_an_age_over_filter_at_or_above_the_consent_age_already_decides() -> None:
    for fmt in ("dc+sd-jwt", "mso_mdoc"):
        query = build_profile("age-over-18", {"format": fmt}).dcql_query
        assert with_age_claims(query, 13) == (query, [])  # an age-over-18 check discloses nothing more
    unfiltered = {"credentials": [{**PID, "claims": [{"path": ["age_equal_or_over", "18"]}]}]}
    assert with_age_claims(unfiltered, 13)[1] == [["pid", ["age_equal_or_over", "13"]]]
