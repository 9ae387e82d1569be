"""`cacheable_html=True`: the same HTML for every visitor, so shared caches keep working.

Every visitor gets the page of a visitor who has not chosen: trackers held back, the
banner in it. `consent-cache.js`, first in <head>, reads the (script-readable) consent
cookie before anything is painted: a decided visitor's banner is hidden by an attribute
on <html> and consent.js wakes the granted categories. The app's Cache-Control stays; we
add no `Vary: Cookie`. The page's ETag is the app's with our configuration's
fingerprint, and a conditional request is handed to the app with the app's own ETags,
so a 304 keeps working through any cache.

Because the output depends only on the app's bytes and the plan (never on the visitor),
the rewrite of a one-piece page is remembered, keyed by both.
"""

from __future__ import annotations

import hashlib
import re
from html import escape
from importlib import resources

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import Message, Scope, Send

from .assets import Assets
from .banner import BannerRenderer
from .config import NECESSARY, OPTIONS, ConsentConfig
from .cookie import key_tag
from .fragments import fragment_request
from .head import CONSENT_MODE_SIGNALS
from .headers import edit_page_headers, private_headers
from .locales import choose_language
from .memo import Memo
from .plan import RewritePlan
from .rewrite import HtmlRewriter

# Remembered rewrites: at most this many pages, each at most this long (kept as it came
# and as we send it: about 64 x 2 x 256 KB at the very most); a longer page is rewritten
# every time. Kept because the benchmark shows it: a repeated 20 KB page 0.05 of a rewrite.
MEMO_PAGES = 64
MEMO_LARGEST_BODY = 256 * 1024
# What never changes the HTML we send: left out of the configuration's fingerprint.
_NOT_IN_PAGES = {"secret_key"} | {name for name in OPTIONS if name.startswith("consent_log")}
_ENTITY_TAG = re.compile(rb'\s*(W/)?"([^"]*)"\s*(?:,|$)')
_OUR_SUFFIX = re.compile(rb"-ac[0-9a-f]{12}$")
# Last-Modified: a date knows nothing of our configuration; our ETag is the validator.
_DROPPED = frozenset({b"accept-ranges", b"content-md5", b"last-modified"})


def rewrite_whole(plan: RewritePlan, body: bytes) -> bytes:
    """A one-piece page rewritten (the per-visitor mode: nothing to reuse)."""
    return HtmlRewriter(plan).rewrite_all(body)


