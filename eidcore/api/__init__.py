"""Typed models and clients of the services' HTTP APIs that another service calls (one client per admin API)."""
