"""JOSE: JWS (RFC 7515), JWE (RFC 7516), JWK (RFC 7517), JWA (RFC 7518), JWK thumbprint (RFC 7638), EdDSA (RFC 8037).

Split by specification: :mod:`~eidcore.jose.jwk` (RFC 7517, RFC 7638), :mod:`~eidcore.jose.jws` (RFC 7515,
RFC 7519) and :mod:`~eidcore.jose.jwe` (RFC 7516); jwcrypto is imported only in ``eidcore.jose._backend``.
Everything else in Lommebok signs, verifies, encrypts and parses keys through the small typed API below:

- JWS in compact serialization with an explicit :class:`JwsPolicy` per use: algorithm allow-list
  (ES256 required; ES384, ES512 and EdDSA optional), ``typ`` check, size limit, ``crit`` handling. ``none`` and
  every HMAC algorithm are refused (a verifier that is handed a public key must never treat it as a MAC secret),
  and a ``jwk`` or ``x5c`` header that holds private material or a key of the wrong type for ``alg`` is refused.
  Verification returns a :class:`VerifiedJws` (header, payload, key); it never "returns None unless it raises".
- The ES256/ES384/ES512/EdDSA signatures are made and checked with ``cryptography`` directly (raw ``r || s``
  to and from DER, RFC 7518 §3.4): jwcrypto's JWS path costs about half the raw verify rate.
- JWE in compact serialization with ``ECDH-ES`` key agreement and ``A128GCM`` / ``A256GCM`` content encryption
  (OpenID4VP 1.0 §8.3 ``direct_post.jwt``, OpenID4VCI 1.0 §10 credential response encryption, HAIP 1.0), with its
  own allow-list (:class:`JwePolicy`).
- JWK helpers: key generation, public/private JWK import and export, RFC 7638 thumbprints.
"""

from __future__ import annotations

from eidcore.jose._common import (
    KeyLike,
    PrivateKey,
    PublicKey,
    SignatureAlgorithm,
    b64url_decode,
    b64url_encode,
    fast_json_loads,
    json_dumps,
    parse_json_object,
)
from eidcore.jose.jwe import DEFAULT_JWE_POLICY, DecryptedJwe, JwePolicy, decrypt_jwe, encrypt_jwe
from eidcore.jose.jwk import (
    SigningKey,
    as_public_key,
    generate_signing_key,
    jwk_thumbprint,
    jwk_thumbprint_b64u,
    public_jwk,
    public_key_from_jwk,
    signing_key_from_jwk,
    signing_key_from_pem,
    to_jwcrypto_jwk,
    x5c_certificates,
    x5c_leaf_key,
)
from eidcore.jose.jws import (
    ES256_ONLY,
    JwsPolicy,
    JwsSigner,
    UnverifiedJws,
    VerifiedJws,
    VerifiedJwt,
    parse_jws,
    sign_jws,
    sign_jwt,
    verify_jws,
    verify_jws_with_header_jwk,
    verify_jwt,
)

__all__ = [
    "DEFAULT_JWE_POLICY",
    "ES256_ONLY",
    "DecryptedJwe",
    "JwePolicy",
    "JwsPolicy",
    "JwsSigner",
    "KeyLike",
    "PrivateKey",
    "PublicKey",
    "SignatureAlgorithm",
    "SigningKey",
    "UnverifiedJws",
    "VerifiedJws",
    "VerifiedJwt",
    "as_public_key",
    "b64url_decode",
    "b64url_encode",
    "decrypt_jwe",
    "encrypt_jwe",
    "fast_json_loads",
    "generate_signing_key",
    "json_dumps",
    "jwk_thumbprint",
    "jwk_thumbprint_b64u",
    "parse_json_object",
    "parse_jws",
    "public_jwk",
    "public_key_from_jwk",
    "sign_jws",
    "sign_jwt",
    "signing_key_from_jwk",
    "signing_key_from_pem",
    "to_jwcrypto_jwk",
    "verify_jws",
    "verify_jws_with_header_jwk",
    "verify_jwt",
    "x5c_certificates",
    "x5c_leaf_key",
]
