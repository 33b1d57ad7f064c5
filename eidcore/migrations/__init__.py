"""Alembic migrations of the Lommebok database."""
