"""``lommebok wallet ...``: a wallet in the terminal, on the reference holder (``wallet_api.holder``).

The wallet keeps its keys and credentials in a local folder (``--wallet-dir``, default ``~/.lommebok/wallet``
or ``LOMMEBOK_WALLET_DIR``; private keys as 0600 JWK files) and talks to the Lommebok deployment at ``--url``
(``LOMMEBOK_URL``; a command that needs the wallet provider refuses to run without it).
In development the platform key attestation comes from the server's dev device maker and the trust anchors from
the server's dev PKI, both under the server's data directory (``--data-dir``, default ``LOMMEBOK_DATA_DIR`` or
``./var``): run it on the server's machine.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
import httpx
from cryptography import x509

from eidcore.errors import LommebokError, RemoteProblem
from lommebok.cli_common import service_url, service_url_option, url_option

T = TypeVar("T")


@dataclass
class Ctx:
    url: str | None
    wallet_dir: Path
    data_dir: Path
    wallet_url: str | None = None

    def provider_url(self) -> str:
        """The wallet provider this wallet talks to (``--wallet-url``, else ``<--url>/wallet``); a usage error
        when neither is given."""
        from lommebok.cli_common import cli_settings

        return service_url("wallet", self.url, self.wallet_url, settings=cli_settings())

    def console(self) -> Any:
        from rich.console import Console

        return Console(highlight=False)


def _default_wallet_dir() -> Path:
    return Path.home() / ".lommebok" / "wallet"


def _default_data_dir() -> Path:
    """The server's data directory as the settings name it (``LOMMEBOK_DATA_DIR``, default ./var)."""
    from lommebok.cli_common import cli_settings

    return cli_settings().data_dir


def _trust_anchors(ctx: Ctx) -> list[x509.Certificate]:
    path = ctx.data_dir / "keys" / "trust-anchors.pem"
    try:
        return list(x509.load_pem_x509_certificates(path.read_bytes()))
    except (OSError, ValueError):
        raise click.ClickException(f"cannot read the trust anchors at {path}; pass --data-dir (the server's data "
                                   "directory) or export them with `lommebok keys export-trust`") from None


def _run(ctx: Ctx, work: Callable[[Any, Any], Awaitable[T]], *, server: bool = True) -> T:
    """Run ``work(wallet, console)`` with a wallet on an HTTP client; errors become clean CLI errors.

    ``server``: ``work`` talks to the wallet provider, so its URL must have been given (``--url``).
    """
    from wallet_api.holder.store import LocalStore
    from wallet_api.holder.wallet import Wallet

    console = ctx.console()
    provider = ctx.provider_url() if server else (ctx.wallet_url or "")
    where = provider or "the server"

    async def main() -> T:
        async with httpx.AsyncClient(timeout=30) as http:
            w = Wallet(LocalStore(ctx.wallet_dir), http, base_url=ctx.url or "", trust_anchors=_trust_anchors(ctx),
                       provider_url=provider or None)
            return await work(w, console)

    try:
        return asyncio.run(main())
    except RemoteProblem as exc:
        raise click.ClickException(f"the server refused: {exc.error} ({exc.http_status}): {exc.description}") from None
    except LommebokError as exc:
        raise click.ClickException(f"{exc.code}: {exc.description}") from None
    except httpx.TransportError as exc:
        raise click.ClickException(f"cannot reach {where}: {type(exc).__name__} (is `lommebok serve` running?)"
                                   ) from None


@click.group("wallet")
@url_option
@click.option("--wallet-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              envvar="LOMMEBOK_WALLET_DIR",
              help="Where this wallet keeps keys and credentials (default ~/.lommebok/wallet; "
                   "env LOMMEBOK_WALLET_DIR).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The server's data directory: dev device maker and trust anchors (default: LOMMEBOK_DATA_DIR, "
                   "./var).")
