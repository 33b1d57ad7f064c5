"""The reference holder reads OpenID4VCI messages through the models the issuer publishes (eidcore.openid4vci),
refusing malformed ones with a typed error that names where, never a KeyError or a 500."""

from __future__ import annotations

from typing import Any

import pytest

from eidcore import errors
from wallet_api.holder.vci import CredentialOffer, VciClient

GOOD = {"credential_issuer": "https://id.example.no/issuer", "credential_configuration_ids": ["pid_vc_sd_jwt"],
        "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": {"pre-authorized_code": "c",
                                                                           "tx_code": {"length": 6}}}}


def test_a_well_formed_offer_is_read() -> None:
    offer = CredentialOffer.parse(GOOD)
    assert offer.pre_authorized_code == "c" and offer.tx_code == {"length": 6}


@pytest.mark.parametrize("bad", [
    {**GOOD, "credential_configuration_ids": "pid_vc_sd_jwt"},
    {**GOOD, "credential_issuer": 7},
    {"credential_configuration_ids": ["pid_vc_sd_jwt"]},
    {**GOOD, "credential_configuration_ids": ["a", "a"]},
    {**GOOD, "credential_issuer": "ftp://id.example.no"},
])
def test_a_malformed_offer_is_an_invalid_request(bad: dict[str, Any]) -> None:
    with pytest.raises(errors.InvalidRequest):
        CredentialOffer.parse(bad)


def test_credential_responses_are_read_through_the_model() -> None:
    r = VciClient._credential_response({"credentials": [{"credential": "eyJ..."}], "notification_id": "n"})
    assert r.credentials == ["eyJ..."] and r.notification_id == "n"
    deferred = VciClient._credential_response({"transaction_id": "t", "interval": 5})
    assert deferred.credentials == [] and deferred.transaction_id == "t" and deferred.interval == 5
    with pytest.raises(errors.ParsingError, match="credentials"):
        VciClient._credential_response({"credentials": [{"no": "credential"}]})
