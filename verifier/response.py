"""OpenID4VP 1.0 §8.2 (``direct_post``), §8.3 (``direct_post.jwt``) and §8.5 (errors): the response endpoint.

``POST /response/{id}`` (:class:`ResponseController`), the transaction's ``response_uri``:

- ``direct_post``: ``vp_token`` and ``state`` in the form; ``direct_post.jwt``: ``response``, a JWE
  (ECDH-ES, A128GCM or A256GCM) to the transaction's ephemeral key whose payload holds them;
- the ``response_uri`` is in the QR code, so anyone who saw it can post to it (§14.2): a response that does not
  validate is refused (400 ``invalid_request`` naming the check) and recorded as a refused attempt (check name
  and time, never claim values); a wallet error response (§8.5) is recorded the same way (answered 200); the
  transaction stays pending for the real wallet until its expiry;
- single use: the response slot (bound to ``state`` and ``nonce``) is consumed atomically from ``rt.store`` once a
  response validated (``GETDEL``: one winner across workers), and the outcome written with one conditional
  UPDATE; a same-device transaction answers a ``redirect_uri`` carrying a single-use ``response_code``.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from litestar import Controller, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody

from eidcore import jose
from eidcore.dcql import DcqlQuery
from eidcore.errors import EncryptionError, FormatError, InvalidRequest, ParsingError, UnsupportedAlgorithm
from eidcore.formats.mdoc import jwk_thumbprint_sha256, openid4vp_session_transcript
from eidcore.openid4vp import AuthorizationResponseForm, ResponseEndpointAnswer
from eidcore.runtime import pseudonym, secret_matches
from verifier.guards import form_body
from verifier.models import VerTransaction
from verifier.profiles import Contains
from verifier.schemas import errors
from verifier.transactions import MAX_REFUSED, REFUSE, REFUSE_COUNT, Slot, Verifier, sha256_hex, slot_key
from verifier.validation import CheckFailed, ResponseContext
from verifier.youth import strip_claims

__all__ = ["ResponseController", "WalletError", "handle_response"]

log = logging.getLogger("lommebok.verifier")

NO_STORE = {"Cache-Control": "no-store"}


@dataclass(frozen=True)
class WalletError:
    """A wallet's error response (OpenID4VP 1.0 §8.5): its ``error`` code only (ASCII, at most 63 characters)."""

    code: str


async def handle_response(verifier: Verifier, tx_id: str,
                          form: AuthorizationResponseForm) -> ResponseEndpointAnswer:
    """The ``response_uri`` (OpenID4VP 1.0 §8.2 direct_post, §8.3.1 direct_post.jwt, §8.5 errors).

    Nothing is written before the response is valid: the single-use response slot is read, the response
    validated, and only then the slot consumed atomically (``GETDEL``: one winner across workers) and the
    outcome written with one conditional UPDATE (still pending and unexpired). A valid response is accepted
    exactly once; a second one, or one racing the expiry, is refused.
    """
    verifier.start_retention()
    rt = verifier.rt
    key = slot_key(tx_id)
    raw = await rt.store.get(key) if isinstance(tx_id, str) and len(tx_id) <= 64 else None
    if raw is None:
        await _not_waiting(verifier, tx_id)
    slot = Slot.decode(raw)
    try:
        outcome = await _evaluate(verifier, slot, form.params())
    except CheckFailed as exc:
        await _refuse(verifier, slot.id, exc.check)
        raise InvalidRequest(f"{exc.check}: {exc.reason}") from None
    except (RecursionError, ValueError, TypeError, LookupError, AttributeError, FormatError) as exc:
        # hostile input that got past the parsers' own checks: refuse it, never a 500 nor a half-written state
        log.info("transaction %s: malformed response refused (%s)", pseudonym(slot.id), type(exc).__name__)
        await _refuse(verifier, slot.id, "response.malformed")
        raise InvalidRequest("response.malformed: the response could not be processed") from None
    if isinstance(outcome, WalletError):
        await _refuse(verifier, slot.id, "wallet_error", error=outcome.code)
        return ResponseEndpointAnswer()
    result, checks = outcome
    result = strip_claims(result, slot.youth_added)  # what the youth policy asked for, the RP did not
    if await rt.store.consume(key) is None:  # another worker accepted a valid response first
        await _not_waiting(verifier, slot.id)
    await verifier.notify(slot.id)  # now "responded"
    code_hash = None
    answer = ResponseEndpointAnswer()
    if slot.redirect_uri_template:
        code = secrets.token_urlsafe(32)
        code_hash = sha256_hex(code)
        answer = ResponseEndpointAnswer(redirect_uri=fill_response_code(slot.redirect_uri_template, code))
    await _close(verifier, slot, "validated", checks=checks, result=result, response_code_sha256=code_hash)
    if code_hash is not None:
        await rt.store.put(f"ver:rc:{code_hash}", slot.id.encode(), rt.settings.verifier.transaction_ttl)
    return answer


