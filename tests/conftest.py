"""Fixtures for every test. The builders tests share live in `helpers.py`."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# CI must not fail by chance on a new random example: there the property tests replay a
# fixed sequence. Developers get fresh examples on every run; `make fuzz` digs deeper.
# No per-example deadline: on a shared machine a slow example is load, not a finding
# (speed is the benchmarks' business, linear time test_linear_time's).
settings.register_profile("ci", derandomize=True, database=None, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
