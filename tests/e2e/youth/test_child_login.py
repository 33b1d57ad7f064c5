"""A child cannot log in at level high alone at the issuer's test login (issue 7): the page says why, the level
reached is capped at substantial, and the issuer refuses a PID through that route (a youth credential is fine)."""

from __future__ import annotations

import html
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from eidcore.clock import FixedClock
from eidcore.errors import AccessDenied
from eidcore.identity import LevelOfAssurance
from issuer.login import CHILD_NOTE, alone_level
from tests.e2e.conftest import Stack
from tests.e2e.issuer.conftest import REDIRECT, Helper


@pytest.fixture
def h(stack: Stack) -> Helper:
    return Helper(stack)


async def _login(h: Helper, scope: str, alias: str, loa: str = "high") -> tuple[Any, Any, str]:
    client = await h.client(dpop=True, attested=True)
    auth = await client.push_authorization(redirect_uri=REDIRECT, scope=scope)
    return client, auth, await h.login(auth, alias, loa=loa)


async def test_a_child_alone_cannot_get_a_pid_and_the_page_says_why(h: Helper) -> None:
    client, auth, location = await _login(h, "pid_vc_sd_jwt", "emma")
    with pytest.raises(AccessDenied) as exc:
        client.authorization_code(location, auth)
    assert "level of assurance high" in exc.value.description
    # the page marks the child (and only the child) with the reason
    auth = await client.push_authorization(redirect_uri=REDIRECT, scope="pid_vc_sd_jwt")
    r = await h.stack.client.get(auth.authorize_url)
    session = r.headers["location"].split("session=")[1]
    emma_row = (await h.stack.client.get("/issuer/login", params={"session": session, "q": "Emma"})).text
    kari_row = (await h.stack.client.get("/issuer/login", params={"session": session, "q": "Kari"})).text
    # the page escapes the note (an apostrophe may come as &#39; or &#x27;): compare the text a reader sees
    assert CHILD_NOTE in html.unescape(emma_row) and CHILD_NOTE not in html.unescape(kari_row)


async def test_a_child_alone_reaches_substantial_and_an_adult_high(h: Helper) -> None:
    client, auth, location = await _login(h, "youth_vc_sd_jwt", "jonas")
    tok = await client.token_authorization_code(client.authorization_code(location, auth), auth)
    creds, _, _ = await h.credentials(client, tok, "youth_vc_sd_jwt")
    assert len(creds) == 1
    client, auth, location = await _login(h, "pid_vc_sd_jwt", "kari")
    tok = await client.token_authorization_code(client.authorization_code(location, auth), auth)
    creds, _, _ = await h.credentials(client, tok, "pid_vc_sd_jwt")
    assert len(creds) == 1


async def test_the_age_comes_from_the_register_on_the_injected_clock(h: Helper) -> None:
    jonas = await h.rt_person("jonas")  # 15
    eighteen = jonas.birth_date.replace(year=jonas.birth_date.year + 18)
    day_before = FixedClock(datetime.combine(eighteen - timedelta(days=1), time(12), UTC))
    birthday = FixedClock(datetime.combine(eighteen, time(0, 0, 1), UTC))
    assert alone_level(jonas, LevelOfAssurance.HIGH, day_before) == LevelOfAssurance.SUBSTANTIAL
    assert alone_level(jonas, LevelOfAssurance.HIGH, birthday) == LevelOfAssurance.HIGH
    assert alone_level(jonas, LevelOfAssurance.LOW, day_before) == LevelOfAssurance.LOW
