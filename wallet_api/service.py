"""The wallet provider's logic, independent of the web framework's request handling.

- request authentication: every call of an app is signed by its instance key with a DPoP-style proof
  (RFC 9449 §4.2 proof format, ``htm``/``htu``/``iat``/``jti``, no access token): the proof's key thumbprint
  names the instance, the ``jti`` is single-use (key-value store, atomic across workers);
- registration: a single-use challenge (the proof's ``nonce`` and the attestation challenge), the platform key
  attestation (:mod:`wallet_api.device_attestation`), one instance per key;
- wallet instance attestations (draft-ietf-oauth-attestation-based-client-auth as OpenID4VCI 1.0 Appendix E)
  and key attestations (OpenID4VCI 1.0 Appendix D), for active instances only, each with a ``status`` reference
  into the wallet-instance status list (draft-ietf-oauth-status-list) this service publishes;
- lifecycle: suspend / revoke / reinstate, allowed to the instance itself (suspend, revoke), to another active
  instance of the same person, or to an administrator; the issuer's admin API then revokes, suspends or
  reinstates every credential issued to the instance key (``instance_jkt``);
- binding an instance to a person: by a PID presentation (SD-JWT VC + KB-JWT over a nonce of this service,
  issuer chain to the trust anchors, the PID's ``personal_administrative_number`` looked up in the population
  register), or by an administrator (e.g. a service desk after an in-person identity check).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from eidcore import jose
from eidcore.errors import (
    AccessDenied,
    ConfigurationError,
    Conflict,
    FormatError,
    InstanceNotActive,
    InvalidDeviceAttestation,
    InvalidDPoPProof,
    InvalidNonce,
    InvalidRequest,
    LommebokError,
    NotFound,
    UnknownPerson,
)
from eidcore.oauth import client_attestation, dpop
from eidcore.runtime import Runtime, pseudonym
from eidcore.status_list import StatusList, StatusReference, StatusValue
from eidcore.status_list.token import issue_jwt
from wallet_api.device_attestation import (
    AttestationPolicy,
    load_or_create_device_maker,
    parse_x5c,
    verify_android_key_attestation,
)
from wallet_api.models import WalInstance

log = logging.getLogger("lommebok.wallet")

CLIENT_ID = "lommebok-wallet"
WALLET_NAME = "Lommebok"
WALLET_LINK = "https://github.com/lommebok/lommebok"
CHALLENGE_TTL = 300
WALLET_ATTESTATION_LIFETIME = 3600
KEY_ATTESTATION_LIFETIME = 600
PROOF_MAX_AGE = 300
PROOF_SKEW = 60
MAX_ATTESTED_KEYS = 10
PID_VCT = "urn:eudi:pid:1"
STATUS_LIST_BLOCK = 4096
KEY_ATTESTATION_TYP = "key-attestation+jwt"
#: OpenID4VCI 1.0 Appendix D.2 attack-potential values by Android security level
ATTACK_POTENTIAL = {"strongbox": "iso_18045_high", "tee": "iso_18045_moderate", "software": "iso_18045_basic"}

Action = Literal["suspend", "revoke", "reinstate"]
TARGET_STATE = {"suspend": "suspended", "revoke": "revoked", "reinstate": "active"}


def now_utc(rt: Runtime) -> datetime:
    return rt.clock.now()


# --------------------------------------------------------------------------------------------------
# Attestation roots
# --------------------------------------------------------------------------------------------------


def attestation_policies(rt: Runtime) -> list[AttestationPolicy]:
    """The trusted platform attestation roots: the configured Android roots, and in dev the device maker."""
    from cryptography import x509

    s = rt.settings
    out: list[AttestationPolicy] = []
    roots_file = s.effective_keys_dir / "device-attestation-roots.pem"
    if roots_file.exists():
        roots = tuple(x509.load_pem_x509_certificates(roots_file.read_bytes()))
        out.append(AttestationPolicy("android", roots, min_security_level=1, require_verified_boot=True))
    if s.environment != "production":
        maker = load_or_create_device_maker(s.effective_keys_dir, clock=rt.clock)
        out.append(AttestationPolicy("dev", (maker.certificate,), min_security_level=0, require_verified_boot=False))
    return out


# --------------------------------------------------------------------------------------------------
# Signed requests
# --------------------------------------------------------------------------------------------------


def public_url(rt: Runtime, scope: Mapping[str, Any]) -> str:
    """The public URL the app signed (``htu``): the service URL plus the mount-relative path."""
    path: str = scope.get("path", "/")
    root: str = scope.get("root_path", "") or ""
    if root and path.startswith(root):
        path = path[len(root):] or "/"
    return rt.settings.service_url("wallet") + path


async def verify_request_proof(rt: Runtime, proof: str | None, *, method: str, url: str) -> dpop.DPoPProof:
    """Verify the per-request proof and make its ``jti`` single-use (RFC 9449 §4.3, §11.1)."""
    p = dpop.verify_proof(proof, htm=method, htu=url, clock=rt.clock, max_age=PROOF_MAX_AGE, max_skew=PROOF_SKEW)
    if p.jwk.get("kty") != "EC" or p.jwk.get("crv") != "P-256":
        raise InvalidDPoPProof("instance keys are P-256 keys (ES256)")
    fresh = await rt.store.put(f"wal:jti:{p.jkt}:{p.jti}", b"1", PROOF_MAX_AGE + 2 * PROOF_SKEW, only_if_absent=True)
    if not fresh:
        raise InvalidDPoPProof("the request proof was already used (replay)")
    return p


async def authenticate(rt: Runtime, proof: str | None, *, method: str, url: str,
                       require_active: bool = True) -> WalInstance:
    """The instance that signed this request (and, by default, it must be active)."""
    p = await verify_request_proof(rt, proof, method=method, url=url)
    async with rt.db.session() as s:
        inst = (await s.exec(select(WalInstance).where(WalInstance.jkt == p.jkt))).first()
    if inst is None:
        raise AccessDenied("no wallet instance is registered for this key")
    if require_active and inst.state != "active":
        raise InstanceNotActive(f"the wallet instance is {inst.state}", state=inst.state)
    return inst


# --------------------------------------------------------------------------------------------------
# Registration
# --------------------------------------------------------------------------------------------------


async def new_challenge(rt: Runtime) -> str:
    attestation_policies(rt)  # in dev this creates the device maker, so a dev wallet can attest with it
    challenge = secrets.token_urlsafe(32)
    await rt.store.put(f"wal:challenge:{challenge}", b"1", CHALLENGE_TTL)
    return challenge


async def register(rt: Runtime, proof: str | None, *, url: str, platform: str, attestation_format: str,
                   x5c: object, wallet_version: str) -> WalInstance:
    """Register a wallet instance (challenge, proof of possession, platform attestation)."""
    p = dpop.verify_proof(proof, htm="POST", htu=url, clock=rt.clock, max_age=PROOF_MAX_AGE, max_skew=PROOF_SKEW)
    if p.nonce is None:
        raise InvalidNonce("the registration proof must carry the challenge as nonce")
    if await rt.store.consume(f"wal:challenge:{p.nonce}") is None:
        raise InvalidNonce("the registration challenge is unknown, expired or already used")
    if platform != "android" or attestation_format != "android-key":
        raise InvalidDeviceAttestation("only Android Key Attestation (platform android, format android-key) "
                                       "is supported; iOS App Attest is not implemented")
    key = jose.public_key_from_jwk(p.jwk)
    if not isinstance(key, ec.EllipticCurvePublicKey) or p.jwk.get("crv") != "P-256":
        raise InvalidDPoPProof("instance keys are P-256 keys (ES256)")
    chain = parse_x5c(x5c)
    result = verify_android_key_attestation(chain, instance_key=key, challenge=p.nonce.encode("ascii"),
                                            policies=attestation_policies(rt), clock=rt.clock)
    now = now_utc(rt)
    for _ in range(5):
        async with rt.db.session() as s:
            if (await s.exec(select(WalInstance).where(WalInstance.jkt == p.jkt))).first() is not None:
                raise Conflict("this instance key is already registered")
            top = (await s.exec(select(func.max(WalInstance.status_idx)))).one()
            inst = WalInstance(
                id=str(uuid.uuid4()), status_idx=(top if isinstance(top, int) else -1) + 1, jkt=p.jkt,
                public_jwk={k: p.jwk[k] for k in ("kty", "crv", "x", "y")}, platform=platform,
                security_level=result.security_level, attestation_roots=result.policy,
                wallet_version=wallet_version, state="active", created_at=now, updated_at=now,
                issuer_sync=None, person_id=None, bound_by=None, version=1,
            )
            s.add(inst)
            try:
                await s.commit()
            except IntegrityError:
                await s.rollback()
                continue
        log.info("wallet instance registered: %s (%s)", pseudonym(inst.id), result.policy)
        return inst
    raise Conflict("could not allocate a status index; retry")


# --------------------------------------------------------------------------------------------------
# Attestations
# --------------------------------------------------------------------------------------------------


def status_list_uri(rt: Runtime) -> str:
    return rt.settings.service_url("wallet") + "/status/instances"


def status_claim(rt: Runtime, inst: WalInstance) -> dict[str, Any]:
    return StatusReference(uri=status_list_uri(rt), idx=inst.status_idx).to_json_claim()


def wallet_attestation(rt: Runtime, inst: WalInstance) -> str:
    """A Client Attestation JWT for the instance (OpenID4VCI 1.0 Appendix E; HAIP: x5c, ES256)."""
    if inst.state != "active":
        raise InstanceNotActive(f"the wallet instance is {inst.state}", state=inst.state)
    assert rt.keys is not None
    return client_attestation.make_attestation(
        rt.keys.wallet_provider.signing_key(), client_id=CLIENT_ID, instance_jwk=inst.public_jwk, clock=rt.clock,
        lifetime=WALLET_ATTESTATION_LIFETIME,
        extra={"wallet_name": WALLET_NAME, "wallet_link": WALLET_LINK, "status": status_claim(rt, inst),
               **({"wallet_version": inst.wallet_version} if inst.wallet_version else {})},
    )


def _check_attested_key(jwk: object, i: int) -> dict[str, Any]:
    if not isinstance(jwk, Mapping):
        raise InvalidRequest(f"attested_keys[{i}] must be a JWK object")
    if set(jwk) & {"d", "p", "q", "dp", "dq", "qi", "k", "oth"}:
        raise InvalidRequest(f"attested_keys[{i}] must not hold private key material")
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise InvalidRequest(f"attested_keys[{i}] must be a P-256 EC key")
    try:
        jose.public_key_from_jwk(jwk)
    except FormatError as exc:
        raise InvalidRequest(f"attested_keys[{i}] is not a valid JWK: {exc.description}") from None
    return {k: jwk[k] for k in ("kty", "crv", "x", "y")}


def key_attestation(rt: Runtime, inst: WalInstance, keys: Sequence[object], nonce: str | None) -> str:
    """A key attestation JWT (OpenID4VCI 1.0 Appendix D) for keys the instance holds in its secure storage."""
    if inst.state != "active":
        raise InstanceNotActive(f"the wallet instance is {inst.state}", state=inst.state)
    if not keys or len(keys) > MAX_ATTESTED_KEYS:
        raise InvalidRequest(f"attested_keys must hold 1 to {MAX_ATTESTED_KEYS} keys")
    attested = [_check_attested_key(k, i) for i, k in enumerate(keys)]
    if len({jose.jwk_thumbprint_b64u(k) for k in attested}) != len(attested):
        raise InvalidRequest("attested_keys holds the same key twice")
    if nonce is not None and (not nonce or len(nonce) > 512):
        raise InvalidRequest("nonce must be a non-empty string of at most 512 characters")
    assert rt.keys is not None
    now = int(rt.clock.timestamp())
    level = ATTACK_POTENTIAL.get(inst.security_level, "iso_18045_basic")
    claims: dict[str, Any] = {
        "iat": now, "exp": now + KEY_ATTESTATION_LIFETIME, "attested_keys": attested,
        "key_storage": [level], "user_authentication": [level], "status": status_claim(rt, inst),
    }
    if nonce is not None:
        claims["nonce"] = nonce
    return jose.sign_jwt(claims, rt.keys.wallet_provider.signing_key(), typ=KEY_ATTESTATION_TYP,
                         include_kid=False, include_x5c=True)


#: the wallet-instance list's ``ttl`` (draft-ietf-oauth-status-list-18 §6.1): 300 s, 30 s in dev, or
#: ``LOMMEBOK_STATUS_LIST_TTL`` (the same knob as the issuer's lists): how late an issuer may learn of a lost phone
STATUS_LIST_TTL = 300
DEV_STATUS_LIST_TTL = 30


def status_list_ttl(rt: Runtime, env: Mapping[str, str] | None = None) -> int:
    """The ``ttl`` of the wallet-instance status list (see :data:`STATUS_LIST_TTL`)."""
    import os

    e = os.environ if env is None else env
    raw = (e.get("LOMMEBOK_STATUS_LIST_TTL") or "").strip()
    if raw:
        try:
            ttl = int(raw)
        except ValueError:
            raise ConfigurationError("LOMMEBOK_STATUS_LIST_TTL must be a whole number of seconds") from None
        if not 1 <= ttl <= 86400:
            raise ConfigurationError("LOMMEBOK_STATUS_LIST_TTL must be between 1 and 86400 seconds")
        return ttl
    return DEV_STATUS_LIST_TTL if rt.settings.environment == "dev" else STATUS_LIST_TTL


async def status_list_token(rt: Runtime) -> str:
    """The wallet-instance Status List Token (2 bits: 0 valid, 1 revoked, 2 suspended), signed with x5c."""
    async with rt.db.session() as s:
        rows = (await s.exec(select(WalInstance.status_idx, WalInstance.state)
                             .where(col(WalInstance.state) != "active"))).all()
        top = (await s.exec(select(func.max(WalInstance.status_idx)))).one()
    size = ((top if isinstance(top, int) else 0) // STATUS_LIST_BLOCK + 1) * STATUS_LIST_BLOCK
    lst = StatusList(size, 2)
    for idx, state in rows:
        lst.set(idx, StatusValue.INVALID if state == "revoked" else StatusValue.SUSPENDED)
    assert rt.keys is not None
    return issue_jwt(lst, uri=status_list_uri(rt), key=rt.keys.wallet_provider.signing_key(), clock=rt.clock,
                     expires_in=3600, ttl=status_list_ttl(rt), include_x5c=True)


# --------------------------------------------------------------------------------------------------
# Lifecycle
# --------------------------------------------------------------------------------------------------


async def get_visible(rt: Runtime, caller: WalInstance, instance_id: str) -> WalInstance:
    """An instance the caller may see and manage: itself, or another instance of the same person."""
    async with rt.db.session() as s:
        target = await s.get(WalInstance, instance_id)
    if target is None or not (target.id == caller.id or (caller.person_id is not None
                                                          and target.person_id == caller.person_id)):
        raise NotFound("no such wallet instance")
    return target


def check_transition(inst: WalInstance, action: Action) -> bool:
    """True when the action changes the state, False when the instance is already there (idempotent)."""
    target = TARGET_STATE[action]
    if inst.state == target:
        return False
    if inst.state == "revoked":
        raise Conflict("a revoked wallet instance cannot be suspended or reinstated")
    if action == "reinstate" and inst.state != "suspended":
        raise Conflict("only a suspended wallet instance can be reinstated")
    return True


async def change_state(rt: Runtime, instance_id: str, action: Action, *, by: str,
                       if_match: int | None = None) -> WalInstance:
    """Apply a lifecycle action and tell the issuer; a no-op action only retries a failed issuer update."""
    async with rt.db.session() as s:
        inst = await s.get(WalInstance, instance_id, with_for_update=not rt.db.is_sqlite)
        if inst is None:
            raise NotFound("no such wallet instance")
        if if_match is not None and inst.version != if_match:
            from eidcore.errors import PreconditionFailed

            raise PreconditionFailed("the wallet instance changed; fetch it again")
        changed = check_transition(inst, action)
        if changed:
            inst.state = TARGET_STATE[action]
            inst.version += 1
            inst.updated_at = now_utc(rt)
            inst.issuer_sync = {"action": action, "status": "pending"}
            s.add(inst)
            await s.commit()
            log.info("wallet instance %s: %s by %s", pseudonym(inst.id), action, by)
    sync = inst.issuer_sync or {}
    if changed or sync.get("status") != "done" or sync.get("action") != action:
        inst = await sync_issuer(rt, inst, action)
    return inst


async def sync_issuer(rt: Runtime, inst: WalInstance, action: Action) -> WalInstance:
    """Revoke / suspend / reinstate at the issuer every credential issued to the instance key."""
    url = rt.settings.service_url("issuer") + "/admin/credentials/status"
    outcome: dict[str, Any] = {"action": action}
    try:
        resp = await rt.http.post(url, json={"action": action, "instance_jkt": inst.jkt},
                                  headers={"Authorization": f"Bearer {rt.admin_tokens['issuer']}"})
        body = resp.json() if resp.headers.get("content-type", "").startswith("application/json") else {}
        if resp.status_code == 200 and isinstance(body, dict) and isinstance(body.get("updated"), int):
            creds = body.get("credentials")
            outcome.update(status="done", updated=body["updated"],
                           credentials=creds if isinstance(creds, list) else [])
        else:
            outcome.update(status="failed", detail=f"the issuer answered HTTP {resp.status_code}")
    except Exception as exc:
        outcome.update(status="failed", detail=f"the issuer could not be reached ({type(exc).__name__})")
    async with rt.db.session() as s:
        row = await s.get(WalInstance, inst.id)
        assert row is not None
        row.issuer_sync = outcome
        s.add(row)
        await s.commit()
    if outcome["status"] != "done":
        log.warning("issuer update for wallet instance %s failed: %s", pseudonym(inst.id), outcome["detail"])
    return row


# --------------------------------------------------------------------------------------------------
# Person binding
# --------------------------------------------------------------------------------------------------


async def new_binding_nonce(rt: Runtime, inst: WalInstance) -> str:
    nonce = secrets.token_urlsafe(24)
    await rt.store.put(f"wal:bind:{nonce}", inst.id.encode(), CHALLENGE_TTL)
    return nonce


async def person_from_pid(rt: Runtime, inst: WalInstance, presentation: str, nonce: str) -> str:
    """Verify a PID presentation (SD-JWT VC with KB-JWT over our nonce) and return the person's id."""
    from eidcore.formats.sd_jwt.verify import KeyBindingRequired
    from eidcore.formats.sd_jwt_vc import SdJwtVcVerifier, X5cIssuerKey
    from eidcore.registers import SqlPopulationRegister

    owner = await rt.store.consume(f"wal:bind:{nonce}")
    if owner is None or owner.decode() != inst.id:
        raise InvalidNonce("the binding nonce is unknown, expired, used, or was issued to another instance")
    assert rt.keys is not None
    verifier = SdJwtVcVerifier(X5cIssuerKey(rt.keys.trust_anchors, clock=rt.clock), clock=rt.clock,
                               accepted_vcts={PID_VCT})
    try:
        vc = verifier.verify(presentation, KeyBindingRequired(audience=rt.settings.service_url("wallet"),
                                                              nonce=nonce))
    except FormatError as exc:
        raise InvalidRequest(f"the PID presentation is not valid: {exc.description}") from None
    number = vc.claims.get("personal_administrative_number")
    if not isinstance(number, str):
        raise InvalidRequest("the PID must disclose personal_administrative_number to bind the wallet; "
                             "persons without a national number are bound by the service desk")
    try:
        person = await SqlPopulationRegister(rt.db, clock=rt.clock).find_by_identifier(number)
    except LommebokError:
        raise UnknownPerson("the PID's person is not in the population register") from None
    return person.person_id


