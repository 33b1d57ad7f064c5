"""Compatibility for tools written before the verifier was split into one module per protocol step.

The verifier app builds its :class:`~verifier.transactions.Verifier` once (:func:`verifier.app.create_app`;
:func:`verifier.app.verifier_of` finds it). :func:`service_for` makes a separate one for a runtime, for tools that
only need its validator or configuration (the benchmark).
"""

from __future__ import annotations

from eidcore.runtime import Runtime
from verifier.transactions import Verifier

__all__ = ["Verifier", "VerifierService", "service_for"]

VerifierService = Verifier


def service_for(rt: Runtime) -> Verifier:
    """A new :class:`Verifier` for ``rt`` (not the app's: its caches and wake-ups are its own)."""
    return Verifier(rt)
