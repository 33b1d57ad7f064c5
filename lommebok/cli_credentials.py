"""``lommebok credentials sample``: sample credentials and presentations for relying-party developers.

For a synthetic person from the register and a credential type from ``specs/credentials/``, writes an issued
credential (SD-JWT VC or mdoc IssuerSigned, as OpenID4VCI 1.0 §8.3 delivers it), a presentation of chosen
claims bound to a nonce and client id (SD-JWT VC with KB-JWT, RFC 9901 §4.3; mdoc DeviceResponse over the
OpenID4VP 1.0 §B.2.6 SessionTranscript, written out too), the holder's private JWK, the issuer chain, the trust
anchor and a ``manifest.json`` naming each file. Everything is signed with the dev PKI, so a verifier that
trusts ``trust_anchor.pem`` accepts it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import click

from eidcore import jose
from eidcore.clock import SYSTEM_CLOCK
from eidcore.credential_types import CredentialType, load_credential_types, pid_claims
from eidcore.errors import LommebokError
from eidcore.keys import load_or_create_dev_pki, pem
from eidcore.settings import Settings, load_settings

FORMATS = ("dc+sd-jwt", "mso_mdoc")
DEFAULT_CLAIMS = {
    "dc+sd-jwt": ("given_name", "family_name", "birthdate"),
    "mso_mdoc": ("given_name", "family_name", "birth_date"),
}


@click.group("credentials")
def credentials_group() -> None:
    """Sample credentials for testing relying parties' verifiers."""


@credentials_group.command("sample")
@click.option("--person", default="kari", show_default=True,
              help="The synthetic person: a story alias (see `lommebok register list`), a national identity "
                   "number or a person id.")
@click.option("--type", "type_id", default="pid", show_default=True,
              help="Credential type id from specs/credentials (pid is built from the register; the other types "
                   "use their example.json claims).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="dc+sd-jwt", show_default=True,
              help="dc+sd-jwt (SD-JWT VC) or mso_mdoc (ISO 18013-5).")
@click.option("--claim", "claims", multiple=True,
              help="A claim to disclose in the presentation (repeatable). SD-JWT VC: a dotted path such as "
                   "address.locality or age_equal_or_over.18; mdoc: an element id of the doctype's namespace or "
                   "namespace/element. Default: given name, family name and birth date.")
@click.option("--nonce", default=None, help="The verifier's nonce (default: a random one).")
@click.option("--client-id", default="x509_san_dns:localhost", show_default=True,
              help="The verifier's client id, prefix included (KB-JWT aud; mdoc handover).")
@click.option("--response-uri", default="http://localhost:8000/verifier/response", show_default=True,
              help="mdoc: the response URI in the OpenID4VP handover.")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=Path("sample"),
              show_default=True, help="Output folder (created; existing files are overwritten).")
def sample(person: str, type_id: str, fmt: str, claims: tuple[str, ...], nonce: str | None, client_id: str,
           response_uri: str, out: Path) -> None:
    """Write an issued credential, a presentation and the keys and chain to verify them."""
    try:
        settings = load_settings()
        manifest = asyncio.run(_sample(settings, person, type_id, fmt, claims, nonce, client_id, response_uri, out))
    except LommebokError as exc:
        raise click.ClickException(exc.description) from None
    for name, what in manifest["files"].items():
        click.echo(f"{out / name}: {what}")


async def _person_claims(settings: Settings, person: str, ctype: CredentialType) -> tuple[dict[str, Any], str]:
    from eidcore.registers import SqlPopulationRegister, seed_register
    from eidcore.storage import Database

    if ctype.id != "pid":
        return dict(ctype.example), "example.json of the credential type"
    db = Database(settings.effective_database_url)
    try:
        await db.migrate()
        await seed_register(db)
        reg = SqlPopulationRegister(db)
        p = await reg.get_by_alias(person) if person.isalpha() else None
        if p is None:
            p = await (reg.find_by_identifier(person) if person.isdigit() else reg.get_person(person))
        claims = pid_claims(p, clock=SYSTEM_CLOCK, issuing_authority="Lommebok development issuer")
        return claims, f"population register ({p.alias or 'person'})"
    finally:
        await db.dispose()


def _write(path: Path, data: str | bytes, *, private: bool = False) -> None:
    raw = data.encode() if isinstance(data, str) else data
    path.write_bytes(raw)
    if private:
        os.chmod(path, 0o600)


