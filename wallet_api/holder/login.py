"""The user's login during the OpenID4VCI authorization code flow: how the wallet gets the authorization response.

A wallet opens the authorization URL (RFC 9126 §4: ``client_id`` + ``request_uri`` after PAR) in the user's
browser and receives the redirect back (RFC 6749 §4.1.2). :class:`Login` is that step:

- :class:`LoopbackLogin`: a native app on a desktop (RFC 8252 §7.3 loopback interface redirection): listen on
  ``127.0.0.1`` on a free port, the redirect URI is ``http://127.0.0.1:<port>/callback``, show the URL to open,
  wait for the browser's redirect (with a timeout);
- :class:`TestLoginForm`: drives the issuer's development test login page over HTTP (tests, scripted demos): the
  same authorization endpoint and form a person would use, with the person and level of assurance chosen in code.

The issuer accepts only registered redirect URIs (RFC 9700 §2.1): its dev default registers
``http://127.0.0.1/callback`` and ``http://[::1]/callback`` for ``lommebok-wallet`` (a registered loopback URI
matches any port, RFC 8252 §7.3), which is what both classes here send; another path needs its own registration.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
from collections.abc import Callable
from typing import Protocol
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from eidcore.errors import AccessDenied, InvalidRequest, NotFound

__all__ = ["Login", "LoopbackLogin", "TestLoginForm"]

_MAX_REQUEST = 16 * 1024
_DONE_PAGE = ("<!doctype html><html lang=en><head><meta charset=utf-8><title>Lommebok</title></head><body>"
              "<h1>Lommebok</h1><p>{text}</p></body></html>")


class Login(Protocol):
    """The user-agent part of the authorization code flow."""

    async def start(self) -> str:
        """Get ready; returns the redirect URI to register in the pushed authorization request."""
        ...

    async def authorize(self, authorize_url: str) -> str:
        """Let the user log in at ``authorize_url``; returns the full redirect URL (with ``code`` or ``error``)."""
        ...

    async def close(self) -> None:
        """Release what :meth:`start` took (a listening socket)."""
        ...


class LoopbackLogin:
    """RFC 8252 §7.3: the redirect comes to a one-shot HTTP listener on the loopback interface."""

    def __init__(self, on_url: Callable[[str], None], *, timeout: float = 300.0, host: str = "127.0.0.1",
                 path: str = "/callback") -> None:
        self.on_url = on_url
        self.timeout = timeout
        self.host = host
        self.path = path
        self.redirect_uri: str | None = None
        self._server: asyncio.Server | None = None
        self._result: asyncio.Future[str] | None = None

    async def start(self) -> str:
        """Listen on a free port (chosen by the OS, RFC 8252 §7.3) and return the redirect URI."""
        self._result = asyncio.get_running_loop().create_future()
        self._server = await asyncio.start_server(self._handle, self.host, 0)
        port = self._server.sockets[0].getsockname()[1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.redirect_uri = f"http://{host}:{port}{self.path}"
        return self.redirect_uri

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
            writer.close()
            return
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split(" ")
        target = parts[1] if len(parts) == 3 and parts[0] == "GET" else ""
        ok = (urlsplit(target).path == self.path and self._result is not None and not self._result.done()
              and len(head) <= _MAX_REQUEST)
        if ok:
            assert self._result is not None and self.redirect_uri is not None
            self._result.set_result(urljoin(self.redirect_uri, target))
            q = parse_qs(urlsplit(target).query)
            text = ("Login failed: " + html.escape(q["error"][0]) if "error" in q
                    else "You are logged in. Return to the terminal; you can close this window.")
            body, status = _DONE_PAGE.format(text=text).encode(), "200 OK"
        else:
            body, status = _DONE_PAGE.format(text="Not found.").encode(), "404 Not Found"
        writer.write(f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {len(body)}"
                     "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n".encode() + body)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()

    async def authorize(self, authorize_url: str) -> str:
        """Show the URL to open, then wait (up to ``timeout`` seconds) for the browser's redirect."""
        if self._result is None:
            raise InvalidRequest("call start() first")
        self.on_url(authorize_url)
        try:
            return await asyncio.wait_for(asyncio.shield(self._result), self.timeout)
        except TimeoutError:
            raise AccessDenied(f"the login was not completed within {self.timeout:.0f} s") from None

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


_ROW = re.compile(r"<tr><td>(?P<name>[^<]*)</td><td>[^<]*</td><td>(?P<number>[^<]*)</td><td>(?P<alias>[^<]*)</td>"
                  r"<td><button name=person_id value='(?P<id>[^']+)'>")
_POST_ACTION = re.compile(r"<form method=post action='(?P<action>[^']+)'>")


class TestLoginForm:
    """The issuer's development test login page, filled in over HTTP (what a tester does in the browser).

    ``person`` is a story alias (``kari``), a national identity number or a name the page's search finds.
    """

    __test__ = False  # not a pytest class

    def __init__(self, http: httpx.AsyncClient, person: str, *, loa: str = "high",
                 redirect_uri: str = "http://127.0.0.1/callback") -> None:
        self.http = http
        self.person = person
        self.loa = loa
        self.redirect_uri = redirect_uri

    async def start(self) -> str:
        return self.redirect_uri

    async def authorize(self, authorize_url: str) -> str:
        r = await self.http.get(authorize_url)
        if r.status_code != 302:
            raise InvalidRequest(f"the authorization endpoint answered {r.status_code}, not a redirect to a login")
        login_url = urljoin(authorize_url, r.headers["location"])
        session = parse_qs(urlsplit(login_url).query).get("session", [""])[0]
        page = await self.http.get(login_url.split("?", 1)[0], params={"session": session, "q": self.person})
        if page.status_code != 200:
            raise InvalidRequest(f"the test login page answered {page.status_code}")
        text = page.text
        rows = list(_ROW.finditer(text))
        wanted = self.person.strip().lower()
        match = [m for m in rows if wanted in (html.unescape(m["alias"]).lower(), html.unescape(m["number"]))]
        if not match and len(rows) == 1:
            match = rows
        if not match:
            raise NotFound(f"the test login page lists no person {self.person!r}")
        action = _POST_ACTION.search(text)
        if action is None:
            raise InvalidRequest("the test login page has no login form")
        r = await self.http.post(urljoin(login_url, html.unescape(action["action"])),
                                 data={"session": session, "person_id": html.unescape(match[0]["id"]),
                                       "loa": self.loa})
        if r.status_code != 302:
            raise InvalidRequest(f"the test login answered {r.status_code}, not the redirect back to the wallet")
        return str(r.headers["location"])

    async def close(self) -> None:
        return None
