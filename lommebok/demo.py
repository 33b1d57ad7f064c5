"""``lommebok demo``: one story end to end over HTTP, printing each step.

A wallet registers at the wallet provider (platform key attestation from the dev device maker); the issuer
offers Kari a PID (pre-authorized code with tx_code, through its admin API) and the wallet receives it with a
wallet attestation and a key attestation; a relying party asks for "age over 18" and gets a validated answer; the
phone is reported lost and revoked at the wallet provider, which revokes its credentials at the issuer; the next
presentation is refused by the verifier, with the reason.

Against the running server named with ``--url`` (``LOMMEBOK_URL``; on this machine: the demo reads the
server's dev secrets under ``--data-dir``, or the admin tokens from ``LOMMEBOK_ISSUER_ADMIN_TOKEN`` and
``LOMMEBOK_WALLET_ADMIN_TOKEN`` when the server was given them),
or, when no server is named or none answers, against the whole stack started in this process on a temporary
SQLite database (nothing leaves the process).
Verifiers cache a status list for its ``ttl`` (draft-ietf-oauth-status-list), so a revocation reaches a verifier
that has just fetched the list only after that time: in-process the demo moves its clock past it; against a
running server it waits that long (the dev server's ttl is short), at most ``--wait``. When the
services run apart, ``--issuer-url`` / ``--verifier-url`` / ``--wallet-url`` say where.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import httpx
from cryptography import x509

from eidcore.clock import Clock, OffsetClock  # OffsetClock re-exported for the tests
from eidcore.errors import LommebokError
from eidcore.settings import SERVICES, ServiceName, Settings, load_settings
from lommebok.cli_common import service_url, service_url_option, url_option

STATUS_TTL_MARGIN = 5


@dataclass
class Target:
    """Where the demo runs: the three services' URLs, an HTTP client, the server's dev secrets and trust anchors."""

    base_url: str
    http: httpx.AsyncClient
    data_dir: Path
    keys_dir: Path
    #: the admin API bearer token of each service the demo administers (issuer, wallet)
    admin_tokens: dict[str, str]
    rp_key: str
    trust_anchors: list[x509.Certificate]
    clock: Clock
    embedded: bool
    urls: dict[str, str] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return self.urls.get(service) or f"{self.base_url}/{service}"


def _read_secret(path: Path, what: str) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        raise click.ClickException(f"cannot read the {what} at {path}: run the demo on the server's machine "
                                   "with --data-dir pointing at its data directory") from None


@contextlib.asynccontextmanager
async def external_target(url: str, data_dir: Path, urls: dict[str, str] | None = None, *,
                          settings: Settings | None = None) -> AsyncIterator[Target]:
    """The server at ``url``: its admin tokens from the settings (``LOMMEBOK_<SERVICE>_ADMIN_TOKEN``) or the dev
    secrets under ``data_dir``, its trust anchors from ``data_dir``."""
    from eidcore.clock import SYSTEM_CLOCK

    settings = settings or load_settings()

    keys_dir = data_dir / "keys"
    try:
        anchors = x509.load_pem_x509_certificates((keys_dir / "trust-anchors.pem").read_bytes())
    except (OSError, ValueError):
        raise click.ClickException(f"cannot read the trust anchors under {keys_dir}: run the demo on the server's "
                                   "machine with --data-dir pointing at its data directory") from None
    async with httpx.AsyncClient(timeout=30) as http:
        admin_tokens = {
            s: configured_admin_token(settings, s)
            or _read_secret(data_dir / "secrets" / f"admin-token-{s}", f"{s} admin token") for s in ("issuer", "wallet")
        }
        yield Target(url, http, data_dir, keys_dir, admin_tokens,
                     _read_secret(data_dir / "secrets" / "rp-demo", "demo relying party key"), list(anchors),
                     SYSTEM_CLOCK, embedded=False, urls=dict(urls or {}))


def configured_admin_token(settings: Settings, service: ServiceName) -> str | None:
    """``service``'s admin token as the settings give it, or None."""
    token: str | None = getattr(settings, f"{service}_admin_token")
    return token


@contextlib.asynccontextmanager
async def embedded_target(url: str) -> AsyncIterator[Target]:
    from eidcore.runtime import Runtime
    from lommebok.app import create_root_app

    with tempfile.TemporaryDirectory(prefix="lommebok-demo-") as tmp:
        settings = Settings(data_dir=Path(tmp) / "var", public_base_url=url, redis_url=None, database_url=None)
        clock = OffsetClock()
        rt = Runtime(settings, clock=clock)
        app: Any = create_root_app(settings, runtime=rt)
        rt.route_outbound(httpx.ASGITransport(app=app))
        await rt.start()
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=url, timeout=30) as http:
                assert rt.keys is not None
                data_dir = settings.data_dir
                tokens = {str(s): t for s, t in rt.admin_tokens.items()}
                yield Target(url, http, data_dir, settings.effective_keys_dir, tokens,
                             _read_secret(data_dir / "secrets" / "rp-demo", "demo relying party key"),
                             list(rt.keys.trust_anchors), clock, embedded=True)
        finally:
            await rt.stop()


