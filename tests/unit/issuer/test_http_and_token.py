"""Unit tests: the typed request bodies keep the protocol's strict parsing and error codes (issuer.http), and the
token endpoint runs its grant classes with the extensions in their order (issuer.token)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import pytest
from litestar import Litestar, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.testing import AsyncTestClient
from pydantic import BaseModel

from eidcore.errors import InvalidNotificationId, InvalidNotificationRequest, UnsupportedGrantType
from eidcore.web import error_handlers
from issuer.http import body_dto
from issuer.oauth import ClientAuth, Grant
from issuer.schemas import NotificationRequest, TokenRequest
from issuer.token import GrantType, TokenEndpoint, TokenExtension, TokenRequestContext


class Form(BaseModel):
    grant_type: str
    code: str | None = None


@post("/form", dto=body_dto(Form, "form"), return_dto=None, status_code=200)
async def form(data: Annotated[Form, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> dict[str, Any]:
    return {"grant_type": data.grant_type}


@post("/note", dto=body_dto(NotificationRequest, "json", InvalidNotificationRequest,
                            {"notification_id": InvalidNotificationId}), return_dto=None, status_code=200)
async def note(data: Annotated[NotificationRequest, Body()]) -> dict[str, Any]:
    return {"event": data.event}


APP = Litestar([form, note], exception_handlers=error_handlers("oauth"))
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize(("content", "headers", "status", "error"), [
    (b"grant_type=x&code=c&unknown=ignored", FORM, 200, None),
    (b"grant_type=a&grant_type=b", FORM, 400, "invalid_request"),  # RFC 6749 §3.2: no parameter twice
    (b"grant_type=\xff\xfe", FORM, 400, "invalid_request"),  # not UTF-8
    (b'{"grant_type": "x"}', {"Content-Type": "application/json"}, 400, "invalid_request"),
    (b"code=c", FORM, 400, "invalid_request"),
])
async def test_form_bodies_are_parsed_strictly(content: bytes, headers: dict[str, str], status: int,
                                               error: str | None) -> None:
    async with AsyncTestClient(APP) as c:
        r = await c.post("/form", content=content, headers=headers)
    assert r.status_code == status, r.text
    assert r.json().get("error") == error


@pytest.mark.parametrize(("body", "error"), [
    (b'{"event": "credential_accepted"}', "invalid_notification_id"),
    (b'{"notification_id": "n", "event": "nope"}', "invalid_notification_request"),
    (b'{"notification_id": "n", "notification_id": "m", "event": "credential_accepted"}',
     "invalid_notification_request"),  # a duplicate member
    (b"[]", "invalid_notification_request"),
])
async def test_json_bodies_answer_the_protocols_error(body: bytes, error: str) -> None:
    async with AsyncTestClient(APP) as c:
        r = await c.post("/note", content=body, headers={"Content-Type": "application/json"})
    assert (r.status_code, r.json()["error"]) == (400, error), r.text


class _Recorder(TokenExtension):
    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    async def before(self, ctx: TokenRequestContext) -> None:
        self.log.append(f"{self.name}.before")

    async def after_authentication(self, ctx: TokenRequestContext, auth: ClientAuth) -> None:
        self.log.append(f"{self.name}.after_authentication")

    async def after_validation(self, ctx: TokenRequestContext, bound: Mapping[str, Any]) -> None:
        self.log.append(f"{self.name}.after_validation")


class _Auth:
    async def authenticate(self, ctx: TokenRequestContext, client_id: str | None, *, required: bool) -> ClientAuth:
        return ClientAuth(client_id)


class _EchoGrant(GrantType):
    grant_type = "urn:example:echo"

    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def validate(self, ctx: TokenRequestContext) -> Grant:
        self.log.append("grant.validate")
        await ctx.authenticate_client("c", required=False)
        await ctx.validated({})
        raise UnsupportedGrantType("stop here: no tokens in a unit test")


async def test_the_token_endpoint_runs_the_grant_between_its_extensions() -> None:
    log: list[str] = []
    endpoint = TokenEndpoint(object(), grants=[_EchoGrant(log)],  # type: ignore[arg-type]
                             extensions=[_Recorder("a", log), _Recorder("b", log)],
                             client_auth=_Auth())
    with pytest.raises(UnsupportedGrantType, match="stop here"):
        await endpoint(object(), TokenRequest(grant_type="urn:example:echo"))  # type: ignore[arg-type]
    assert log == ["a.before", "b.before", "grant.validate", "a.after_authentication", "b.after_authentication",
                   "a.after_validation", "b.after_validation"]
    log.clear()
    with pytest.raises(UnsupportedGrantType, match="grant_type must be"):
        await endpoint(object(), TokenRequest(grant_type="password"))  # type: ignore[arg-type]
    assert "grant.validate" not in log