@service_url_option("wallet", "wallet provider")
@click.pass_context
def wallet_group(click_ctx: click.Context, url: str | None, wallet_dir: Path | None, data_dir: Path | None,
                 wallet_url: str | None) -> None:
    """A wallet in the terminal: register, receive, request, poll, list, show, present, log, backup, restore."""
    click_ctx.obj = Ctx(url.rstrip("/") if url else None, wallet_dir or _default_wallet_dir(),
                        data_dir or _default_data_dir(), wallet_url.rstrip("/") if wallet_url else None)


@wallet_group.command("register")
@click.pass_obj
def register(ctx: Ctx) -> None:
    """Create the instance key and register this wallet at the wallet provider."""
    from wallet_api.device_attestation import DevDevice, device_maker_path

    path = device_maker_path(ctx.data_dir / "keys")

    async def work(w: Any, console: Any) -> None:
        if w.registered:
            raise click.ClickException(f"this wallet ({ctx.wallet_dir}) is registered already")
        with console.status("challenge, key attestation (dev device maker), registration ..."):
            view = await w.register(DevDevice(path))
        console.print(f"[green]✔[/green] registered wallet instance [bold]{view['id']}[/bold] ({view['state']})")
        console.print(f"  key thumbprint {view['jkt']}, key storage: {view['security_level']}")
        console.print(f"  store: {ctx.wallet_dir}")

    _run(ctx, work)


def _loopback(console: Any, timeout: float) -> Any:
    """RFC 8252 §7.3: the login's redirect comes back to a listener on 127.0.0.1 (a free port)."""
    from wallet_api.holder.login import LoopbackLogin

    def show(url: str) -> None:
        console.print("[bold]Log in at the issuer[/bold]: open this URL in your browser "
                      f"(waiting up to {timeout:.0f} s for the redirect back to this terminal):")
        click.echo(url)
        sys.stdout.flush()

    return LoopbackLogin(show, timeout=timeout)


def _show_received(console: Any, w: Any, received: list[dict[str, Any]]) -> None:
    for rec in received:
        console.print(f"[green]✔[/green] {rec['id']}  {rec.get('type')}  ({rec['format']})")
    for p in w.store.pending():
        console.print(f"[yellow]…[/yellow] {p['configuration_id']} is deferred by the issuer (ask again every "
                      f"{p['interval']} s): run `lommebok wallet poll`")


_WAIT_HELP = "How long to wait for a deferred credential, polling at the issuer's interval (seconds)."
_LOGIN_HELP = "How long to wait for the login in the browser (seconds)."


@wallet_group.command("receive")
@click.argument("offer")
@click.option("--tx-code", default=None, help="The transaction code the issuer gave you (asked if needed).")
@click.option("--wait", "wait", default=30, show_default=True, type=click.IntRange(0, 3600), help=_WAIT_HELP)
@click.option("--login-timeout", default=300, show_default=True, type=click.IntRange(5, 3600), help=_LOGIN_HELP)
@click.pass_obj
def receive(ctx: Ctx, offer: str, tx_code: str | None, wait: int, login_timeout: int) -> None:
    """Receive the credentials of an OpenID4VCI credential offer (openid-credential-offer://...).

    A pre-authorized offer asks for its transaction code; an offer with the authorization code grant sends you to
    log in at the issuer in your browser (the redirect comes back to this terminal on 127.0.0.1).
    """
    from wallet_api.holder import vci

    async def work(w: Any, console: Any) -> None:
        parsed = await vci.resolve_offer(w.http, offer)
        offered = ", ".join(parsed.credential_configuration_ids)
        console.print(f"[bold]{parsed.credential_issuer}[/bold] offers: {offered}")
        code = tx_code
        login = None
        if parsed.pre_authorized_code is not None:
            if parsed.tx_code is not None and not code:
                desc = parsed.tx_code.get("description") or "the transaction code"
                code = click.prompt(f"Enter {desc}", hide_input=False)
            with console.status("getting a token, attestations and the credentials ..."):
                received = await w.receive(offer, code, wait_deferred=wait)
        else:
            login = _loopback(console, login_timeout)
            received = await w.receive(offer, login=login, wait_deferred=wait)
        _show_received(console, w, received)

    _run(ctx, work)


