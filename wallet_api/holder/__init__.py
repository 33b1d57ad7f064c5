"""The reference holder: the wallet-side protocol logic as the mobile app does it, on eidcore.

- :mod:`wallet_api.holder.provider_client`: signed calls to the wallet provider (registration, attestations,
  lifecycle, transaction log, backup);
- :mod:`wallet_api.holder.store`: a local JSON store of keys (private JWKs in 0600 files) and credentials;
- :mod:`wallet_api.holder.login`: the user's login in the authorization code flow (RFC 8252 loopback redirect for
  the CLI; the issuer's test login page driven over HTTP for tests);
- :mod:`wallet_api.holder.wallet`: the orchestration the CLI wallet, the demo and the end-to-end tests use;
- ``vci.py`` (OpenID4VCI client) and ``vp.py`` (OpenID4VP client) come from the issuer and verifier work.
"""
