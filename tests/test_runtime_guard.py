"""The run-time guard and Microsoft's signals on the server side: what goes first in
<head>, and the guard's rules generated from the server's own (the browser side is
tests/browser/test_runtime_guard.py)."""

from __future__ import annotations

import json
import re

import pytest

from asgi_consent import ConsentMiddleware
from asgi_consent.guard_rules import RULES_SLOT, guard_script
from asgi_consent.trackers import CATALOGUE
from helpers import body_of, client, html_app, make_scope, run_asgi, wrap

PAGE = b"<!doctype html><html><head><title>T</title></head><body><p>Hi</p></body></html>"
CSP = (b"content-security-policy", b"script-src 'nonce-abc123'")
HTML = (b"content-type", b"text/html; charset=utf-8")


def consent_cookie(mw: ConsentMiddleware, *categories: str) -> tuple[bytes, bytes]:
    return (b"cookie", b"asgi_consent=" + mw.codec.encode(categories).encode())


def head_scripts(body: bytes) -> list[bytes]:
    """The script tags between <head> and the page's own <title>."""
    head = body.split(b"<head>", 1)[1].split(b"<title>", 1)[0]
    return re.findall(rb"<script\b[^>]*>", head)


async def page_for(mw: ConsentMiddleware, *headers: tuple[bytes, bytes]) -> bytes:
    return body_of(await run_asgi(mw, make_scope(headers=list(headers))))


def guarded(**options: object) -> ConsentMiddleware:
    return wrap(html_app([PAGE], headers=[HTML, CSP]), runtime_guard=True, **options)


def rules_of(script: bytes) -> dict[str, object]:
    found = re.search(rb"const RULES = (\{.*?\});\n", script)
    assert found is not None
    rules: dict[str, object] = json.loads(found.group(1))
    return rules


@pytest.mark.anyio
async def test_the_guard_goes_first_in_the_head_then_the_consent_signals() -> None:
    mw = guarded(consent_mode=True, uet_consent_mode=True, clarity_consent=True)
    scripts = head_scripts(await page_for(mw))
    assert [re.search(rb"/static/([a-z-]+)\.", s).group(1) for s in scripts] == [  # type: ignore[union-attr]
        b"guard",
        b"consent-mode",
        b"microsoft-consent",
    ]
    for script in scripts:
        assert b' nonce="abc123"' in script
        assert b"async" not in script and b"defer" not in script
    assert b' data-granted="necessary"' in scripts[0]


@pytest.mark.anyio
async def test_the_guard_is_on_by_default() -> None:
    mw = ConsentMiddleware(html_app([PAGE], headers=[HTML]), secret_key="s" * 32)
    assert b"/static/guard." in head_scripts(await page_for(mw))[0]


@pytest.mark.anyio
async def test_runtime_guard_false_leaves_it_out() -> None:
    mw = wrap(html_app([PAGE], headers=[HTML]), runtime_guard=False)
    assert b"guard." not in await page_for(mw)


@pytest.mark.anyio
async def test_a_visitor_who_granted_everything_gets_no_guard() -> None:
    mw = guarded()
    body = await page_for(mw, consent_cookie(mw, "analytics", "marketing", "media"))
    assert b"guard." not in body
    partly = await page_for(mw, consent_cookie(mw, "analytics"))
    assert b' data-granted="analytics necessary"' in head_scripts(partly)[0]


@pytest.mark.anyio
async def test_microsoft_signals_name_their_pairs_and_the_visitors_choice() -> None:
    mw = guarded(uet_consent_mode=True, clarity_consent=True)
    script = head_scripts(await page_for(mw, consent_cookie(mw, "marketing")))[1]
    assert b' data-uet="ad_storage:marketing"' in script
    assert b' data-clarity="ad_Storage:marketing analytics_Storage:analytics"' in script
    assert b' data-granted="marketing necessary"' in script
    only_uet = head_scripts(await page_for(guarded(uet_consent_mode=True)))[1]
    assert b"data-uet=" in only_uet and b"data-clarity" not in only_uet


@pytest.mark.anyio
async def test_microsoft_signals_are_off_by_default() -> None:
    assert b"microsoft-consent" not in await page_for(guarded())


@pytest.mark.anyio
async def test_the_served_guard_carries_the_catalogue_and_the_sites_own_entries() -> None:
    mw = guarded(
        tracker_urls={"analytics": ["stats.example.org/hit"]},
        tracker_markers={"marketing": ["myPixel("]},
        tracker_cookies={"analytics": ["my_stats_*"]},
    )
    url = re.search(rb'src="([^"]*/guard\.[^"]*)"', await page_for(mw)).group(1)  # type: ignore[union-attr]
    async with client(mw) as c:
        response = await c.get(url.decode())
    assert response.status_code == 200
    rules = rules_of(response.content)
    hosts = {host for table in rules["urls"] for host, _ in table}  # type: ignore[attr-defined]
    assert "stats.example.org" in hosts
    catalogued = {p.split("/")[0].removeprefix("www.") for t in CATALOGUE for p in t.script_urls}
    assert catalogued <= hosts
    assert ["mypixel(", "marketing"] in rules["markers"]  # type: ignore[operator]
    assert ["my_stats_", "analytics"] in rules["cookies"][1]  # type: ignore[index]


@pytest.mark.anyio
async def test_the_guards_name_changes_with_its_rules() -> None:
    first = await page_for(guarded())
    second = await page_for(guarded(tracker_urls={"analytics": ["stats.example.org"]}))
    name = re.compile(rb"/static/guard\.([0-9a-f]+)\.js")
    assert name.search(first).group(1) != name.search(second).group(1)  # type: ignore[union-attr]


def test_the_rules_cannot_close_the_script() -> None:
    mw = guarded(tracker_markers={"marketing": ["</script><script>alert(1)//"]})
    body = mw.assets.find(mw.assets.url("guard.js").rpartition("/")[2])
    assert body is not None and b"</script" not in body.body.lower()


def test_a_template_without_its_rules_slot_is_refused() -> None:
    mw = guarded()
    with pytest.raises(ValueError, match="rules slot"):
        guard_script(b"(() => {})();", mw.rules)
    with pytest.raises(ValueError, match="rules slot"):
        guard_script(RULES_SLOT + RULES_SLOT, mw.rules)
