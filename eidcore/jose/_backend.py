"""The only module in Lommebok that imports jwcrypto (JWK point validation and the JWE content encryption)."""

from jwcrypto import jwe as _jwe
from jwcrypto import jwk as _jwk
from jwcrypto.common import JWException

__all__ = ["JWException", "_jwe", "_jwk"]
