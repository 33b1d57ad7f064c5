"""eidcore: the shared toolkit of Lommebok.

Credential formats (SD-JWT, SD-JWT VC, ISO 18013-5 mdoc, Token Status List), protocol building blocks
(OAuth, DPoP, PKCE, DCQL), trust, Norwegian identity rules, registers, storage and settings.

``eidcore.formats``, ``eidcore.oauth`` and ``eidcore.trust`` import no web framework and no database.
"""
