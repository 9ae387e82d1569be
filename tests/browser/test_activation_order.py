"""Order of activation in a real browser when choices overlap a slow script."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from playwright.sync_api import Browser, expect

from asgi_consent import ConsentMiddleware

from .conftest import SECRET, _ServerThread

pytestmark = pytest.mark.browser

PAGE = b"""<!doctype html><html><head><title>order</title></head><body>
<script type="text/plain" data-consent="analytics" src="/slow.js"></script>
<script type="text/plain" data-consent="analytics">
  window.order = window.lib ? "after lib" : "before lib";
</script>
</body></html>"""


class SlowScript:
    """/slow.js answers only once the test releases it: still loading, whatever the
    machine's speed, when the visitor chooses again."""

    def __init__(self) -> None:
        self.asked = threading.Event()
        self.released = threading.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["path"] == "/slow.js":
            self.asked.set()
            while not self.released.is_set():
                await anyio.sleep(0.01)
            body, media_type = b"window.lib = 1;", b"text/javascript"
        else:
            body, media_type = PAGE, b"text/html; charset=utf-8"
        headers = [(b"content-type", media_type)]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture
def slow() -> Iterator[tuple[str, SlowScript]]:
    app = SlowScript()
    server = _ServerThread(ConsentMiddleware(app, secret_key=SECRET))
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}", app
    finally:
        app.released.set()
        server.stop()


def test_a_second_choice_while_a_script_loads_keeps_inline_code_after_it(
    browser: Browser, slow: tuple[str, SlowScript]
) -> None:
    site, script = slow
    context = browser.new_context()
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(site + "/")
    page.wait_for_function("window.asgiConsent !== undefined")

    banner = page.locator("#asgi-consent")
    banner.get_by_text("Manage preferences").click()
    banner.get_by_label("Analytics").check()
    banner.get_by_role("button", name="Save my choices").click()
    settings = page.locator("#asgi-consent-settings")
    expect(settings).to_be_visible()
    assert script.asked.wait(10), "the granted /slow.js was never requested"

    # A wider choice while /slow.js is still on its way.
    settings.locator(":scope > [data-consent-open]").click()
    settings.get_by_label("External content").check()
    settings.get_by_role("button", name="Save my choices").click()
    page.wait_for_function("window.asgiConsent.granted().includes('media')")
    assert page.evaluate("window.order") is None  # the inline code still waits for it
    script.released.set()

    page.wait_for_function("window.order !== undefined")
    assert page.evaluate("window.order") == "after lib"
    assert errors == []
    context.close()
