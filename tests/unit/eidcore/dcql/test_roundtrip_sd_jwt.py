"""DCQL with the real SD-JWT code: the holder matches and presents exactly what the query asks, the verifier's
check passes; presenting every disclosure instead is caught as an extra disclosure."""

from __future__ import annotations

from typing import Any

import pytest

from eidcore import jose
from eidcore.dcql import HeldCredential, MatchResult, VerifiedPresentation, check_vp_token, match_credentials
from eidcore.dcql import parse_dcql_query as parse
from eidcore.errors import DcqlMismatch
from eidcore.formats.sd_jwt import KeyBinding, SdJwtHolder, SdJwtIssuer
from eidcore.formats.sd_jwt.verify import KeyBindingRequired, SdJwtVerifier

VCT = "urn:eudi:pid:1"
AUD = "x509_hash:abc"
NONCE = "n-0S6_WzA2Mj"
CLAIMS: dict[str, Any] = {
    "vct": VCT,
    "iss": "https://issuer.example",
    "given_name": "Kari",
    "family_name": "Nordmann",
    "birthdate": "1990-01-01",
    "address": {"street_address": "Storgata 1", "locality": "Oslo", "country": "NO"},
    "nationalities": ["NO", "SE"],
    "age_equal_or_over": {"18": True, "65": False},
}
DISCLOSABLE: list[list[str | int | None]] = [
    ["given_name"],
    ["family_name"],
    ["birthdate"],
    ["address"],
    ["address", "street_address"],
    ["address", "locality"],
    ["nationalities", 0],
    ["nationalities", 1],
    ["age_equal_or_over", "18"],
    ["age_equal_or_over", "65"],
]
QUERY = parse(
    {
        "credentials": [
            {
                "id": "pid",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [VCT]},
                "claims": [
                    {"path": ["given_name"]},
                    {"path": ["address", "street_address"]},
                    {"path": ["nationalities", None], "values": ["SE"]},
                    {"path": ["age_equal_or_over", "18"], "values": [True]},
                ],
            }
        ]
    }
)


@pytest.fixture(scope="module")
def setup() -> tuple[str, jose.SigningKey, jose.SigningKey]:
    issuer_key = jose.generate_signing_key("ES256")
    holder_key = jose.generate_signing_key("ES256")
    issued = SdJwtIssuer(issuer_key, typ="dc+sd-jwt").issue(
        CLAIMS, disclosable=DISCLOSABLE, holder_jwk=holder_key.public_jwk
    )
    return issued.compact, issuer_key, holder_key


def present_and_check(setup: tuple[str, jose.SigningKey, jose.SigningKey], *, all_disclosures: bool) -> Any:
    compact, issuer_key, holder_key = setup
    holder = SdJwtHolder()
    held = holder.load(compact)
    match = match_credentials(QUERY, [HeldCredential.sd_jwt_vc(VCT, held.claims)])
    assert isinstance(match, MatchResult)
    (m,) = match.selected["pid"]
    assert m.disclose == (
        ("given_name",),
        ("address", "street_address"),
        ("nationalities", 1),
        ("age_equal_or_over", "18"),
    )
    presentation = holder.present(
        held, disclose=None if all_disclosures else m.disclose, key_binding=KeyBinding(holder_key, AUD, NONCE)
    )
    assert isinstance(presentation, str)
    verified = SdJwtVerifier(issuer_key, typ="dc+sd-jwt").verify(presentation, KeyBindingRequired(AUD, NONCE))
    vp = VerifiedPresentation.sd_jwt_vc(
        verified.claims["vct"],
        verified.claims,
        disclosed_paths=verified.disclosed_paths.keys(),
        holder_bound=verified.key_binding is not None,
    )
    return check_vp_token(QUERY, {"pid": [vp]})


def test_holder_minimal_presentation_passes_verifier_check(setup: Any) -> None:
    result = present_and_check(setup, all_disclosures=False)
    assert result.ok, result.failure
    result.raise_for_failure()


def test_full_presentation_is_an_extra_disclosure(setup: Any) -> None:
    result = present_and_check(setup, all_disclosures=True)
    with pytest.raises(DcqlMismatch) as exc:
        result.raise_for_failure()
    assert exc.value.check == "no_extra_disclosure"
    assert exc.value.query_id == "pid"
    assert '["birthdate"]' in exc.value.description
