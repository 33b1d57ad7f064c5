"""mdoc verification: ISO/IEC 18013-5:2021 §9.3.1 (inspection procedure for issuer data authentication) and
§9.1.3 (mdoc authentication), for DeviceResponses received over OpenID4VP 1.0 or in proximity.

For each Document, in this order (``../shared/docs/standards.md`` §6.2, verifier checklist):

1. structure, strictly (every deviation collected into one :class:`MdocStructureError`);
2. ``issuerAuth``: ``alg`` on the allow-list, the ``x5chain`` validated to a configured trust anchor at the
   clock's time (:func:`eidcore.trust.x509.validate_chain`, purpose ``mdoc_ds``), the COSE_Sign1 signature;
3. the MSO ``docType`` equals the Document's (and one of the expected ones);
4. ``validityInfo``: ``validFrom <= now <= validUntil`` (:class:`NotYetValid` / :class:`Expired`);
5. every presented IssuerSignedItem's digest against ``valueDigests[namespace][digestID]``;
6. ``keyAuthorizations`` for every device-signed element (:class:`KeyNotAuthorized`);
7. ``deviceSignature`` (COSE_Sign1, detached) or ``deviceMac`` (COSE_Mac0, EMacKey) over DeviceAuthentication
   for the SessionTranscript the verifier rebuilt (:class:`DeviceAuthenticationFailed`).

Status list checking is left to the caller (the MSO ``status`` reference is returned).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from eidcore import cbor, cose
from eidcore.clock import SYSTEM_CLOCK, Clock
from eidcore.encoding import b64u_decode
from eidcore.errors import (
    DeviceAuthenticationFailed,
    DigestMismatch,
    DoctypeMismatch,
    DuplicateDisclosure,
    Expired,
    FormatError,
    InvalidCertificate,
    InvalidHeader,
    InvalidSignature,
    KeyNotAuthorized,
    NotYetValid,
    ParsingError,
    UnsupportedAlgorithm,
)
from eidcore.formats.mdoc.holder import derive_emac_key
from eidcore.formats.mdoc.structures import (
    _ITEM_KEYS,
    DIGEST_ALGORITHMS,
    MAX_DIGEST_ID,
    MIN_RANDOM_BYTES,
    Document,
    IssuerSigned,
    MobileSecurityObject,
    device_authentication_bytes,
    parse_device_response,
    parse_item,
)
from eidcore.formats.mdoc.transcript import SessionTranscript
from eidcore.trust import x509 as trust_x509

__all__ = [
    "ChainValidator",
    "MdocVerifier",
    "VerifiedDocument",
    "VerifiedIssuerSigned",
]

DEFAULT_ISSUER_ALGS = frozenset({cose.ES256, cose.ES384, cose.ES512})
DEFAULT_DEVICE_ALGS = frozenset({cose.ES256, cose.ES384, cose.ES512})
DEFAULT_MAC_ALGS = frozenset({cose.HMAC_256_256})


class ChainValidator(Protocol):
    """The shape of :func:`eidcore.trust.x509.validate_chain` (injectable for tests and policies)."""

    def __call__(
        self,
        chain: Sequence[x509.Certificate],
        anchors: Sequence[x509.Certificate],
        *,
        at: datetime,
        purpose: trust_x509.Purpose = "any",
    ) -> x509.Certificate: ...


@dataclass(frozen=True, slots=True)
class VerifiedIssuerSigned:
    """IssuerSigned data whose issuerAuth, chain, digests, docType and validity were verified."""

    doc_type: str
    claims: dict[str, dict[str, Any]]
    mso: MobileSecurityObject
    issuer_certificate: x509.Certificate
    issuer_chain: tuple[x509.Certificate, ...]

    @property
    def status(self) -> Any:
        """The MSO ``status`` reference (``{"status_list": {"idx", "uri"}}``), or None."""
        return self.mso.status


@dataclass(frozen=True, slots=True)
class VerifiedDocument:
    """A Document of a DeviceResponse that passed every check; ``claims`` are the issuer-signed elements."""

    doc_type: str
    claims: dict[str, dict[str, Any]]
    device_signed: dict[str, dict[str, Any]]
    mso: MobileSecurityObject
    issuer_certificate: x509.Certificate
    issuer_chain: tuple[x509.Certificate, ...]
    device_key: ec.EllipticCurvePublicKey
    device_auth: Literal["signature", "mac"]
    errors: Any = None

    @property
    def status(self) -> Any:
        """The MSO ``status`` reference (``{"status_list": {"idx", "uri"}}``), or None."""
        return self.mso.status


@dataclass(frozen=True, slots=True)
class _TrustedChain:
    leaf: x509.Certificate
    key: ec.EllipticCurvePublicKey
    chain: tuple[x509.Certificate, ...]
    not_before: datetime
    not_after: datetime


class MdocVerifier:
    """Verifies mdoc DeviceResponses and IssuerSigned credentials against configured IACA trust anchors.

    Validated document-signer chains are cached (by their exact DER bytes) and re-used only while the clock
    is inside every certificate's validity window; anything else goes through the chain validator again.
    """

    def __init__(
        self,
        trust_anchors: Sequence[x509.Certificate],
        *,
        clock: Clock = SYSTEM_CLOCK,
        issuer_algs: Collection[int] = DEFAULT_ISSUER_ALGS,
        device_algs: Collection[int] = DEFAULT_DEVICE_ALGS,
        mac_algs: Collection[int] = DEFAULT_MAC_ALGS,
        digest_algorithms: Collection[str] = tuple(DIGEST_ALGORITHMS),
        leeway: timedelta = timedelta(0),
        chain_validator: ChainValidator = trust_x509.validate_chain,
        chain_cache_size: int = 256,
    ) -> None:
        self._anchors = tuple(trust_anchors)
        self.clock = clock
        self.issuer_algs = frozenset(issuer_algs)
        self.device_algs = frozenset(device_algs)
        self.mac_algs = frozenset(mac_algs)
        self.digest_algorithms = frozenset(digest_algorithms)
        self.leeway = leeway
        self._validate_chain = chain_validator
        self._cache: OrderedDict[tuple[bytes, ...], _TrustedChain] = OrderedDict()
        self._cache_size = chain_cache_size

    @property
    def trust_anchors(self) -> tuple[x509.Certificate, ...]:
        """The IACA certificates this verifier trusts (fixed at construction: validated chains are cached)."""
        return self._anchors

    # --- public -------------------------------------------------------------------------------------------

    def verify_device_response(
        self,
        response: bytes | str,
        transcript: SessionTranscript,
        *,
        expected_doc_types: Collection[str] | None = None,
        reader_key: ec.EllipticCurvePrivateKey | None = None,
    ) -> list[VerifiedDocument]:
        """Verify a DeviceResponse (CBOR bytes, or the b64u string of an OpenID4VP ``vp_token``).

        ISO/IEC 18013-5 §9.3.1 and §9.1.3. ``transcript`` is the SessionTranscript the verifier rebuilt
        (e.g. :func:`~eidcore.formats.mdoc.transcript.openid4vp_session_transcript`); ``reader_key`` is the
        reader's ephemeral private key, needed only to check a ``deviceMac``. Returns one
        :class:`VerifiedDocument` per Document, or raises the specific :class:`FormatError` subclass.
        """
        data = b64u_decode(response, what="DeviceResponse") if isinstance(response, str) else response
        documents, _ = parse_device_response(data)
        now = self.clock.now()
        return [self._verify_document(doc, transcript, now, expected_doc_types, reader_key) for doc in documents]

    def verify_issuer_signed(
        self,
        credential: IssuerSigned | bytes | str,
        *,
        expected_doc_type: str | None = None,
    ) -> VerifiedIssuerSigned:
        """Verify an issued credential (IssuerSigned, or its OpenID4VCI b64u form): issuerAuth, chain, every
        item's digest, docType and validity (ISO/IEC 18013-5 §9.3.1 without mdoc authentication)."""
        if isinstance(credential, str):
            issued = IssuerSigned.from_b64u(credential)
        elif isinstance(credential, bytes):
            issued = IssuerSigned.from_bytes(credential)
        else:
            issued = credential
        now = self.clock.now()
        trusted = self._verify_issuer_auth(issued, now)
        mso = issued.mso
        if expected_doc_type is not None and mso.doc_type != expected_doc_type:
            raise DoctypeMismatch(f"docType {mso.doc_type!r} is not the expected {expected_doc_type!r}")
        self._check_validity(mso, now)
        claims = self._check_digests(issued, mso)
        return VerifiedIssuerSigned(mso.doc_type, claims, mso, trusted.leaf, trusted.chain)

    # --- steps --------------------------------------------------------------------------------------------

    def _verify_document(
        self,
        doc: Document,
        transcript: SessionTranscript,
        now: datetime,
        expected_doc_types: Collection[str] | None,
        reader_key: ec.EllipticCurvePrivateKey | None,
    ) -> VerifiedDocument:
        issued = doc.issuer_signed
        trusted = self._verify_issuer_auth(issued, now)
        mso = issued.mso
        if mso.doc_type != doc.doc_type:
            raise DoctypeMismatch(f"Document docType {doc.doc_type!r} differs from the MSO's {mso.doc_type!r}")
        if expected_doc_types is not None and doc.doc_type not in expected_doc_types:
            raise DoctypeMismatch(f"docType {doc.doc_type!r} was not requested")
        self._check_validity(mso, now)
        claims = self._check_digests(issued, mso)
        device_signed = doc.device_signed.name_space_values()
        self._check_key_authorizations(mso, device_signed)
        auth_bytes = device_authentication_bytes(transcript.encoded, doc.doc_type, doc.device_signed.name_spaces)
        device_key = mso.device_public_key
        kind: Literal["signature", "mac"]
        if doc.device_signed.device_signature is not None:
            self._check_device_signature(doc.device_signed.device_signature, device_key, auth_bytes)
            kind = "signature"
        else:
            assert doc.device_signed.device_mac is not None
            self._check_device_mac(doc.device_signed.device_mac, device_key, auth_bytes, transcript, reader_key)
            kind = "mac"
        return VerifiedDocument(
            doc.doc_type, claims, device_signed, mso, trusted.leaf, trusted.chain, device_key, kind, doc.errors
        )

    def _verify_issuer_auth(self, issued: IssuerSigned, now: datetime) -> _TrustedChain:
        msg = issued.issuer_auth
        alg = msg.alg
        if alg is None:
            raise InvalidHeader("issuerAuth has no alg in its protected header")
        if alg not in self.issuer_algs:
            raise UnsupportedAlgorithm(f"issuerAuth alg {alg!r} is not allowed")
        ders = msg.x5chain()
        if not ders:
            raise InvalidHeader("issuerAuth has no x5chain (label 33)")
        trusted = self._trusted_chain(tuple(ders), now)
        try:
            cose.verify_sign1(msg, trusted.key, allowed_algs=self.issuer_algs)
        except InvalidSignature:
            raise InvalidSignature("issuerAuth signature does not verify with the document signer key") from None
        return trusted

    def _trusted_chain(self, ders: tuple[bytes, ...], now: datetime) -> _TrustedChain:
        hit = self._cache.get(ders)
        if hit is not None and hit.not_before <= now <= hit.not_after:
            self._cache.move_to_end(ders)
            return hit
        certs = tuple(trust_x509.load_der_chain(ders))
        try:
            leaf = self._validate_chain(certs, self._anchors, at=now, purpose="mdoc_ds")
            key = leaf.public_key()
            involved = [*certs, *self._anchors_for(certs)]
            window = (max(c.not_valid_before_utc for c in involved), min(c.not_valid_after_utc for c in involved))
        except ValueError:  # cryptography parses certificates lazily: a damaged field fails on first access
            raise InvalidCertificate("a certificate in x5chain is malformed") from None
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise InvalidCertificate("the document signer key is not an EC key")
        trusted = _TrustedChain(leaf, key, certs, *window)
        self._cache[ders] = trusted
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return trusted

    def _anchors_for(self, certs: Sequence[x509.Certificate]) -> list[x509.Certificate]:
        top = certs[-1]
        return [a for a in self._anchors if a.subject == top.issuer or a == top]

    def _check_validity(self, mso: MobileSecurityObject, now: datetime) -> None:
        v = mso.validity
        if now + self.leeway < v.valid_from:
            raise NotYetValid("the mdoc is not yet valid (validityInfo.validFrom)")
        if now - self.leeway > v.valid_until:
            raise Expired("the mdoc has expired (validityInfo.validUntil)")

    def _check_digests(self, issued: IssuerSigned, mso: MobileSecurityObject) -> dict[str, dict[str, Any]]:
        alg = mso.digest_algorithm
        if alg not in self.digest_algorithms:
            raise UnsupportedAlgorithm(f"digest algorithm {alg} is not allowed")
        hash_fn = DIGEST_ALGORITHMS[alg]
        claims: dict[str, dict[str, Any]] = {}
        for ns, raws in issued.name_spaces.items():
            digests = mso.value_digests.get(ns)
            if digests is None:
                raise DigestMismatch(f"the MSO has no value digests for namespace {ns!r}", namespace=ns)
            try:
                decoded = cbor.loads_each([raw.raw for raw in raws], what="IssuerSignedItem")
            except ParsingError:
                for raw in raws:  # find and name the broken item
                    parse_item(raw, namespace=ns)
                raise
            values: dict[str, Any] = {}
            seen: set[int] = set()
            for raw, item in zip(raws, decoded, strict=True):
                if type(item) is not dict or item.keys() != _ITEM_KEYS:
                    parse_item(raw, namespace=ns)  # raises the precise MdocStructureError
                digest_id = item["digestID"]
                ident = item["elementIdentifier"]
                rnd = item["random"]
                if (
                    type(digest_id) is not int
                    or not 0 <= digest_id <= MAX_DIGEST_ID
                    or type(rnd) is not bytes
                    or len(rnd) < MIN_RANDOM_BYTES
                    or type(ident) is not str
                    or not ident
                ):
                    parse_item(raw, namespace=ns)
                expected = digests.get(digest_id)
                if expected is None:
                    raise DigestMismatch(
                        f"digestID {digest_id} in {ns!r} has no value digest in the MSO",
                        namespace=ns,
                        digest_id=digest_id,
                    )
                raw_bytes = raw.raw
                if hash_fn(b"\xd8\x18" + cbor.bstr_header(len(raw_bytes)) + raw_bytes).digest() != expected:
                    raise DigestMismatch(
                        f"the digest of {ns!r}/{ident!r} does not match the MSO", namespace=ns, element=ident
                    )
                if digest_id in seen:
                    raise DuplicateDisclosure(f"digestID {digest_id} appears twice in {ns!r}", namespace=ns)
                if ident in values:
                    raise DuplicateDisclosure(f"element {ident!r} appears twice in {ns!r}", namespace=ns)
                seen.add(digest_id)
                values[ident] = item["elementValue"]
            claims[ns] = values
        return claims

    @staticmethod
    def _check_key_authorizations(mso: MobileSecurityObject, device_signed: dict[str, dict[str, Any]]) -> None:
        auth = mso.key_authorizations
        for ns, elements in device_signed.items():
            for ident in elements:
                if auth is None or not auth.allows(ns, ident):
                    raise KeyNotAuthorized(
                        f"the device key is not authorized to sign {ns!r}/{ident!r}", namespace=ns, element=ident
                    )

    def _check_device_signature(self, msg: cose.CoseSign1, key: ec.EllipticCurvePublicKey, payload: bytes) -> None:
        alg = msg.alg
        if alg not in self.device_algs:
            raise UnsupportedAlgorithm(f"deviceSignature alg {alg!r} is not allowed")
        if msg.payload is not None:
            raise DeviceAuthenticationFailed("deviceSignature must have a detached (null) payload")
        try:
            cose.verify_sign1(msg, key, allowed_algs=self.device_algs, detached_payload=payload)
        except (InvalidSignature, UnsupportedAlgorithm, ParsingError) as exc:
            raise DeviceAuthenticationFailed(f"deviceSignature does not verify ({exc.description})") from None

    def _check_device_mac(
        self,
        msg: cose.CoseMac0,
        device_key: ec.EllipticCurvePublicKey,
        payload: bytes,
        transcript: SessionTranscript,
        reader_key: ec.EllipticCurvePrivateKey | None,
    ) -> None:
        alg = msg.alg
        if alg not in self.mac_algs:
            raise UnsupportedAlgorithm(f"deviceMac alg {alg!r} is not allowed")
        if msg.payload is not None:
            raise DeviceAuthenticationFailed("deviceMac must have a detached (null) payload")
        if reader_key is None:
            raise DeviceAuthenticationFailed("deviceMac needs the reader's ephemeral key, which was not given")
        if reader_key.curve.name != device_key.curve.name:
            raise DeviceAuthenticationFailed("the reader key and the device key are on different curves")
        key = derive_emac_key(reader_key, device_key, transcript)
        try:
            cose.verify_mac0(msg, key, allowed_algs=self.mac_algs, detached_payload=payload)
        except (InvalidSignature, FormatError) as exc:
            raise DeviceAuthenticationFailed(f"deviceMac does not verify ({exc.description})") from None
