"""The issuer's admin API under scoped credentials (eidcore.admin_auth, RFC 6750 §3.1).

The wallet provider's own credential (``rt.peer_token("wallet", "issuer")``) holds only
``issuer.admin.WALLET_PROVIDER_SCOPES``: it may offer a child's credential under guardian approval and a mandate
credential for a recorded mandate, change the status of its own wallet instances' credentials, record and revoke
mandates and approve deferred issuance; it may not offer arbitrary credentials, change statuses by credential id
or person, or list mandates. The operator's token keeps every power.
"""

from __future__ import annotations

from typing import Any

from eidcore.api.issuer_admin import IssuerAdminClient, IssuerAdminError, MandateRequest, MandateScope, OfferRequest
from issuer.admin import WALLET_PROVIDER_SCOPES


def _wallet(h: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {h.rt.peer_token('wallet', 'issuer')}"}


async def test_the_wallet_providers_credential_holds_only_its_scopes(h: Any) -> None:
    c = h.stack.client
    assert h.rt.peer_scopes["issuer"]["wallet"] == WALLET_PROVIDER_SCOPES
    wallet = _wallet(h)
    # an offer of a PID for an adult, by the wallet provider's credential: refused (403, insufficient_scope)
    r = await c.post("/issuer/admin/offers", headers=wallet,
                     json={"person": "kari", "credential_configuration_ids": ["pid_vc_sd_jwt"]})
    assert (r.status_code, r.json()["error"]) == (403, "insufficient_scope"), r.text
    # ... also under deferred issuance: kari is an adult, no guardian approves her PID
    r = await c.post("/issuer/admin/offers", headers=wallet, json={
        "person": "kari", "credential_configuration_ids": ["pid_vc_sd_jwt"], "require_approval": True})
    assert (r.status_code, r.json()["error"]) == (403, "insufficient_scope"), r.text
    # a status change by credential id or by person: refused; by instance_jkt: allowed
    for body in ({"action": "revoke", "credential_id": "x"}, {"action": "revoke", "person": "kari"},
                 {"action": "suspend", "subject_ref": "mandate:x"}):
        r = await c.post("/issuer/admin/credentials/status", headers=wallet, json=body)
        assert (r.status_code, r.json()["error"]) == (403, "insufficient_scope"), body
    r = await c.post("/issuer/admin/credentials/status", headers=wallet,
                     json={"action": "suspend", "instance_jkt": "no-such-instance"})
    assert r.status_code == 200 and r.json() == {"updated": 0, "credentials": []}, r.text
    # listing mandates and running the reconciliation need "mandates"
    r = await c.post("/issuer/admin/mandates/query", headers=wallet, json={"principal": "kari"})
    assert (r.status_code, r.json()["error"]) == (403, "insufficient_scope")
    r = await c.post("/issuer/admin/mandates/reconcile", headers=wallet)
    assert r.status_code == 403
    # deferred approval is the wallet provider's (an unknown transaction is simply not found)
    r = await c.post("/issuer/admin/deferred/unknown/approve", headers=wallet)
    assert r.status_code == 404
    # the operator's token keeps every power
    r = await c.post("/issuer/admin/offers", headers=h.admin,
                     json={"person": "kari", "credential_configuration_ids": ["pid_vc_sd_jwt"]})
    assert r.status_code == 201
    r = await c.post("/issuer/admin/credentials/status", headers=h.admin, json={"action": "revoke", "person": "kari"})
    assert r.status_code == 200


async def test_the_wallet_provider_may_offer_what_it_asks_for_on_someones_behalf(h: Any) -> None:
    client = IssuerAdminClient(h.stack.client, "http://localhost:8000/issuer", h.rt.peer_token("wallet", "issuer"))
    # a child's PID under deferred issuance (a guardian approves it later)
    child = await client.create_offer(OfferRequest(person="emma", credential_configuration_ids=["pid_vc_sd_jwt"],
                                                   require_approval=True))
    assert child.tx_code is not None
    # a mandate recorded by the wallet provider, then the agent's mandate credential offered for it
    created = await client.create_mandate(MandateRequest(
        principal="kari", agent="ola", scope=MandateScope(service_areas=["helse:fastlege"])))
    offer = await client.create_offer(OfferRequest(person="ola", credential_configuration_ids=["mandate_vc_sd_jwt"],
                                                   mandate_id=created.mandate_id))
    assert offer.offer_uri.startswith("openid-credential-offer://")
    # not for another agent, nor for a mandate that does not exist
    for person, mandate_id in (("kari", created.mandate_id), ("ola", "no-such-mandate")):
        try:
            await client.create_offer(OfferRequest(person=person, credential_configuration_ids=["mandate_vc_sd_jwt"],
                                                   mandate_id=mandate_id))
        except IssuerAdminError as exc:
            assert (exc.status, exc.error) == (403, "insufficient_scope")
        else:
            raise AssertionError("a mandate credential for no recorded mandate of this agent was offered")
    # once revoked, the mandate gives no more offers
    revoked = await client.revoke_mandate(created.mandate_id)
    assert revoked.mandate.revoked
    try:
        await client.create_offer(OfferRequest(person="ola", credential_configuration_ids=["mandate_vc_sd_jwt"],
                                               mandate_id=created.mandate_id))
    except IssuerAdminError as exc:
        assert exc.status == 403
    else:
        raise AssertionError("a revoked mandate gave an offer")
