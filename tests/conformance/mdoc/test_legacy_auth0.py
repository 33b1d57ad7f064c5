"""The legacy auth0-lab PID DeviceResponse breaks ISO/IEC 18013-5 in six ways; each must be named."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from eidcore.clock import FixedClock
from eidcore.errors import MdocStructureError, ParsingError
from eidcore.formats.mdoc import MdocVerifier, openid4vp_session_transcript

VECTOR = Path(__file__).parents[2] / "vectors" / "mdoc" / "legacy_auth0_pid_mdoc_device_response.hex"


@pytest.fixture(scope="module")
def rejection() -> MdocStructureError:
    data = bytes.fromhex(VECTOR.read_text().strip())
    verifier = MdocVerifier([], clock=FixedClock(datetime(2024, 1, 1, tzinfo=UTC)))
    transcript = openid4vp_session_transcript("x509_san_dns:example.com", "n", "https://example.com/response")
    with pytest.raises(MdocStructureError) as info:
        verifier.verify_device_response(data, transcript)
    return info.value


@pytest.mark.parametrize(
    "needle",
    [
        "no deviceSigned",
        "MSO is not tag-24 wrapped",
        "deviceKey is missing or null",
        "digestAlgorithm 'sha256'",
        "byte strings wrapping the date, not tdate",
        "docType 'eu.europa.ec.eudiw.pid.1' is obsolete",
    ],
    ids=["no_device_signed", "mso_not_tag24", "device_key_null", "lowercase_sha256", "bstr_wrapped_validity",
         "old_doctype"],
)
def test_legacy_vector_names_each_deviation(rejection: MdocStructureError, needle: str) -> None:
    assert any(needle in d for d in rejection.deviations), rejection.deviations
    assert needle in rejection.description
    assert rejection.details["deviations"] == rejection.deviations


def test_legacy_vector_is_a_parsing_error_with_the_credential_code(rejection: MdocStructureError) -> None:
    assert isinstance(rejection, ParsingError)
    assert rejection.to_oauth()["error"] == "invalid_credential"


def test_legacy_vector_also_names_the_duplicated_x5chain(rejection: MdocStructureError) -> None:
    assert any("appear in both buckets" in d for d in rejection.deviations)
