"""Lommebok verifier: OpenID4VP 1.0 verifier with DCQL and a relying-party API."""

from verifier.app import create_app

__all__ = ["create_app"]
