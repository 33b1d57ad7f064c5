"""A child's PID only as a guardian authorises it, through the issuer's deferred issuance (issue 7; OpenID4VCI
1.0 §8-§9): the child's wallet redeems an offer made for it with ``require_approval``, gets 202 and a
``transaction_id``, and receives the credential only after a guardian with parental responsibility approves in the
guardian API; a guardian without responsibility cannot approve; a denial ends the request."""

from __future__ import annotations

from typing import Any

import pytest

from eidcore import jose
from eidcore.formats.sd_jwt import SdJwtHolder
from tests.e2e.conftest import Stack
from tests.e2e.youth.family import Family
from wallet_api.holder.provider_client import ProviderClient
from wallet_api.holder.vci import CredentialResponse, TokenResponse, VciClient, fetch_metadata, resolve_offer
from wallet_api.holder.youth import YouthClient, register_child_wallet

PID_VCT = "urn:eudi:pid:1"


@pytest.fixture
def family(stack: Stack) -> Family:
    return Family(stack)


async def youth_wallet(family: Family, alias: str, guardian: ProviderClient) -> tuple[str, YouthClient]:
    """A child's wallet registered by ``guardian`` (no credentials yet)."""
    wallet, view = await family.new_wallet()
    pid = await family.person_id(alias)
    child = YouthClient(wallet)
    assert (await register_child_wallet(guardian, pid, await child.pairing_code()))["id"] == view["id"]
    return pid, child


async def redeem(family: Family, view: dict[str, Any], key: jose.SigningKey
                 ) -> tuple[VciClient, TokenResponse, CredentialResponse]:
    """The child's wallet redeems the offer it was given (pre-authorized code + tx_code)."""
    offer = await resolve_offer(family.http, view["offer_uri"])
    assert offer.pre_authorized_code is not None and offer.credential_configuration_ids == (
        view["credential_configuration_id"],)
    vci = VciClient(family.http, await fetch_metadata(family.http, family.stack.url("/issuer")), clock=family.rt.clock)
    tok = await vci.token_pre_authorized(offer.pre_authorized_code, view["tx_code"])
    resp = await vci.request_credential(tok, proofs=[vci.proof(key, await vci.nonce())],
                                        credential_configuration_id=view["credential_configuration_id"])
    return vci, tok, resp


async def test_the_pid_comes_only_after_a_responsible_guardian_approves(family: Family) -> None:
    kari, erik = await family.guardian("kari"), await family.guardian("erik")
    emma_id, emma = await youth_wallet(family, "emma", kari)
    view = await emma.request_credential("pid_vc_sd_jwt")
    assert view["status"] == "offered" and view["requested_by"] == "child" and view["tx_code"]
    key = jose.generate_signing_key()
    vci, tok, resp = await redeem(family, view, key)
    assert resp.transaction_id and not resp.credentials  # 202: deferred
    assert (await emma.report_transaction(view["id"], resp.transaction_id))["status"] == "awaiting_approval"
    again = await vci.deferred(tok, resp.transaction_id)
    assert again.transaction_id == resp.transaction_id and not again.credentials  # still waiting
    # the guardians see it (without the offer), erik (not responsible for emma) cannot approve
    listed = (await kari.call("GET", "/guardian/credential-requests")).json()
    assert [(r["id"], r["child_id"], r["status"], r["offer_uri"]) for r in listed] == [
        (view["id"], emma_id, "awaiting_approval", None)]
    assert (await erik.call("GET", "/guardian/credential-requests")).json() == []
    r = await erik.call("POST", f"/guardian/credential-requests/{view['id']}/approve", expect=(403,))
    assert r.json()["type"] == "urn:lommebok:error:access_denied"
    assert not (await vci.deferred(tok, resp.transaction_id)).credentials
    approved = (await kari.call("POST", f"/guardian/credential-requests/{view['id']}/approve")).json()
    assert approved["status"] == "approved" and approved["approvals"] == 1
    done = await vci.deferred(tok, resp.transaction_id)
    assert len(done.credentials) == 1
    claims = SdJwtHolder().load(done.credentials[0]).claims
    assert claims["vct"] == PID_VCT
    assert jose.jwk_thumbprint_b64u(claims["cnf"]["jwk"]) == jose.jwk_thumbprint_b64u(key.public_jwk)
    assert claims["given_name"] == "Emma"
    assert (await emma.credential_request(view["id"]))["status"] == "approved"
    r = await kari.call("POST", f"/guardian/credential-requests/{view['id']}/deny", expect=(409,))
    assert r.json()["type"] == "urn:lommebok:error:conflict"


