"""eidcore.encoding: the one base64url (RFC 4648 §5 without padding, RFC 7515 §2), strict on input."""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest

from eidcore import jose
from eidcore.encoding import b64u_decode, b64u_encode
from eidcore.errors import ParsingError


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 31, 32, 33, 255, 1000])
def test_round_trip_and_same_output_as_the_stdlib(n: int) -> None:
    data = os.urandom(n)
    text = b64u_encode(data)
    assert text == base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
    assert b64u_decode(text) == data
    assert b64u_decode(text.encode("ascii")) == data
    assert jose.b64url_encode(data) == text and jose.b64url_decode(text) == data


def test_rfc_7515_appendix_c_example() -> None:
    # RFC 7515 Appendix C: the octets 3, 236, 255, 224, 193 encode as "A-z_4ME"
    assert b64u_encode(bytes([3, 236, 255, 224, 193])) == "A-z_4ME"
    assert b64u_decode("A-z_4ME") == bytes([3, 236, 255, 224, 193])


@pytest.mark.parametrize("text", [
    "A-z_4ME=", "A+z/4ME", "A-z_4ME\n", " A-z_4ME", "A-z_ 4ME", "A", "AAAAA", "ÆØÅA", "A-z_4M!", b"A-z_4ME=",
    b"\xffAAA", None, 12,
])
def test_refused(text: Any) -> None:
    with pytest.raises(ParsingError, match=r"^thing is not"):
        b64u_decode(text, what="thing")
