"""Two ``lommebok serve --service issuer`` processes sharing PostgreSQL and Redis: what one consumed, the other
refuses (pre-authorized code, c_nonce, tx_code attempts), and a revocation made through one shows in the status
list the other serves."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from lommebok_testing import serving

from eidcore import jose
from eidcore.clock import SYSTEM_CLOCK
from eidcore.formats.sd_jwt import MUST_NOT_BE_PRESENT
from eidcore.formats.sd_jwt_vc import SdJwtVcVerifier, X5cIssuerKey
from eidcore.keys import load_certificates
from eidcore.status_list import StatusValue, verify_jwt
from wallet_api.holder.vci import PRE_AUTH_GRANT, make_proof

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


@contextmanager
def _serve(tmp: Path, env: dict[str, str]) -> Iterator[str]:
    with serving(tmp, "--service", "issuer", health="/issuer/health", env=env) as (base, _):
        yield base


def test_single_use_values_across_two_processes(tmp_path: Path, clean_postgres_url: str, redis_url: str) -> None:
    token = secrets.token_urlsafe(32)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOMMEBOK_")}
    env.update(LOMMEBOK_DATA_DIR=str(tmp_path / "var"), LOMMEBOK_DATABASE_URL=clean_postgres_url,
               LOMMEBOK_REDIS_URL=redis_url, LOMMEBOK_ISSUER_ADMIN_TOKEN=token)
    admin = {"Authorization": f"Bearer {token}"}
    with ExitStack() as stack:
        a = stack.enter_context(_serve(tmp_path, env))
        b = stack.enter_context(_serve(tmp_path, env))
        iss_b = "http://localhost:" + b.rsplit(":", 1)[1] + "/issuer"

        def offer(**extra: object) -> tuple[str, str | None]:
            r = httpx.post(f"{a}/issuer/admin/offers", headers=admin,
                           json={"person": "kari", "credential": "youth_vc_sd_jwt", **extra})
            assert r.status_code == 201, r.text
            body = r.json()
            return body["credential_offer"]["grants"][PRE_AUTH_GRANT]["pre-authorized_code"], body["tx_code"]

        # the CLI creates an offer through the admin API
        cli = subprocess.run([sys.executable, "-m", "lommebok", "issuer", "offer", "--person", "kari", "--credential",
                              "pid_vc_sd_jwt", "--url", a, "--qr", str(tmp_path / "qr.svg")], env=env,
                             capture_output=True, text=True, timeout=60)
        assert cli.returncode == 0, cli.stderr
        assert "openid-credential-offer://?credential_offer=" in cli.stdout
        assert (tmp_path / "qr.svg").read_text().lstrip().startswith("<svg")
        tx_line = next(line for line in cli.stdout.splitlines() if line.startswith("tx_code:"))
        assert tx_line.split()[-1].isdigit()

        # the pre-authorized code redeemed at A is dead at B
        code, tx = offer()
        form = {"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": code, "tx_code": tx or ""}
        first = httpx.post(f"{a}/issuer/token", data=form)
        assert first.status_code == 200, first.text
        r = httpx.post(f"{b}/issuer/token", data=form)
        assert (r.status_code, r.json()["error"]) == (400, "invalid_grant")
        access = first.json()["access_token"]

        # a c_nonce consumed at B is refused at B again and at A; the access token from A works at B
        nonce = httpx.post(f"{a}/issuer/nonce").json()["c_nonce"]
        key = jose.generate_signing_key()
        body = {"credential_configuration_id": "youth_vc_sd_jwt",
                "proofs": {"jwt": [make_proof(key, audience=iss_b, nonce=nonce, clock=SYSTEM_CLOCK)]}}
        r = httpx.post(f"{b}/issuer/credential", json=body, headers={"Authorization": f"Bearer {access}"})
        assert r.status_code == 200, r.text
        first_credential = r.json()["credentials"][0]["credential"]
        iss_a = "http://localhost:" + a.rsplit(":", 1)[1] + "/issuer"
        replay = {"credential_configuration_id": "youth_vc_sd_jwt",
                  "proofs": {"jwt": [make_proof(key, audience=iss_a, nonce=nonce, clock=SYSTEM_CLOCK)]}}
        r = httpx.post(f"{a}/issuer/credential", json=replay, headers={"Authorization": f"Bearer {access}"})
        assert (r.status_code, r.json()["error"]) == (400, "invalid_nonce")

        # wrong tx_code attempts count together across processes
        code, tx = offer()
        assert tx is not None
        wrong = str((int(tx) + 1) % 10 ** len(tx)).zfill(len(tx))
        for i in range(5):
            base = (a, b)[i % 2]
            r = httpx.post(f"{base}/issuer/token", data={**form, "pre-authorized_code": code, "tx_code": wrong})
            assert r.json()["error"] == "invalid_grant"
        r = httpx.post(f"{b}/issuer/token", data={**form, "pre-authorized_code": code, "tx_code": tx})
        assert (r.status_code, r.json()["error"]) == (400, "invalid_grant")

        # revoked through A, revoked in the list B serves
        issued = first_credential
        anchors = load_certificates(tmp_path / "var" / "keys" / "trust-anchors.pem")
        ref = SdJwtVcVerifier(X5cIssuerKey(anchors)).verify(issued, MUST_NOT_BE_PRESENT).status
        assert ref is not None and ref.uri.startswith(iss_b)
        cli = subprocess.run([sys.executable, "-m", "lommebok", "issuer", "revoke", "--person", "kari",
                              "--type", "youth", "--issuer-url", f"{a}/issuer"], env=env, capture_output=True,
                             text=True, timeout=60)
        assert cli.returncode == 0, cli.stderr
        assert "revoke: 1 credential(s)" in cli.stdout
        token = httpx.get(f"{b}/issuer/status/{ref.uri.rsplit('/', 1)[1]}").text
        verified = verify_jwt(token, uri=ref.uri, clock=SYSTEM_CLOCK, trust_anchors=anchors)
        assert verified.get(ref.idx) == StatusValue.INVALID