async def test_a_guardian_asks_and_a_denial_ends_it(family: Family) -> None:
    kari, ola = await family.guardian("kari"), await family.guardian("ola")
    emma_id, emma = await youth_wallet(family, "emma", kari)
    asked = (await kari.call("POST", f"/guardian/children/{emma_id}/credential-requests",
                             json={"credential_configuration_id": "pid_mso_mdoc"}, expect=(201,))).json()
    assert asked["requested_by"] == "guardian" and asked["offer_uri"] is None and asked["tx_code"] is None
    # nothing to approve before the child's wallet has asked the issuer
    r = await ola.call("POST", f"/guardian/credential-requests/{asked['id']}/approve", expect=(409,))
    assert r.json()["type"] == "urn:lommebok:error:conflict"
    view = await emma.credential_request(asked["id"])
    assert view["status"] == "offered" and view["offer_uri"]
    vci, tok, resp = await redeem(family, view, jose.generate_signing_key())
    assert resp.transaction_id and not resp.credentials
    await emma.report_transaction(view["id"], resp.transaction_id)
    denied = (await ola.call("POST", f"/guardian/credential-requests/{asked['id']}/deny")).json()
    assert denied["status"] == "denied" and denied["decided_by"] == "guardian"
    assert (await emma.credential_request(asked["id"]))["status"] == "denied"
    r = await kari.call("POST", f"/guardian/credential-requests/{asked['id']}/approve", expect=(409,))
    assert r.json()["type"] == "urn:lommebok:error:conflict"
    assert not (await vci.deferred(tok, resp.transaction_id)).credentials  # never approved at the issuer
    r = await emma.provider.call("POST", f"/youth/credential-requests/{asked['id']}/transaction", expect=(409,),
                                 json={"transaction_id": resp.transaction_id})
    assert r.json()["type"] == "urn:lommebok:error:conflict"


async def test_only_a_pid_and_only_from_a_youth_wallet(family: Family) -> None:
    kari = await family.guardian("kari")
    emma_id, emma = await youth_wallet(family, "emma", kari)
    r = await emma.provider.call("POST", "/youth/credential-requests", expect=(400,),
                                 json={"credential_configuration_id": "employee_role_vc_sd_jwt"})
    assert r.status_code == 400
    r = await kari.call("POST", "/youth/credential-requests", expect=(403,),
                        json={"credential_configuration_id": "pid_vc_sd_jwt"})
    assert r.json()["type"] == "urn:lommebok:error:access_denied"
    erik = await family.guardian("erik")
    r = await erik.call("POST", f"/guardian/children/{emma_id}/credential-requests", expect=(403,),
                        json={"credential_configuration_id": "pid_vc_sd_jwt"})
    assert r.json()["type"] == "urn:lommebok:error:access_denied"


async def test_a_reported_transaction_id_cannot_steer_the_admin_call(family: Family) -> None:
    kari = await family.guardian("kari")
    _, emma = await youth_wallet(family, "emma", kari)
    view = await emma.request_credential()
    for bad in ("../../credentials/status", "a/b", "x?y=1", ".."):
        r = await emma.provider.call("POST", f"/youth/credential-requests/{view['id']}/transaction", expect=(400,),
                                     json={"transaction_id": bad})
        assert r.status_code == 400, bad
    assert (await emma.credential_request(view["id"]))["status"] == "offered"
