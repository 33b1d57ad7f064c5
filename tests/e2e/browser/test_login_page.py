"""A person logs in at the issuer's test login page in a real browser (Debian's chromium, headless).

The wallet side (PAR, PKCE, DPoP, wallet attestation) is the reference holder; the browser opens the
authorization URL, searches for the person, picks the level of assurance and logs in; the issuer redirects to
the wallet's redirect URI with the code, and the wallet receives a PID with that person's name.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from lommebok_testing import chromium_path, serving

from eidcore import jose
from eidcore.clock import SYSTEM_CLOCK
from eidcore.formats.sd_jwt import SdJwtHolder
from eidcore.keys import load_keyset
from eidcore.oauth.client_attestation import make_attestation
from wallet_api.holder.vci import VciClient, WalletAttestation, fetch_metadata

pytestmark = pytest.mark.slow  # a real browser

REDIRECT = "http://127.0.0.1:9/callback"  # never served: the browser request is intercepted


def _chromium() -> str:
    path = chromium_path()
    if path is None:
        if os.environ.get("LOMMEBOK_TEST_REQUIRE_SERVICES") == "1":
            pytest.fail("chromium is not installed (.ci/run installs Debian's chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return path


async def test_person_logs_in_at_the_test_login_page_and_gets_a_pid(tmp_path: Path) -> None:
    chromium = _chromium()
    from playwright.async_api import async_playwright

    with serving(tmp_path, "--service", "issuer", health="/issuer/health") as (base, _):
        issuer_id = f"http://localhost:{base.rsplit(':', 1)[1]}/issuer"  # serve --port P names itself so
        keys = load_keyset(tmp_path / "var" / "keys")
        instance = jose.generate_signing_key()
        attestation = make_attestation(keys.wallet_provider.signing_key(), client_id="lommebok-wallet",
                                       instance_jwk=instance.public_jwk, clock=SYSTEM_CLOCK)
        async with httpx.AsyncClient() as http:
            meta = await fetch_metadata(http, issuer_id)
            vci = VciClient(http, meta, dpop_key=jose.generate_signing_key(),
                            attestation=WalletAttestation(attestation, instance))
            auth = await vci.push_authorization(redirect_uri=REDIRECT, scope="pid_vc_sd_jwt")

            async with async_playwright() as pw:
                browser = await pw.chromium.launch(
                    executable_path=chromium,
                    args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                          "--disable-background-networking", "--disable-component-update", "--disable-sync"],
                )
                try:
                    page = await browser.new_page()
                    landed: list[str] = []

                    async def callback(route, request):  # type: ignore[no-untyped-def]
                        landed.append(request.url)
                        await route.fulfill(status=200, body="back in the wallet")

                    await page.route(REDIRECT + "*", callback)
                    await page.goto(auth.authorize_url)
                    assert await page.title()
                    await page.fill("input[name=q]", "Kari")
                    await page.click("text=Search")
                    await page.check("input[name=loa][value=high]")
                    # the row whose alias cell is exactly "kari" (a search for Kari also finds other Karis)
                    row = page.locator("tr").filter(has=page.get_by_role("cell", name="kari", exact=True))
                    assert await row.count() == 1
                    await page.screenshot(path=str(tmp_path / "login.png"), full_page=True)
                    await row.locator("button", has_text="Log in").click()
                    await page.wait_for_url(REDIRECT + "*")
                finally:
                    await browser.close()

            assert landed, "the issuer did not redirect back to the wallet"
            code = vci.authorization_code(landed[0], auth)
            token = await vci.token_authorization_code(code, auth)
            holder_key = jose.generate_signing_key()
            nonce = await vci.nonce()
            resp = await vci.request_credential(token, proofs=[vci.proof(holder_key, nonce)],
                                                credential_configuration_id="pid_vc_sd_jwt")
    claims = SdJwtHolder().load(resp.credentials[0]).claims
    assert claims["given_name"] == "Kari"
    assert claims["age_equal_or_over"]["18"] is True
