"""The run-time guard (issue 12) and Microsoft's consent signals, in Chromium.

A page whose own first-party script adds trackers by every DOM method, by markup as
text, by property setters, `new Image()`, `document.write`, fetch, XMLHttpRequest,
sendBeacon and `document.cookie`, before load and after it, under a strict CSP with a
nonce. `page.on("request")` sees every request the browser tries; a request counts as a
tracker's when the server's own rules say so.

Sources for Microsoft's APIs (checked 2026-12-01):
- UET consent mode, `window.uetq = window.uetq || []; window.uetq.push('consent',
  'default' | 'update', {'ad_storage': 'granted' | 'denied'})`, the default on every page
  load, an update once the visitor chooses: https://help.ads.microsoft.com/apex/index/3/en/60119
  ("Setting up UET for consent mode"; its current home,
  https://learn.microsoft.com/en-us/advertising/msa-help/hlp_ba_conc_uet_consent, says the
  signal is required for EEA, UK and Swiss visitors; its stored copy ends before the code)
- Clarity, `window.clarity('consentv2', {ad_Storage, analytics_Storage})`, each
  "granted" or "denied", enforced for EEA/UK/CH visits from 31 October 2025:
  https://learn.microsoft.com/en-us/clarity/setup-and-installation/clarity-consent-api-v2
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Request, Route
from starlette.applications import Starlette
from starlette.requests import Request as HttpRequest
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route as HttpRoute

from asgi_consent import ConsentMiddleware
from asgi_consent.urls import parse_url

from .conftest import LOOPBACK, SECRET, _ServerThread

pytestmark = pytest.mark.browser

NONCE = "gu4rdN0nce"
# Strict, with a host list instead of 'strict-dynamic': document.write'd scripts from
# the tracker hosts are allowed by the policy, so only the guard stands in their way.
CSP = (
    f"script-src 'self' 'nonce-{NONCE}' https://www.googletagmanager.com "
    "https://connect.facebook.net https://static.hotjar.com; object-src 'none'; base-uri 'self'"
)
PAGE = f"""<!doctype html><html><head><title>Guard</title>
<script nonce="{NONCE}">window.uetq = window.uetq || []; window.uetq.push("pageLoad");</script>
<script src="/app.js" nonce="{NONCE}"></script>
</head><body><h1>Guard</h1><div id="slot"></div></body></html>"""

# The site's own bundle: every way of adding a tracker, once while the page loads
# (tag "early") and once after the load event ("late").
APP_JS = r"""
(() => {
  const nonce = document.currentScript.nonce;
  const ga = (id) => `https://www.googletagmanager.com/gtag/js?id=G-${id}`;
  const script = (id) => { const s = document.createElement("script"); s.src = ga(id); return s; };
  document.head.appendChild(script("head-appendChild"));
  document.write(`<script src="${ga("document-write")}"><\/script>`);

  const inject = (tag) => {
    const slot = document.getElementById("slot");
    const spare = () => slot.appendChild(document.createElement("span"));
    slot.appendChild(script(`${tag}-appendChild`));
    slot.insertBefore(script(`${tag}-insertBefore`), null);
    slot.replaceChild(script(`${tag}-replaceChild`), spare());
    slot.append(script(`${tag}-append`));
    const b = spare();
    b.before(script(`${tag}-before`));
    b.after(script(`${tag}-after`));
    spare().replaceWith(script(`${tag}-replaceWith`));
    slot.insertAdjacentElement("beforeend", script(`${tag}-insertAdjacentElement`));
    const first = document.createElement("div");
    slot.append(first);
    first.prepend(script(`${tag}-prepend`));
    const inline = document.createElement("script");
    inline.nonce = nonce;
    inline.text = `(window.__order = window.__order || []).push("inline-${tag}");` +
      "window.fbq = window.fbq || function () {}; fbq('init', '1');";
    slot.appendChild(inline);
    const late = document.createElement("script");
    slot.append(late);
    late.src = ga(`${tag}-src-setter`);

    slot.insertAdjacentHTML("beforeend",
      `<iframe src="https://www.youtube.com/embed/${tag}-insertAdjacentHTML"></iframe>`);
    const inner = slot.appendChild(document.createElement("div"));
    inner.innerHTML = `<p>x</p><img src="https://www.facebook.com/tr?ev=${tag}-innerHTML">` +
      `<iframe src="https://www.youtube.com/embed/${tag}-innerHTML"></iframe>`;
    const outer = slot.appendChild(document.createElement("div"));
    outer.outerHTML = `<div><iframe src="https://www.youtube.com/embed/${tag}-outerHTML"></iframe></div>`;
    const img = document.createElement("img");
    img.setAttribute("src", `https://www.facebook.com/tr?ev=${tag}-setAttribute`);
    slot.append(img);
    const set = document.createElement("img");
    set.srcset = `https://www.facebook.com/tr?ev=${tag}-srcset 1x`;
    slot.append(set);
    const frame = slot.appendChild(document.createElement("iframe"));
    frame.src = `https://www.youtube.com/embed/${tag}-src`;
    new Image().src = `https://www.facebook.com/tr?ev=${tag}-Image`;
    const link = document.createElement("link");
    link.rel = "preload";
    link.as = "script";
    link.href = `https://static.hotjar.com/c/hotjar-${tag}.js`;
    document.head.append(link);

    new Audio(`https://www.facebook.com/tr?ev=${tag}-Audio`);
    const sheet = new CSSStyleSheet();
    const root = tag === "early" ? "html" : "body";
    sheet.replaceSync(`${root}{background:url(https://www.facebook.com/tr?ev=${tag}-replaceSync)}`);
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];

    navigator.sendBeacon(`https://region1.google-analytics.com/g/collect?beacon=${tag}`, "x");
    fetch(`https://www.google-analytics.com/g/collect?fetch=${tag}`, { mode: "no-cors" })
      .catch(() => {});
    const xhr = new XMLHttpRequest();
    xhr.open("GET", `https://www.google-analytics.com/g/collect?xhr=${tag}`);
    xhr.send();
    document.cookie = `_ga=GA1.1.${tag}; path=/`;
    document.cookie = `_fbp=fb.1.${tag}; path=/`;
    document.cookie = `first_party_${tag}=1; path=/`;
  };
  document.addEventListener("DOMContentLoaded", () => inject("early"));
  window.addEventListener("load", () => setTimeout(() => {
    inject("late");
    window.__late_done = true;
  }, 0));
})();
"""
# One held copy of each: what the page asked for, by URL part.
REQUESTED = (
    "id=G-head-appendChild",
    "id=G-document-write",
    *(
        f"{part}{tag}-{method}"
        for tag in ("early", "late")
        for part, method in (
            ("id=G-", "appendChild"),
            ("id=G-", "insertBefore"),
            ("id=G-", "replaceChild"),
            ("id=G-", "append"),
            ("id=G-", "before"),
            ("id=G-", "after"),
            ("id=G-", "replaceWith"),
            ("id=G-", "insertAdjacentElement"),
            ("id=G-", "prepend"),
            ("id=G-", "src-setter"),
            ("embed/", "insertAdjacentHTML"),
            ("ev=", "innerHTML"),
            ("embed/", "innerHTML"),
            ("embed/", "outerHTML"),
            ("ev=", "setAttribute"),
            ("ev=", "Audio"),
            ("ev=", "replaceSync"),
            ("ev=", "srcset"),
            ("embed/", "src"),
            ("ev=", "Image"),
        )
    ),
    *(f"hotjar-{tag}.js" for tag in ("early", "late")),
    *(f"{kind}={tag}" for tag in ("early", "late") for kind in ("beacon", "fetch", "xhr")),
)
FAKE_SCRIPT = (
    "(window.__order = window.__order || []).push(document.currentScript.src.split('id=')[1]);"
)
CLASSIFY_PAGE = """<!doctype html><html><head><title>Classify</title>{base}</head>
<body><p>URLs read by the guard</p></body></html>"""
# Read in the browser by the guard and on the server by rules.py: the same verdict.
URLS = (
    "https://www.google-analytics.com/g/collect",
    "HTTPS://WWW.GOOGLE-ANALYTICS.COM/g/collect",
    "https:\\\\www.google-analytics.com\\g\\collect",
    "https://www.google-analy\ttics.com/x",
    " \n https://www.google-analytics.com/x \t",
    "//connect.facebook.net/en_US/fbevents.js",
    "\\\\connect.facebook.net/en_US/fbevents.js",
    "/\\connect.facebook.net/x",
    "https://www%2egoogle-analytics.com/x",
    "https://WWW%2EGOOGLE-ANALYTICS%2ECOM/x",
    "https://a.b.c.doubleclick.net/x",
    "https://notdoubleclick.net/x",
    "https://doubleclick.net.example.org/x",
    "https://doubleclick.net./x",
    "https://www.googletagmanager.com/gtag/js?id=AW-123",
    "https://www.googletagmanager.com/gtag/js?id=G-123",
    "https://www.googletagmanager.com/gtag/j%73?id=aw-1",
    "https://www.googletagmanager.com/GTAG/JS?ID=DC-1",
    "https://www.googletagmanager.com/gtag/./js?id=AW-1",
    "https://www.googletagmanager.com/x/../gtm.js",
    "https://www.googletagmanager.com/other",
    "https://platform.twitter.com/oct.js",
    "https://platform.twitter.com/widgets.js",
    "https://platform.twitter.com/oct.js?",
    "https://cdn.example.net/px/1.gif",
    "https://cdn.example.net/PX%2f1.gif",
    "https://user:pw@cdn.example.net:8443/px",
    "https://xn--bcher-kva.example/x",
    "https://bücher.example/x",
    "https://127.0.0.1/x",
    "http:foo.example/x",
    "https:px/2.gif",
    "px/3.gif",
    "../px/4.gif",
    "?q=1",
    "#top",
    "/elsewhere",
    "ftp://doubleclick.net/x",
    "wss://www.google-analytics.com/x",
    "http://[::1/x",
    # not "https://exa mple.com/": Chromium 156 takes a space in a host ("exa%20mple.com"),
    # the URL standard and the server refuse it (and hold the element: fail closed)
    "javascript:fbq('init', '1')",
    "data:text/html,<script src=https://connect.facebook.net/x.js></script>",
    "mailto:someone@doubleclick.net",
)
COOKIES = ("_ga", "_ga_XYZ", "_gid", "_fbp", "_gcl_au", "_hjSessionUser_1", "my_stats_7",
           "session", "_gax", "ga", "theme")  # fmt: skip


# A srcdoc document is a realm of its own, which the page's guard does not reach: the
# server gives it the guard first, and consent.js tells that guard of a grant.
SRCDOC_LOADER = (
    f"<script nonce={NONCE}>var s=document.createElement('script');"
    "s.src='https://www.google'+'tagmanager.com/gtag/js?id=G-srcdoc';"
    "document.head.appendChild(s);</script>"
)
# ... and the page's own code writes three more at run time (a property, setAttribute,
# markup as text): the guard gives each the guard first.
SRCDOC_AT_RUN_TIME = f"""<script nonce="{NONCE}">
(() => {{
  const nonce = document.currentScript.nonce;
  const loader = (id) => `<script nonce="${{nonce}}">var s=document.createElement('script');`
    + `s.src='https://www.google'+'tagmanager.com/gtag/js?id=G-'+'${{id}}';`
    + "document.head.appendChild(s);</" + "script>";
  const byProperty = document.createElement("iframe");
  byProperty.srcdoc = loader("prop");
  document.body.append(byProperty);
  const byAttribute = document.createElement("iframe");
  byAttribute.setAttribute("srcdoc", loader("attr"));
  document.body.appendChild(byAttribute);
  const slot = document.createElement("div");
  document.body.append(slot);
  const escaped = loader("html").replace(/&/g, "&amp;").replace(/"/g, "&quot;");
  slot.innerHTML = `<iframe srcdoc="${{escaped}}"></iframe>`;
}})();
</script>"""
SRCDOC_PAGE = (
    "<!doctype html><html><head><title>Frame</title></head><body><h1>Frame</h1>"
    f'<iframe srcdoc="{SRCDOC_LOADER.replace(chr(34), "&quot;")}"></iframe>'
    f"{SRCDOC_AT_RUN_TIME}</body></html>"
)


def _app() -> ConsentMiddleware:
    async def page(request: HttpRequest) -> Response:
        return HTMLResponse(PAGE, headers={"Content-Security-Policy": CSP})

    async def srcdoc(request: HttpRequest) -> Response:
        return HTMLResponse(SRCDOC_PAGE, headers={"Content-Security-Policy": CSP})

    async def app_js(request: HttpRequest) -> Response:
        return Response(APP_JS, media_type="text/javascript")

    async def classify(request: HttpRequest) -> Response:
        # on a host no entry names: the server holds a <base> on a tracker's host
        base = '<base href="https://static.example.org/dir/">' if "base" in request.url.path else ""
        return HTMLResponse(CLASSIFY_PAGE.format(base=base))

    routes = [
        HttpRoute("/", page),
        HttpRoute("/app.js", app_js),
        HttpRoute("/srcdoc", srcdoc),
        HttpRoute("/dir/classify", classify),
        HttpRoute("/dir/classify-base", classify),
    ]
    return ConsentMiddleware(
        Starlette(routes=routes),
        secret_key=SECRET,
        tracker_urls={"marketing": ["cdn.example.net/px"]},
        tracker_cookies={"analytics": ["my_stats_*"]},
        uet_consent_mode=True,
        clarity_consent=True,
    )


@pytest.fixture(scope="module")
def middleware() -> ConsentMiddleware:
    return _app()


@pytest.fixture(scope="module")
def site(middleware: ConsentMiddleware) -> Iterator[str]:
    server = _ServerThread(middleware)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def _fake(route: Route, request: Request) -> None:
    url = urlsplit(request.url)
    if (url.hostname or "") in LOOPBACK:
        route.continue_()
    elif url.path == "/gtag/js":
        route.fulfill(status=200, content_type="text/javascript", body=FAKE_SCRIPT)
    elif url.path.startswith("/embed/"):
        route.fulfill(status=200, content_type="text/html", body="<p>fake player</p>")
    else:
        route.fulfill(status=204, body="")


class Tab:
    """One visitor's page, every request it tried and its console."""

    def __init__(self, browser: Browser, site: str, middleware: ConsentMiddleware) -> None:
        self.context = browser.new_context()
        self.context.set_default_timeout(15_000)
        self.context.route("**/*", _fake)
        self.page: Page = self.context.new_page()
        self.site = site
        self.rules = middleware.rules
        self.requests: list[str] = []
        self.console: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda message: self.console.append(message.text))

    def wait_for(self, expression: str) -> None:
        """Poll with evaluate(): a strict CSP forbids the string eval of wait_for_function."""
        deadline = time.monotonic() + 15
        while not self.page.evaluate(expression):
            assert time.monotonic() < deadline, f"timed out waiting for {expression}"
            self.page.wait_for_timeout(50)

    def open(self) -> None:
        self.page.goto(self.site + "/")
        self.settle()

    def reload(self) -> None:
        self.page.reload()
        self.settle()

    def settle(self) -> None:
        self.wait_for("window.__late_done === true && window.asgiConsent !== undefined")
        self.quiet()

    def quiet(self, still: float = 0.5) -> None:
        """Wait until the page has tried no new request for `still` seconds.

        Not wait_for_load_state("networkidle"): that returns at once for work done after
        the load (a wake-up on the same page), and under load it can wait on a request
        the browser keeps open. What these tests count is requests tried.
        """
        deadline = time.monotonic() + 15
        seen, since = len(self.requests), time.monotonic()
        while time.monotonic() - since < still:
            assert time.monotonic() < deadline, "the page kept making requests for 15 s"
            self.page.wait_for_timeout(50)
            if len(self.requests) != seen:
                seen, since = len(self.requests), time.monotonic()

    def wait_for_request(self, part: str) -> None:
        deadline = time.monotonic() + 15
        while not any(part in url for url in self.requests):
            assert time.monotonic() < deadline, f"timed out waiting for a request for {part}"
            self.page.wait_for_timeout(50)

    def choose(self, choice: str) -> None:
        self.page.locator(f'#asgi-consent button[data-choice="{choice}"]').first.click()
        self.wait_for("document.getElementById('asgi-consent') === null")

    def tracker_requests(self) -> list[str]:
        found = []
        for url in self.requests:
            parsed = parse_url(url)
            if parsed is not None and (
                self.rules.match_url(parsed) or self.rules.host_categories(parsed)
            ):
                found.append(url)
        return found

    def cookies(self) -> set[str]:
        return {cookie["name"] for cookie in self.context.cookies(self.site)}