async def person_from_admin(rt: Runtime, value: str) -> str:
    """A person id from a national identity number or a person id (administrator binding)."""
    from eidcore.registers import SqlPopulationRegister

    reg = SqlPopulationRegister(rt.db, clock=rt.clock)
    try:
        if value.isdigit() and len(value) == 11:
            return (await reg.find_by_identifier(value)).person_id
        return (await reg.get_person(value)).person_id
    except LommebokError:
        raise UnknownPerson("no such person in the population register") from None


async def bind(rt: Runtime, instance_id: str, person_id: str, *, how: str) -> WalInstance:
    async with rt.db.session() as s:
        inst = await s.get(WalInstance, instance_id)
        if inst is None:
            raise NotFound("no such wallet instance")
        if inst.person_id is not None and inst.person_id != person_id:
            raise Conflict("the wallet instance already belongs to another person")
        if inst.person_id != person_id:
            inst.person_id = person_id
            inst.bound_by = how
            inst.version += 1
            inst.updated_at = now_utc(rt)
            s.add(inst)
            await s.commit()
    log.info("wallet instance %s bound to person %s (%s)", pseudonym(instance_id), pseudonym(person_id), how)
    return inst


# --------------------------------------------------------------------------------------------------
# Idempotency keys (draft-ietf-httpapi-idempotency-key-header)
# --------------------------------------------------------------------------------------------------