async def _evaluate(verifier: Verifier, slot: Slot, form: Mapping[str, str]
                    ) -> tuple[dict[str, Any], list[str]] | WalletError:
    """Decrypt, bind and validate one response (no side effect); :class:`CheckFailed` names what failed."""
    params: Mapping[str, Any] = form
    thumbprint = None
    if "response" in form:
        if slot.enc_jwk is None:
            raise CheckFailed("response_mode", "an encrypted response was sent for direct_post")
        try:
            dec = jose.decrypt_jwe(form["response"], slot.enc_jwk)
            payload = jose.parse_json_object(dec.plaintext, what="response")
        except (EncryptionError, ParsingError, UnsupportedAlgorithm, FormatError) as exc:
            raise CheckFailed("response_encryption", exc.description) from None
        if dec.header.get("kid") not in (None, slot.enc_jwk.get("kid")):
            raise CheckFailed("response_encryption", "the JWE names another key")
        params = payload
        thumbprint = jwk_thumbprint_sha256(slot.enc_jwk)
    elif slot.response_mode == "direct_post.jwt" and "error" not in form:
        raise CheckFailed("response_mode", "direct_post.jwt needs an encrypted response")
    state = params.get("state")
    if not isinstance(state, str) or not secret_matches(state, slot.state):
        raise CheckFailed("state", "the state does not belong to this transaction")
    if "error" in params:
        code = params.get("error")
        return WalletError(code if isinstance(code, str) and code.isascii() and code.replace("_", "").isalnum()
                           and len(code) < 64 else "invalid")
    vp_token = params.get("vp_token")
    if isinstance(vp_token, str):
        try:
            vp_token = jose.parse_json_object(vp_token.encode(), what="vp_token")
        except ParsingError:
            raise CheckFailed("vp_token", "vp_token is not a JSON object") from None
    response_uri = verifier.response_uri(slot.id)
    ctx = ResponseContext(slot.client_id, slot.nonce, response_uri,
                          openid4vp_session_transcript(slot.client_id, slot.nonce, response_uri, thumbprint))
    return await verifier.validator.validate(
        DcqlQuery.parse(slot.dcql_query), vp_token, ctx, same_holder=slot.same_holder,
        contains=tuple(Contains.from_json(c) for c in slot.contains), youth=verifier.youth_policy())


async def _not_waiting(verifier: Verifier, tx_id: str) -> NoReturn:
    """Refuse a response to a transaction that takes none (unknown, expired, or already answered)."""
    tx = await verifier.load(tx_id)
    if tx is None:
        raise InvalidRequest("unknown transaction")
    tx = await verifier.expire_if_due(tx)
    if tx.status == "expired":
        raise InvalidRequest("the transaction has expired")
    raise InvalidRequest("the transaction is no longer waiting for a response")


async def _refuse(verifier: Verifier, tx_id: str, check: str, *, error: str | None = None) -> None:
    """Record a refused response: the transaction stays pending (OpenID4VP 1.0 §14.2: anyone who saw the QR code
    can post to the ``response_uri``). Keeps the count and the :data:`MAX_REFUSED` most recent entries, each
    the check's name, the wallet's error code for an error response, and the time: no claim values."""
    rt = verifier.rt
    entry: dict[str, Any] = {"check": check, "at": verifier.now()}
    if error is not None:
        entry["error"] = error
    for _ in range(4):
        async with rt.db.session() as s:
            tx = await s.get(VerTransaction, tx_id)
        if tx is None or tx.status != "pending":
            return
        refused = [*(tx.refused or []), entry][-MAX_REFUSED:]
        async with rt.db.engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            done = await auto.execute(REFUSE, {"b_id": tx_id, "b_seen": tx.refused_count,
                                               "b_refused": refused, "b_count": tx.refused_count + 1})
        if done.rowcount == 1:
            break
    else:  # many refusals at once: count this one, the list keeps the others
        async with rt.db.engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(REFUSE_COUNT, {"b_id": tx_id})
    await verifier.notify(tx_id)
    log.info("transaction %s: response refused (%s%s)", pseudonym(tx_id), check, f" {error}" if error else "")


async def _close(verifier: Verifier, slot: Slot, status: str, **outcome: Any) -> None:
    """Record the outcome of a response; an expired (or already closed) transaction refuses it."""
    if not await verifier.finish(slot.id, status, only_if_open=True, **outcome):
        await _not_waiting(verifier, slot.id)


def fill_response_code(template: str, code: str) -> str:
    """Put the ``response_code`` into the RP's redirect URI template (``{response_code}`` or a query member)."""
    if "{response_code}" in template:
        return template.replace("{response_code}", quote(code, safe=""))
    parts = urlsplit(template)
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("response_code", code)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


class ResponseController(Controller):
    """Wallet-facing: the ``response_uri`` of a transaction (OpenID4VP 1.0 §8.2, §8.3, §8.5)."""

    path = "/response/{tx_id:str}"
    tags = ["wallet"]  # noqa: RUF012

    @post("/", operation_id="postAuthorizationResponse", status_code=200, guards=[form_body],
          responses=errors(400))
    async def post_response(
        self, tx_id: FromPath[str], verifier: NamedDependency[Verifier],
        data: URLEncodedBody[AuthorizationResponseForm],
    ) -> Response[ResponseEndpointAnswer]:
        """The ``response_uri``: ``direct_post`` (``vp_token``, ``state``), ``direct_post.jwt`` (``response``),
        or a wallet error (``error``, ``error_description``, ``state``). Answers ``{}`` or ``{"redirect_uri"}``."""
        return Response(await handle_response(verifier, tx_id, data), headers=NO_STORE)