@wallet_group.command("request")
@click.argument("issuer")
@click.argument("configurations", nargs=-1, required=True)
@click.option("--wait", "wait", default=30, show_default=True, type=click.IntRange(0, 3600), help=_WAIT_HELP)
@click.option("--login-timeout", default=300, show_default=True, type=click.IntRange(5, 3600), help=_LOGIN_HELP)
@click.pass_obj
def request_cmd(ctx: Ctx, issuer: str, configurations: tuple[str, ...], wait: int, login_timeout: int) -> None:
    """Ask an issuer for credentials yourself (wallet-initiated; log in at the issuer in your browser).

    ISSUER is the credential issuer identifier (e.g. http://localhost:8000/issuer); CONFIGURATIONS are its
    credential configuration ids (e.g. pid_vc_sd_jwt pid_mso_mdoc).
    """

    async def work(w: Any, console: Any) -> None:
        received = await w.request(issuer, list(configurations), _loopback(console, login_timeout), wait_deferred=wait)
        _show_received(console, w, received)

    _run(ctx, work)


@wallet_group.command("poll")
@click.option("--wait", "wait", default=0, show_default=True, type=click.IntRange(0, 3600), help=_WAIT_HELP)
@click.pass_obj
def poll(ctx: Ctx, wait: int) -> None:
    """Ask the issuers for deferred credentials (OpenID4VCI deferred issuance)."""

    async def work(w: Any, console: Any) -> None:
        if not w.store.pending():
            console.print("nothing is pending")
            return
        with console.status("asking the issuers for deferred credentials ..."):
            received = await w.poll_deferred(wait=wait)
        _show_received(console, w, received)

    _run(ctx, work)


@wallet_group.command("list")
@click.pass_obj
def list_cmd(ctx: Ctx) -> None:
    """The credentials in this wallet."""
    from rich.table import Table

    from wallet_api.holder.store import LocalStore

    store = LocalStore(ctx.wallet_dir)
    table = Table("id", "type", "format", "issuer", "received")
    for c in store.credentials():
        table.add_row(c["id"], str(c.get("type")), c["format"], c["issuer"], c["received_at"])
    for p in store.pending():
        table.add_row(p["id"], f"({p['configuration_id']})", str(p.get("format")), p["issuer"], "deferred")
    console = ctx.console()
    if not store.credentials() and not store.pending():
        console.print("no credentials yet: `lommebok wallet receive <offer>`")
        return
    console.print(table)


@wallet_group.command("show")
@click.argument("credential", required=False)
@click.pass_obj
def show(ctx: Ctx, credential: str | None) -> None:
    """Show a credential's claims, or (without an id) this wallet instance at the wallet provider."""

    async def work(w: Any, console: Any) -> None:
        if credential is None:
            with console.status("asking the wallet provider ..."):
                view = await w.status()
            console.print_json(json.dumps(view))
            return
        rec = w.store.credential(credential)
        console.print(f"[bold]{rec.get('type')}[/bold] ({rec['format']}) from {rec['issuer']}")
        console.print_json(json.dumps(w.claims(rec), default=str))

    _run(ctx, work, server=credential is None)


