"""The ``lommebok`` command: serve, keys, openapi, docs, bench, and the client commands (register, issuer, verifier,
wallet, credentials, demo) registered from their modules."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import click

from eidcore.errors import ConfigurationError, LommebokError, StorageUnavailable
from eidcore.settings import SERVICES, ServiceName, Settings, hand_over_to_workers


def _settings(**overrides: Any) -> Settings:
    from lommebok.cli_common import cli_settings

    return cli_settings(**overrides)


def fail(exc: LommebokError) -> click.ClickException:
    """A clean CLI error (exit 1) naming what is wrong and how to fix it."""
    return click.ClickException(exc.description)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lommebok")
def main() -> None:
    """Lommebok: an open digital identity wallet backend (issuer, verifier, wallet API)."""


@main.command()
@click.option("--host", default=None, help="Interface to listen on (default 127.0.0.1; env LOMMEBOK_HOST).")
@click.option("--port", default=None, type=click.IntRange(1, 65535),
              help="TCP port (default 8000; env LOMMEBOK_PORT). The public URL is LOMMEBOK_PUBLIC_BASE_URL, "
                   "else http://localhost:<port>.")
@click.option("--service", type=click.Choice(["all", *SERVICES]), default=None,
              help="Run all three services in one process (default), or one service alone (as production would; "
                   "env LOMMEBOK_SERVICES).")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Worker processes (default 1; env LOMMEBOK_WORKERS; more than one needs LOMMEBOK_REDIS_URL).")
def serve(host: str | None, port: int | None, service: str | None, workers: int | None) -> None:
    """Run Lommebok with embedded defaults (SQLite in ./var, in-memory store, dev PKI, synthetic register).

    Behind a reverse proxy set LOMMEBOK_PUBLIC_BASE_URL to the URL clients use (e.g. https://id.example.no):
    metadata, offers and certificates name it, whatever host and port the server binds.
    """
    import uvicorn

    chosen = None if service is None else (SERVICES if service == "all" else (service,))
    settings = _settings(host=host, port=port, workers=workers, services=chosen)
    services: list[ServiceName] = list(settings.services)
    # Preflight: fail fast with a clear message instead of a traceback inside the server.
    from eidcore.runtime import Runtime

    rt = Runtime(settings)
    rt.services.update(services)  # production: these services' admin tokens
    try:
        asyncio.run(_preflight(rt))
    except (ConfigurationError, StorageUnavailable) as exc:
        raise fail(exc) from None
    if "verifier" in services and settings.environment == "dev":
        from eidcore.runtime import dev_secret

        dev_secret(settings.data_dir, "rp-demo")  # the verifier's demo relying party key (created here first)
    _banner(settings, services, rt)
    options: dict[str, Any] = {"host": settings.host, "port": settings.port, "log_level": settings.log_level.lower(),
                               "access_log": False, "proxy_headers": True}
    if settings.workers == 1:
        from lommebok.app import create_root_app

        uvicorn.run(create_root_app(settings, services), **options)
        return
    # Each worker process builds the app itself from its own settings: it gets what this command line chose
    # through the one documented hand-over (eidcore.settings.hand_over_to_workers).
    hand_over_to_workers(settings, ("host", "port", "services", "workers"))
    uvicorn.run("lommebok.asgi:create", factory=True, workers=settings.workers, **options)


async def _preflight(rt: Any) -> None:
    try:
        await rt.start()
    finally:
        await rt.stop()


def _banner(settings: Settings, services: list[ServiceName], rt: Any) -> None:
    base = settings.public_base_url
    click.echo(f"Lommebok is starting on {settings.host}:{settings.port}, public URL {base}")
    for s in services:
        url = settings.service_url(s)
        click.echo(f"  {s:<9} {url}   (OpenAPI: {url}/schema/swagger, health: {url}/health)")
    click.echo(f"  landing   {base}/")
    click.echo(f"  CLI       export LOMMEBOK_URL={base}   (the server `lommebok issuer|verifier|wallet|demo` talk to)")
    click.echo(f"  database  {settings.effective_database_url.split('@')[-1]}")
    click.echo(f"  store     {'redis' if settings.redis_url else 'in-memory (single worker)'}")
    if rt.keys is not None and rt.keys.directory is not None:
        click.echo(f"  keys      {rt.keys.directory} (trust anchor: {rt.keys.directory / 'trust-anchors.pem'})")
    for s in services:
        token_file = rt.admin_token_files.get(s)
        if token_file is not None:
            click.echo(f"  {s} admin API bearer token: {token_file}")
    secrets_dir = settings.data_dir / "secrets"
    rp = sorted(secrets_dir.glob("rp-*")) if secrets_dir.exists() else []
    for f in rp:
        click.echo(f"  relying-party API key: {f}")


# --------------------------------------------------------------------------------------------------
# keys
# --------------------------------------------------------------------------------------------------


@main.group()
def keys() -> None:
    """Inspect the signing keys and certificates (the dev PKI is created on first start)."""


def _load_keys() -> Any:
    from eidcore.keys import load_keyset, load_or_create_dev_pki

    s = _settings()
    try:
        if s.environment == "production":
            if s.keys_dir is None:
                raise ConfigurationError("set LOMMEBOK_KEYS_DIR")
            return load_keyset(s.keys_dir)
        if (s.effective_keys_dir / "trust-anchors.pem").exists():  # what the server uses: shown, not re-made
            return load_keyset(s.effective_keys_dir)
        return load_or_create_dev_pki(s.effective_keys_dir, s.public_base_url, service_urls=s.service_urls)
    except ConfigurationError as exc:
        raise fail(exc) from None


@keys.command("show")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def keys_show(as_json: bool) -> None:
    """Print each role's certificate chain, fingerprints and JWK thumbprint."""
    from eidcore.keys import ROLES, cert_fingerprint

    ks = _load_keys()
    out: dict[str, Any] = {}
    for role in ROLES:
        ident = ks.identity(role)
        out[role] = {
            "chain": [
                {"subject": c.subject.rfc4514_string(), "issuer": c.issuer.rfc4514_string(),
                 "not_after": c.not_valid_after_utc.isoformat(), "sha256": cert_fingerprint(c)}
                for c in ident.chain
            ],
            "jwk_thumbprint": _thumbprint(ident.key.public_key()),
            "x509_hash": _b64u(ident.cert_sha256),
        }
    out["trust_anchors"] = [{"subject": a.subject.rfc4514_string(), "sha256": cert_fingerprint(a)}
                            for a in ks.trust_anchors]
    if as_json:
        click.echo(json.dumps(out, indent=2))
        return
    for role in ROLES:
        click.echo(f"{role}:")
        for c in out[role]["chain"]:
            click.echo(f"  {c['subject']}\n    issued by {c['issuer']}, until {c['not_after']}")
            click.echo(f"    sha256 {c['sha256']}")
        click.echo(f"  JWK thumbprint (RFC 7638): {out[role]['jwk_thumbprint']}")
        click.echo(f"  x509_hash: {out[role]['x509_hash']}")
    for a in out["trust_anchors"]:
        click.echo(f"trust anchor: {a['subject']}\n  sha256 {a['sha256']}")


def _b64u(data: bytes) -> str:
    from eidcore.encoding import b64u_encode

    return b64u_encode(data)


def _thumbprint(public_key: Any) -> str:
    """RFC 7638 SHA-256 JWK thumbprint of a public key."""
    from eidcore import jose

    return jose.jwk_thumbprint_b64u(jose.public_jwk(public_key))


@keys.command("export-trust")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the PEM trust anchor(s) relying parties configure.")
def keys_export_trust(out: Path) -> None:
    """Write the root certificate(s) that relying parties and wallets configure as trust anchor."""
    from eidcore.keys import pem

    ks = _load_keys()
    out.write_bytes(pem(*ks.trust_anchors))
    click.echo(f"wrote {len(ks.trust_anchors)} trust anchor(s) to {out}")


# --------------------------------------------------------------------------------------------------
# openapi
# --------------------------------------------------------------------------------------------------


@main.command("openapi")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("specs/openapi"),
              show_default=True, help="Folder for <service>.json.")
