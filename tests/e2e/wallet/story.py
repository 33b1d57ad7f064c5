"""The issue's end-to-end story, written once against service URLs, run in one process and as three processes:

register -> attest -> PID issuance with the issuer REQUIRING a wallet attestation -> presentation (age over 18)
-> the device revoked (from the person's other device) -> its credentials revoked at the issuer (read back from the
issuer's signed status list) -> the next presentation refused with the reason; and the phone's earlier wallet
attestation no longer gets it a token (the issuer reads the wallet provider's instance status list).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509

from eidcore.clock import Clock
from eidcore.errors import RemoteProblem
from eidcore.formats.sd_jwt.present import SdJwtHolder
from eidcore.oauth import client_attestation
from eidcore.status_list import StatusValue, verify_jwt
from wallet_api.holder.provider_client import Device
from wallet_api.holder.store import LocalStore
from wallet_api.holder.wallet import Wallet

PRE_AUTH = "urn:ietf:params:oauth:grant-type:pre-authorized_code"


@dataclass
class Deployment:
    """Where the three services answer, the dev secrets, and how to let the verifier's status cache expire."""

    http: httpx.AsyncClient
    issuer: str
    verifier: str
    wallet: str
    admin_token: str
    rp_key: str
    trust_anchors: list[x509.Certificate]
    clock: Clock
    device: Device
    #: called with the status list's ``ttl`` once the device is revoked (move a test clock, or really wait)
    wait_past_status_ttl: Callable[[int], Awaitable[None]]

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    @property
    def rp(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.rp_key}"}

    def wallet_at(self, path: Path) -> Wallet:
        return Wallet(LocalStore(path), self.http, base_url="http://unused.localhost", provider_url=self.wallet,
                      trust_anchors=self.trust_anchors, clock=self.clock)


async def ask_and_answer(d: Deployment, w: Wallet) -> tuple[str, dict[str, Any]]:
    """A relying party asks for age over 18 and the wallet answers; returns the wallet's outcome, the RP's result."""
    r = await d.http.post(f"{d.verifier}/rp/transactions", json={"profile": "age-over-18"}, headers=d.rp)
    assert r.status_code == 201, r.text
    tx = r.json()
    preview = await w.inspect_request(tx["authorization_request"])
    assert "age_equal_or_over.18" in preview.claim_names
    outcome = await w.present(preview, consent=True)
    res = await d.http.get(f"{d.verifier}/rp/transactions/{tx['transaction_id']}", headers=d.rp)
    assert res.status_code == 200, res.text
    return outcome.outcome, res.json()


async def issuer_status(d: Deployment, credential: str) -> tuple[int, int | None]:
    """The credential's entry in the issuer's signed status list (verified against the trust anchors) and the
    list's ``ttl``."""
    claims = SdJwtHolder(clock=d.clock).load(credential).claims
    ref = claims["status"]["status_list"]
    assert str(ref["uri"]).startswith(f"{d.issuer}/status/")
    r = await d.http.get(ref["uri"], headers={"Accept": "application/statuslist+jwt"})
    assert r.status_code == 200, r.text
    verified = verify_jwt(r.text, uri=ref["uri"], clock=d.clock, trust_anchors=d.trust_anchors)
    return verified.get(int(ref["idx"])), verified.ttl


