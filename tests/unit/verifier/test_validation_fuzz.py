"""Whatever a wallet sends as ``vp_token``, validation ends in a named failed check (CheckFailed), never another
exception (which the response endpoint would turn into a 500)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eidcore.clock import FixedClock
from eidcore.credential_types import load_credential_types
from eidcore.dcql import DcqlQuery
from eidcore.formats.mdoc import openid4vp_session_transcript
from eidcore.keys import create_dev_pki
from verifier.profiles import build_profile
from verifier.validation import CheckFailed, ResponseContext, TrustConfig, Validator

(_, ROOT), _IDS = create_dev_pki("http://localhost:8000")
QUERY = DcqlQuery.parse(build_profile("pid-basic").dcql_query)
CTX = ResponseContext("x509_san_dns:localhost", "nonce", "http://localhost:8000/verifier/response/t",
                      openid4vp_session_transcript("x509_san_dns:localhost", "nonce",
                                                   "http://localhost:8000/verifier/response/t"))
VALIDATOR = Validator(TrustConfig.for_types(load_credential_types(), [ROOT]),
                      clock=FixedClock.at_timestamp(time.time()), http=None, status_prefixes=[])

presentation = st.one_of(
    st.text(max_size=60),
    st.builds(lambda a, b, c: f"{a}.{b}.{c}~{a}~", st.text("abcXYZ_-", max_size=20),
              st.text("abcXYZ_-", max_size=20), st.text("abcXYZ_-", max_size=20)),
    st.binary(max_size=40).map(lambda b: __import__("base64").urlsafe_b64encode(b).decode().rstrip("=")),
)
json_values: Any = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                                lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                                    st.text(max_size=5), inner, max_size=3), max_leaves=6)
vp_tokens = st.one_of(
    json_values,
    st.dictionaries(st.sampled_from(["pid", "pid_mdoc", "other"]), st.lists(presentation, max_size=2), max_size=2),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(vp_tokens)
def test_any_vp_token_fails_with_a_named_check(vp_token: Any) -> None:
    try:
        asyncio.run(VALIDATOR.validate(QUERY, vp_token, CTX))
    except CheckFailed as exc:
        assert (exc.check and "." in exc.check) or exc.check in ("vp_token", "same_holder")
    else:
        raise AssertionError("a random vp_token was accepted")
