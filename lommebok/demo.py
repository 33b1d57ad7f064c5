"""``lommebok demo``: one story end to end over HTTP, printing each step.

A wallet registers at the wallet provider (platform key attestation from the dev device maker); the issuer
offers Kari a PID (pre-authorized code with tx_code, through its admin API) and the wallet receives it with a
wallet attestation and a key attestation; a relying party asks for "age over 18" and gets a validated answer; the
phone is reported lost and revoked at the wallet provider, which revokes its credentials at the issuer; the next
presentation is refused by the verifier, with the reason.

Against a running server (``--url``, default http://localhost:8000, on this machine: the demo reads the server's
dev secrets under ``--data-dir``), or, when none answers, against the whole stack started in this process on a
temporary SQLite database. Verifiers cache a status list for its ``ttl`` (draft-ietf-oauth-status-list), so a
revocation reaches a verifier that has just fetched the list only after that time: in-process the demo moves its
clock past it; against a running server it waits (``--wait``).
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import httpx
from cryptography import x509

from eidcore.clock import Clock
from eidcore.errors import LommebokError

STATUS_TTL_MARGIN = 5


@dataclass
class OffsetClock:
    """The wall clock plus an offset that only grows (the in-process demo and tests move time forward)."""

    offset: float = 0.0

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset)

    def timestamp(self) -> float:
        return self.now().timestamp()

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Target:
    """Where the demo runs: base URL, HTTP client, the server's dev secrets and trust anchors."""

    base_url: str
    http: httpx.AsyncClient
    data_dir: Path
    keys_dir: Path
    admin_token: str
    rp_key: str
    trust_anchors: list[x509.Certificate]
    clock: Clock
    embedded: bool
    extra: dict[str, Any] = field(default_factory=dict)


def _read_secret(path: Path, what: str) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        raise click.ClickException(f"cannot read the {what} at {path}: run the demo on the server's machine "
                                   "with --data-dir pointing at its data directory") from None


@contextlib.asynccontextmanager
async def external_target(url: str, data_dir: Path) -> AsyncIterator[Target]:
    from eidcore.clock import SYSTEM_CLOCK

    keys_dir = data_dir / "keys"
    anchors = x509.load_pem_x509_certificates((keys_dir / "trust-anchors.pem").read_bytes())
    async with httpx.AsyncClient(timeout=30) as http:
        yield Target(url, http, data_dir, keys_dir, _read_secret(data_dir / "secrets" / "admin-token", "admin token"),
                     _read_secret(data_dir / "secrets" / "rp-demo", "demo relying party key"), list(anchors),
                     SYSTEM_CLOCK, embedded=False)


@contextlib.asynccontextmanager
async def embedded_target(url: str) -> AsyncIterator[Target]:
    from eidcore.runtime import Runtime
    from eidcore.settings import Settings
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
                assert rt.keys is not None and rt.admin_token is not None
                data_dir = settings.data_dir
                yield Target(url, http, data_dir, settings.effective_keys_dir, rt.admin_token,
                             _read_secret(data_dir / "secrets" / "rp-demo", "demo relying party key"),
                             list(rt.keys.trust_anchors), clock, embedded=True)
        finally:
            await rt.stop()


