"""``python -m asgi_consent log ...``: the consent log for the site and its auditors.

    log export [--since DATE] [--until DATE] --format csv|jsonl [--output FILE]
    log show CONSENT_ID          every record of one visitor, with the banner they saw
    log stats [--since DATE] [--until DATE]   choices by day and action, accept/reject rates
    log purge --older-than DAYS

Each takes ``--store URL``, or reads ``CONSENT_CONSENT_LOG`` from the environment (the
variable that sets the `consent_log` option). Exit codes: 0 done, 1 the store failed or
has nothing to show, 2 a bad argument or no store named.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TextIO

from ..config import OPTIONS
from ..errors import ConfigError
from .export import FORMATS, ExportFormat, write_export
from .records import ACTIONS, DailyCount
from .store import Store, mask_url, open_store

ENV_VARIABLE = OPTIONS["consent_log"].env_variable("CONSENT_")  # as check-config reads it
_OK, _FAILED, _USAGE = 0, 1, 2


class _Problem(Exception):
    """A message for the user and the exit code that goes with it."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _moment(text: str, *, end_of_day: bool = False) -> datetime:
    """A DATE (2026-03-01) or an ISO time (2026-03-01T12:00, UTC unless it says);
    a bare date as `--until` takes in the whole of that day."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day + timedelta(days=end_of_day), time(), UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use 2026-03-01)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _since(text: str) -> datetime:
    return _moment(text)


def _until(text: str) -> datetime:
    return _moment(text, end_of_day=True)


def _days(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 36500:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}")
    return int(text)


def _open(args: argparse.Namespace) -> Store:
    url = args.store or os.environ.get(ENV_VARIABLE)
    if not url:
        raise _Problem(f"no consent log named: give --store URL or set {ENV_VARIABLE}", _USAGE)
    try:
        store = open_store(url)
    except ConfigError as error:
        raise _Problem(f"--store: {error}", _USAGE) from None
    path = url[len("sqlite:///") :] if url.lower().startswith("sqlite:///") else None
    # Reading must not create an empty database where a typo points.
    if path and path != ":memory:" and not Path(path).is_file():
        raise _Problem(f"no consent log at {path}", _FAILED)
    return store


async def _export(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    export_format: ExportFormat = args.format
    count = await write_export(
        store.export(args.since, args.until),
        out,
        export_format,
        banner_version=store.banner_version if args.banner_versions else None,
    )
    sys.stderr.write(f"{count} records exported\n")
    return _OK


async def _show(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    records = await store.records_of(args.consent_id)
    if not records:
        sys.stderr.write(f"no records of consent id {args.consent_id}\n")
        return _FAILED
    banners: dict[str, Any] = {}
    for record in records:
        if record.banner_version not in banners:
            banner = await store.banner_version(record.banner_version)
            banners[record.banner_version] = None if banner is None else banner.data
    shown = {
        "consent_id": args.consent_id,
        "records": [record.to_dict() for record in records],
        "banner_versions": banners,
    }
    out.write(json.dumps(shown, indent=2, ensure_ascii=False) + "\n")
    return _OK


def stats_table(counts: list[DailyCount]) -> list[str]:
    """Lines of a table: one row per day, a column per action, and the accept and reject
    rates among first answers to the banner (accept, reject, save)."""
    days: dict[date, dict[str, int]] = {}
    for row in counts:
        days.setdefault(row.day, dict.fromkeys(ACTIONS, 0))[row.action] = row.count
    total = dict.fromkeys(ACTIONS, 0)
    lines = ["day         " + "".join(f"{a:>9}" for a in ACTIONS) + "  accept%  reject%"]
    for day, by_action in sorted(days.items()):
        for action, count in by_action.items():
            total[action] = total.get(action, 0) + count
        lines.append(_stats_row(day.isoformat(), by_action))
    lines.append(_stats_row("total", total))
    return lines


def _stats_row(label: str, by_action: dict[str, int]) -> str:
    answers = by_action["accept"] + by_action["reject"] + by_action["save"]

    def rate(action: str) -> str:
        return f"{100 * by_action[action] / answers:8.1f}%" if answers else "        -"

    cells = "".join(f"{by_action.get(a, 0):>9}" for a in ACTIONS)
    return f"{label:<12}{cells}{rate('accept')}{rate('reject')}"


async def _stats(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    for line in stats_table(await store.stats(args.since, args.until)):
        out.write(line + "\n")
    return _OK


async def _purge(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    purged = await store.purge(args.older_than)
    out.write(f"{purged} records older than {args.older_than} days purged\n")
    return _OK


Command = Callable[[Store, argparse.Namespace, TextIO], Awaitable[int]]


async def _run(command: Command, args: argparse.Namespace, out: TextIO) -> int:
    store = _open(args)
    try:
        return await command(store, args, out)
    except Exception as error:  # the store failed: say so, without a traceback
        url = args.store or os.environ.get(ENV_VARIABLE, "")
        raise _Problem(f"consent log {mask_url(url)}: {error!r}", _FAILED) from error
    finally:
        await store.close()


def run_log_command(args: argparse.Namespace) -> int:
    """The `log` command `args` names; the exit code."""
    out = sys.stdout
    output = getattr(args, "output", None)
    try:
        if output:
            with open(output, "w", newline="", encoding="utf-8") as file:
                return asyncio.run(_run(args.log_run, args, file))
        return asyncio.run(_run(args.log_run, args, out))
    except _Problem as problem:
        sys.stderr.write(f"error: {problem}\n")
        return problem.code
    except OSError as error:  # --output could not be written
        sys.stderr.write(f"error: {error}\n")
        return _FAILED


def add_log_commands(commands: Any) -> None:
    """Add ``log export|show|stats|purge`` to an argparse subparsers object."""
    log = commands.add_parser("log", help="the consent log: export, show, stats, purge")
    log.set_defaults(run=run_log_command)
    actions = log.add_subparsers(dest="log_command", required=True)
    store = argparse.ArgumentParser(add_help=False)
    store.add_argument("--store", metavar="URL", help=f"the consent log (default: ${ENV_VARIABLE})")
    span = argparse.ArgumentParser(add_help=False)
    span.add_argument("--since", type=_since, metavar="DATE", help="from this day (UTC)")
    span.add_argument("--until", type=_until, metavar="DATE", help="up to this day, included")

    export = actions.add_parser("export", parents=[store, span], help="every record, for audit")
    export.add_argument("--format", choices=FORMATS, required=True)
    export.add_argument("--output", metavar="FILE", help="write here instead of stdout")
    export.add_argument(
        "--banner-versions",
        action="store_true",
        help="jsonl: each banner version once, before the first record naming it",
    )
    export.set_defaults(log_run=_export)
    show = actions.add_parser("show", parents=[store], help="one visitor's records and banners")
    show.add_argument("consent_id", metavar="CONSENT_ID")
    show.set_defaults(log_run=_show)
    stats = actions.add_parser("stats", parents=[store, span], help="choices by day and action")
    stats.set_defaults(log_run=_stats)
    purge = actions.add_parser("purge", parents=[store], help="delete old records")
    purge.add_argument("--older-than", type=_days, required=True, metavar="DAYS")
    purge.set_defaults(log_run=_purge)