@pytest.fixture
def tab(browser: Browser, site: str, middleware: ConsentMiddleware) -> Iterator[Tab]:
    opened = Tab(browser, site, middleware)
    yield opened
    opened.context.close()


HELD_ORDER = """() => [...document.querySelectorAll('script[type="text/plain"][data-consent]')]
  .map((s) => s.hasAttribute('data-consent-src')
    ? s.getAttribute('data-consent-src').split('id=')[1]
    : s.textContent.match(/inline-[a-z]+/)[0])"""


def test_nothing_of_a_tracker_loads_before_a_choice(tab: Tab) -> None:
    tab.open()
    assert tab.tracker_requests() == []
    assert {"_ga", "_fbp"}.isdisjoint(tab.cookies())
    assert {"first_party_early", "first_party_late"} <= tab.cookies()  # the rest works
    assert tab.page.evaluate("window.__order") is None
    held: list[str] = tab.page.evaluate(HELD_ORDER)
    assert len(held) == 24  # 2 in <head> + 11 scripts in each round
    assert [text for text in tab.console if "Content Security Policy" in text] == []


def test_after_reject_and_after_a_reload_nothing_loads(tab: Tab) -> None:
    tab.open()
    tab.choose("reject")
    tab.quiet()
    assert tab.tracker_requests() == []
    tab.reload()
    assert tab.tracker_requests() == []
    assert {"_ga", "_fbp"}.isdisjoint(tab.cookies())
    assert tab.page.evaluate("window.__order") is None


