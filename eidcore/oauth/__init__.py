"""OAuth 2.0 building blocks for the issuer's authorization server and the wallet-side client.

One module per specification, each pure (no web framework, no storage): the service owns replay caches and
nonces and passes what these functions return (``jti``, thumbprints) to its key-value store.

- :mod:`eidcore.oauth.pkce`: RFC 7636 PKCE, ``S256`` only (FAPI 2.0, HAIP 1.0).
- :mod:`eidcore.oauth.dpop`: RFC 9449 DPoP proofs.
- :mod:`eidcore.oauth.client_attestation`: OAuth 2.0 Attestation-Based Client Authentication (draft).
"""
