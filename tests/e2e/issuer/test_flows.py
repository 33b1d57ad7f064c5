"""OpenID4VCI 1.0 issuance end to end over HTTP: pre-authorized code with tx_code, and the authorization code flow
with PAR + PKCE + DPoP + wallet attestation; every credential type in both formats; batches of 3."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from eidcore import cose, jose
from eidcore.errors import AccessDenied, CredentialRequestDenied
from issuer.models import IssCredential

PID_NS = "eu.europa.ec.eudi.pid.1"


def _mdoc_holder_key(verified: Any) -> dict[int, Any]:
    return dict(verified.mso.device_key)


async def _check_batch(h: Any, config: str, creds: list[str], keys: list[Any]) -> list[dict[str, Any]]:
    """Verify every credential with eidcore, bound to its own key; return the claims (SD-JWT) or elements (mdoc)."""
    assert len(creds) == len(keys)
    out = []
    for cred, key in zip(creds, keys, strict=True):
        if config.endswith("_vc_sd_jwt"):
            v = h.verify_sd_jwt(cred)
            assert v.holder_jwk == jose.public_jwk(key.public_key)
            assert v.status is not None and v.status.uri.startswith("http://localhost:8000/issuer/status/")
            assert v.claims["iss"] == "http://localhost:8000/issuer"
            out.append(v.claims)
        else:
            ct = h.stack.runtime  # doctype from metadata below
            del ct
            meta = (await h.metadata()).credential_issuer["credential_configurations_supported"][config]
            v = h.verify_mdoc(cred, meta["doctype"])
            assert _mdoc_holder_key(v) == cose.cose_key_from_jwk(jose.public_jwk(key.public_key))
            assert v.status["status_list"]["uri"].startswith("http://localhost:8000/issuer/status/")
            out.append(v.claims)
    idx = set()
    for cred in creds:
        if config.endswith("_vc_sd_jwt"):
            idx.add(h.verify_sd_jwt(cred).status.idx)
    if config.endswith("_vc_sd_jwt"):
        assert len(idx) == len(creds), "each credential has its own status index"
    return out


async def test_pre_authorized_flow_issues_every_type_in_both_formats_in_batches_of_3(h: Any) -> None:
    cases = {
        "kari": ["pid_vc_sd_jwt", "pid_mso_mdoc"],
        "ingrid": ["employee_role_vc_sd_jwt", "employee_role_mso_mdoc"],
        "jonas": ["youth_vc_sd_jwt", "youth_mso_mdoc"],
        "terje": ["mandate_vc_sd_jwt", "mandate_mso_mdoc"],
    }
    kari = await h.rt_person("kari")
    for person, configs in cases.items():
        client, tok = await h.pre_authorized_token(person, configs)
        assert tok.token_type == "Bearer" and tok.refresh_token is None
        for config in configs:
            creds, keys, resp = await h.credentials(client, tok, config, 3)
            assert resp.notification_id
            claims = await _check_batch(h, config, creds, keys)
            c = claims[0]
            if config == "pid_vc_sd_jwt":
                assert (c["given_name"], c["family_name"]) == ("Kari", "Fjellheim")
                assert c["personal_administrative_number"] == kari.national_id
                assert c["birthdate"] == kari.birth_date.isoformat()
                assert c["age_equal_or_over"]["18"] is True
                assert c["vct"] == "urn:eudi:pid:1" and "vct#integrity" in c
            elif config == "pid_mso_mdoc":
                assert c[PID_NS]["given_name"] == "Kari"
                assert c[PID_NS]["personal_administrative_number"] == kari.national_id
            elif config == "employee_role_vc_sd_jwt":
                assert c["organisation"]["name"] == "Fjordvik kommune"
                assert c["title"] == "Saksbehandler" and c["given_name"] == "Ingrid"
            elif config == "employee_role_mso_mdoc":
                assert c["no.digdir.eudi.employee.1"]["organisation_name"] == "Fjordvik kommune"
            elif config == "youth_vc_sd_jwt":
                assert c["age_equal_or_over"] == {"13": True, "15": True, "16": False, "18": False}
            elif config == "youth_mso_mdoc":
                ns = c["eu.europa.ec.av.1"]
                assert ns["age_over_15"] is True and ns["age_over_18"] is False
            elif config == "mandate_vc_sd_jwt":
                assert c["principal"]["given_name"] == "Sigrid" and c["agent"]["given_name"] == "Terje"
                assert c["legal_basis"] == "guardianship" and c["scope"]["service_areas"]
            elif config == "mandate_mso_mdoc":
                assert c["no.digdir.eudi.mandate.1"]["principal_given_name"] == "Sigrid"
    async with h.rt.db.session() as s:
        rows = (await s.exec(select(IssCredential))).all()
    assert len(rows) == 24
    assert all(r.holder_jkt and r.subject and r.list_id for r in rows)
    assert kari.person_id not in {r.subject for r in rows}, "records keep a pseudonymous subject id"


async def test_pid_for_a_person_without_a_norwegian_number_has_no_administrative_number(h: Any) -> None:
    client, tok = await h.pre_authorized_token("amir", ["pid_vc_sd_jwt", "pid_mso_mdoc"], tx_code=False)
    creds, keys, _ = await h.credentials(client, tok, "pid_vc_sd_jwt")
    c = (await _check_batch(h, "pid_vc_sd_jwt", creds, keys))[0]
    assert c["given_name"] == "Amir" and "personal_administrative_number" not in c
    creds, keys, _ = await h.credentials(client, tok, "pid_mso_mdoc")
    m = (await _check_batch(h, "pid_mso_mdoc", creds, keys))[0]
    assert "personal_administrative_number" not in m[PID_NS]


async def test_granted_mandate_from_the_admin_api_is_issued_to_the_agent(h: Any) -> None:
    r = await h.stack.client.post("/issuer/admin/mandates", headers=h.admin, json={
        "principal": "kari", "agent": "ola", "scope": {"service_areas": ["nav:arbeid"]},
        "valid_until": "2099-01-01T00:00:00Z"})
    assert r.status_code == 201, r.text
    mandate_id = r.json()["mandate_id"]
    client, tok = await h.pre_authorized_token("ola", ["mandate_vc_sd_jwt"], mandate_id=mandate_id)
    creds, keys, _ = await h.credentials(client, tok, "mandate_vc_sd_jwt")
    c = (await _check_batch(h, "mandate_vc_sd_jwt", creds, keys))[0]
    assert c["mandate_id"] == mandate_id and c["legal_basis"] == "granted"
    assert c["principal"]["given_name"] == "Kari" and c["scope"] == {"service_areas": ["nav:arbeid"]}


async def test_authorization_code_flow_with_par_pkce_dpop_and_wallet_attestation(h: Any) -> None:
    client = await h.client(dpop=True, attested=True)
    details = [{"type": "openid_credential", "credential_configuration_id": "pid_mso_mdoc"}]
    auth = await client.push_authorization(redirect_uri="http://127.0.0.1/callback", scope="pid_vc_sd_jwt",
                                           authorization_details=details)
    location = await h.login(auth, "kari")
    code = client.authorization_code(location, auth)
    tok = await client.token_authorization_code(code, auth)
    assert tok.token_type == "DPoP" and tok.refresh_token
    assert tok.identifiers("pid_mso_mdoc") and tok.identifiers("pid_vc_sd_jwt")
    for config in ("pid_vc_sd_jwt", "pid_mso_mdoc"):
        creds, keys, _ = await h.credentials(client, tok, config, 3)
        await _check_batch(h, config, creds, keys)
    instance_jkt = jose.jwk_thumbprint_b64u(jose.public_jwk(client.attestation.instance_key.public_key))
    async with h.rt.db.session() as s:
        rows = (await s.exec(select(IssCredential).where(IssCredential.instance_jkt == instance_jkt))).all()
    assert len(rows) == 6 and {r.loa for r in rows} == {"high"}
    # a bearer use of the DPoP-bound token fails
    r = await h.stack.client.post("/issuer/credential", headers={"Authorization": f"Bearer {tok.access_token}"},
                                  json={"credential_identifier": tok.identifiers("pid_vc_sd_jwt")[0]})
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    # refresh rotates
    new = await client.refresh(tok)
    assert new.refresh_token and new.refresh_token != tok.refresh_token
    creds, keys, _ = await h.credentials(client, new, "pid_vc_sd_jwt")
    await _check_batch(h, "pid_vc_sd_jwt", creds, keys)


async def test_level_of_assurance_limits_what_is_issued(h: Any) -> None:
    client = await h.client(dpop=True, attested=True)
    auth = await client.push_authorization(redirect_uri="http://127.0.0.1/callback", scope="pid_vc_sd_jwt")
    location = await h.login(auth, "kari", loa="substantial")
    try:
        client.authorization_code(location, auth)
        raise AssertionError("expected access_denied")
    except AccessDenied as exc:
        assert "high" in exc.description
    # a pre-authorized offer recorded at substantial cannot yield a PID
    client, tok = await h.pre_authorized_token("kari", ["pid_vc_sd_jwt", "youth_vc_sd_jwt"], loa="substantial")
    try:
        await h.credentials(client, tok, "pid_vc_sd_jwt")
        raise AssertionError("expected credential_request_denied")
    except CredentialRequestDenied:
        pass
    creds, _keys, _ = await h.credentials(client, tok, "youth_vc_sd_jwt")
    assert len(creds) == 1


async def test_offer_by_reference_and_authorization_code_offer_with_issuer_state(h: Any) -> None:
    from wallet_api.holder.vci import resolve_offer

    created = await h.offer("kari", ["pid_vc_sd_jwt"], by_reference=True, grant="authorization_code")
    assert created["offer_uri"].startswith("openid-credential-offer://?credential_offer_uri=")
    assert created["qr_svg"].lstrip().startswith("<svg") and created["tx_code"] is None
    offer = await resolve_offer(h.stack.client, created["offer_uri"])
    assert offer.issuer_state and offer.pre_authorized_code is None
    client = await h.client(dpop=True, attested=True)
    auth = await client.push_authorization(redirect_uri="http://127.0.0.1/callback", scope="pid_vc_sd_jwt",
                                           issuer_state=offer.issuer_state)
    # the offer was made for kari: someone else logging in is refused
    location = await h.login(auth, "ola")
    try:
        client.authorization_code(location, auth)
        raise AssertionError("expected access_denied")
    except AccessDenied:
        pass
    auth = await client.push_authorization(redirect_uri="http://127.0.0.1/callback", scope="pid_vc_sd_jwt",
                                           issuer_state=offer.issuer_state)
    tok = await client.token_authorization_code(client.authorization_code(await h.login(auth, "kari"), auth), auth)
    creds, _, _ = await h.credentials(client, tok, "pid_vc_sd_jwt")
    assert h.verify_sd_jwt(creds[0]).claims["given_name"] == "Kari"