def test_after_accept_everything_runs_in_order_without_a_reload(tab: Tab) -> None:
    tab.open()
    tab.page.evaluate("window.__same_page = true")
    held: list[str] = tab.page.evaluate(HELD_ORDER)
    tab.choose("accept")
    tab.wait_for(f"(window.__order || []).length >= {len(held)}")
    assert tab.page.evaluate("window.__order") == held  # in document order, as the server's
    tab.quiet()
    asked = tab.tracker_requests()
    missing = [part for part in REQUESTED if not any(part in url for url in asked)]
    assert missing == []
    assert {"_ga", "_fbp"} <= tab.cookies()
    assert tab.page.evaluate("window.__same_page") is True
    assert [text for text in tab.console if "Content Security Policy" in text] == []


def test_srcdoc_documents_loaders_wait_for_accept_and_then_run(tab: Tab) -> None:
    tab.page.goto(tab.site + "/srcdoc")
    tab.wait_for("window.asgiConsent !== undefined")
    tab.quiet()
    assert tab.tracker_requests() == []
    tab.choose("accept")
    for frame in ("srcdoc", "prop", "attr", "html"):  # held in each frame's realm, then sent
        tab.wait_for_request(f"gtag/js?id=G-{frame}")
    assert [text for text in tab.console if "Content Security Policy" in text] == []


