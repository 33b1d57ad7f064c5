"""mdoc benchmarks (ISO/IEC 18013-5): issue a 12-element PID, build a DeviceResponse, verify it.

Lines: ``mdoc_issue_pid12`` (limit: one ES256 sign), ``mdoc_device_response_build`` (limit: one ES256 sign,
the deviceSignature), ``mdoc_verify_device_signature`` (limit: two ES256 verifies, issuerAuth and
deviceSignature; the document signer chain is validated once and cached, as a deployed verifier does).
Peer lines for pymdoccbor are added when it is importable (the ``bench`` dependency group).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from eidcore.clock import FixedClock
from eidcore.formats.mdoc import (
    DOCTYPE_PID,
    NAMESPACE_PID,
    MdocVerifier,
    build_device_response,
    build_document,
    issue_mdoc,
    openid4vp_session_transcript,
)
from eidcore.formats.mdoc.issuer import status_list_reference
from lommebok.bench.common import Backends, BenchLine, Limits, line, measure, measure_vs_limit

NOW = dt.datetime(2026, 1, 15, 12, 0, 0, tzinfo=dt.UTC)

PID_ELEMENTS: dict[str, Any] = {
    "family_name": "Nordmann",
    "given_name": "Kari",
    "birth_date": dt.date(1990, 5, 17),
    "place_of_birth": {"country": "NO", "locality": "Bergen"},
    "nationality": ["NO"],
    "resident_address": "Storgata 1, 0155 Oslo",
    "resident_country": "NO",
    "personal_administrative_number": "17059012345",
    "issuing_authority": "Digitaliseringsdirektoratet",
    "issuing_country": "NO",
    "expiry_date": dt.date(2027, 1, 15),
    "age_over_18": True,
}


def _pki() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey, x509.Certificate]:
    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "NO"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (
        x509.CertificateBuilder().subject_name(name("Bench IACA")).issuer_name(name("Bench IACA"))
        .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    ds_key = ec.generate_private_key(ec.SECP256R1())
    ds = (
        x509.CertificateBuilder().subject_name(name("Bench DS")).issuer_name(root.subject)
        .public_key(ds_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.ObjectIdentifier("1.0.18013.5.1.2")]), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    return root, ds_key, ds


def run(limits: Limits, quick: bool, backends: Backends) -> Iterator[BenchLine]:
    """Measure mdoc issue, DeviceResponse build and verify; yield one line each (plus peers if installed)."""
    seconds = 0.6 if quick else 2.0
    root, ds_key, ds = _pki()
    device_key = ec.generate_private_key(ec.SECP256R1())
    device_pub = device_key.public_key()
    clock = FixedClock(NOW)
    status = status_list_reference(4711, "https://issuer.example.no/status/1")

    def issue() -> Any:
        return issue_mdoc(
            doc_type=DOCTYPE_PID,
            name_spaces={NAMESPACE_PID: PID_ELEMENTS},
            device_key=device_pub,
            issuer_key=ds_key,
            issuer_chain=[ds],
            valid_until=NOW + dt.timedelta(days=90),
            status=status,
            clock=clock,
        )

    credential = issue()
    transcript = openid4vp_session_transcript(
        "x509_san_dns:verifier.example.no", "n-0S6_WzA2Mj", "https://verifier.example.no/response"
    )

    def build() -> bytes:
        return build_device_response([build_document(credential, device_key, transcript)])

    response = build()
    verifier = MdocVerifier([root], clock=clock)

    def verify() -> Any:
        return verifier.verify_device_response(response, transcript, expected_doc_types=(DOCTYPE_PID,))

    assert verify()[0].claims[NAMESPACE_PID]["family_name"] == "Nordmann"

    peer_issue, peer_verify = _peer(ds_key, ds, device_key, seconds)
    note = "PID, 12 elements, ES256, x5chain"
    yield line("mdoc_issue_pid12", *measure_vs_limit(issue, "sign", seconds=seconds),
               peer="pymdoccbor" if peer_issue else None, peer_ops=peer_issue, note=note)
    yield line("mdoc_device_response_build", *measure_vs_limit(build, "sign", seconds=seconds),
               note="12 elements disclosed, deviceSignature ES256")
    yield line("mdoc_verify_device_signature", *measure_vs_limit(verify, "verify", seconds=seconds, limit_ops=2),
               peer="pymdoccbor" if peer_verify else None, peer_ops=peer_verify,
               note="limit = 2 verifies; chain validated once, then cached")


def _peer(
    ds_key: ec.EllipticCurvePrivateKey, ds: x509.Certificate, device_key: ec.EllipticCurvePrivateKey, seconds: float
) -> tuple[float | None, float | None]:
    """pymdoccbor issue and verify rates, or (None, None) when it is not installed (or its API has moved)."""
    try:
        import pymdoccbor  # noqa: F401
    except ImportError:
        return None, None
    try:
        return _pymdoccbor_rates(ds_key, ds, device_key, seconds)
    except Exception:  # peer API drift must not break our own lines
        return None, None


def _pymdoccbor_rates(
    ds_key: ec.EllipticCurvePrivateKey, ds: x509.Certificate, device_key: ec.EllipticCurvePrivateKey, seconds: float
) -> tuple[float | None, float | None]:
    """pymdoccbor (IdentityPython/pyMDOC-CBOR) issuing the same 12 elements and verifying its own output.

    Its verifier checks issuerAuth and the digests only (its documents carry no deviceSigned), so its verify
    line is an upper bound for a like-for-like comparison.
    """
    import tempfile

    from cryptography.hazmat.primitives import serialization
    from pymdoccbor.mdoc.issuer import MdocCborIssuer
    from pymdoccbor.mdoc.verifier import MdocCbor

    nums = device_key.public_key().public_numbers()
    private = {"KTY": "EC2", "CURVE": "P_256", "ALG": "ES256", "KID": b"bench",
               "D": ds_key.private_numbers().private_value.to_bytes(32, "big")}
    device = {"KTY": "EC2", "CURVE": "P_256", "X": nums.x.to_bytes(32, "big"), "Y": nums.y.to_bytes(32, "big")}
    data = {NAMESPACE_PID: {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in PID_ELEMENTS.items()}}
    until = (NOW + dt.timedelta(days=90)).date().isoformat()
    validity = {"issuance_date": NOW.date().isoformat(), "expiry_date": until}
    with tempfile.NamedTemporaryFile("wb", suffix=".pem") as pem:
        pem.write(ds.public_bytes(serialization.Encoding.PEM))
        pem.flush()
        issuer = MdocCborIssuer(private_key=private, alg="ES256")

        def issue() -> Any:
            issuer.new(data=data, doctype=DOCTYPE_PID, validity=validity, devicekeyinfo=device, cert_path=pem.name)
            return issuer.dump()

        issue_rate = measure(issue, seconds=seconds)
        blob = issue()

    def verify() -> Any:
        mdoc = MdocCbor()
        mdoc.loads(blob)
        return mdoc.verify()

    try:
        verify_rate: float | None = measure(verify, seconds=seconds)
    except Exception:
        verify_rate = None
    return issue_rate, verify_rate
