"""Lommebok issuer: OpenID4VCI 1.0 credential issuer, authorization server and status lists."""

from issuer.app import create_app

__all__ = ["create_app"]
