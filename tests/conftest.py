"""Fixtures for every test. The builders tests share live in `helpers.py`."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# CI must not fail by chance on a new random example: there the property tests replay a
# fixed sequence. Developers get fresh examples on every run; `make fuzz` digs deeper.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
