"""``lommebok issuer``: credential offers and credential status through the issuer's admin API over HTTP.

The admin bearer token comes from the settings (``LOMMEBOK_ISSUER_ADMIN_TOKEN``) or, in development, from the
file the server created (``<data_dir>/secrets/admin-token-issuer``). It is sent only to the server named with
``--url`` (``LOMMEBOK_URL``) or ``--issuer-url`` (``LOMMEBOK_ISSUER_URL``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import httpx

from eidcore.settings import Settings
from lommebok.cli_common import F, cli_settings, service_url, service_url_option, url_option

__all__ = ["issuer_group"]


def _server(f: F) -> F:
    """``--url`` and ``--issuer-url``: where the issuer is (one of them is required)."""
    return url_option(service_url_option("issuer", "issuer")(f))


def _admin_token(settings: Settings) -> str:
    """The issuer's admin token: ``LOMMEBOK_ISSUER_ADMIN_TOKEN``, else the file the dev server wrote."""
    if settings.issuer_admin_token:
        return settings.issuer_admin_token
    path = settings.data_dir / "secrets" / "admin-token-issuer"
    try:
        return path.read_text().strip()
    except OSError:
        raise click.ClickException(
            f"no admin token: set LOMMEBOK_ISSUER_ADMIN_TOKEN or start `lommebok serve` once (it writes {path})"
        ) from None


def _call(url: str | None, issuer_url: str | None, path: str, body: dict[str, Any]) -> dict[str, Any]:
    s = cli_settings()
    base = service_url("issuer", url, issuer_url, settings=s)
    try:
        r = httpx.post(f"{base}{path}", json=body, timeout=30,
                       headers={"Authorization": f"Bearer {_admin_token(s)}"})
    except httpx.HTTPError as exc:
        raise click.ClickException(f"cannot reach the issuer at {base}: {type(exc).__name__}") from None
    try:
        data = r.json()
    except ValueError:
        data = {}
    if r.status_code >= 400:
        desc = data.get("error_description") or data.get("error") or f"HTTP {r.status_code}"
        raise click.ClickException(f"the issuer refused: {desc}")
    out: dict[str, Any] = data
    return out


@click.group()
def issuer_group() -> None:
    """Credential offers and revocation at the issuer (admin API)."""


@issuer_group.command("offer")
@click.option("--person", required=True, help="F/D-number, story alias (e.g. kari) or person id.")
@click.option("--credential", "credentials", required=True, multiple=True,
              help="Credential configuration id, e.g. pid_vc_sd_jwt (repeatable).")
@click.option("--tx-code/--no-tx-code", default=True, show_default=True, help="Require a transaction code.")
@click.option("--by-reference", is_flag=True, help="Put a credential_offer_uri in the offer instead of the offer.")
@click.option("--qr", "qr_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the QR code (SVG) to this file.")
@_server
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def offer_command(person: str, credentials: tuple[str, ...], tx_code: bool, by_reference: bool,
                  qr_path: Path | None, url: str | None, issuer_url: str | None, as_json: bool) -> None:
    """Create a credential offer (pre-authorized code) for a person of the register."""
    out = _call(url, issuer_url, "/admin/offers", {"person": person, "credential_configuration_ids": list(credentials),
                                       "tx_code": tx_code, "by_reference": by_reference})
    if qr_path is not None:
        qr_path.write_text(out["qr_svg"])
    if as_json:
        click.echo(json.dumps({k: v for k, v in out.items() if k != "qr_svg"}, indent=2))
        return
    click.echo(f"offer:   {out['offer_uri']}")
    click.echo(f"tx_code: {out['tx_code'] or '(none)'}")
    click.echo(f"expires: in {out['expires_in']} s")
    if qr_path is not None:
        click.echo(f"QR code: {qr_path}")


def _status_command(action: str) -> click.Command:
    @click.option("--credential-id", default=None, help="One issued credential.")
    @click.option("--instance-jkt", default=None, help="Every credential of a wallet instance.")
    @click.option("--person", default=None, help="Every credential of a person (identifier, alias or id).")
    @click.option("--type", "credential_type", default=None, help="Only this credential type (e.g. pid).")
    @_server
    def command(credential_id: str | None, instance_jkt: str | None, person: str | None,
                credential_type: str | None, url: str | None, issuer_url: str | None) -> None:
        chosen = {k: v for k, v in (("credential_id", credential_id), ("instance_jkt", instance_jkt),
                                    ("person", person)) if v}
        if len(chosen) != 1:
            raise click.UsageError("give exactly one of --credential-id, --instance-jkt, --person")
        body: dict[str, Any] = {"action": action, **chosen}
        if credential_type:
            body["credential_type"] = credential_type
        out = _call(url, issuer_url, "/admin/credentials/status", body)
        click.echo(f"{action}: {out['updated']} credential(s)")
        for cid in out["credentials"]:
            click.echo(f"  {cid}")

    command.__doc__ = f"{action.capitalize()} issued credentials (durable before the issuer answers)."
    return click.command(action)(command)


for _action in ("revoke", "suspend", "reinstate"):
    issuer_group.add_command(_status_command(_action))


@issuer_group.command("reconcile")
@_server
def reconcile_command(url: str | None, issuer_url: str | None) -> None:
    """Reconcile mandates by law with the population register once (idempotent; run it from cron)."""
    out = _call(url, issuer_url, "/admin/mandates/reconcile", {})
    click.echo(f"mandates by law in force: {out['seen']}, new: {len(out['new'])}, ended: {len(out['ended'])}, "
               f"credentials revoked: {len(out['revoked_credentials'])}")