IDEMPOTENCY_TTL = 24 * 3600


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Any


def fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


async def idempotency_begin(rt: Runtime, scope: str, key: str | None, body: Any) -> StoredResponse | None:
    """Reserve ``key`` for this request, or return the stored response of its first use."""
    if key is None:
        raise InvalidRequest("state-changing calls need an Idempotency-Key header")
    if not 8 <= len(key) <= 128 or not key.isascii() or not key.isprintable():
        raise InvalidRequest("the Idempotency-Key must be 8 to 128 printable ASCII characters")
    k = f"wal:idem:{scope}:{hashlib.sha256(key.encode()).hexdigest()}"
    fp = fingerprint(body)
    pending = json.dumps({"fp": fp, "state": "pending"}).encode()
    if await rt.store.put(k, pending, IDEMPOTENCY_TTL, only_if_absent=True):
        return None
    raw = await rt.store.get(k)
    stored = json.loads(raw) if raw else {}
    if stored.get("fp") != fp:
        raise Conflict("this Idempotency-Key was used with a different request")
    if stored.get("state") != "done":
        raise Conflict("a request with this Idempotency-Key is still being processed")
    return StoredResponse(int(stored["status"]), stored["body"])


async def idempotency_finish(rt: Runtime, scope: str, key: str, body: Any, status: int, response: Any) -> None:
    k = f"wal:idem:{scope}:{hashlib.sha256(key.encode()).hexdigest()}"
    value = json.dumps({"fp": fingerprint(body), "state": "done", "status": status, "body": response},
                       default=str).encode()
    await rt.store.put(k, value, IDEMPOTENCY_TTL)


async def idempotency_abort(rt: Runtime, scope: str, key: str) -> None:
    await rt.store.delete(f"wal:idem:{scope}:{hashlib.sha256(key.encode()).hexdigest()}")
