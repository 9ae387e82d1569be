"""The small async interface every consent-log store has, and `open_store(url)`.

Two stores ship: SQLite (`sqlite:///relative/path.db`, `sqlite:////absolute/path.db`)
and PostgreSQL (`postgresql://user@host/db`, the `postgres` extra). A site's own store is
any object with these methods; nothing needs to subclass anything. A template::

    class DictStore:  # records in memory: for tests, or to start a store of your own

        def __init__(self) -> None:
            self.records: dict[str, ConsentRecord] = {}
            self.banners: dict[str, BannerVersion] = {}

        async def migrate(self) -> None:
            pass  # create tables here; it runs at every start

        async def write(self, records, banners) -> None:
            # One transaction in a real store. Keyed by id: a replayed record is kept once.
            self.banners.update((banner.version_id, banner) for banner in banners)
            self.records.update((record.record_id, record) for record in records)

        async def export(self, since=None, until=None):
            ordered = sorted(self.records.values(), key=lambda r: (r.recorded_at, r.record_id))
            for record in ordered:
                if (since is None or record.recorded_at >= since) and (
                    until is None or record.recorded_at < until
                ):
                    yield record

        async def records_of(self, consent_id):
            return [r async for r in self.export() if r.consent_id == consent_id]

        async def banner_version(self, version_id):
            return self.banners.get(version_id)

        async def stats(self, since=None, until=None):
            chosen = [(r.recorded_at.date(), r.action) async for r in self.export(since, until)]
            counts = Counter(chosen)
            return [DailyCount(day, action, n) for (day, action), n in sorted(counts.items())]

        async def purge(self, older_than_days, *, now=None):
            cutoff = (now or datetime.now(UTC)) - timedelta(days=older_than_days)
            old = [i for i, r in self.records.items() if r.recorded_at < cutoff]
            for record_id in old:
                del self.records[record_id]
            return len(old)

        async def close(self) -> None:
            pass

    writer = LogWriter(DictStore(), spill_dir="/var/lib/mysite/consent-spill")
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import tempfile
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..errors import ConfigError
from .records import EXPORT_PAGE as EXPORT_PAGE
from .records import MAX_RECORDS_OF as MAX_RECORDS_OF
from .records import SCHEMA_VERSION as SCHEMA_VERSION
from .records import BannerVersion, ConsentRecord, DailyCount

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_EXPECTED = "a sqlite:///path.db or postgresql://user@host/database URL"


@runtime_checkable
class Store(Protocol):
    """Where consent records and banner versions are kept.

    Every method may raise any exception when the store is unreachable; the
    `LogWriter` turns that into spilling. Times are timezone-aware; a range includes
    `since` and excludes `until`.
    """

    async def migrate(self) -> None:
        """Create the schema, or bring an older one up to `SCHEMA_VERSION`; safe to repeat."""

    async def write(
        self, records: Sequence[ConsentRecord], banners: Sequence[BannerVersion]
    ) -> None:
        """Store both in one transaction; ids already stored are skipped, not duplicated."""

    def export(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> AsyncIterator[ConsentRecord]:
        """Every record in the range, oldest first, read in pages."""

    async def records_of(self, consent_id: str) -> list[ConsentRecord]:
        """Every record of one consent id, oldest first."""

    async def banner_version(self, version_id: str) -> BannerVersion | None:
        """The banner version stored under `version_id`, if any."""

    async def stats(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[DailyCount]:
        """Choices per day (UTC) and action, by day then action."""

    async def purge(self, older_than_days: int, *, now: datetime | None = None) -> int:
        """Delete records older than `older_than_days` days; return how many.

        Banner versions stay: they hold no personal data and later records may name them.
        """

    async def close(self) -> None:
        """Release connections and threads; the store is not used afterwards."""


def mask_url(url: str) -> str:
    """`url` with any password replaced by ``***``, for error messages and logs."""
    return re.sub(r"(//[^/@:]*:)[^/@]*@", r"\1***@", url)


def open_store(url: str) -> Store:
    """The store a `consent_log` URL names; nothing is opened until first use.

    ``sqlite:///consent.db`` (relative to the working directory, as SQLAlchemy reads it),
    ``sqlite:////var/lib/site/consent.db`` (absolute), ``sqlite:///:memory:``;
    ``postgresql://user:password@host:5432/db`` or ``postgres://...``, optionally with
    ``?schema=name`` (default ``public``) and ``statement_cache_size=0`` (for PgBouncer in
    transaction mode). Raises `ConfigError` naming ``consent_log``.
    """
    if not isinstance(url, str):
        raise ConfigError("consent_log", url, _EXPECTED)
    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite":
        return _open_sqlite(url)
    if scheme in ("postgresql", "postgres"):
        return _open_postgres(url)
    raise ConfigError("consent_log", mask_url(url), _EXPECTED)


def default_spill_dir(url: str) -> Path:
    """Where a writer spills when the site names no folder.

    Beside a SQLite file (``sqlite:///data/consent.db`` gives ``data/consent.db.spill``);
    for any other URL, a folder in the system's temporary directory named by a hash of
    the URL. A spill on another disk than the store's survives more failures (a full
    disk): production sites should name one.
    """
    if url.lower().startswith("sqlite:///") and url[len("sqlite:///") :] not in ("", ":memory:"):
        return Path(url[len("sqlite:///") :] + ".spill")
    digest = hashlib.sha256(url.encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"asgi-consent-spill-{digest}"


def _open_sqlite(url: str) -> Store:
    from .sqlite import SqliteStore

    if not url.lower().startswith("sqlite:///") or "?" in url or "#" in url:
        raise ConfigError("consent_log", url, "sqlite:///path.db (three slashes, no query)")
    path = url[len("sqlite:///") :]
    if not path:
        raise ConfigError("consent_log", url, "a database file after sqlite:///")
    if path == ":memory:":
        return SqliteStore(":memory:")
    return SqliteStore(Path(path))


def _open_postgres(url: str) -> Store:
    masked = mask_url(url)
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    schema = query.pop("schema", "public")
    cache_size = query.pop("statement_cache_size", "100")
    if not parts.hostname and not parts.path.strip("/") and "host" not in query:
        raise ConfigError("consent_log", masked, "postgresql://user@host/database")
    if not _SCHEMA_NAME.fullmatch(schema):
        raise ConfigError("consent_log", masked, "a schema name of lowercase letters, digits, _")
    if not cache_size.isdigit():
        raise ConfigError("consent_log", masked, "statement_cache_size as a whole number")
    if importlib.util.find_spec("asyncpg") is None:
        raise ConfigError(
            "consent_log", masked, "the PostgreSQL driver: pip install 'asgi-consent[postgres]'"
        )
    from .postgres import PostgresStore

    dsn = parts._replace(query=urlencode(query)).geturl()
    return PostgresStore(dsn, schema=schema, statement_cache_size=int(cache_size))