async def run_story(d: Deployment, tmp: Path) -> None:
    # 1. register: the phone and the tablet of the same person
    phone, tablet = d.wallet_at(tmp / "phone"), d.wallet_at(tmp / "tablet")
    view = await phone.register(d.device)
    await tablet.register(d.device)
    assert view["state"] == "active" and not view["person_bound"]

    # 2. attest: a wallet attestation the issuer will accept (chain to the trust anchors, cnf = the instance key)
    attestation = await phone.provider.wallet_attestation()
    pop = client_attestation.make_pop(phone.instance_key(), audience=d.issuer, clock=d.clock)
    checked = client_attestation.verify(attestation, pop, audience=d.issuer, trust_anchors=d.trust_anchors,
                                        clock=d.clock)
    assert checked.client_id == "lommebok-wallet" and checked.instance_jkt == view["jkt"]

    # 3. PID issuance; the issuer requires a wallet attestation (a client without one is refused)
    offer = (await d.http.post(f"{d.issuer}/admin/offers", headers=d.admin,
                               json={"person": "kari", "credential_configuration_ids": ["pid_vc_sd_jwt"]})).json()
    code = offer["credential_offer"]["grants"][PRE_AUTH]["pre-authorized_code"]
    bare = await d.http.post(f"{d.issuer}/token", data={"grant_type": PRE_AUTH, "pre-authorized_code": code,
                                                         "tx_code": offer["tx_code"]})
    assert bare.status_code in (400, 401) and bare.json()["error"] == "invalid_client", bare.text
    [pid] = await phone.receive(offer["offer_uri"], offer["tx_code"])
    assert pid["type"] == "urn:eudi:pid:1" and pid["issuer"] == d.issuer
    assert (await phone.status())["person_bound"] is True  # bound by presenting the PID to the provider
    offer2 = (await d.http.post(f"{d.issuer}/admin/offers", headers=d.admin,
                                json={"person": "kari", "credential_configuration_ids": ["pid_vc_sd_jwt"]})).json()
    [tablet_pid] = await tablet.receive(offer2["offer_uri"], offer2["tx_code"])
    assert (await issuer_status(d, pid["credential"]))[0] == StatusValue.VALID

    # 4. presentation: validated
    outcome, result = await ask_and_answer(d, phone)
    assert outcome == "shared" and result["status"] == "validated", result

    # 5. the phone is lost: the tablet revokes it at the wallet provider
    revoked = await tablet.provider.change_status(view["id"], "revoke")
    assert revoked["state"] == "revoked"
    assert revoked["issuer_sync"]["status"] == "done" and revoked["issuer_sync"]["updated"] == 1, revoked
    with_problem = None
    try:
        await phone.provider.wallet_attestation()
    except RemoteProblem as exc:
        with_problem = exc
    assert with_problem is not None and with_problem.error == "instance_not_active"

    # 6. its credentials are revoked at the issuer (the signed list says so); the tablet's PID is untouched
    value, ttl = await issuer_status(d, pid["credential"])
    assert value == StatusValue.INVALID
    assert (await issuer_status(d, tablet_pid["credential"]))[0] == StatusValue.VALID
    assert ttl is not None

    # 7. once the verifier's cached list expires, the next presentation is refused with the reason
    await d.wait_past_status_ttl(ttl)
    outcome, result = await ask_and_answer(d, phone)
    assert outcome == "refused"
    assert result["status"] == "pending" and result["refused_attempts"][-1]["check"] == "status.revoked", result
    outcome, result = await ask_and_answer(d, tablet)
    assert outcome == "shared" and result["status"] == "validated", result

    # 8. the wallet attestation the phone got before it was revoked (valid for an hour) no longer gets it a token:
    #    the issuer reads the instance's entry in the wallet provider's status list
    offer3 = (await d.http.post(f"{d.issuer}/admin/offers", headers=d.admin,
                                json={"person": "kari", "credential_configuration_ids": ["pid_vc_sd_jwt"]})).json()
    stolen = await d.http.post(f"{d.issuer}/token", data={
        "grant_type": PRE_AUTH, "pre-authorized_code": offer3["credential_offer"]["grants"][PRE_AUTH][
            "pre-authorized_code"], "tx_code": offer3["tx_code"], "client_id": "lommebok-wallet"}, headers={
        client_attestation.ATTESTATION_HEADER: attestation,
        client_attestation.POP_HEADER: client_attestation.make_pop(phone.instance_key(), audience=d.issuer,
                                                                   clock=d.clock)})
    assert stolen.status_code in (400, 401), stolen.text
    assert stolen.json()["error"] in ("invalid_client", "invalid_client_attestation"), stolen.text
    assert "revoked" in stolen.json()["error_description"], stolen.text