async def _sample(settings: Settings, person: str, type_id: str, fmt: str, claims: tuple[str, ...],
                  nonce: str | None, client_id: str, response_uri: str, out: Path) -> dict[str, Any]:
    import secrets

    types = load_credential_types()
    ctype = types.get(type_id)
    if fmt not in ctype.formats:
        raise click.ClickException(f"{type_id} is not issued as {fmt}")
    values, source = await _person_claims(settings, person, ctype)
    keys = load_or_create_dev_pki(settings.effective_keys_dir, settings.public_base_url,
                                  service_urls=settings.service_urls)
    issuer = keys.issuer
    holder = jose.generate_signing_key()
    nonce = nonce or secrets.token_urlsafe(24)
    wanted = claims or DEFAULT_CLAIMS[fmt]
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    now = SYSTEM_CLOCK.now()
    valid_for = ctype.validity.default_seconds

    if fmt == "dc+sd-jwt":
        from eidcore.formats.sd_jwt import KeyBinding, SdJwtHolder, resolve_claim_path
        from eidcore.formats.sd_jwt_vc import SdJwtVcIssuer

        present_paths = [p for p in ctype.sd_paths if resolve_claim_path(values, p)]
        issued = SdJwtVcIssuer(issuer.signing_key(), iss=settings.service_url("issuer"), include_x5c=True).issue(
            values, vct=ctype.vct, disclosable=present_paths, holder_jwk=holder.public_jwk, expires_in=valid_for,
            vct_integrity=ctype.type_metadata_integrity(),
        )
        # dotted paths; "*" selects every array element (claims path pointer null, OpenID4VCI 1.0 Appendix C)
        paths = [tuple(None if p == "*" else p for p in c.split(".")) for c in wanted]
        presentation = SdJwtHolder().present(
            issued.compact, disclose=paths, key_binding=KeyBinding(holder, audience=client_id, nonce=nonce)
        )
        _write(out / "credential.txt", issued.compact)
        _write(out / "presentation.txt", str(presentation))
        files["credential.txt"] = "the issued SD-JWT VC (compact, all disclosures, no KB-JWT)"
        files["presentation.txt"] = "SD-JWT VC presentation with the chosen disclosures and a KB-JWT"
    else:
        from cryptography.hazmat.primitives.asymmetric import ec

        from eidcore.formats.mdoc import issue_mdoc, openid4vp_session_transcript, present

        namespaces = ctype.mdoc_namespaces(values)
        device_private = holder.private_key
        assert isinstance(device_private, ec.EllipticCurvePrivateKey)  # generate_signing_key() makes P-256
        credential = issue_mdoc(
            doc_type=ctype.doctype, name_spaces=namespaces, device_key=device_private.public_key(),
            issuer_key=issuer.key, issuer_chain=list(issuer.chain), valid_until=now + dt.timedelta(seconds=valid_for),
            clock=SYSTEM_CLOCK,
        )
        disclose: dict[str, list[str]] = {}
        default_ns = next(iter(namespaces))
        for c in wanted:
            ns, _, element = c.rpartition("/")
            disclose.setdefault(ns or default_ns, []).append(element)
        transcript = openid4vp_session_transcript(client_id, nonce, response_uri, None)
        device_response = present(credential, device_private, transcript, disclose=disclose)
        _write(out / "credential.b64u", credential.to_b64u())
        _write(out / "device_response.b64u", device_response)
        _write(out / "session_transcript.cbor", transcript.encoded)
        files["credential.b64u"] = "the issued mdoc: base64url CBOR IssuerSigned {nameSpaces, issuerAuth}"
        files["device_response.b64u"] = "base64url CBOR DeviceResponse disclosing the chosen elements (deviceSignature)"
        files["session_transcript.cbor"] = "the CBOR SessionTranscript the DeviceResponse was signed over"

    _write(out / "holder_key.jwk.json", json.dumps(holder.private_jwk(), indent=2), private=True)
    _write(out / "issuer_chain.pem", pem(*issuer.chain))
    _write(out / "trust_anchor.pem", pem(*keys.trust_anchors))
    files["holder_key.jwk.json"] = "the holder's private key (JWK): the credential's cnf / deviceKey"
    files["issuer_chain.pem"] = "the issuer's certificate chain (leaf first, trust anchor excluded)"
    files["trust_anchor.pem"] = "the trust anchor (dev root CA) a verifier configures"
    manifest: dict[str, Any] = {
        "credential_type": ctype.id,
        "format": fmt,
        "vct" if fmt == "dc+sd-jwt" else "doctype": ctype.vct if fmt == "dc+sd-jwt" else ctype.doctype,
        "claims_from": source,
        "disclosed": list(wanted),
        "nonce": nonce,
        "client_id": client_id,
        "response_uri": response_uri if fmt == "mso_mdoc" else None,
        "issuer": settings.service_url("issuer"),
        "created": now.isoformat(),
        "files": dict(files),
    }
    files["manifest.json"] = "this file"
    manifest["files"] = files
    _write(out / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
    return manifest
