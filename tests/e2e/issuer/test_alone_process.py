"""The issuer alone as a real process (``lommebok serve --service issuer`` with its own ``LOMMEBOK_ISSUER_URL``):
a pre-authorized issuance with tx_code over real HTTP with the reference client (``wallet_api.holder.vci``), and
the issued SD-JWT VC verified with eidcore against the trust anchors the process wrote."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
from lommebok_testing import free_port, serving

from eidcore import jose
from eidcore.clock import SYSTEM_CLOCK
from eidcore.formats.sd_jwt import MUST_NOT_BE_PRESENT
from eidcore.formats.sd_jwt_vc import SdJwtVcVerifier, X5cIssuerKey
from eidcore.keys import load_certificates
from eidcore.status_list import StatusReference, StatusValue, check_status, verify_jwt
from wallet_api.holder.vci import VciClient, fetch_metadata, resolve_offer


async def test_pre_authorized_issuance_against_the_issuer_alone(tmp_path: Path) -> None:
    port = free_port()
    issuer = f"http://localhost:{port}/issuer"
    admin_token = secrets.token_urlsafe(32)
    with serving(tmp_path, "--service", "issuer", port=port, health="/issuer/health",
                 LOMMEBOK_PUBLIC_BASE_URL=f"http://localhost:{port}", LOMMEBOK_ISSUER_URL=issuer,
                 LOMMEBOK_ISSUER_ADMIN_TOKEN=admin_token) as (base, _):
        async with httpx.AsyncClient(timeout=30) as http:
            assert (await http.get(f"{base}/verifier/health")).status_code == 404, "only the issuer runs"
            r = await http.post(f"{base}/issuer/admin/offers", headers={"Authorization": f"Bearer {admin_token}"},
                                json={"person": "kari", "credential": "pid_vc_sd_jwt"})
            assert r.status_code == 201, r.text
            created = r.json()
            offer = await resolve_offer(http, created["offer_uri"])
            assert offer.credential_issuer == issuer and offer.pre_authorized_code
            meta = await fetch_metadata(http, issuer)
            assert meta.issuer_id == issuer
            client = VciClient(http, meta)
            tok = await client.token_pre_authorized(offer.pre_authorized_code, created["tx_code"])
            holder = jose.generate_signing_key()
            resp = await client.request_credential(tok, proofs=[client.proof(holder, await client.nonce())],
                                                   credential_configuration_id="pid_vc_sd_jwt")
            assert len(resp.credentials) == 1
            anchors = load_certificates(tmp_path / "var" / "keys" / "trust-anchors.pem")
            verified = SdJwtVcVerifier(X5cIssuerKey(anchors, clock=SYSTEM_CLOCK), clock=SYSTEM_CLOCK,
                                       require_status=True).verify(resp.credentials[0], MUST_NOT_BE_PRESENT)
            assert verified.iss == issuer
            assert verified.holder_jwk == jose.public_jwk(holder.public_key)
            ref = verified.status
            assert ref is not None and ref.uri.startswith(f"{issuer}/status/")
            lst = await http.get(ref.uri)
            assert lst.status_code == 200
            listed = verify_jwt(lst.text, uri=ref.uri, clock=SYSTEM_CLOCK, trust_anchors=anchors)
            assert check_status(StatusReference(uri=ref.uri, idx=ref.idx), listed) == StatusValue.VALID