UET = """() => { const q = window.uetq || []; const out = [];
  for (let i = 0; i < q.length; i++) {
    if (q[i] === 'consent') { out.push([q[i + 1], q[i + 2].ad_storage]); i += 2; }
    else if (q[i] === 'pageLoad') { out.push(['pageLoad']); } }
  return out; }"""
CLARITY = """() => ((window.clarity && window.clarity.q) || [])
  .map((a) => [a[0], a[1].ad_Storage, a[1].analytics_Storage])"""


def test_microsoft_signals_start_denied_before_the_tags_and_follow_each_choice(tab: Tab) -> None:
    tab.open()
    assert tab.page.evaluate(UET) == [["default", "denied"], ["pageLoad"]]
    assert tab.page.evaluate(CLARITY) == [["consentv2", "denied", "denied"]]
    tab.choose("accept")
    assert tab.page.evaluate(UET)[-1] == ["update", "granted"]
    assert tab.page.evaluate(CLARITY)[-1] == ["consentv2", "granted", "granted"]
    tab.reload()  # a returning visitor starts with the choice
    assert tab.page.evaluate(UET) == [["default", "granted"], ["pageLoad"]]
    assert tab.page.evaluate(CLARITY) == [["consentv2", "granted", "granted"]]


def _server_verdict(middleware: ConsentMiddleware, text: str, base: str) -> list[str]:
    """What the server holds an element with this URL for (fetching.py's reading)."""
    rules = middleware.rules
    every = set(middleware.config.category_names) - {"necessary"}
    url = parse_url(text, parse_url(base))
    if url is None:
        return sorted(every) if text.strip(" \t\n\f\r") else []
    if url.scheme in ("javascript", "data"):
        code = text.partition(":")[2] if url.scheme == "javascript" else text.partition(",")[2]
        return sorted(set(rules.inline_categories(code.encode())) - {"necessary"})
    found = rules.match_url(url)
    categories = {found.category} if found else set(rules.host_categories(url))
    return sorted(categories - {"necessary"})


