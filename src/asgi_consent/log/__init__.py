"""The consent log: proof of each visitor's choice (GDPR article 7(1)).

    from asgi_consent.log import (
        BannerVersion, ConsentRecord, LogWriter, default_spill_dir, open_store,
        pseudonymise_client,
    )

    url = "sqlite:///consent.db"
    writer = LogWriter(open_store(url), default_spill_dir(url), retention_days=365)
    await writer.start()                                  # ASGI lifespan startup
    banner = BannerVersion.of({...})                      # once per language and config
    await writer.record(ConsentRecord.create(             # per choice; never raises
        consent_id=..., action="accept", granted=..., refused=..., policy_revision=...,
        expires_at=..., method="javascript", gpc=False, language="en", path=request.url.path,
        banner_version=banner.version_id,
        client=pseudonymise_client(client_host, "truncated"),
    ), banner)
    await writer.close()                                  # ASGI lifespan shutdown

Reading, for the command line: ``store = open_store(url)``, then ``store.export(since,
until)``, ``store.records_of(consent_id)``, ``store.banner_version(id)``, ``store.stats()``,
``store.purge(days)`` and ``await store.close()``; `write_export` writes csv or jsonl.

Stores: SQLite (built in) and PostgreSQL (``pip install 'asgi-consent[postgres]'``), or
any object with the `Store` methods. The PostgreSQL store is imported on first use.
"""

from __future__ import annotations

from .export import CSV_COLUMNS as CSV_COLUMNS
from .export import FORMATS as FORMATS
from .export import ExportFormat as ExportFormat
from .export import csv_lines as csv_lines
from .export import jsonl_lines as jsonl_lines
from .export import write_export as write_export
from .records import ACTIONS as ACTIONS
from .records import CLIENT_ADDRESS_MODES as CLIENT_ADDRESS_MODES
from .records import METHODS as METHODS
from .records import Action as Action
from .records import BannerVersion as BannerVersion
from .records import ClientAddressMode as ClientAddressMode
from .records import ConsentRecord as ConsentRecord
from .records import DailyCount as DailyCount
from .records import Method as Method
from .records import pseudonymise_client as pseudonymise_client
from .replay import WriterCounts as WriterCounts
from .sqlite import SqliteStore as SqliteStore
from .store import SCHEMA_VERSION as SCHEMA_VERSION
from .store import Store as Store
from .store import default_spill_dir as default_spill_dir
from .store import mask_url as mask_url
from .store import open_store as open_store
from .writer import LogWriter as LogWriter
from .writer import Outcome as Outcome

__all__ = [
    "ACTIONS",
    "CLIENT_ADDRESS_MODES",
    "CSV_COLUMNS",
    "FORMATS",
    "METHODS",
    "SCHEMA_VERSION",
    "Action",
    "BannerVersion",
    "ClientAddressMode",
    "ConsentRecord",
    "DailyCount",
    "ExportFormat",
    "LogWriter",
    "Method",
    "Outcome",
    "SqliteStore",
    "Store",
    "WriterCounts",
    "csv_lines",
    "default_spill_dir",
    "jsonl_lines",
    "mask_url",
    "open_store",
    "pseudonymise_client",
    "write_export",
]
