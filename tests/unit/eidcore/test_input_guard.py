"""The edge's input guard (eidcore.web.InputGuard): nesting depth without parsing (RFC 8259 §9), control characters
and half surrogate pairs, bodies over the size cap; a harmless request passes through with its body intact."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from litestar import Litestar, Request, post

from eidcore.web import (
    MAX_BODY,
    MAX_JSON_DEPTH,
    edge_config,
    error_handlers,
    form_too_deep,
    json_bad_escape,
    json_too_deep,
)


def test_json_depth_counts_brackets_outside_strings_only() -> None:
    assert not json_too_deep(json.dumps({"a": [[1, 2], {"b": None}]}).encode())
    assert json_too_deep(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1))
    assert not json_too_deep(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)
    assert json_too_deep(b"[" * 100_000)  # unbalanced: still refused, and without recursion
    in_string = json.dumps({"s": "[{" * 1000, "t": "\\\"[[[[" * 100}).encode()
    assert not json_too_deep(in_string)
    # many brackets side by side are wide, not deep
    assert not json_too_deep(json.dumps([[i] for i in range(1000)]).encode())
    assert not json_too_deep(b"[]" * 100_000)
    assert not json_too_deep((b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH) * 1000)


@pytest.mark.parametrize(("text", "bad"), [
    ("\x00", True), ("\x1f", True), ("\t\n\r", False), ("æøå 😀", False), ("\ud800", True), ("\udc00", True),
    ("\\u0000", False),               # a backslash, then the text u0000
    ("\\\x00", True),                # a backslash, then NUL
    ("\\ud83d\ude00", True),         # the text \ud83d, then a low surrogate alone
    ("\\😀", False),                  # a backslash, then a real pair
], ids=["nul", "us", "tab-lf-cr", "letters", "high", "low", "text-u0000", "backslash-nul", "text-high-low",
        "backslash-pair"])
def test_json_escapes_of_controls_and_half_surrogates_are_found(text: str, bad: bool) -> None:
    body = json.dumps({"a": text}).encode()  # json.dumps escapes every control and non-ASCII character
    assert json_bad_escape(body) is bad, body


def test_form_depth_looks_into_each_parameter() -> None:
    deep = "[" * 5000 + "]" * 5000
    assert form_too_deep(urlencode({"authorization_details": deep}).encode())
    assert form_too_deep(urlencode({"a": "x", "vp_token": "{\"k\":" * 100 + "1" + "}" * 100}).encode())
    assert not form_too_deep(urlencode({"a": "[" * 40, "b": "[" * 40}).encode())  # many, none deep
    assert not form_too_deep(urlencode({"vp_token": json.dumps({"id": ["eyJ..."]})}).encode())


@post("/echo")
async def echo(request: Request[Any, Any, Any]) -> dict[str, Any]:
    body = await request.body()
    return {"length": len(body), "head": body[:20].decode(errors="replace")}


def app() -> Litestar:
    return Litestar([echo], exception_handlers=error_handlers("oauth"), **edge_config())


@pytest.mark.parametrize(("path", "content", "ctype", "status"), [
    ("/echo", b"[" * 5000 + b"]" * 5000, "application/json", 400),
    ("/echo", b"[" * 5000 + b"]" * 5000, "text/plain", 400),           # JSON whatever its declared type
    ("/echo", json.dumps({"a": "\x00"}).encode(), "application/json", 400),
    ("/echo", json.dumps({"a": "\ud800"}).encode(), "application/json", 400),
    ("/echo", b"a=%00", "application/x-www-form-urlencoded", 400),
    ("/echo", b"a=\x01", "application/x-www-form-urlencoded", 400),
    ("/echo?x=%00", b"{}", "application/json", 400),
    ("/echo?claims=" + "%5B" * 100, b"{}", "application/json", 400),
    ("/echo", b"authorization_details=" + b"%5B" * 100, "application/x-www-form-urlencoded", 400),
    ("/echo%00", b"{}", "application/json", 404),                        # no such route: the router answers
    ("/echo", b"x" * (MAX_BODY + 1), "application/octet-stream", 413),
    ("/echo", json.dumps({"a": "line\nbreak\ttab", "b": "\\u0000 as text"}).encode(), "application/json", 201),
    ("/echo", b"a=line%0Abreak&b=%09", "application/x-www-form-urlencoded", 201),
])
async def test_the_guard_refuses_hostile_bodies_and_passes_harmless_ones(path: str, content: bytes, ctype: str,
                                                                          status: int) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app()), base_url="http://test") as c:
        r = await c.post(path, content=content, headers={"Content-Type": ctype})
    assert r.status_code == status, r.text
    if status == 201:
        assert r.json()["length"] == len(content)
    elif status in (400, 413):
        assert r.json()["error"] == "invalid_request"


async def test_a_body_in_many_chunks_reaches_the_handler_whole() -> None:
    body = json.dumps({"k": "v" * 50_000}).encode()

    async def chunks() -> Any:
        for i in range(0, len(body), 4096):
            yield body[i:i + 4096]

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app()), base_url="http://test") as c:
        r = await c.post("/echo", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 201 and r.json()["length"] == len(body)