GUARD_VERDICTS = """(urls) => urls.map((u) => {
  const img = new Image();
  img.src = u;
  return (img.getAttribute('data-consent') || '').split(' ').filter(Boolean);
})"""


@pytest.mark.parametrize("path", ["/dir/classify", "/dir/classify-base"])
def test_the_guard_and_the_server_read_urls_alike(
    tab: Tab, middleware: ConsentMiddleware, path: str
) -> None:
    tab.page.goto(tab.site + path)
    base: str = tab.page.evaluate("document.baseURI")
    assert ("static.example.org" in base) == path.endswith("base")
    browser: list[list[str]] = tab.page.evaluate(GUARD_VERDICTS, list(URLS))
    server = [_server_verdict(middleware, url, base) for url in URLS]
    differing = [(u, b, s) for u, b, s in zip(URLS, browser, server, strict=True) if b != s]
    assert differing == []
    assert sum(1 for verdict in server if verdict) >= 25  # the list is mostly trackers


def test_the_guard_and_the_server_read_cookie_names_alike(
    tab: Tab, middleware: ConsentMiddleware
) -> None:
    tab.page.goto(tab.site + "/dir/classify")
    stored: list[str] = tab.page.evaluate(
        """(names) => { for (const n of names) { document.cookie = n + '=1; path=/'; }
          return document.cookie.split('; ').map((c) => c.split('=')[0]); }""",
        list(COOKIES),
    )
    expected = [n for n in COOKIES if middleware.rules.cookie_category(n) in (None, "necessary")]
    assert sorted(stored) == sorted(expected)
    assert len(expected) < len(COOKIES) - 5


