"""The Referenced Token ``status`` claim: JSON (JWT / SD-JWT VC), CWT claim 65535 and the mdoc MSO."""

from __future__ import annotations

import json

import pytest

from eidcore import cbor
from eidcore.errors import InvalidClaim
from eidcore.status_list import (
    CWT_STATUS_CLAIM,
    StatusReference,
    parse_status_claim,
    status_from_cwt_claims,
    status_from_jwt_claims,
    status_from_mso,
)

URI = "https://issuer.example.no/statuslists/1"


def test_json_claim_shape() -> None:
    ref = StatusReference(uri=URI, idx=1234)
    assert ref.to_json_claim() == {"status_list": {"idx": 1234, "uri": URI}}
    assert json.dumps(ref.to_json_claim(), separators=(",", ":")) == \
        '{"status_list":{"idx":1234,"uri":"https://issuer.example.no/statuslists/1"}}'


def test_json_round_trip_through_an_sd_jwt_vc_payload() -> None:
    payload = {"iss": "https://issuer.example.no", "vct": "urn:eudi:pid:1",
               "status": StatusReference(URI, 7).to_json_claim()}
    assert status_from_jwt_claims(json.loads(json.dumps(payload))) == StatusReference(URI, 7)
    assert status_from_jwt_claims({"iss": "x"}) is None


def test_cwt_claim_65535_round_trip() -> None:
    claims = {1: "https://issuer.example.no", CWT_STATUS_CLAIM: StatusReference(URI, 0).to_cbor_claim()}
    encoded = cbor.dumps(claims)
    assert bytes.fromhex("19ffff") in encoded  # claim key 65535
    assert status_from_cwt_claims(cbor.loads(encoded)) == StatusReference(URI, 0)
    assert status_from_cwt_claims({1: "x"}) is None


def test_mdoc_mso_status_with_certificate() -> None:
    ref = StatusReference(URI, 99, certificate=b"\x30\x82\x01\x00")
    mso = {"version": "1.0", "docType": "eu.europa.ec.eudi.pid.1", "status": ref.to_cbor_claim()}
    back = status_from_mso(cbor.loads(cbor.dumps(mso)))
    assert back == ref and back is not None and back.certificate == b"\x30\x82\x01\x00"
    assert status_from_mso({"version": "1.0"}) is None


def test_certificate_is_cbor_only() -> None:
    with pytest.raises(InvalidClaim):
        StatusReference(URI, 1, certificate=b"\x30").to_json_claim()


def test_json_parse_ignores_a_certificate_member() -> None:
    ref = parse_status_claim({"status_list": {"idx": 1, "uri": URI, "certificate": "abc"}})
    assert ref.certificate is None


def test_other_mechanisms_next_to_status_list_are_ignored() -> None:
    ref = parse_status_claim({"status_list": {"idx": 5, "uri": URI}, "future_mechanism": {"x": 1}})
    assert ref == StatusReference(URI, 5)


def test_large_index() -> None:
    assert parse_status_claim({"status_list": {"idx": 2**31, "uri": URI}}).idx == 2**31


@pytest.mark.parametrize(("idx", "uri"), [(-1, URI), (1, ""), (True, URI)])
def test_constructor_validates(idx: int, uri: str) -> None:
    with pytest.raises(InvalidClaim):
        StatusReference(uri=uri, idx=idx)
