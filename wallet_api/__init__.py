"""Lommebok wallet API: Wallet provider, guardian control, mandates and transaction log."""

from wallet_api.app import create_app

__all__ = ["create_app"]
