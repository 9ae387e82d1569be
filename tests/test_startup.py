"""A bad config stops the server at start-up, however the middleware is added.

`ConsentMiddleware(app, ...)` raises where it is written. `app.add_middleware(...)` is
built by Starlette and FastAPI on the first ASGI call, the lifespan start-up, where
uvicorn's default `--lifespan auto` swallows exceptions ("lifespan unsupported") and then
answers every request with a 500. There the middleware answers the start-up with
`lifespan.startup.failed`, so uvicorn logs the error and exits. Tested with a real uvicorn
process started with its default options.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from asgi_consent import ConfigError, ConsentMiddleware
from asgi_consent.errors import StartupFailure, built_lazily
from helpers import SECRET

pytestmark = pytest.mark.anyio

FASTAPI_ADD_MIDDLEWARE = """
    from fastapi import FastAPI
    from asgi_consent import ConsentMiddleware

    app = FastAPI()
    app.add_middleware(ConsentMiddleware, secret_key="", expiry_days=0)
"""
STARLETTE_ADD_MIDDLEWARE = """
    from starlette.applications import Starlette
    from asgi_consent import ConsentMiddleware

    app = Starlette()
    app.add_middleware(ConsentMiddleware, secret_key="x" * 32, expiry_days=0)
"""
WRAPPED = """
    from fastapi import FastAPI
    from asgi_consent import ConsentMiddleware

    app = ConsentMiddleware(FastAPI(), secret_key="x" * 32, polcy_url="/privacy")
"""
GOOD = f"""
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse
    from asgi_consent import ConsentMiddleware

    app = FastAPI()
    app.add_middleware(ConsentMiddleware, secret_key="{SECRET}")


    @app.get("/", response_class=HTMLResponse)
    async def home() -> str:
        return "<!doctype html><html><body><h1>Home</h1></body></html>"
"""


def _uvicorn(tmp_path: Path, source: str) -> subprocess.Popen[str]:
    """`uvicorn app:app` with uvicorn's default options (lifespan auto), on any free port."""
    (tmp_path / "app.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app:app", "--port", "0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _exit(process: subprocess.Popen[str]) -> tuple[int | None, str]:
    """The exit code and output of a server expected to stop on its own; None if it
    started serving instead (then it is stopped here)."""
    assert process.stdout is not None
    lines = []
    for line in process.stdout:  # until the server exits, or says it is serving
        lines.append(line)
        if "Uvicorn running on" in line:
            process.terminate()
            process.communicate(timeout=10)
            return None, "".join(lines)
    process.communicate(timeout=10)  # reaps it and closes the pipe
    return process.returncode, "".join(lines)


# -- a real uvicorn, default options ------------------------------------------------------


@pytest.mark.server
def test_a_bad_config_added_to_fastapi_stops_uvicorn_naming_the_field(tmp_path: Path) -> None:
    code, output = _exit(_uvicorn(tmp_path, FASTAPI_ADD_MIDDLEWARE))
    assert code not in (None, 0), output
    assert "ConfigError: secret_key is not set" in output
    assert "Application startup failed. Exiting." in output
    assert "Uvicorn running" not in output


@pytest.mark.server
def test_a_bad_config_added_to_starlette_stops_uvicorn_naming_the_field(tmp_path: Path) -> None:
    code, output = _exit(_uvicorn(tmp_path, STARLETTE_ADD_MIDDLEWARE))
    assert code not in (None, 0), output
    assert "ConfigError: expiry_days: expected a whole number from 1 to 3650, got 0" in output


@pytest.mark.server
def test_a_bad_config_of_a_wrapped_app_stops_uvicorn_naming_the_option(tmp_path: Path) -> None:
    code, output = _exit(_uvicorn(tmp_path, WRAPPED))
    assert code not in (None, 0), output
    assert "polcy_url: expected one of the options (did you mean 'policy_url'?)" in output


@pytest.mark.server
def test_a_good_config_added_to_fastapi_starts_and_serves_the_banner(tmp_path: Path) -> None:
    process = _uvicorn(tmp_path, GOOD)
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            found = re.search(r"Uvicorn running on (http://\S+)", line)
            if found:
                break
        else:
            pytest.fail("".join(lines))
        with urllib.request.urlopen(found.group(1) + "/", timeout=10) as response:
            page = response.read().decode()
        assert 'id="asgi-consent"' in page
        assert "Application startup complete." in "".join(lines)
    finally:
        process.terminate()
        process.communicate(timeout=10)


# -- in process ---------------------------------------------------------------------------


async def _lifespan_startup(app: Any) -> list[dict[str, Any]]:
    """The messages `app` sends for a lifespan start-up."""
    sent: list[dict[str, Any]] = []
    incoming = iter([{"type": "lifespan.startup"}])

    async def receive() -> dict[str, Any]:
        return next(incoming)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    try:
        await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    except ConfigError:
        sent.append({"type": "raised"})
    return sent


async def test_a_startup_failure_fails_the_lifespan_startup_with_the_error() -> None:
    error = ConfigError("expiry_days", 0, "a whole number from 1 to 3650")
    assert await _lifespan_startup(StartupFailure(error)) == [
        {
            "type": "lifespan.startup.failed",
            "message": "ConfigError: expiry_days: expected a whole number from 1 to 3650, got 0",
        }
    ]


async def test_a_startup_failure_raises_its_error_for_a_request() -> None:
    error = ConfigError("expiry_days", 0, "a whole number from 1 to 3650")

    async def receive() -> dict[str, Any]:
        raise AssertionError("not read")

    async def send(message: Any) -> None:
        raise AssertionError("nothing sent")

    with pytest.raises(ConfigError) as caught:
        await StartupFailure(error)({"type": "http"}, receive, send)
    assert caught.value is error


def test_construction_by_a_lazy_middleware_stack_is_recognised() -> None:
    def build_middleware_stack() -> bool:
        return _constructor()

    def _constructor() -> bool:
        return built_lazily()

    assert (build_middleware_stack(), _constructor()) == (True, False)


async def test_a_bad_config_written_by_hand_raises_where_it_is_written() -> None:
    with pytest.raises(ConfigError, match="^expiry_days: "):
        ConsentMiddleware(Starlette(), secret_key=SECRET, expiry_days=0)


async def test_a_bad_config_added_with_add_middleware_fails_the_lifespan_startup() -> None:
    app = Starlette()
    app.add_middleware(ConsentMiddleware, secret_key=SECRET, expiry_days=0)
    assert await _lifespan_startup(app) == [
        {
            "type": "lifespan.startup.failed",
            "message": "ConfigError: expiry_days: expected a whole number from 1 to 3650, got 0",
        }
    ]
