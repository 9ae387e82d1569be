"""The endpoints write proof of consent: one record per choice, with the right fields."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from tests.helpers import SECRET, app_with, client

from asgi_consent import ConsentMiddleware
from asgi_consent.cookie import ConsentCodec
from asgi_consent.log import ConsentRecord, SqliteStore, open_store
from asgi_consent.log.choices import banner_content

from .conftest import Backend
from .helpers import all_records

pytestmark = pytest.mark.anyio

FORM = {"content-type": "application/x-www-form-urlencoded"}
JS = {**FORM, "accept": "application/json"}


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'consent.db'}"


@pytest.fixture
async def app(url: str) -> AsyncIterator[ConsentMiddleware]:
    middleware = app_with(consent_log=url, policy_url="/privacy", policy_revision=3)
    yield middleware
    assert middleware.consent_log is not None
    await middleware.consent_log.writer.close()


async def stored(url: str) -> list[ConsentRecord]:
    store = open_store(url)
    try:
        return await all_records(store)
    finally:
        await store.close()


async def post(
    app: Any, path: str, data: str, headers: dict[str, str], cookies: dict[str, str] | None = None
) -> httpx.Response:
    async with client(app) as http:
        if cookies:
            http.cookies.update(cookies)
        return await http.post(f"/_consent{path}", content=data, headers=headers)


def cookie_of(response: httpx.Response) -> str:
    return response.cookies["asgi_consent"]


async def test_a_javascript_accept_records_every_field(app: ConsentMiddleware, url: str) -> None:
    headers = {**JS, "sec-gpc": "0", "accept-language": "de", "referer": "http://testserver/x"}
    response = await post(app, "/choice", "choice=accept&next=/blog/post%3Fq%3Dsecret", headers)
    state = response.json()
    [record] = await stored(url)
    assert record.consent_id == state["consent_id"]
    assert (record.action, record.method, record.gpc) == ("accept", "javascript", False)
    assert record.granted == ("analytics", "marketing", "media", "necessary")
    assert record.refused == ()
    assert record.policy_revision == 3
    assert record.expires_at is not None
    assert record.expires_at.isoformat() == state["expires_at"]
    assert (record.language, record.path) == ("de", "/blog/post")
    assert record.client == "127.0.0.0/24" and record.user_agent is None
    assert abs(record.recorded_at - datetime.now(UTC)) < timedelta(seconds=10)


async def test_the_banner_version_is_what_the_visitor_was_shown(
    app: ConsentMiddleware, url: str
) -> None:
    await post(app, "/choice", "choice=reject", {**FORM, "accept-language": "fr"})
    [record] = await stored(url)
    store = SqliteStore(url[len("sqlite:///") :])
    banner = await store.banner_version(record.banner_version)
    await store.close()
    assert banner is not None and banner.verify()
    assert banner.data == json.loads(json.dumps(banner_content(app.config, "fr")))
    assert banner.data["policy_url"] == "/privacy" and banner.data["language"] == "fr"
    assert banner.data["texts"]["reject_text"] == "Tout refuser"


async def test_a_form_reject_without_javascript_is_recorded_as_a_form(
    app: ConsentMiddleware, url: str
) -> None:
    response = await post(
        app, "/choice", "choice=reject", {**FORM, "referer": "http://testserver/shop?id=7"}
    )
    assert response.status_code == 303
    [record] = await stored(url)
    assert (record.action, record.method, record.path) == ("reject", "form", "/shop")
    assert record.granted == ("necessary",)
    assert record.refused == ("analytics", "marketing", "media")


async def test_a_saved_selection_is_recorded_with_what_was_refused(
    app: ConsentMiddleware, url: str
) -> None:
    await post(app, "/choice", "choice=save&category=media&next=/a", FORM)
    [record] = await stored(url)
    assert (record.action, record.granted) == ("save", ("media", "necessary"))
    assert record.refused == ("analytics", "marketing")


async def test_a_grant_from_a_placeholder_keeps_the_consent_id(
    app: ConsentMiddleware, url: str
) -> None:
    first = await post(app, "/choice", "choice=reject", FORM)
    second = await post(
        app,
        "/choice",
        "choice=grant&category=media&next=/video",
        FORM,
        {"asgi_consent": cookie_of(first)},
    )
    reject, grant = await stored(url)
    assert (grant.action, grant.method, grant.path) == ("grant", "placeholder", "/video")
    assert grant.granted == ("media", "necessary")
    assert grant.refused == ("analytics", "marketing")  # the earlier reject still stands
    assert grant.consent_id == reject.consent_id
    codec = ConsentCodec(app.config)
    assert codec.decode(cookie_of(second)).consent_id == reject.consent_id


async def test_a_grant_before_any_choice_is_a_grant_and_the_later_answer_shares_its_id(
    app: ConsentMiddleware, url: str
) -> None:
    first = await post(app, "/choice", "choice=grant&category=media&next=/video", FORM)
    codec = ConsentCodec(app.config)
    assert not codec.decode(cookie_of(first)).decided  # the banner still asks
    await post(app, "/choice", "choice=accept", FORM, {"asgi_consent": cookie_of(first)})
    grant, accept = await stored(url)
    assert (grant.action, grant.method) == ("grant", "placeholder")
    assert grant.granted == ("media", "necessary")
    assert grant.refused == ()  # nothing refused yet: the banner's question is open
    assert accept.action == "accept" and accept.consent_id == grant.consent_id


async def test_a_gpc_accept_is_recorded_without_marketing(app: ConsentMiddleware, url: str) -> None:
    await post(app, "/choice", "choice=accept", {**JS, "sec-gpc": "1"})
    [record] = await stored(url)
    assert (record.action, record.gpc) == ("accept", True)
    assert "marketing" in record.refused and "marketing" not in record.granted


async def test_a_withdraw_is_recorded_under_the_visitors_consent_id(
    app: ConsentMiddleware, url: str
) -> None:
    first = await post(app, "/choice", "choice=accept", JS)
    await post(app, "/withdraw", "next=/", JS, {"asgi_consent": cookie_of(first)})
    accept, withdraw = await stored(url)
    assert (withdraw.action, withdraw.consent_id) == ("withdraw", accept.consent_id)
    assert withdraw.granted == ("necessary",) and withdraw.expires_at is None


async def test_a_tampered_or_foreign_cookie_never_writes_its_id(
    app: ConsentMiddleware, url: str
) -> None:
    foreign = ConsentCodec(app.config.replace(secret_key="another-secret-key-0123456789"))
    forged = foreign.encode(["analytics"], consent_id="forged-id")
    ours = ConsentCodec(app.config).encode(["analytics"], consent_id="real-id")
    tampered = ours.replace("real-id", "evil-id")
    for cookie in (forged, tampered):
        await post(app, "/withdraw", "", JS, {"asgi_consent": cookie})
        await post(app, "/choice", "choice=accept", JS, {"asgi_consent": cookie})
    records = await stored(url)
    assert [r.action for r in records] == ["accept", "accept"]  # no withdraw of an unknown id
    assert not {r.consent_id for r in records} & {"forged-id", "evil-id", "real-id"}


async def test_the_user_agent_and_full_address_are_kept_only_when_asked(url: str) -> None:
    app = app_with(consent_log=url, consent_log_user_agent=True, consent_log_client_address="full")
    await post(app, "/choice", "choice=reject", {**FORM, "user-agent": "Tester/1.0"})
    assert app.consent_log is not None
    await app.consent_log.writer.close()
    [record] = await stored(url)
    assert (record.user_agent, record.client) == ("Tester/1.0", "127.0.0.1")


async def test_a_store_that_is_down_still_takes_the_choice_and_spills(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")  # the database cannot be created under a file, even by root
    spill = tmp_path / "spill"
    app = app_with(
        consent_log=f"sqlite:///{not_a_folder / 'consent.db'}", consent_log_spill_dir=str(spill)
    )
    assert app.consent_log is not None
    try:
        started = time.monotonic()
        response = await post(app, "/choice", "choice=reject", JS)
        assert time.monotonic() - started < 2
        assert response.status_code == 200 and response.json()["decided"]
        assert cookie_of(response)
        assert app.consent_log.writer.spilling
    finally:
        await app.consent_log.writer.close()
    lines = [json.loads(line) for p in spill.glob("*.jsonl") for line in p.read_text().splitlines()]
    records = [line["record"] for line in lines if "record" in line]
    assert [r["action"] for r in records] == ["reject"]
    assert "could not write" in caplog.text


async def test_without_a_log_nothing_is_recorded() -> None:
    app = app_with()
    assert app.consent_log is None
    response = await post(app, "/choice", "choice=accept", JS)
    assert response.status_code == 200


async def test_lifespan_starts_the_writer_and_shutdown_flushes_it(url: str) -> None:
    events: list[str] = []

    async def inner(scope: dict[str, Any], receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            events.append(message["type"])
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return

    app = ConsentMiddleware(inner, secret_key=SECRET, consent_log=url)
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[str] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    await incoming.put({"type": "lifespan.startup"})
    await incoming.put({"type": "lifespan.shutdown"})
    await app({"type": "lifespan", "asgi": {"version": "3.0"}}, incoming.get, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert events == ["lifespan.startup", "lifespan.shutdown"]
    assert Path(url[len("sqlite:///") :]).exists()  # started: the store was migrated
    assert app.consent_log is not None and app.consent_log.writer._closed


async def test_the_preferences_page_shows_the_consent_id_escaped(app: ConsentMiddleware) -> None:
    cookie = ConsentCodec(app.config).encode(["analytics"], consent_id="<b>id&1")
    async with client(app) as http:
        http.cookies.update({"asgi_consent": cookie})
        page = (await http.get("/_consent/preferences")).text
        fresh = await http.post("/_consent/choice", content="choice=reject", headers=JS)
    assert "<code>&lt;b&gt;id&amp;1</code>" in page and "<b>id" not in page
    assert fresh.json()["consent_id"] == "<b>id&1"  # kept from the earlier choice
    assert "<code>&lt;b&gt;id&amp;1</code>" in fresh.json()["settings_html"]


async def test_no_consent_id_is_shown_before_a_choice(app: ConsentMiddleware) -> None:
    async with client(app) as http:
        page = (await http.get("/_consent/preferences")).text
    assert "asgi-consent__id" not in page


# -- a real server ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def page_with_lifespan(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A page, and a lifespan that takes part (as every framework's app does)."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def test_a_thousand_concurrent_choices_through_uvicorn_make_a_thousand_rows(
    url: str,
) -> None:
    app = ConsentMiddleware(page_with_lifespan, secret_key=SECRET, consent_log=url)
    port = _free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", backlog=2048
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        # The client is the slower side: more than ~20 connections only queue in httpx.
        limits = httpx.Limits(max_connections=20, max_keepalive_connections=20)
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:

            async def choose(index: int) -> str:
                choice = ("accept", "reject", "save")[index % 3]
                response = await http.post(
                    "/_consent/choice", content=f"choice={choice}&next=/p{index}", headers=JS
                )
                assert response.status_code == 200
                consent_id: str = response.json()["consent_id"]
                return consent_id

            ids = await asyncio.gather(*(choose(i) for i in range(1000)))
    finally:
        server.should_exit = True
        await serving
    records = await stored(url)  # shutdown flushed the writer
    assert len(records) == 1000
    assert len({r.record_id for r in records}) == 1000
    assert sorted(r.consent_id for r in records) == sorted(ids)
    assert {r.path for r in records} == {f"/p{i}" for i in range(1000)}


async def test_a_sites_own_store_is_given_as_the_consent_log(tmp_path: Path) -> None:
    from .test_own_store import documented_store

    own = documented_store()
    app = app_with(consent_log=own, consent_log_spill_dir=str(tmp_path / "spill"))
    await post(app, "/choice", "choice=reject", FORM)
    assert app.consent_log is not None
    await app.consent_log.writer.close()
    [record] = own.records.values()
    assert record.action == "reject" and record.banner_version in own.banners


def test_a_bad_consent_log_stops_start_up_naming_the_option() -> None:
    from asgi_consent import ConfigError

    with pytest.raises(ConfigError, match="consent_log"):
        app_with(consent_log="mysql://db/site")
    with pytest.raises(ConfigError, match="consent_log"):
        app_with(consent_log=object())


async def test_choices_are_recorded_in_sqlite_and_postgresql_alike(backend: Backend) -> None:
    app = app_with(consent_log=backend.url)
    assert app.consent_log is not None
    first = await post(app, "/choice", "choice=accept&next=/a", JS)
    await post(app, "/withdraw", "next=/a", FORM, {"asgi_consent": cookie_of(first)})
    await app.consent_log.writer.close()
    records = await all_records(backend.open())
    assert [(r.action, r.method, r.consent_id) for r in records] == [
        ("accept", "javascript", first.json()["consent_id"]),
        ("withdraw", "form", first.json()["consent_id"]),
    ]
