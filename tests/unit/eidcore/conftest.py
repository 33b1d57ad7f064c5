"""Fixtures of the eidcore unit tests."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture
def umask_000() -> Iterator[None]:
    """The loosest umask: whatever is created must still be the owner's only."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)
