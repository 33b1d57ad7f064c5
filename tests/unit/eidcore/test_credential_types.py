"""specs/credentials/* and eidcore.credential_types: schemas, display texts, lookups, the PID claim mapping."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import jsonschema
import pytest

from eidcore.clock import FixedClock
from eidcore.credential_types import (
    REQUIRED_LOCALES,
    default_specs_dir,
    load_credential_types,
    pid_claims,
)
from eidcore.errors import CredentialTypeSpecError, InvalidClaim, UnknownCredentialType
from eidcore.identity import parse_national_id, parse_orgnr
from eidcore.registers.records import Address, BirthPlace, Identifier, Person

SPECS = Path(__file__).resolve().parents[3] / "specs" / "credentials"
TYPES = ("employee_role", "guardian_consent", "mandate", "pid", "youth")
CLOCK = FixedClock(datetime(2026, 11, 28, 12, 0, tzinfo=UTC))


def _person(**changes: object) -> Person:
    base: dict[str, object] = {
        "person_id": "7d3c1e0a-2f4b-4c6d-8e9f-0a1b2c3d4e5f",
        "given_name": "Kari",
        "family_name": "Fjellheim",
        "birth_date": date(1984, 2, 20),
        "birth_place": BirthPlace(country="NO", locality="Bergen"),
        "nationalities": ("NO",),
        "address": Address(street="Fjordveien", house_number="12", postal_code="5003", city="Bergen"),
        "status": "resident",
        "identity_verification": "verified",
        "identifiers": (Identifier(type="F", value="20828443004", status="in_use"),),
    }
    base.update(changes)
    return Person.model_validate(base)


def test_every_folder_loads_from_the_default_location() -> None:
    types = load_credential_types()
    assert types.ids == TYPES
    assert default_specs_dir() == SPECS
    assert load_credential_types() is types, "cached"


@pytest.mark.parametrize("name", TYPES)
def test_folder_example_validates_against_its_schema(name: str) -> None:
    schema = json.loads((SPECS / name / "schema.json").read_text(encoding="utf-8"))
    example = json.loads((SPECS / name / "example.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(example)
    broken = {**example, "not_a_claim": True}
    with pytest.raises(InvalidClaim):
        load_credential_types().get(name).validate_claims(broken)


@pytest.mark.parametrize("name", TYPES)
def test_folder_has_nb_nn_en_display_for_type_and_every_claim(name: str) -> None:
    meta = json.loads((SPECS / name / "type-metadata.json").read_text(encoding="utf-8"))
    assert {d["locale"] for d in meta["display"]} >= set(REQUIRED_LOCALES)
    assert all(d["name"] for d in meta["display"])
    assert meta["claims"]
    for claim in meta["claims"]:
        labels = {d["locale"]: d["label"] for d in claim["display"]}
        assert set(labels) >= set(REQUIRED_LOCALES), claim["path"]
        assert all(labels[loc].strip() for loc in REQUIRED_LOCALES)
        assert claim.get("sd", "allowed") in ("always", "allowed", "never")


@pytest.mark.parametrize("name", TYPES)
def test_every_mdoc_element_maps_to_a_defined_claim(name: str) -> None:
    ct = load_credential_types().get(name)
    assert ct.doctype in ct.mdoc.namespaces
    for elements in ct.mdoc.namespaces.values():
        for e in elements:
            assert ct.claim(e.path).path == e.path
    assert ct.validity.default_seconds <= ct.validity.max_seconds


def test_pid_follows_the_eu_rulebook_identifiers() -> None:
    pid = load_credential_types().get("pid")
    assert pid.vct == "urn:eudi:pid:1"
    assert pid.doctype == "eu.europa.ec.eudi.pid.1"
    elements = {e.element for e in pid.mdoc.namespaces["eu.europa.ec.eudi.pid.1"]}
    assert elements >= {
        "family_name", "given_name", "birth_date", "place_of_birth", "nationality",
        "personal_administrative_number", "age_over_13", "age_over_15", "age_over_18",
        "age_in_years", "age_birth_year", "issuing_authority", "issuing_country", "expiry_date",
    }  # fmt: skip
    assert pid.mdoc_element("eu.europa.ec.eudi.pid.1", "age_over_18").path == ("age_equal_or_over", "18")
    assert pid.selectively_disclosable(["family_name"])
    assert not pid.selectively_disclosable(["issuing_country"])
    assert ("personal_administrative_number",) not in pid.mandatory_paths
    assert pid.required_loa == "high"


def test_youth_carries_only_age_thresholds_for_single_use_batches() -> None:
    youth = load_credential_types().get("youth")
    assert youth.doctype == "eu.europa.ec.av.1"
    (elements,) = youth.mdoc.namespaces.values()
    assert all(e.element.startswith("age_over_") and e.type == "bool" for e in elements)
    assert {p[0] for p in youth.claim_paths} == {"age_equal_or_over"}
    assert ("age_equal_or_over", "18") in youth.mandatory_paths
    assert youth.batch.single_use and youth.batch.recommended_size == 30
    assert youth.validity.max_seconds <= 92 * 86400


def test_guardian_consent_is_short_lived_and_not_selectively_disclosable() -> None:
    gc = load_credential_types().get("guardian_consent")
    assert gc.sd_paths == ()
    assert {p[0] for p in gc.mandatory_paths} >= {"client_id", "transaction_nonce_hash", "approved_claims"}
    assert gc.validity.max_seconds <= 900
    assert len(gc.example["transaction_nonce_hash"]) == 43


def test_mandate_and_employee_role_shapes() -> None:
    types = load_credential_types()
    mandate = types.get("mandate")
    assert mandate.claims_schema["properties"]["legal_basis"]["enum"] == [
        "granted", "guardianship", "parental_responsibility",
    ]  # fmt: skip
    employee = types.get("employee_role")
    assert employee.doctype == "no.digdir.eudi.employee.1"
    parse_orgnr(employee.example["organisation"]["orgnr"])
    assert employee.example["organisation"]["iso6523"] == "0192:" + employee.example["organisation"]["orgnr"]
    for n in (
        types.get("pid").example["personal_administrative_number"],
        employee.example["personal_administrative_number"],
    ):
        assert parse_national_id(n).synthetic is not None, "examples use synthetic numbers only"


def test_lookups_by_vct_and_doctype_and_unknown() -> None:
    types = load_credential_types()
    assert types.by_vct("urn:eudi:pid:1").id == "pid"
    assert types.by_doctype("eu.europa.ec.av.1").id == "youth"
    assert types.by_doctype("no.digdir.eudi.mandate.1").id == "mandate"
    with pytest.raises(UnknownCredentialType) as e:
        types.get("drivers_licence")
    assert e.value.code == "unknown_credential_configuration"
    with pytest.raises(UnknownCredentialType):
        types.by_vct("urn:eudi:pid:se:1")
    with pytest.raises(UnknownCredentialType):
        types.by_doctype("eu.europa.ec.eudiw.pid.1")  # the obsolete doctype is not ours


def test_display_falls_back_by_locale() -> None:
    pid = load_credential_types().get("pid")
    assert pid.display("nn-NO").locale == "nn"
    assert pid.display("nb_NO").locale == "nb"
    assert pid.display("no").locale == "nb"
    assert pid.display("de-DE").locale == "en"
    assert pid.display(None).locale == "en"
    assert pid.claim_display(["birthdate"], "nn").label == "Fødselsdato"
    assert pid.claim_display(["family_name"], "en-GB").label == "Family name"


def test_type_metadata_integrity_is_sri_over_the_file_bytes() -> None:
    pid = load_credential_types().get("pid")
    raw = (SPECS / "pid" / "type-metadata.json").read_bytes()
    assert pid.type_metadata_bytes == raw
    assert pid.type_metadata_integrity() == "sha256-" + base64.b64encode(hashlib.sha256(raw).digest()).decode()


def test_pid_claims_for_a_person_with_an_f_number() -> None:
    claims = pid_claims(_person(), clock=CLOCK, issuing_authority="DIGITALISERINGSDIREKTORATET")
    assert claims["personal_administrative_number"] == "20828443004"
    assert claims["birthdate"] == "1984-02-20"
    assert claims["age_in_years"] == 42 and claims["age_birth_year"] == 1984
    assert claims["age_equal_or_over"] == {"13": True, "15": True, "18": True}
    assert claims["issuing_country"] == "NO"
    assert claims["address"]["formatted"] == "Fjordveien 12, 5003 Bergen, NO"
    assert claims["date_of_issuance"] == "2026-11-28"
    assert claims["date_of_expiry"] > claims["date_of_issuance"]
    ns = load_credential_types().get("pid").mdoc_namespaces(claims)["eu.europa.ec.eudi.pid.1"]
    assert ns["birth_date"] == date(1984, 2, 20)
    assert ns["age_over_18"] is True and ns["resident_city"] == "Bergen"
    assert ns["personal_administrative_number"] == "20828443004"


def test_pid_claims_for_a_person_without_a_number_has_no_personal_administrative_number() -> None:
    amir = _person(identifiers=(), nationalities=("SY",), birth_place=BirthPlace(country="SY"))
    claims = pid_claims(amir, clock=CLOCK, issuing_authority="DIGITALISERINGSDIREKTORATET")
    assert "personal_administrative_number" not in claims
    ns = load_credential_types().get("pid").mdoc_namespaces(claims)["eu.europa.ec.eudi.pid.1"]
    assert "personal_administrative_number" not in ns
    ceased_only = _person(identifiers=(Identifier(type="D", value="59849710650", status="ceased"),))
    assert "personal_administrative_number" not in pid_claims(ceased_only, clock=CLOCK, issuing_authority="X")


def test_pid_claims_use_the_d_number_in_use_and_age_thresholds_on_the_birthday() -> None:
    piotr = _person(identifiers=(Identifier(type="D", value="56879199951", status="in_use"),))
    assert pid_claims(piotr, clock=CLOCK, issuing_authority="X")["personal_administrative_number"] == "56879199951"
    turns_13_today = _person(birth_date=date(2013, 11, 28))
    c = pid_claims(turns_13_today, clock=CLOCK, issuing_authority="X", expiry_date=date(2027, 1, 1))
    assert c["age_equal_or_over"] == {"13": True, "15": False, "18": False} and c["age_in_years"] == 13
    assert c["date_of_expiry"] == "2027-01-01"
    turns_13_tomorrow = _person(birth_date=date(2013, 11, 29))
    c = pid_claims(turns_13_tomorrow, clock=CLOCK, issuing_authority="X")
    assert c["age_equal_or_over"]["13"] is False and c["age_in_years"] == 12


def test_pid_claims_truncate_long_names_to_150() -> None:
    long_name = "Anne-" + "Marie" * 40
    claims = pid_claims(_person(given_name=long_name), clock=CLOCK, issuing_authority="X")
    assert claims["given_name"] == long_name[:150]


def test_mdoc_mapping_rejects_wrong_types() -> None:
    pid = load_credential_types().get("pid")
    with pytest.raises(InvalidClaim):
        pid.mdoc_namespaces({"age_in_years": -1})
    with pytest.raises(InvalidClaim):
        pid.mdoc_namespaces({"birthdate": "20-02-1984"})


def _copy(tmp_path: Path, name: str = "pid") -> Path:
    root = tmp_path / "credentials"
    shutil.copytree(SPECS / name, root / name)
    return root


def _edit(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_loader_rejects_a_missing_nn_label(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _edit(root / "pid" / "type-metadata.json", lambda d: d["claims"][3].__setitem__(
        "display", [x for x in d["claims"][3]["display"] if x["locale"] != "nn"]))  # fmt: skip
    with pytest.raises(CredentialTypeSpecError, match=r"pid: claim \['place_of_birth'\] has no 'nn' label"):
        load_credential_types(root)


def test_loader_rejects_mismatched_vct_missing_file_and_bad_example(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _edit(root / "pid" / "type-metadata.json", lambda d: d.__setitem__("vct", "urn:eudi:pid:no:1"))
    with pytest.raises(CredentialTypeSpecError, match="vct differs"):
        load_credential_types(root)

    root2 = _copy(tmp_path / "b")
    (root2 / "pid" / "schema.json").unlink()
    with pytest.raises(CredentialTypeSpecError, match=r"missing schema\.json"):
        load_credential_types(root2)

    root3 = _copy(tmp_path / "c")
    _edit(root3 / "pid" / "example.json", lambda d: d.__setitem__("birthdate", "20.02.1984"))
    with pytest.raises(CredentialTypeSpecError, match=r"example\.json does not validate"):
        load_credential_types(root3)

    root4 = _copy(tmp_path / "d")
    _edit(root4 / "pid" / "credential.json", lambda d: d["mdoc"]["namespaces"]["eu.europa.ec.eudi.pid.1"].append(
        {"element": "portrait", "path": ["picture"], "type": "bstr"}))  # fmt: skip
    with pytest.raises(CredentialTypeSpecError, match="does not define"):
        load_credential_types(root4)