async def _answers(wallet_url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            return (await http.get(f"{wallet_url}/health")).status_code == 200
    except httpx.HTTPError:
        return False


def _short(text: str, n: int = 64) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _client(client_id: str) -> str:
    """A relying party's client_id (OpenID4VP 1.0 §5.9) shown by its host and client identifier prefix."""
    from urllib.parse import urlsplit

    prefix, _, rest = client_id.partition(":")
    host = urlsplit(rest).netloc or rest
    return f"the relying party at {host} ({prefix} client id)" if rest else client_id


class Printer:
    """Numbered steps; each line a mark and a text that wraps under itself."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(highlight=False)
        self.n = 0

    def step(self, title: str) -> None:
        self.n += 1
        self.console.print()
        self.console.rule(f"[bold]{self.n}. {title}", align="left")

    def _line(self, mark: str, text: str) -> None:
        from rich.table import Table

        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=3, justify="right", no_wrap=True)
        grid.add_column()
        grid.add_row(mark, text)
        self.console.print(grid)

    def info(self, text: str) -> None:
        self._line("", text)

    def ok(self, text: str) -> None:
        self._line("[green]✔[/green]", text)

    def fail(self, text: str) -> None:
        self._line("[red]✘[/red]", text)

    def status(self, text: str) -> Any:
        return self.console.status(f"   {text}")


@dataclass
class ListEntry:
    """A credential's entry in its issuer's signed status list, as the demo reads it."""

    uri: str
    idx: int
    value: int
    ttl: int | None


async def read_status(t: Target, w: Any, record: dict[str, Any]) -> ListEntry:
    """Fetch the credential's status list from its issuer and verify it (signature chains to the trust anchors)."""
    from eidcore.status_list import verify_jwt

    ref = w.claims(record)["status"]["status_list"]
    r = await t.http.get(ref["uri"], headers={"Accept": "application/statuslist+jwt"})
    if r.status_code != 200:
        raise click.ClickException(f"the issuer's status list answered {r.status_code}")
    verified = verify_jwt(r.text, uri=ref["uri"], clock=t.clock, trust_anchors=t.trust_anchors)
    return ListEntry(ref["uri"], int(ref["idx"]), verified.get(int(ref["idx"])), verified.ttl)


STATUS_NAMES = {0: "valid", 1: "revoked", 2: "suspended"}


async def run_demo(t: Target, p: Printer, *, wait: int) -> bool:
    """The story; returns True when every step behaved as it should."""
    from wallet_api.device_attestation import DevDevice, device_maker_path
    from wallet_api.holder.store import LocalStore
    from wallet_api.holder.wallet import Wallet

    issuer_admin = {"Authorization": f"Bearer {t.admin_tokens['issuer']}"}
    wallet_admin = {"Authorization": f"Bearer {t.admin_tokens['wallet']}"}
    rp = {"Authorization": f"Bearer {t.rp_key}"}
    loop = asyncio.get_running_loop()
    with tempfile.TemporaryDirectory(prefix="lommebok-demo-wallet-") as wdir:
        w = Wallet(LocalStore(Path(wdir)), t.http, base_url=t.base_url, provider_url=t.url("wallet"),
                   trust_anchors=t.trust_anchors, clock=t.clock)

        p.step("Kari's phone: the wallet app registers at the wallet provider")
        with p.status("generating the instance key, attesting it, registering ..."):
            view = await w.register(DevDevice(device_maker_path(t.keys_dir)))
        p.ok(f"wallet instance {view['id'][:8]}… is [bold]{view['state']}[/bold] "
             f"(platform key attestation from the dev device maker, {view['security_level']} key storage)")
        attestation = await w.provider.wallet_attestation()
        p.ok(f"the wallet provider vouches for it: wallet attestation ({len(attestation)} bytes, "
             "oauth-client-attestation+jwt, cnf = the instance key)")

        p.step("The issuer offers Kari a PID; the wallet receives it")
        r = await t.http.post(f"{t.url('issuer')}/admin/offers", headers=issuer_admin,
                              json={"person": "kari", "credential_configuration_ids": ["pid_vc_sd_jwt"]})
        if r.status_code != 201:
            p.fail(f"the issuer's admin API answered {r.status_code}: {r.text[:300]}")
            return False
        offer = r.json()
        p.info(f"offer (pre-authorized code): {_short(offer['offer_uri'], 38)}")
        p.info(f"transaction code, sent to Kari separately: [bold]{offer['tx_code']}[/bold]")
        with p.status("token (wallet attestation + DPoP), nonce, key attestation, credential request ..."):
            received = await w.receive(offer["offer_uri"], offer["tx_code"])
        pid = received[0]
        claims = w.claims(pid)
        p.ok(f"received a PID ({pid['type']}, {pid['format']}) for [bold]{claims.get('given_name')} "
             f"{claims.get('family_name')}[/bold], born {claims.get('birthdate', '?')}")
        st = await w.status()
        p.ok(f"the wallet instance now belongs to Kari (bound by {st['bound_by']}: the wallet presented the PID)")
        entry = await read_status(t, w, pid)
        p.ok(f"the issuer's signed status list says entry {entry.idx} is [bold]{STATUS_NAMES.get(entry.value)}[/bold] "
             f"(relying parties may cache the list for {entry.ttl} s)")

        async def ask() -> dict[str, Any]:
            r = await t.http.post(f"{t.url('verifier')}/rp/transactions", json={"profile": "age-over-18"},
                                  headers=rp)
            if r.status_code != 201:
                raise click.ClickException(f"the verifier's RP API answered {r.status_code}: {r.text[:300]}")
            tx = r.json()
            preview = await w.inspect_request(tx["authorization_request"])
            who = preview.verifier_name or _client(preview.verifier)
            p.info(f"the wallet shows: {who} asks whether Kari is over 18 "
                   f"({' or '.join(sorted(set(preview.claim_names))[:1])} or an equivalent); Kari agrees")
            outcome = await w.present(preview, consent=True)
            shared = w.store.log()[-1]["claims"] if outcome.outcome == "shared" else []
            if shared:
                p.info(f"the wallet sends only: {', '.join(shared)} (nothing else leaves the phone)")
            res: dict[str, Any] = (await t.http.get(f"{t.url('verifier')}/rp/transactions/{tx['transaction_id']}",
                                                    headers=rp)).json()
            res["wallet_answer"] = outcome.body  # the verifier's answer to the wallet (names a refused check)
            return res

        p.step("A relying party asks: is Kari over 18?")
        asked_at = loop.time()
        res = await ask()
        if res.get("status") != "validated":
            p.fail(f"the verifier did not validate the answer: {res.get('status')} {res.get('failure')}")
            return False
        answer = [c.get("claims", {}).get("age_equal_or_over") for docs in res.get("result", {}).values()
                  for c in docs]
        checks = res.get("checks", [])
        p.ok(f"[bold]validated[/bold]: age_equal_or_over = {answer[0] if len(answer) == 1 else answer} "
             f"({len(checks)} checks passed, among them issuer signature, key binding and status)")
        log = await w.provider.transactions()
        p.ok(f"Kari's transaction log at the wallet provider: {', '.join(log[0]['claims'])} shared with "
             f"{log[0]['relying_party_name'] or _client(log[0]['relying_party'])} "
             f"at {str(log[0]['shared_at'])[11:19]} UTC")

        p.step("Kari loses her phone; the service desk revokes it at the wallet provider")
        r = await t.http.post(f"{t.url('wallet')}/admin/instances/{view['id']}/status", headers=wallet_admin,
                              json={"action": "revoke"})
        if r.status_code != 200:
            p.fail(f"the wallet provider answered {r.status_code}: {r.text[:300]}")
            return False
        sync = r.json().get("issuer_sync") or {}
        p.ok(f"wallet instance [bold]{r.json()['state']}[/bold]; the wallet provider told the issuer, which revoked "
             f"{sync.get('updated')} credential(s) issued to that phone ({sync.get('status')})")
        entry = await read_status(t, w, pid)
        p.ok(f"the issuer's signed status list now says entry {entry.idx} is "
             f"[bold]{STATUS_NAMES.get(entry.value)}[/bold]")
        try:
            await w.provider.wallet_attestation()
            p.fail("the revoked instance still got a wallet attestation")
            return False
        except LommebokError as exc:
            p.ok(f"the lost phone gets no more wallet attestations ({exc.description})")

        p.step("The relying party asks again")
        ttl = entry.ttl or 0
        if t.embedded:
            assert isinstance(t.clock, OffsetClock)
            p.info(f"the verifier may use its cached copy of the list for {ttl} s; "
                   f"this in-process demo moves its clock {ttl + STATUS_TTL_MARGIN} s on")
            t.clock.advance(ttl + STATUS_TTL_MARGIN)
            res = await ask()
        else:
            if ttl > wait:
                p.fail(f"the issuer's status list ttl is {ttl} s, longer than --wait {wait} s: run the demo with "
                       f"--wait {ttl + 10}, or the server with a shorter LOMMEBOK_STATUS_LIST_TTL")
                return False
            until = asked_at + ttl + 1
            p.info(f"the verifier may use its cached copy of the list for {ttl} s: waiting until it expires")
            with p.status("") as spinner:
                while (left := until - loop.time()) > 0:
                    spinner.update(f"   waiting for the verifier's cached status list to expire: {left:.0f} s")
                    await asyncio.sleep(min(1.0, left))
            deadline = asked_at + wait
            while True:
                res = await ask()
                if res.get("status") != "validated" or loop.time() > deadline:
                    break
                p.info("the verifier still accepted it (its cached list); asking again in 5 s")
                await asyncio.sleep(5)
        if res.get("status") == "validated":
            p.fail("the presentation was still accepted (the verifier's cached status list has not expired)")
            return False
        # a refused response leaves the transaction pending (the relying party sees the refused check); the
        # verifier's answer to the wallet gives the reason
        refused = res.get("refused_attempts")
        last: dict[str, Any] = refused[-1] if isinstance(refused, list) and refused else {}
        described = str((res.get("wallet_answer") or {}).get("error_description", ""))
        check = str(last.get("check", ""))
        p.ok(f"[bold]refused[/bold]: {check}: {described.removeprefix(check + ': ')} (the transaction stays open "
             f"until a valid answer or its expiry)")
        return True


#: the name of the in-process deployment (requests to it never leave the process)
EMBEDDED_URL = "http://localhost:8000"


@click.command("demo")
@url_option
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The server's data directory (dev secrets, keys); default: LOMMEBOK_DATA_DIR or ./var.")
@click.option("--embedded/--no-embedded", default=None,
              help="Start the stack in this process (default: when no server is named, or none answers).")
@click.option("--wait", default=120, show_default=True, type=click.IntRange(0, 3600),
              help="Against a running server: the longest wait for the verifier's cached status list to expire.")
@service_url_option("issuer", "issuer")
@service_url_option("verifier", "verifier")
@service_url_option("wallet", "wallet provider")
def demo_command(url: str | None, data_dir: Path | None, embedded: bool | None, wait: int, issuer_url: str | None,
                 verifier_url: str | None, wallet_url: str | None) -> None:
    """Walk one story end to end: register a wallet, issue a PID, present age over 18, revoke, refuse."""
    urls = {k: v.rstrip("/") for k, v in (("issuer", issuer_url), ("verifier", verifier_url),
                                          ("wallet", wallet_url)) if v}
    _demo(url, data_dir, embedded, wait, urls)


def _demo(url: str | None, data_dir: Path | None, embedded_flag: bool | None, wait: int,
          urls: dict[str, str] | None = None) -> None:
    import logging

    from lommebok.cli_common import cli_settings

    urls = urls or {}
    configured = cli_settings()
    if not url and "public_base_url" in configured.model_fields_set:
        url = configured.public_base_url  # the deployment's own public URL (LOMMEBOK_PUBLIC_BASE_URL)
    named = bool(url or urls)
    if embedded_flag is False and not named:
        service_url("wallet", None)  # the usage error: which server?
    if named and embedded_flag is not True:
        urls = {s: service_url(s, url, urls.get(s)) for s in SERVICES}  # every service located, or a usage error
    url = (url or "").rstrip("/")
    p = Printer()
    for name in ("", "httpx", "lommebok", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)

    async def main() -> bool:
        use_embedded = embedded_flag if embedded_flag is not None else (
            not named or not await _answers(urls["wallet"]))
        if use_embedded:
            why = f"no server at {url or urls['wallet']}" if named else "no server named (--url)"
            p.console.print(f"[bold]Lommebok demo[/bold]: {why}; starting the whole stack in this "
                            "process (SQLite in a temporary folder)")
            ctx = embedded_target(EMBEDDED_URL)
        else:
            ddir = data_dir or configured.data_dir
            p.console.print(f"[bold]Lommebok demo[/bold] against {url or ', '.join(urls.values())} "
                            f"(server data: {ddir})")
            ctx = external_target(url, ddir, urls, settings=configured)
        async with ctx as target:
            started = asyncio.get_running_loop().time()
            ok = await run_demo(target, p, wait=wait)
            p.console.print()
            p.console.rule()
            p.console.print(f"took {asyncio.get_running_loop().time() - started:.0f} s")
            return ok

    try:
        ok = asyncio.run(main())
    except LommebokError as exc:
        raise click.ClickException(f"{type(exc).__name__}: {exc.description}") from None
    except httpx.TransportError as exc:
        raise click.ClickException(f"the server stopped answering: {type(exc).__name__}") from None
    if not ok:
        raise click.ClickException("the demo stopped at the step marked ✘")
    p.console.print("[bold green]The whole story ran.[/bold green]")
