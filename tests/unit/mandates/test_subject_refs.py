"""What an issuance record names (``subject_ref``) and the end of parental responsibility at 18."""

from __future__ import annotations

from datetime import date

from issuer.credentials import majority_date, mandate_ref, subject_ref


def test_mandate_refs_name_the_basis() -> None:
    assert mandate_ref("3f2a") == "mandate:3f2a"
    assert mandate_ref("guardianship-17") == "guardianship:17"
    assert mandate_ref("parental-child-1") == "parental:child-1"


def test_subject_ref_of_each_type() -> None:
    assert subject_ref("mandate", {"mandate_id": "guardianship-4"}) == "guardianship:4"
    assert subject_ref("employee_role", {"organisation": {"orgnr": "310000009"}}) == "employment:310000009"
    assert subject_ref("pid", {"given_name": "Kari"}) is None
    assert subject_ref("employee_role", {"organisation": "310000009"}) is None


def test_majority_date_of_a_leap_day_birth() -> None:
    assert majority_date(date(2008, 2, 29)) == date(2026, 3, 1)
    assert majority_date(date(2008, 3, 14)) == date(2026, 3, 14)