async def _answers(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            return (await http.get(f"{url}/wallet/health")).status_code == 200
    except httpx.HTTPError:
        return False


class Printer:
    """Numbered steps with rich output."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(highlight=False)
        self.n = 0

    def step(self, title: str) -> None:
        self.n += 1
        self.console.rule(f"[bold]{self.n}. {title}", align="left")

    def info(self, text: str) -> None:
        self.console.print(f"   {text}")

    def ok(self, text: str) -> None:
        self.console.print(f"   [green]✔[/green] {text}")

    def fail(self, text: str) -> None:
        self.console.print(f"   [red]✘[/red] {text}")

    def status(self, text: str) -> Any:
        return self.console.status(f"   {text}")


async def run_demo(t: Target, p: Printer, *, wait: int) -> bool:
    """The story; returns True when every step behaved as it should."""
    from wallet_api.device_attestation import DevDevice, device_maker_path
    from wallet_api.holder.store import LocalStore
    from wallet_api.holder.wallet import Wallet

    admin = {"Authorization": f"Bearer {t.admin_token}"}
    rp = {"Authorization": f"Bearer {t.rp_key}"}
    with tempfile.TemporaryDirectory(prefix="lommebok-demo-wallet-") as wdir:
        w = Wallet(LocalStore(Path(wdir)), t.http, base_url=t.base_url, trust_anchors=t.trust_anchors, clock=t.clock)

        p.step("A wallet registers at the wallet provider")
        with p.status("generating the instance key, attesting it, registering ..."):
            view = await w.register(DevDevice(device_maker_path(t.keys_dir)))
        p.ok(f"wallet instance {view['id']} is {view['state']} (key thumbprint {view['jkt'][:16]}..., "
             f"platform attestation: {view['security_level']} key storage, dev device maker)")
        attestation = await w.provider.wallet_attestation()
        p.ok(f"wallet attestation received (oauth-client-attestation+jwt, {len(attestation)} bytes)")

        p.step("The issuer offers Kari a PID (pre-authorized code with a transaction code)")
        r = await t.http.post(f"{t.base_url}/issuer/admin/offers", headers=admin,
                              json={"person": "kari", "credential_configuration_ids": ["pid_vc_sd_jwt"]})
        if r.status_code != 201:
            p.fail(f"the issuer's admin API answered {r.status_code}: {r.text[:300]}")
            return False
        offer = r.json()
        p.info(f"offer: {offer['offer_uri'][:90]}...")
        p.info(f"transaction code (handed over separately): {offer['tx_code']}")
        with p.status("token, nonce, key attestation, credential request ..."):
            received = await w.receive(offer["offer_uri"], offer["tx_code"])
        for rec in received:
            claims = w.claims(rec)
            idx = (claims.get("status") or {}).get("status_list", {}).get("idx")
            p.ok(f"received {rec['type']} ({rec['format']}) for {claims.get('given_name')} "
                 f"{claims.get('family_name')}, status list index {idx}")
        st = await w.status()
        p.ok(f"the wallet instance is now bound to its person ({st['bound_by']}: the wallet presented the PID)")

        async def ask(label: str) -> tuple[dict[str, Any], Any]:
            r = await t.http.post(f"{t.base_url}/verifier/rp/transactions", json={"profile": "age-over-18"},
                                  headers=rp)
            if r.status_code != 201:
                raise click.ClickException(f"the verifier's RP API answered {r.status_code}: {r.text[:300]}")
            tx = r.json()
            p.info(f"{label}: transaction {tx['transaction_id']}, request {tx['authorization_request'][:70]}...")
            preview = await w.inspect_request(tx["authorization_request"])
            asked = sorted(set(preview.claim_names))
            p.info(f"the wallet shows: [bold]{preview.verifier_name or preview.verifier[:60]}[/bold] asks for "
                   f"{'one of ' if len(asked) > 1 else ''}{', '.join(asked)}; the user agrees")
            outcome = await w.present(preview, consent=True)
            res = (await t.http.get(f"{t.base_url}/verifier/rp/transactions/{tx['transaction_id']}",
                                    headers=rp)).json()
            return res, outcome

        p.step("A relying party asks for age over 18")
        res, _ = await ask("relying party")
        if res.get("status") != "validated":
            p.fail(f"the verifier did not validate the answer: {res.get('status')} {res.get('failure')}")
            return False
        answer = [c.get("claims", {}).get("age_equal_or_over") for docs in res.get("result", {}).values()
                  for c in docs]
        p.ok(f"validated: age_equal_or_over = {answer} (checks: {', '.join(res.get('checks', [])[:6])}, ...)")
        log = await w.provider.transactions()
        p.ok(f"transaction log at the wallet provider: {log[0]['claims']} shared with {log[0]['relying_party'][:50]}")

        p.step("Kari loses her phone; the service desk revokes it at the wallet provider")
        r = await t.http.post(f"{t.base_url}/wallet/admin/instances/{view['id']}/status", headers=admin,
                              json={"action": "revoke"})
        if r.status_code != 200:
            p.fail(f"the wallet provider answered {r.status_code}: {r.text[:300]}")
            return False
        sync = r.json().get("issuer_sync") or {}
        p.ok(f"wallet instance {r.json()['state']}; issuer update: {sync.get('status')}, "
             f"{sync.get('updated')} credential(s) revoked")
        try:
            await w.provider.wallet_attestation()
            p.fail("the revoked instance still got a wallet attestation")
            return False
        except LommebokError as exc:
            p.ok(f"the revoked instance gets no more attestations ({exc.description})")

        p.step("The relying party asks again")
        if t.embedded:
            assert isinstance(t.clock, OffsetClock)
            p.info("verifiers cache a status list for its ttl (300 s here); the demo moves its clock 305 s on")
            t.clock.advance(305)
            res, _ = await ask("relying party")
        else:
            p.info(f"verifiers cache a status list for its ttl (300 s here): the demo asks again every 20 s, "
                   f"for up to {wait} s")
            deadline = asyncio.get_running_loop().time() + wait
            while True:
                res, _ = await ask("relying party")
                if res.get("status") != "validated" or asyncio.get_running_loop().time() > deadline:
                    break
                with p.status("the verifier still holds the cached status list (ttl); trying again in 20 s"):
                    await asyncio.sleep(20)
        if res.get("status") == "validated":
            p.fail("the presentation was still accepted (the verifier's cached status list has not expired)")
            return False
        raw = res.get("failure")
        failure: dict[str, Any] = raw if isinstance(raw, dict) else {}
        p.ok(f"refused ({res.get('status')}): {failure.get('check', res.get('failed_check'))}: "
             f"{failure.get('reason', '')}")
        return True


@click.command("demo")
@click.option("--url", default="http://localhost:8000", show_default=True, help="A running Lommebok server.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The server's data directory (dev secrets, keys); default: LOMMEBOK_DATA_DIR or ./var.")
@click.option("--embedded/--no-embedded", default=None,
              help="Start the stack in this process (default: only when nothing answers at --url).")
@click.option("--wait", default=330, show_default=True, type=click.IntRange(0, 3600),
              help="Against a running server: how long to wait for the verifier's cached status list to expire.")
def demo_command(url: str, data_dir: Path | None, embedded: bool | None, wait: int) -> None:
    """Walk one story end to end: register a wallet, issue a PID, present age over 18, revoke, refuse."""
    _demo(url, data_dir, embedded, wait)


def _demo(url: str, data_dir: Path | None, embedded_flag: bool | None, wait: int) -> None:
    import logging

    from eidcore.settings import load_settings

    url = url.rstrip("/")
    p = Printer()
    for name in ("", "httpx", "lommebok", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)

    async def main() -> bool:
        use_embedded = embedded_flag if embedded_flag is not None else not await _answers(url)
        if use_embedded:
            p.console.print(f"[bold]Lommebok demo[/bold]: no server at {url}; starting the whole stack in this process")
            ctx = embedded_target(url)
        else:
            ddir = data_dir or load_settings().data_dir
            p.console.print(f"[bold]Lommebok demo[/bold] against {url} (server data: {ddir})")
            ctx = external_target(url, ddir)
        async with ctx as target:
            return await run_demo(target, p, wait=wait)

    try:
        ok = asyncio.run(main())
    except LommebokError as exc:
        raise click.ClickException(f"{type(exc).__name__}: {exc.description}") from None
    p.console.rule()
    if not ok:
        raise click.ClickException("the demo stopped at the step marked ✘")
    p.console.print("[bold green]The whole story ran.[/bold green]")
