"""Status List Tokens (JWT and CWT): issue -> verify round trips, key selection, times, lookups."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given, settings
from hypothesis import strategies as st

from eidcore import cbor, cose, jose
from eidcore.errors import (
    Expired,
    InvalidSignature,
    StatusInvalid,
    StatusListError,
    StatusSuspended,
    UntrustedIssuer,
)
from eidcore.keys import make_leaf, make_root_ca
from eidcore.status_list import (
    StatusList,
    StatusReference,
    StatusValue,
    check_status,
    issue_cwt,
    issue_jwt,
    verify_cwt,
    verify_jwt,
)

sys.path.insert(0, str(Path(__file__).parent))
from _status_list_helpers import KEY, NOW, OTHER_KEY, URI, clock, ec_public, sample_list


def test_jwt_round_trip() -> None:
    lst = sample_list(bits=2, size=1000)
    token = issue_jwt(lst, uri=URI, key=KEY, clock=clock(), expires_in=3600, ttl=600, iss="https://issuer")
    header = jose.parse_jws(token).header
    assert header == {"alg": "ES256", "typ": "statuslist+jwt", "kid": "k1"}
    v = verify_jwt(token, uri=URI, clock=clock(NOW + 100), keys=[KEY.public_key])
    assert (v.uri, v.iat, v.exp, v.ttl, v.iss, v.form) == (URI, NOW, NOW + 3600, 600, "https://issuer", "jwt")
    assert v.status_list == lst


def test_jwt_claims_without_exp_and_ttl() -> None:
    token = issue_jwt(sample_list(), uri=URI, key=KEY, clock=clock(), expires_in=None, ttl=None)
    claims = jose.parse_jws(token).payload
    assert b'"exp"' not in claims and b'"ttl"' not in claims
    v = verify_jwt(token, uri=URI, clock=clock(NOW + 10**8), keys=[KEY.public_key])
    assert v.exp is None and v.ttl is None and v.cache_until(NOW) is None


def test_cwt_round_trip_and_wire_shape() -> None:
    lst = sample_list(bits=4, size=5000)
    token = issue_cwt(lst, uri=URI, key=KEY, clock=clock(), expires_in=3600, ttl=600)
    raw = cbor.loads(token)
    assert isinstance(raw, cbor.CBORTag) and raw.tag == 18
    msg = cose.decode_sign1(token)
    assert msg.protected_header == {1: -7, 16: "application/statuslist+cwt"}
    assert msg.unprotected == {4: b"k1"}
    assert msg.payload is not None
    claims = cbor.loads(msg.payload)
    assert list(claims) == [2, 6, 4, 65534, 65533]
    assert claims[65533]["bits"] == 4 and isinstance(claims[65533]["lst"], bytes)
    v = verify_cwt(token, uri=URI, clock=clock(NOW + 5), keys={"k1": ec_public(KEY)})
    assert (v.uri, v.iat, v.exp, v.ttl, v.kid, v.form) == (URI, NOW, NOW + 3600, 600, "k1", "cwt")
    assert v.status_list == lst


def test_cache_until_takes_the_earlier_of_exp_and_ttl() -> None:
    token = issue_jwt(sample_list(), uri=URI, key=KEY, clock=clock(), expires_in=3600, ttl=600)
    v = verify_jwt(token, uri=URI, clock=clock(), keys=[KEY.public_key])
    assert v.cache_until(NOW) == NOW + 600
    assert v.cache_until(NOW + 3500) == NOW + 3600


def test_key_mapping_picks_by_kid() -> None:
    token = issue_jwt(sample_list(), uri=URI, key=KEY, clock=clock())
    keys = {"other": OTHER_KEY.public_key, "k1": KEY.public_key}
    assert verify_jwt(token, uri=URI, clock=clock(), keys=keys).kid == "k1"
    with pytest.raises(UntrustedIssuer):
        verify_jwt(token, uri=URI, clock=clock(), keys={"other": KEY.public_key})


def test_key_list_tries_every_key() -> None:
    token = issue_cwt(sample_list(), uri=URI, key=KEY, clock=clock())
    v = verify_cwt(token, uri=URI, clock=clock(), keys=[OTHER_KEY.public_key, KEY.public_key])
    assert v.key == KEY.public_key
    with pytest.raises(InvalidSignature):
        verify_cwt(token, uri=URI, clock=clock(), keys=[OTHER_KEY.public_key])


def _pki() -> tuple[jose.SigningKey, x509.Certificate]:
    now = dt.datetime.fromtimestamp(NOW, dt.UTC)
    root_key, root = make_root_ca("Status Root", now=now)
    leaf_key, leaf = make_leaf("Status Signer", root_key, root, now=now, days=30)
    signer = jose.SigningKey(leaf_key, "ES256", None, (leaf.public_bytes(Encoding.DER),))
    return signer, root


def test_x5c_and_x5chain_validate_to_a_trust_anchor() -> None:
    signer, root = _pki()
    jwt_token = issue_jwt(sample_list(), uri=URI, key=signer, clock=clock(), include_x5c=True)
    cwt_token = issue_cwt(sample_list(), uri=URI, key=signer, clock=clock(), include_x5chain=True)
    assert verify_jwt(jwt_token, uri=URI, clock=clock(), trust_anchors=[root]).uri == URI
    assert verify_cwt(cwt_token, uri=URI, clock=clock(), trust_anchors=[root]).uri == URI
    _, other_root = _pki()
    with pytest.raises(UntrustedIssuer):
        verify_jwt(jwt_token, uri=URI, clock=clock(), trust_anchors=[other_root])
    with pytest.raises(UntrustedIssuer):
        verify_cwt(cwt_token, uri=URI, clock=clock(), trust_anchors=[other_root])


def test_leeway_on_exp_and_iat() -> None:
    token = issue_jwt(sample_list(), uri=URI, key=KEY, clock=clock(), expires_in=100)
    verify_jwt(token, uri=URI, clock=clock(NOW + 130), keys=[KEY.public_key])  # within the 60 s leeway
    with pytest.raises(Expired):
        verify_jwt(token, uri=URI, clock=clock(NOW + 160), keys=[KEY.public_key])
    with pytest.raises(Expired):
        verify_jwt(token, uri=URI, clock=clock(NOW + 101), keys=[KEY.public_key], leeway=0)
    verify_jwt(token, uri=URI, clock=clock(NOW - 30), keys=[KEY.public_key])  # iat 30 s ahead: tolerated


def test_historical_time_inside_the_window() -> None:
    token = issue_jwt(sample_list(), uri=URI, key=KEY, clock=clock(), expires_in=100)
    assert verify_jwt(token, uri=URI, clock=clock(), keys=[KEY.public_key], at_time=NOW + 50).iat == NOW


# -- check_status ------------------------------------------------------------------------------------------


def test_check_status_values() -> None:
    lst = StatusList(32, 4)
    lst.set(1, 1)
    lst.set(2, 2)
    lst.set(3, 3)
    lst.set(12, 0x0C)
    lst.set(15, 0x0F)
    lst.set(4, 4)
    v = verify_jwt(issue_jwt(lst, uri=URI, key=KEY, clock=clock()), uri=URI, clock=clock(), keys=[KEY.public_key])
    assert check_status(StatusReference(URI, 0), v) is StatusValue.VALID
    with pytest.raises(StatusInvalid):
        check_status(StatusReference(URI, 1), v)
    with pytest.raises(StatusSuspended):
        check_status(StatusReference(URI, 2), v)
    assert check_status(StatusReference(URI, 3), v) is StatusValue.APPLICATION_SPECIFIC_3
    assert check_status(StatusReference(URI, 12), v) is StatusValue.APPLICATION_SPECIFIC_C
    assert check_status(StatusReference(URI, 15), v) is StatusValue.APPLICATION_SPECIFIC_F
    with pytest.raises(StatusListError) as exc:
        check_status(StatusReference(URI, 4), v)
    assert exc.value.details["reason"] == "reserved_status"
    with pytest.raises(StatusListError) as exc:
        check_status(StatusReference(URI, 32), v)
    assert exc.value.details["reason"] == "index_out_of_range"
    with pytest.raises(StatusListError) as exc:
        check_status(StatusReference(URI + "x", 0), v)
    assert exc.value.details["reason"] == "sub_mismatch"


def test_revoke_then_republish() -> None:
    lst = StatusList(100_000, 1)
    ref = StatusReference(URI, 4242)
    first = verify_cwt(issue_cwt(lst, uri=URI, key=KEY, clock=clock()), uri=URI, clock=clock(),
                       keys=[KEY.public_key])
    assert check_status(ref, first) is StatusValue.VALID
    lst.set(ref.idx, StatusValue.INVALID)
    second = verify_cwt(issue_cwt(lst, uri=URI, key=KEY, clock=clock()), uri=URI, clock=clock(),
                        keys=[KEY.public_key])
    with pytest.raises(StatusInvalid):
        check_status(ref, second)
    assert check_status(ref, first) is StatusValue.VALID  # the old token is an independent snapshot


@settings(max_examples=25, deadline=None)
@given(bits=st.sampled_from([1, 2, 4, 8]), data=st.data())
def test_token_round_trip_preserves_every_entry(bits: int, data: st.DataObject) -> None:
    size = data.draw(st.integers(1, 3000))
    lst = StatusList(size, bits, chunk_size=128)
    for idx, value in data.draw(st.lists(st.tuples(st.integers(0, len(lst) - 1),
                                                   st.integers(0, (1 << bits) - 1)), max_size=30)):
        lst.set(idx, value)
    form = data.draw(st.sampled_from(["jwt", "cwt"]))
    if form == "jwt":
        v = verify_jwt(issue_jwt(lst, uri=URI, key=KEY, clock=clock()), uri=URI, clock=clock(),
                       keys=[KEY.public_key])
    else:
        v = verify_cwt(issue_cwt(lst, uri=URI, key=KEY, clock=clock()), uri=URI, clock=clock(),
                       keys=[KEY.public_key])
    assert v.status_list.to_bytes() == lst.to_bytes()