def test_a_visitor_who_granted_analytics_gets_it_and_marketing_waits(tab: Tab) -> None:
    tab.context.request.post(
        tab.site + "/_consent/choice",
        form={"choice": "save", "category": "analytics"},
        headers={"Origin": tab.site},
        max_redirects=0,
    )
    tab.open()
    # A request seen is not its script run: wait for the two that must run.
    tab.wait_for(
        "['G-early-appendChild', 'G-late-prepend']"
        ".every((id) => (window.__order || []).includes(id))"
    )
    ran: list[str] = tab.page.evaluate("window.__order || []")
    assert not any(item.startswith("inline-") for item in ran)  # fbq(): marketing
    asked = tab.tracker_requests()
    assert any("fetch=early" in url for url in asked)
    assert not any("facebook.com" in url or "youtube.com" in url for url in asked)
    assert "_ga" in tab.cookies() and "_fbp" not in tab.cookies()
    tab.page.locator("#asgi-consent-settings [data-consent-open]").click()
    dialog = tab.page.locator("#asgi-consent-settings dialog")
    dialog.locator('input[name="category"][value="marketing"]').check()
    dialog.locator('button[data-choice="save"]').click()
    tab.wait_for("(window.__order || []).includes('inline-late')")
    tab.wait_for_request("facebook.com/tr?ev=late-Image")
    assert any("facebook.com/tr?ev=late-Image" in url for url in tab.tracker_requests())
    assert "_fbp" in tab.cookies()


def test_shadow_roots_set_html_unsafe_srcdoc_and_imported_nodes_are_held(tab: Tab) -> None:
    tab.open()
    before = len(tab.tracker_requests())
    held: list[str | None] = tab.page.evaluate(
        """() => {
          const host = document.body.appendChild(document.createElement("div"));
          const root = host.attachShadow({ mode: "open" });
          root.innerHTML = '<iframe src="https://www.youtube.com/embed/shadow"></iframe>';
          const box = document.body.appendChild(document.createElement("div"));
          box.setHTMLUnsafe('<img src="https://www.facebook.com/tr?ev=unsafe">');
          const frame = document.createElement("iframe");
          frame.srcdoc = '<p>hi</p><script src="https://connect.facebook.net/x/fbevents.js">' +
            '</' + 'script>';
          document.body.append(frame);
          const parsed = new DOMParser().parseFromString(
            '<img src="https://www.facebook.com/tr?ev=imported">', "text/html");
          const imported = document.importNode(parsed.body.firstChild, true);
          return [root.querySelector("iframe").getAttribute("data-consent"),
                  box.querySelector("img").getAttribute("data-consent"),
                  frame.getAttribute("data-consent"),
                  imported.getAttribute("data-consent")];
        }"""
    )
    assert held == ["media", "marketing", "marketing", "marketing"]
    tab.quiet()
    assert len(tab.tracker_requests()) == before == 0