@wallet_group.command("present")
@click.argument("request_uri")
@click.option("--yes", is_flag=True, help="Share without asking (a login's matching code still needs --code).")
@click.option("--code", "match_code", default=None, help="The matching code the login page shows.")
@click.pass_obj
def present(ctx: Ctx, request_uri: str, yes: bool, match_code: str | None) -> None:
    """Answer an OpenID4VP request (openid4vp://...): shows who asks for what, and asks before sharing.

    A cross-device login shows a matching code on its page; the wallet shows the code it received and shares only
    when the code typed (or given with ``--code``) is the same (OpenID4VP 1.0 §14.2)."""

    async def work(w: Any, console: Any) -> None:
        with console.status("fetching and verifying the request ..."):
            preview = await w.inspect_request(request_uri)
        who = preview.verifier_name or preview.verifier
        signed = "signed, certificate verified" if preview.request.verifier_certificate is not None else (
            "unsigned request: the relying party is not authenticated")
        console.print(f"[bold]{who}[/bold] ({signed})")
        console.print(f"  client_id: {preview.verifier}")
        for q in preview.credentials:
            console.print(f"  asks for {', '.join(q['claims'])} from {q['format']} {', '.join(q['types'])}")
        if len(preview.credentials) > 1:
            console.print("  (alternatives: the wallet answers with what it holds)")
        if preview.match_code is not None:
            console.print(f"  login code: [bold]{preview.match_code}[/bold] (the login page must show the same)")
        consent = yes or click.confirm("Share?", default=False)
        typed = match_code
        if consent and preview.match_code is not None and typed is None:
            typed = click.prompt("Type the code the login page shows", default="", show_default=False)
        with console.status("answering ..."):
            outcome = await w.present(preview, consent=consent, match_code=typed)
        mark = "[green]✔[/green]" if outcome.outcome == "shared" else "[yellow]•[/yellow]"
        console.print(f"{mark} {outcome.outcome} (the verifier answered HTTP {outcome.status_code})")
        if outcome.outcome == "refused":
            console.print(f"  {outcome.body.get('error')}: {outcome.body.get('error_description')}")
        if outcome.redirect_uri:
            console.print(f"  continue at {outcome.redirect_uri}")

    _run(ctx, work)


@wallet_group.command("log")
@click.pass_obj
def log_cmd(ctx: Ctx) -> None:
    """What this wallet shared with whom (from the wallet provider; the local copy if it cannot be reached)."""
    from rich.table import Table

    async def work(w: Any, console: Any) -> None:
        source = "wallet provider"
        try:
            with console.status("reading the transaction log ..."):
                entries = await w.provider.transactions(limit=100)
        except (RemoteProblem, httpx.TransportError):
            entries, source = list(reversed(w.store.log())), "local copy"
        table = Table("when", "relying party", "claims", "outcome", title=f"transaction log ({source})")
        for e in entries:
            table.add_row(str(e["shared_at"]), str(e.get("relying_party_name") or e["relying_party"])[:60],
                          ", ".join(e["claims"]), e["outcome"])
        console.print(table)

    _run(ctx, work)


@wallet_group.command("backup")
@click.pass_obj
def backup(ctx: Ctx) -> None:
    """Encrypt the credentials and their keys with a passphrase (on this machine) and upload the blob."""
    passphrase = click.prompt("Backup passphrase", hide_input=True, confirmation_prompt=True)
    if len(passphrase) < 8:
        raise click.ClickException("use a passphrase of at least 8 characters")

    async def work(w: Any, console: Any) -> None:
        with console.status("encrypting (scrypt, AES-256-GCM) and uploading ..."):
            view = await w.backup(passphrase)
        console.print(f"[green]✔[/green] backup version {view['version']} stored at the wallet provider "
                      f"({view['size']} bytes, encrypted; {len(w.store.credentials())} credential(s))")

    _run(ctx, work)


@wallet_group.command("restore")
@click.pass_obj
def restore(ctx: Ctx) -> None:
    """Download this person's backup and decrypt it into this wallet (after registering and receiving a PID here,
    which binds this device to the same person)."""
    passphrase = click.prompt("Backup passphrase", hide_input=True)

    async def work(w: Any, console: Any) -> None:
        with console.status("downloading and decrypting ..."):
            added = await w.restore(passphrase)
        console.print(f"[green]✔[/green] restored {added} credential(s)")

    _run(ctx, work)
