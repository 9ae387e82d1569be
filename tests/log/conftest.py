"""Fixtures: the same contract runs on SQLite and on PostgreSQL (own schema per test)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from asgi_consent.log import Store, open_store

from .helpers import POSTGRES_URL, postgres_execute, postgres_problem, require


@dataclass
class Backend:
    """One database for one test: `open()` gives another store on it (another process)."""

    name: str
    url: str
    execute: Callable[..., Any]
    opened: list[Store]

    def open(self) -> Store:
        store = open_store(self.url)
        self.opened.append(store)
        return store


async def _sqlite_execute(path: Path, sql: str, *args: Any) -> Any:
    import sqlite3

    with sqlite3.connect(path) as connection:
        return connection.execute(sql, args).fetchall()


@pytest.fixture(params=["sqlite", "postgres"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    schema = f"t_{secrets.token_hex(6)}"
    if request.param == "sqlite":
        path = tmp_path / "consent.db"

        async def execute(sql: str, *args: Any) -> Any:
            return await _sqlite_execute(path, sql.replace("{schema}.", ""), *args)

        found = Backend("sqlite", f"sqlite:///{path}", execute, [])
    else:
        require(await postgres_problem())

        async def execute(sql: str, *args: Any) -> Any:
            return await postgres_execute(sql.replace("{schema}", schema), *args)

        found = Backend("postgres", f"{POSTGRES_URL}?schema={schema}", execute, [])
    try:
        yield found
    finally:
        for store in found.opened:
            await store.close()
        if request.param == "postgres":
            await postgres_execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
async def store(backend: Backend) -> Store:
    opened = backend.open()
    await opened.migrate()
    return opened
