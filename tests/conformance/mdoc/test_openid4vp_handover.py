"""OpenID4VP 1.0 Appendix B.2.6: SessionTranscripts for the redirect and DC API handovers, byte for byte."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from eidcore import cbor
from eidcore.formats.mdoc import dc_api_session_transcript, jwk_thumbprint_sha256, openid4vp_session_transcript

V = json.loads((Path(__file__).parents[2] / "vectors" / "mdoc" / "openid4vp_handover.json").read_text())


def test_jwk_thumbprint_matches_spec() -> None:
    assert jwk_thumbprint_sha256(V["jwk"]).hex() == V["jwk_thumbprint_hex"]


def test_redirect_session_transcript_is_byte_identical() -> None:
    r = V["redirect"]
    st = openid4vp_session_transcript(r["client_id"], r["nonce"], r["response_uri"], jwk_thumbprint_sha256(V["jwk"]))
    assert st.encoded.hex() == r["session_transcript_hex"]
    info = cbor.dumps([r["client_id"], r["nonce"], bytes.fromhex(V["jwk_thumbprint_hex"]), r["response_uri"]])
    assert hashlib.sha256(info).hexdigest() == r["handover_info_sha256_hex"]
    assert info.hex().startswith("847818783530395f") and info.hex().endswith("726573706f6e7365")


def test_dc_api_session_transcript_is_byte_identical() -> None:
    d = V["dc_api"]
    st = dc_api_session_transcript(d["origin"], d["nonce"], jwk_thumbprint_sha256(V["jwk"]))
    assert st.encoded.hex() == d["session_transcript_hex"]
    info = cbor.dumps([d["origin"], d["nonce"], bytes.fromhex(V["jwk_thumbprint_hex"])])
    assert hashlib.sha256(info).hexdigest() == d["handover_info_sha256_hex"]
    assert info.hex().startswith("837368747470733a2f2f")


def test_unencrypted_response_uses_null_thumbprint() -> None:
    r = V["redirect"]
    st = openid4vp_session_transcript(r["client_id"], r["nonce"], r["response_uri"])
    info = cbor.dumps([r["client_id"], r["nonce"], None, r["response_uri"]])
    assert st.value() == [None, None, ["OpenID4VPHandover", hashlib.sha256(info).digest()]]
    assert st.encoded.hex() != r["session_transcript_hex"]


def test_session_transcript_bytes_is_tag24_of_the_array() -> None:
    r = V["redirect"]
    st = openid4vp_session_transcript(r["client_id"], r["nonce"], r["response_uri"], jwk_thumbprint_sha256(V["jwk"]))
    assert st.tagged_bytes == bytes.fromhex("d8185838") + bytes.fromhex(r["session_transcript_hex"])


def test_dc_api_rejects_prefixed_origin() -> None:
    from eidcore.errors import InvalidRequest

    with pytest.raises(InvalidRequest):
        dc_api_session_transcript("origin:https://example.com", "n")