@click.option("--check", is_flag=True, help="Exit 1 if the committed documents differ from the code.")
def openapi_cmd(out: Path, check: bool) -> None:
    """Write (or --check) the generated OpenAPI document of every service."""
    from lommebok.openapi import render_all

    drift = []
    for name, text in render_all().items():
        path = out / f"{name}.json"
        if check:
            if not path.exists() or path.read_text() != text:
                drift.append(str(path))
        else:
            out.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            click.echo(f"wrote {path}")
    if drift:
        raise click.ClickException("OpenAPI drift, run `lommebok openapi`: " + ", ".join(drift))


@main.command("docs")
@click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path), default=Path("docs/operations.md"),
              show_default=True, help="The operations guide whose generated tables to rewrite.")
@click.option("--check", is_flag=True, help="Exit 1 if the generated tables differ from the code.")
def docs_cmd(path: Path, check: bool) -> None:
    """Rewrite (or --check) the tables of every setting and CLI variable in docs/operations.md."""
    from lommebok.docs import render

    try:
        text = path.read_text()
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror}") from None
    new = render(text)
    if check:
        if new != text:
            raise click.ClickException(f"{path} is out of date with the settings: run `lommebok docs`")
        return
    if new != text:
        path.write_text(new)
    click.echo(f"wrote {path}")


# --------------------------------------------------------------------------------------------------
# bench
# --------------------------------------------------------------------------------------------------


@main.command()
@click.argument("suites", nargs=-1)
@click.option("--quick", is_flag=True, help="Shorter measurements (for a smoke run).")
@click.option("--postgres-url", envvar="LOMMEBOK_TEST_POSTGRES_URL",
              default="postgresql://postgres@127.0.0.1:5432/test", show_default=True,
              help="PostgreSQL server of the HTTP benchmarks (a scratch database is made and dropped on it; "
                   "env LOMMEBOK_TEST_POSTGRES_URL).")
@click.option("--redis-url", envvar="LOMMEBOK_TEST_REDIS_URL", default="redis://127.0.0.1:6379/0", show_default=True,
              help="Redis of the HTTP benchmarks (env LOMMEBOK_TEST_REDIS_URL).")
def bench(suites: tuple[str, ...], quick: bool, postgres_url: str, redis_url: str) -> None:
    """Run benchmarks; prints one JSON object per line (ratios to the raw ES256 limit of this run)."""
    from lommebok.bench import run_suites
    from lommebok.bench.common import Backends

    for line in run_suites(list(suites), quick=quick, backends=Backends(postgres_url, redis_url)):
        click.echo(json.dumps(line), nl=True)
        sys.stdout.flush()


#: subcommand groups: (module under lommebok, attribute, command name)
SUBCOMMANDS = (
    ("cli_register", "register_group", "register"),
    ("cli_issuer", "issuer_group", "issuer"),
    ("cli_verifier", "verifier_group", "verifier"),
    ("cli_wallet", "wallet_group", "wallet"),
    ("cli_credentials", "credentials_group", "credentials"),
    ("demo", "demo_command", "demo"),
)


def _register_subcommands() -> None:
    import importlib

    for module, attr, name in SUBCOMMANDS:
        try:
            mod = importlib.import_module(f"lommebok.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"lommebok.{module}":
                raise
            continue
        main.add_command(getattr(mod, attr), name)


_register_subcommands()
