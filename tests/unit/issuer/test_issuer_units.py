"""Unit tests of the issuer's pure parts: Accept-Language choice, options from the environment, the app alone."""

from __future__ import annotations

import warnings

import pytest

from eidcore.errors import ConfigurationError
from eidcore.settings import Settings, check_registered_redirect_uri, load_settings
from issuer.clients import redirect_uri_matches
from issuer.metadata import pick_locale
from issuer.oauth import requested_configurations
from issuer.options import IdPortenOptions, IssuerOptions


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("nb-NO", "nb"),
        ("no", "nb"),
        ("nn", "nn"),
        ("en-US,en;q=0.9", "en"),
        ("de, fr;q=0.8", None),
        ("de, nn;q=0.2, en;q=0.5", "en"),
        ("en;q=0, nn", "nn"),
        ("*", None),
        ("nn;q=abc, en", "en"),
    ],
)
def test_pick_locale(header: str | None, expected: str | None) -> None:
    assert pick_locale(header) == expected


def test_options_from_settings_configure_idporten_only_when_complete(monkeypatch: pytest.MonkeyPatch) -> None:
    assert IssuerOptions.from_settings(Settings()).idporten is None
    monkeypatch.setenv("LOMMEBOK_ISSUER__IDPORTEN__ISSUER", "https://idporten.no")
    monkeypatch.setenv("LOMMEBOK_ISSUER__IDPORTEN__CLIENT_ID", "c")
    with pytest.raises(ConfigurationError, match="LOMMEBOK_ISSUER__IDPORTEN__CLIENT_SECRET"):
        load_settings()
    monkeypatch.setenv("LOMMEBOK_ISSUER__IDPORTEN__CLIENT_SECRET", "s3cret")
    settings = load_settings()
    assert IssuerOptions.from_settings(settings).idporten == IdPortenOptions("https://idporten.no", "c", "s3cret")
    assert "s3cret" not in repr(settings.issuer.idporten), "the client secret is never printed"


def test_idporten_environment_does_not_break_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOMMEBOK_IDPORTEN_ISSUER", "https://idporten.no")
    monkeypatch.setenv("LOMMEBOK_IDPORTEN_CLIENT_ID", "c")
    assert isinstance(load_settings(), Settings)


@pytest.mark.parametrize("uri", ["javascript:alert(1)", "data:text/html,x", "http://evil.example/cb",
                                 "https://x.example/cb#frag", "https:///nohost", "no-scheme", "/relative",
                                 "http://localhost:3000/cb", "https://*.example/cb", "https://u@x.example/cb",
                                 "customscheme:/cb", " https://x.example/cb"])
def test_registered_redirect_uri_refusals(uri: str) -> None:
    with pytest.raises(ValueError):
        check_registered_redirect_uri(uri)


@pytest.mark.parametrize("uri", ["https://wallet.example/cb", "http://127.0.0.1/cb", "http://[::1]:8080/cb",
                                 "no.lommebok.app:/cb"])
def test_registered_redirect_uri_accepted(uri: str) -> None:
    assert check_registered_redirect_uri(uri) == uri


@pytest.mark.parametrize(("registered", "requested", "matches"), [
    ("https://w.example/cb", "https://w.example/cb", True),
    ("https://w.example/cb", "https://w.example/cb/", False),
    ("https://w.example/cb", "https://W.example/cb", False),
    ("https://w.example/cb", "https://w.example:443/cb", False),
    ("https://w.example/cb", "https://w.example/cb?x=1", False),
    ("https://w.example/cb", "https://w.example/cb#x", False),
    ("no.w.app:/cb", "no.w.app:/cb", True),
    ("http://127.0.0.1/callback", "http://127.0.0.1:1/callback", True),
    ("http://127.0.0.1/callback", "http://127.0.0.1:65535/callback", True),
    ("http://127.0.0.1/callback", "http://127.0.0.1:65536/callback", False),
    ("http://127.0.0.1/callback", "http://127.0.0.1:80/callbackx", False),
    ("http://127.0.0.1/callback", "http://127.0.0.1:80/callback?x", False),
    ("http://127.0.0.1/callback", "http://127.0.0.1:80/callback#x", False),
    ("http://127.0.0.1/callback", "http://[::1]:80/callback", False),
    ("http://127.0.0.1/callback", "http://u@127.0.0.1:80/callback", False),
    ("http://127.0.0.1/callback", "http://127.0.0.1.evil.example/callback", False),
    ("http://127.0.0.1/callback", "https://127.0.0.1:80/callback", False),
    ("http://[::1]/callback", "http://[::1]:5000/callback", True),
    ("https://w.example/cb", "https://w.example:8443/cb", False),
])
def test_redirect_uri_matching(registered: str, requested: str, matches: bool) -> None:
    """RFC 9700 §2.1 exact comparison; RFC 8252 §7.3 any port for a registered loopback URI."""
    assert redirect_uri_matches(registered, requested) is matches


def test_issuer_app_alone_registers_without_deprecation_warnings(tmp_path: object) -> None:
    from eidcore.runtime import Runtime
    from issuer.app import create_app, well_known_handlers

    rt = Runtime(Settings(data_dir=tmp_path))  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        app = create_app(runtime=rt)
        paths = {r.path for r in app.routes}
        assert {"/par", "/token", "/credential", "/nonce", "/status/{list_id:str}"} <= paths
        assert {p for h in well_known_handlers(app) for p in getattr(h, "paths", ())} == {
            "/.well-known/openid-credential-issuer/issuer", "/.well-known/oauth-authorization-server/issuer",
            "/.well-known/jwt-vc-issuer/issuer"}


def test_requested_configurations(tmp_path: object) -> None:
    from eidcore.errors import InvalidRequest, InvalidScope
    from eidcore.runtime import Runtime
    from issuer.core import Issuer

    issuer = Issuer(Runtime(Settings(data_dir=tmp_path)))  # type: ignore[arg-type]
    assert requested_configurations(issuer, "pid_vc_sd_jwt youth_mso_mdoc", None) == (
        ["pid_vc_sd_jwt", "youth_mso_mdoc"], False)
    details = '[{"type":"openid_credential","credential_configuration_id":"pid_mso_mdoc"}]'
    assert requested_configurations(issuer, None, details) == (["pid_mso_mdoc"], True)
    with pytest.raises(InvalidScope):
        requested_configurations(issuer, "guardian_consent_vc_sd_jwt", None)
    for bad in ('[{"type":"x","credential_configuration_id":"pid_mso_mdoc"}]', "[]", "{}", "nope",
                '[{"type":"openid_credential","credential_configuration_id":"pid_mso_mdoc","locations":["x"]}]'):
        with pytest.raises(InvalidRequest):
            requested_configurations(issuer, None, bad)
    with pytest.raises(InvalidRequest):
        requested_configurations(issuer, None, None)
