"""Lommebok composition root: the CLI (serve, demo, keys, register, bench, ...) and the all-in-one dev app."""

__version__ = "0.1.0"
