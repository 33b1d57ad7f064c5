"""OpenID4VCI 1.0 §11: a notification id is accepted only with an access token of the grant it was issued under;
any other grant's token gets ``invalid_notification_id`` (400), and nothing about the batch is revealed."""

from __future__ import annotations

from typing import Any

import pytest

from eidcore import jose
from eidcore.errors import InvalidNotificationId
from tests.e2e.issuer.conftest import REDIRECT

NOTIFY = "/issuer/notification"


async def _issued(h: Any, person: str) -> tuple[Any, Any, str]:
    """A credential for ``person`` by the pre-authorized code flow: (client, token, notification_id)."""
    client, tok = await h.pre_authorized_token(person, ["pid_vc_sd_jwt"])
    creds, _, resp = await h.credentials(client, tok, "pid_vc_sd_jwt")
    assert creds and resp.notification_id
    return client, tok, resp.notification_id


async def test_notification_id_of_another_grant_is_refused(h: Any) -> None:
    kari_client, kari_tok, kari_nid = await _issued(h, "kari")
    ola_client, ola_tok, ola_nid = await _issued(h, "ola")
    # the attack: Ola's token with Kari's notification id
    r = await h.stack.client.post(NOTIFY, json={"notification_id": kari_nid, "event": "credential_deleted"},
                                  headers={"Authorization": f"Bearer {ola_tok.access_token}"})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_notification_id"
    assert "kari" not in r.text.lower()
    with pytest.raises(InvalidNotificationId):
        await kari_client.notify(ola_tok, kari_nid, "credential_failure")
    # each grant's own notification is accepted (and stays idempotent)
    for _ in range(2):
        await kari_client.notify(kari_tok, kari_nid, "credential_accepted")
    await ola_client.notify(ola_tok, ola_nid, "credential_accepted")


async def test_notification_id_of_another_grant_of_the_same_person_is_refused(h: Any) -> None:
    """The binding is to the grant, not to the person: a second grant of the same person cannot use the first's."""
    _, _, first_nid = await _issued(h, "kari")
    client, second_tok, _ = await _issued(h, "kari")
    with pytest.raises(InvalidNotificationId):
        await client.notify(second_tok, first_nid, "credential_accepted")


async def test_notification_survives_refresh_token_rotation(h: Any) -> None:
    """The code flow's grant keeps its identity across refresh (RFC 6749 §6): a rotated access token of the same
    grant may still notify; a token of a fresh grant may not."""
    client = await h.client(dpop=True, attested=True)
    auth = await client.push_authorization(redirect_uri=REDIRECT, scope="pid_vc_sd_jwt")
    tok = await client.token_authorization_code(client.authorization_code(await h.login(auth, "kari"), auth), auth)
    nonce = await client.nonce()
    resp = await client.request_credential(tok, proofs=[client.proof(jose.generate_signing_key(), nonce)],
                                           credential_configuration_id="pid_vc_sd_jwt")
    assert resp.notification_id
    rotated = await client.refresh(tok)
    assert rotated.access_token != tok.access_token
    await client.notify(rotated, resp.notification_id, "credential_accepted")
    other_client, other_tok = await h.pre_authorized_token("kari", ["pid_vc_sd_jwt"])
    with pytest.raises(InvalidNotificationId):
        await other_client.notify(other_tok, resp.notification_id, "credential_accepted")


async def test_forged_or_legacy_notification_id_is_refused(h: Any) -> None:
    """A notification id sealed without a grant (the old form) or altered is unknown: 400, never 500."""
    _, tok, nid = await _issued(h, "kari")
    from issuer.app import issuer_of

    legacy = await issuer_of(h.stack.app).seal("notification", b"x" * 22)
    for bad in (legacy, nid[:-2] + ("AA" if not nid.endswith("AA") else "BB"), "not-a-notification-id"):
        r = await h.stack.client.post(NOTIFY, json={"notification_id": bad, "event": "credential_accepted"},
                                      headers={"Authorization": f"Bearer {tok.access_token}"})
        assert r.status_code == 400 and r.json()["error"] == "invalid_notification_id", r.text
