"""A site's own store: the template in the store module's docstring works as written."""

from __future__ import annotations

import textwrap
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from asgi_consent.log import (
    BannerVersion,
    ConsentRecord,
    DailyCount,
    LogWriter,
    Store,
)
from asgi_consent.log import store as store_module

from .helpers import BANNER, T0, make_record

pytestmark = pytest.mark.anyio


def documented_store() -> Any:
    """The DictStore class exactly as the docstring shows it."""
    doc = store_module.__doc__ or ""
    code = textwrap.dedent(doc.split("::\n", 1)[1].split("    writer = ", 1)[0])
    names: dict[str, Any] = {
        "BannerVersion": BannerVersion,
        "ConsentRecord": ConsentRecord,
        "Counter": Counter,
        "DailyCount": DailyCount,
        "UTC": UTC,
        "datetime": datetime,
        "timedelta": timedelta,
    }
    exec(code, names)
    return names["DictStore"]()


async def test_the_documented_store_has_the_interface_and_takes_a_writer(tmp_path: Path) -> None:
    own = documented_store()
    assert isinstance(own, Store)
    writer = LogWriter(own, tmp_path / "spill")
    records = [make_record(recorded_at=T0 - timedelta(days=age)) for age in (0, 0, 400)]
    for record in records:
        assert await writer.record(record, BANNER) == "stored"
    await writer.record(records[0], BANNER)  # a replay of the same id
    assert len(own.records) == 3
    assert await own.stats(T0 - timedelta(days=1)) == [DailyCount(date(2026, 3, 1), "accept", 2)]
    assert await own.purge(365, now=T0) == 1
    assert await own.banner_version(BANNER.version_id) == BANNER
    await writer.close()
