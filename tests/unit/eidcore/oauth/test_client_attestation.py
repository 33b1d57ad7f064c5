"""Attestation-based client authentication: the wallet provider's attestation and the instance's PoP."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from eidcore import jose
from eidcore.clock import FixedClock
from eidcore.keys import KeySet, load_or_create_dev_pki, make_leaf, make_root_ca
from eidcore.oauth import client_attestation as ca
from eidcore.oauth.client_attestation import InvalidClientAttestation, UseAttestationChallenge

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
CLOCK = FixedClock(NOW)
AS = "http://localhost:8000/issuer"
CLIENT = "lommebok-wallet"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> KeySet:
    return load_or_create_dev_pki(Path(tmp_path_factory.mktemp("k")), "http://localhost:8000", clock=CLOCK)


@pytest.fixture(scope="module")
def instance() -> jose.SigningKey:
    return jose.generate_signing_key()


def attest(pki: KeySet, instance: jose.SigningKey, **kw: object) -> str:
    return ca.make_attestation(pki.wallet_provider.signing_key(), client_id=CLIENT,
                               instance_jwk=jose.public_jwk(instance.public_key), clock=CLOCK,
                               extra={"wallet_name": "Lommebok"}, **kw)  # type: ignore[arg-type]


def test_valid_attestation_and_pop(pki: KeySet, instance: jose.SigningKey) -> None:
    out = ca.verify(attest(pki, instance), ca.make_pop(instance, audience=AS, clock=CLOCK, challenge="c1"),
                    audience=AS, trust_anchors=pki.trust_anchors, clock=CLOCK, client_id=CLIENT,
                    expected_challenge="c1", challenge_required=True)
    assert out.client_id == CLIENT
    assert out.instance_jkt == jose.jwk_thumbprint_b64u(jose.public_jwk(instance.public_key))
    assert out.wallet_name == "Lommebok" and out.challenge == "c1"


def test_untrusted_provider_is_refused(pki: KeySet, instance: jose.SigningKey) -> None:
    root_key, root = make_root_ca("Rogue", now=NOW)
    key, cert = make_leaf("Rogue provider", root_key, root, now=NOW, days=30)
    from cryptography.hazmat.primitives.serialization import Encoding

    rogue = jose.SigningKey(key, "ES256", None, (cert.public_bytes(Encoding.DER),))
    token = ca.make_attestation(rogue, client_id=CLIENT, instance_jwk=jose.public_jwk(instance.public_key), clock=CLOCK)
    with pytest.raises(InvalidClientAttestation, match="trusted anchor"):
        ca.verify(token, ca.make_pop(instance, audience=AS, clock=CLOCK), audience=AS,
                  trust_anchors=pki.trust_anchors, clock=CLOCK)


def test_no_trust_anchor_means_deny(pki: KeySet, instance: jose.SigningKey) -> None:
    with pytest.raises(InvalidClientAttestation):
        ca.verify(attest(pki, instance), ca.make_pop(instance, audience=AS, clock=CLOCK), audience=AS,
                  trust_anchors=[], clock=CLOCK)


def test_pop_by_another_key_is_refused(pki: KeySet, instance: jose.SigningKey) -> None:
    thief = jose.generate_signing_key()
    with pytest.raises(InvalidClientAttestation, match="PoP"):
        ca.verify(attest(pki, instance), ca.make_pop(thief, audience=AS, clock=CLOCK), audience=AS,
                  trust_anchors=pki.trust_anchors, clock=CLOCK)


def test_pop_for_another_server_is_refused(pki: KeySet, instance: jose.SigningKey) -> None:
    with pytest.raises(InvalidClientAttestation, match="aud"):
        ca.verify(attest(pki, instance), ca.make_pop(instance, audience="https://other.example", clock=CLOCK),
                  audience=AS, trust_anchors=pki.trust_anchors, clock=CLOCK)


def test_client_id_must_match_sub(pki: KeySet, instance: jose.SigningKey) -> None:
    with pytest.raises(InvalidClientAttestation, match="client_id"):
        ca.verify(attest(pki, instance), ca.make_pop(instance, audience=AS, clock=CLOCK), audience=AS,
                  trust_anchors=pki.trust_anchors, clock=CLOCK, client_id="someone-else")


def test_expired_attestation_is_refused(pki: KeySet, instance: jose.SigningKey) -> None:
    token = attest(pki, instance, lifetime=60)
    later = FixedClock(NOW + dt.timedelta(seconds=200))
    with pytest.raises(InvalidClientAttestation, match="expired"):
        ca.verify(token, ca.make_pop(instance, audience=AS, clock=later), audience=AS,
                  trust_anchors=pki.trust_anchors, clock=later)


def test_old_pop_is_refused(pki: KeySet, instance: jose.SigningKey) -> None:
    pop = ca.make_pop(instance, audience=AS, clock=FixedClock(NOW - dt.timedelta(seconds=400)))
    with pytest.raises(InvalidClientAttestation, match="iat"):
        ca.verify(attest(pki, instance), pop, audience=AS, trust_anchors=pki.trust_anchors, clock=CLOCK)


def test_challenge_required(pki: KeySet, instance: jose.SigningKey) -> None:
    with pytest.raises(UseAttestationChallenge):
        ca.verify(attest(pki, instance), ca.make_pop(instance, audience=AS, clock=CLOCK), audience=AS,
                  trust_anchors=pki.trust_anchors, clock=CLOCK, expected_challenge="c2", challenge_required=True)
    with pytest.raises(InvalidClientAttestation, match="challenge"):
        ca.verify(attest(pki, instance), ca.make_pop(instance, audience=AS, clock=CLOCK, challenge="old"),
                  audience=AS, trust_anchors=pki.trust_anchors, clock=CLOCK, expected_challenge="c2")


@pytest.mark.parametrize(
    ("att", "pop"), [(None, "x"), ("x", None), ("", ""), ("a.b.c", "a.b.c"), ("garbage", "garbage")]
)
def test_missing_or_garbage_headers(pki: KeySet, att: str | None, pop: str | None) -> None:
    with pytest.raises(InvalidClientAttestation):
        ca.verify(att, pop, audience=AS, trust_anchors=pki.trust_anchors, clock=CLOCK)


def test_attestation_typ_is_checked(pki: KeySet, instance: jose.SigningKey) -> None:
    token = jose.sign_jwt({"sub": CLIENT, "exp": int(NOW.timestamp()) + 60,
                           "cnf": {"jwk": jose.public_jwk(instance.public_key)}},
                          pki.wallet_provider.signing_key(), typ="jwt", include_x5c=True)
    with pytest.raises(InvalidClientAttestation):
        ca.verify(token, ca.make_pop(instance, audience=AS, clock=CLOCK), audience=AS,
                  trust_anchors=pki.trust_anchors, clock=CLOCK)
