"""``lommebok verifier``: create presentation transactions and read their outcome over the verifier's HTTP API,
as the dev relying party (its API key is ``<data_dir>/secrets/rp-demo``, created when the verifier starts, or
``--key-file``). The key is sent only to the server named with ``--url`` (``LOMMEBOK_URL``) or
``--verifier-url`` (``LOMMEBOK_VERIFIER_URL``)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click
import httpx

from lommebok.cli_common import F, cli_settings, service_url, service_url_option, url_option

TERMINAL = ("validated", "failed", "expired")


def _server(f: F) -> F:
    """``--url`` and ``--verifier-url``: where the verifier is (one of them is required)."""
    return url_option(service_url_option("verifier", "verifier")(f))


def _server_and_key(url: str | None, verifier_url: str | None, key_file: str | None) -> tuple[str, str]:
    settings = cli_settings()
    base = service_url("verifier", url, verifier_url, settings=settings)  # first: no key is read for no server
    path = Path(key_file) if key_file else settings.data_dir / "secrets" / "rp-demo"
    if not path.exists():
        raise click.ClickException(f"no relying-party API key at {path}: start the verifier once "
                                   "(`lommebok serve`) to create the demo relying party, or pass --key-file")
    return base, path.read_text().strip()


def _call(method: str, url: str, key: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    try:
        r = httpx.request(method, url, json=body, headers={"Authorization": f"Bearer {key}"}, timeout=15.0)
    except httpx.HTTPError as exc:
        raise click.ClickException(f"the verifier at {url} does not answer ({type(exc).__name__}); "
                                   "is `lommebok serve` running?") from None
    try:
        data = r.json()
    except ValueError:
        data = {"error": "server_error", "error_description": r.text[:200]}
    if r.status_code >= 400:
        raise click.ClickException(f"{r.status_code} {data.get('error')}: {data.get('error_description', '')}")
    if not isinstance(data, dict):
        raise click.ClickException("unexpected answer from the verifier")
    return data


@click.group("verifier")
def verifier_group() -> None:
    """Ask a wallet for credentials (OpenID4VP) as the dev relying party."""


@verifier_group.command("request")
@click.option("--profile", required=True, help="pid-basic, age-over-18, age-over-13, employee-role, mandate.")
@click.option("--response-mode", type=click.Choice(["direct_post.jwt", "direct_post"]), default="direct_post.jwt",
              show_default=True)
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Profile parameter, e.g. orgnr=311066587, scope=nav:arbeid, format=mso_mdoc; roles=a,b.")
@click.option("--redirect-uri", default=None, help="Same-device flow: a registered redirect URI.")
@click.option("--key-file", default=None, help="Relying-party API key file (default: <data_dir>/secrets/rp-demo).")
@_server
def request_command(profile: str, response_mode: str, params: tuple[str, ...], redirect_uri: str | None,
                    key_file: str | None, url: str | None, verifier_url: str | None) -> None:
    """Create a transaction; prints the openid4vp:// URI and the transaction id."""
    base, key = _server_and_key(url, verifier_url, key_file)
    parsed: dict[str, Any] = {}
    for p in params:
        name, sep, value = p.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{p!r} is not NAME=VALUE", param_hint="--param")
        parsed[name] = value.split(",") if name == "roles" else value
    body: dict[str, Any] = {"profile": profile, "params": parsed, "response_mode": response_mode}
    if redirect_uri:
        body["redirect_uri"] = redirect_uri
    data = _call("POST", f"{base}/rp/transactions", key, body)
    click.echo(data["authorization_request"])
    click.echo(f"transaction: {data['transaction_id']}")


@verifier_group.command("result")
@click.argument("transaction_id")
@click.option("--wait", is_flag=True, help="Wait until the transaction is validated, failed or expired.")
@click.option("--timeout", default=600, show_default=True, type=click.IntRange(1, 3600), help="Seconds to wait.")
@click.option("--key-file", default=None, help="Relying-party API key file (default: <data_dir>/secrets/rp-demo).")
@_server
def result_command(transaction_id: str, wait: bool, timeout: int, key_file: str | None, url: str | None,
                   verifier_url: str | None) -> None:
    """Print the transaction's status, checks and result as JSON."""
    base, key = _server_and_key(url, verifier_url, key_file)
    deadline = time.monotonic() + timeout
    while True:
        data = _call("GET", f"{base}/rp/transactions/{transaction_id}", key)
        if not wait or data.get("status") in TERMINAL or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))
