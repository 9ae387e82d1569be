"""`python -m asgi_consent log ...` on a SQLite consent log."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from asgi_consent.__main__ import main
from asgi_consent.log import SqliteStore

from .helpers import BANNER, T0, make_record


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A log with three records of two visitors on two days, and one a year old."""
    path = tmp_path / "consent.db"

    async def fill() -> None:
        store = SqliteStore(path)
        await store.migrate()
        records = [
            make_record(consent_id="visitor-a", action="reject", recorded_at=T0),
            make_record(consent_id="visitor-a", action="accept", recorded_at=T0 + timedelta(1)),
            make_record(consent_id="visitor-b", recorded_at=T0 + timedelta(hours=1)),
            make_record(consent_id="old", recorded_at=datetime.now(UTC) - timedelta(days=400)),
        ]
        await store.write(records, [BANNER])
        await store.close()

    asyncio.run(fill())
    return f"sqlite:///{path}"


def run(*argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["log", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_export_as_csv_within_dates(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        "export", "--store", url, "--format", "csv", "--since", "2026-03-01",
        "--until", "2026-03-01", capsys=capsys,
    )  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and "2 records exported" in err
    assert [(r["consent_id"], r["action"]) for r in rows] == [
        ("visitor-a", "reject"),
        ("visitor-b", "accept"),
    ]


def test_export_as_jsonl_with_banner_versions_to_a_file(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "audit.jsonl"
    code, _, err = run(
        "export", "--store", url, "--format", "jsonl", "--banner-versions",
        "--output", str(target), capsys=capsys,
    )  # fmt: skip
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert code == 0 and "4 records exported" in err
    assert lines[0]["banner_version"]["version_id"] == BANNER.version_id
    assert [line["consent_id"] for line in lines[1:]][-1] == "visitor-a"


def test_the_store_is_read_from_the_environment(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONSENT_CONSENT_LOG", url)
    code, out, _ = run("export", "--format", "jsonl", capsys=capsys)
    assert code == 0 and len(out.splitlines()) == 4


def test_show_prints_every_record_of_a_visitor_with_the_banner_seen(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run("show", "visitor-a", "--store", url, capsys=capsys)
    shown = json.loads(out)
    assert code == 0
    assert [r["action"] for r in shown["records"]] == ["reject", "accept"]
    assert shown["banner_versions"] == {BANNER.version_id: BANNER.data}


def test_show_of_an_unknown_id_fails(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run("show", "nobody", "--store", url, capsys=capsys)
    assert code == 1 and "no records of consent id nobody" in err


def test_stats_count_choices_by_day_and_action_with_rates(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run("stats", "--store", url, "--since", "2026-01-01", capsys=capsys)
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:3] == ["day", "accept", "reject"]
    assert lines[1].split() == ["2026-03-01", "1", "1", "0", "0", "0", "50.0%", "50.0%"]
    assert lines[2].split() == ["2026-03-02", "1", "0", "0", "0", "0", "100.0%", "0.0%"]
    assert lines[3].split()[:3] == ["total", "2", "1"]


def test_purge_deletes_records_older_than_days(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run("purge", "--older-than", "365", "--store", url, capsys=capsys)
    assert code == 0 and out == "1 records older than 365 days purged\n"
    _, out, _ = run("export", "--store", url, "--format", "jsonl", capsys=capsys)
    assert "old" not in {json.loads(line)["consent_id"] for line in out.splitlines()}


def test_no_store_named_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONSENT_CONSENT_LOG", raising=False)
    code, _, err = run("stats", capsys=capsys)
    assert code == 2 and "--store URL or set CONSENT_CONSENT_LOG" in err


def test_a_bad_url_or_a_missing_file_is_said_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run("stats", "--store", "mysql://x", capsys=capsys)
    assert code == 2 and "consent_log" in err
    missing = tmp_path / "typo.db"
    code, _, err = run("stats", "--store", f"sqlite:///{missing}", capsys=capsys)
    assert code == 1 and "no consent log at" in err and not missing.exists()


def test_an_unreachable_postgresql_is_an_error_without_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("asyncpg")
    url = "postgresql://user:hunter2@127.0.0.1:1/nothing"
    code, _, err = run("stats", "--store", url, capsys=capsys)
    assert code == 1 and "Traceback" not in err and "hunter2" not in err


def test_a_bad_date_is_refused_by_argparse(url: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["log", "export", "--store", url, "--format", "csv", "--since", "March"])
    assert exit_.value.code == 2


def test_the_command_runs_as_a_module(url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "asgi_consent", "log", "stats", "--store", url],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0 and done.stdout.startswith("day")
