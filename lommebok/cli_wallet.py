"""``lommebok wallet ...``: a wallet in the terminal, on the reference holder (``wallet_api.holder``).

The wallet keeps its keys and credentials in a local folder (``--wallet-dir``, default ``~/.lommebok/wallet``
or ``LOMMEBOK_WALLET_DIR``; private keys as 0600 JWK files) and talks to a Lommebok deployment at ``--url``.
In development the platform key attestation comes from the server's dev device maker and the trust anchors from
the server's dev PKI, both under the server's data directory (``--data-dir``, default ``LOMMEBOK_DATA_DIR`` or
``./var``): run it on the server's machine.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
import httpx
from cryptography import x509

from eidcore.errors import LommebokError, RemoteProblem

T = TypeVar("T")


@dataclass
class Ctx:
    url: str
    wallet_dir: Path
    data_dir: Path

    def console(self) -> Any:
        from rich.console import Console

        return Console(highlight=False)


def _default_wallet_dir() -> Path:
    return Path(os.environ.get("LOMMEBOK_WALLET_DIR") or Path.home() / ".lommebok" / "wallet")


def _default_data_dir() -> Path:
    return Path(os.environ.get("LOMMEBOK_DATA_DIR") or "var")


def _trust_anchors(ctx: Ctx) -> list[x509.Certificate]:
    path = ctx.data_dir / "keys" / "trust-anchors.pem"
    try:
        return list(x509.load_pem_x509_certificates(path.read_bytes()))
    except (OSError, ValueError):
        raise click.ClickException(f"cannot read the trust anchors at {path}; pass --data-dir (the server's data "
                                   "directory) or export them with `lommebok keys export-trust`") from None


def _run(ctx: Ctx, work: Callable[[Any, Any], Awaitable[T]]) -> T:
    """Run ``work(wallet, console)`` with a wallet on an HTTP client; errors become clean CLI errors."""
    from wallet_api.holder.store import LocalStore
    from wallet_api.holder.wallet import Wallet

    console = ctx.console()

    async def main() -> T:
        async with httpx.AsyncClient(timeout=30) as http:
            w = Wallet(LocalStore(ctx.wallet_dir), http, base_url=ctx.url, trust_anchors=_trust_anchors(ctx))
            return await work(w, console)

    try:
        return asyncio.run(main())
    except RemoteProblem as exc:
        raise click.ClickException(f"the server refused: {exc.error} ({exc.http_status}): {exc.description}") from None
    except LommebokError as exc:
        raise click.ClickException(f"{exc.code}: {exc.description}") from None
    except httpx.TransportError as exc:
        raise click.ClickException(f"cannot reach {ctx.url}: {type(exc).__name__} (is `lommebok serve` running?)"
                                   ) from None


@click.group("wallet")
@click.option("--url", default="http://localhost:8000", show_default=True, help="The Lommebok deployment.")
@click.option("--wallet-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where this wallet keeps keys and credentials (default ~/.lommebok/wallet).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The server's data directory: dev device maker and trust anchors (default ./var).")
@click.pass_context
def wallet_group(click_ctx: click.Context, url: str, wallet_dir: Path | None, data_dir: Path | None) -> None:
    """A wallet in the terminal: register, receive, list, show, present, log."""
    click_ctx.obj = Ctx(url.rstrip("/"), wallet_dir or _default_wallet_dir(), data_dir or _default_data_dir())


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


@wallet_group.command("receive")
@click.argument("offer")
@click.option("--tx-code", default=None, help="The transaction code the issuer gave you (asked if needed).")
@click.pass_obj
def receive(ctx: Ctx, offer: str, tx_code: str | None) -> None:
    """Receive the credentials of an OpenID4VCI credential offer (openid-credential-offer://...)."""
    from wallet_api.holder import vci

    async def work(w: Any, console: Any) -> None:
        parsed = await vci.resolve_offer(w.http, offer)
        offered = ", ".join(parsed.credential_configuration_ids)
        console.print(f"[bold]{parsed.credential_issuer}[/bold] offers: {offered}")
        code = tx_code
        if parsed.tx_code is not None and not code:
            desc = parsed.tx_code.get("description") or "the transaction code"
            code = click.prompt(f"Enter {desc}", hide_input=False)
        with console.status("getting a token, attestations and the credentials ..."):
            received = await w.receive(offer, code)
        for rec in received:
            console.print(f"[green]✔[/green] {rec['id']}  {rec.get('type')}  ({rec['format']})")

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
    console = ctx.console()
    if not store.credentials():
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

    _run(ctx, work)


@wallet_group.command("present")
@click.argument("request_uri")
@click.option("--yes", is_flag=True, help="Share without asking.")
@click.pass_obj
def present(ctx: Ctx, request_uri: str, yes: bool) -> None:
    """Answer an OpenID4VP request (openid4vp://...): shows who asks for what, and asks before sharing."""

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
        consent = yes or click.confirm("Share?", default=False)
        with console.status("answering ..."):
            outcome = await w.present(preview, consent=consent)
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