class CacheablePages:
    """What `cacheable_html` adds to the planner and the responder, for one config."""

    def __init__(self, config: ConsentConfig, assets: Assets, banner: BannerRenderer) -> None:
        self._config = config
        self._assets = assets
        self._banner = banner
        fingerprint = configuration_fingerprint(config, assets)
        self.etag_suffix = b"-ac" + fingerprint[:12].encode()
        signals = ""
        if config.consent_mode:
            signals = " ".join(f"{signal}:{category}" for signal, category in CONSENT_MODE_SIGNALS)
        attributes = {
            "data-cookie": config.cookie_name,
            "data-revision": str(config.policy_revision),
            "data-max-age": str(config.max_age),
            "data-categories": " ".join(config.category_names),
            "data-keys": " ".join(key_tag(key) for key in config.secret_keys),
            "data-consent-mode": signals,
        }
        self._head_attributes = "".join(
            f' {name}="{escape(value)}"' for name, value in attributes.items() if value
        )
        # Keyed by the app's bytes and the plan (see `_key`): at most MEMO_PAGES pages of
        # at most MEMO_LARGEST_BODY, kept twice (as they came, as we send them).
        self._rewrites: Memo[tuple[object, ...], bytes] = Memo(size=MEMO_PAGES)

    # -- the page ----------------------------------------------------------------------

    def language(self, scope: Scope) -> str:
        """The banner language, never from Accept-Language: every visitor of a URL gets
        the same page (a `language_selector` should read the URL only)."""
        cfg = self._config
        if cfg.language or cfg.language_selector is None:
            return cfg.language or cfg.default_language
        headers = [(k, v) for k, v in scope["headers"] if k != b"accept-language"]
        return choose_language(cfg, Request({**scope, "headers": headers}))

    def head(self, nonce: str | None) -> bytes:
        """First in <head>: the script that reads the cookie, then the stylesheet that
        hides a decided visitor's banner (render-blocking there: before the first paint)."""
        nonce_attr = f' nonce="{escape(nonce)}"' if nonce else ""
        return (
            f'<script src="{self._assets.url("consent-cache.js")}"'
            f"{self._head_attributes}{nonce_attr}></script>"
            f'<link rel="stylesheet" href="{self._assets.url("consent-cache.css")}"{nonce_attr}/>'
        ).encode()

    def insertion(self, language: str, next_path: str, nonce: str | None) -> bytes:
        """Before </body>: the settings control in a <template> (inert: consent.js puts it
        in place of the banner when the cookie holds a choice), then the banner and our
        scripts."""
        banner = self._banner.banner(language, next_path=next_path, gpc=False, nonce=nonce)
        if not self._config.settings_button:
            return banner
        settings = self._banner.settings_fragment(language, frozenset({NECESSARY}), next_path)
        return f"<template data-consent-cached>{settings}</template>".encode() + banner

    def rewrite_whole(self, plan: RewritePlan, body: bytes) -> bytes:
        """A one-piece page rewritten, remembered: the same bytes and plan give the same
        page, whoever asks."""
        if len(body) > MEMO_LARGEST_BODY:
            return rewrite_whole(plan, body)
        return self._rewrites.get(_key(plan, body), lambda _: rewrite_whole(plan, body))

    # -- headers -------------------------------------------------------------------------

    def edit_headers(self, start: Message, length: int | None) -> None:
        """Headers of a page that is the same for everyone: the app's caching kept, its
        ETag made ours. A response that sets cookies is one visitor's: made private."""
        headers = MutableHeaders(scope=start)
        if "set-cookie" in headers:
            edit_page_headers(start, length)
            return
        for name in {key for key, _ in headers.raw} & _DROPPED:
            del headers[name.decode("latin-1")]
        self._make_etag_ours(headers)
        # The page is read against the request's host (relative URLs; our own URLs when
        # a <base> points elsewhere): a cache that keys without it must keep one per host.
        headers.add_vary_header("Host")
        if length is None:
            del headers["content-length"]
        else:
            headers["content-length"] = str(length)

    def _make_etag_ours(self, headers: MutableHeaders) -> None:
        """The app's entity tag with our fingerprint: `"abc"` -> `"abc-ac0123456789ab"`
        (`W/` kept). One we cannot read is dropped: it would validate the app's bytes."""
        etag = headers.get("etag")
        if etag is None:
            return
        found = _ENTITY_TAG.fullmatch(etag.encode("latin-1"))
        if found is None:
            del headers["etag"]
            return
        weak, opaque = found.group(1) or b"", found.group(2)
        headers["etag"] = (weak + b'"' + opaque + self.etag_suffix + b'"').decode("latin-1")

    def conditional(self, scope: Scope, send: Send) -> tuple[Scope, Send]:
        """Every request, before the app: If-None-Match with our entity tags handed to
        the app as its own (others of ours, from another configuration, can match
        nothing: dropped), and If-Modified-Since dropped beside it (RFC 9110 13.1.3: the
        app must not fall back on a date that knows nothing of our configuration). The
        ETag of any 304 is made ours again, and an answer for part of a page (htmx,
        Turbo, Unpoly request headers: no banner in it) is made private, so a shared
        cache never hands it out as the page."""
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        fragment = fragment_request(headers)
        if fragment:  # answered private and without a validator: nothing to match
            conditions = (b"if-none-match", b"if-modified-since")
            scope = {**scope, "headers": [(k, v) for k, v in headers if k not in conditions]}
        elif any(key == b"if-none-match" for key, _ in headers):
            kept: list[tuple[bytes, bytes]] = []
            for key, value in headers:
                if key == b"if-modified-since":
                    continue
                if key == b"if-none-match" and self.etag_suffix[:3] in value:
                    value = self._app_tags(value)[0]
                    if not value:
                        continue
                kept.append((key, value))
            scope = {**scope, "headers": kept}
        return scope, self._responses(send, fragment)

    def _app_tags(self, value: bytes) -> tuple[bytes, bool]:
        """An If-None-Match value with our tags as the app wrote them; whether any was."""
        tags: list[bytes] = []
        ours = False
        at = 0
        while at < len(value):
            found = _ENTITY_TAG.match(value, at)
            if found is None:
                return value, ours  # not a list of entity tags ("*"): as it came
            weak, opaque = found.group(1) or b"", found.group(2)
            at = found.end()
            if opaque.endswith(self.etag_suffix):
                ours = True
                tags.append(weak + b'"' + opaque[: -len(self.etag_suffix)] + b'"')
            elif not _OUR_SUFFIX.search(opaque):
                tags.append(weak + b'"' + opaque + b'"')
        return b", ".join(tags), ours

    def _responses(self, send: Send, fragment: bool) -> Send:
        async def send_ours(message: Message) -> None:
            if message["type"] == "http.response.start":
                if message["status"] == 304:
                    # Whatever the app matched on, a 304 must not hand the browser the
                    # app's own tag: it would validate the app's bytes from then on.
                    self._make_etag_ours(MutableHeaders(scope=message))
                elif fragment:
                    edited = private_headers(message.get("headers") or [])
                    message["headers"] = [(k, v) for k, v in edited if k != b"etag"]
            await send(message)

        return send_ours


def _key(plan: RewritePlan, body: bytes) -> tuple[object, ...]:
    """What makes the output: the plan's inserted bytes and reading of the page, and the
    app's bytes (the tracker rules and the categories are the middleware's own). The
    bytes themselves, not a digest: a dict hashes them in C, and a hit is checked by
    comparing them, so two pages can never be taken for one."""
    url = plan.document_url.href() if plan.document_url is not None else ""
    return (
        body,
        plan.head_start,
        plan.before_body_end,
        plan.pin,
        plan.page_path,
        url,
        plan.fragment,
        plan.xml,
        plan.encoding,
    )


def configuration_fingerprint(config: ConsentConfig, assets: Assets) -> str:
    """A hex digest of everything that shapes the HTML we send besides the app's bytes:
    every option that reaches a page, our static files and our own code."""
    digest = hashlib.sha256()
    for name in OPTIONS:
        if name not in _NOT_IN_PAGES:
            digest.update(f"{name}={_stable(getattr(config, name))}\n".encode())
    digest.update(assets.digests().encode())
    package = resources.files(__package__)
    for entry in sorted(package.iterdir(), key=lambda entry: entry.name):
        if entry.name.endswith(".py"):
            digest.update(entry.read_bytes())
    return digest.hexdigest()


def _stable(value: object) -> str:
    """`repr`, but a callable by its name: its repr holds an address that differs from
    one process to the next, and every server of a site must give the same ETag."""
    if callable(value):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', '')}"
    return repr(value)
