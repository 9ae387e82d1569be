"""Partial page updates (htmx, Turbo, Unpoly): whether a request asks for a fragment
that the browser will swap into the page it is on, and which page that is.

A fragment must never get a banner, settings control, `<head>` insertion or our script
(it would land in the page a second time, or inside a table cell), and the `next` of
its placeholders' forms must be the visitor's page, not the fragment's own URL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from starlette.types import Scope

from .endpoints import safe_next

# Request headers that say "this answer goes into part of a page", and those that
# say "no, this one replaces the whole body" (read in one pass).
_SIGNALS = frozenset(
    {
        b"hx-request",
        b"hx-boosted",
        b"hx-history-restore-request",
        b"turbo-frame",
        b"x-up-version",
        b"x-up-target",
    }
)
# Unpoly keeps only the targeted elements of an answer; aimed at these, that is the body.
_WHOLE_PAGE_TARGETS = frozenset({b"body", b"html"})
_MAX_URL = 4096


def fragment_request(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether the request comes from a library that swaps the answer into part of the page.

    `headers` are the ASGI scope's `(name, value)` pairs. A fragment request is:

    - htmx: `HX-Request: true`, except a boosted navigation (`HX-Boosted: true`) and a
      history restore (`HX-History-Restore-Request: true`): htmx puts those answers in
      place of the whole body, so the page must bring its banner along;
    - Turbo: a `Turbo-Frame` header (Turbo keeps only the matching frame);
    - Unpoly: an `X-Up-Version` header, unless `X-Up-Target` aims at `body` or `html`.

    `Accept: text/vnd.turbo-stream.html` alone is not a sign: Turbo Drive sends it with
    every form submission and renders an HTML answer as a whole new page (a 422 form
    with errors, say). A real stream is told by its own content type.

    >>> fragment_request([(b"hx-request", b"true")])
    True
    """
    seen: dict[bytes, bytes] = {}
    for key, value in headers:
        key = key.lower()
        if key in _SIGNALS and key not in seen:
            seen[key] = value.strip().lower()
    if seen.get(b"hx-request") == b"true":
        whole_body = (
            seen.get(b"hx-boosted") == b"true" or seen.get(b"hx-history-restore-request") == b"true"
        )
        if not whole_body:
            return True
    if b"turbo-frame" in seen:
        return True
    if b"x-up-version" in seen:
        targets = {target.strip() for target in seen.get(b"x-up-target", b"").split(b",")}
        return not targets & _WHOLE_PAGE_TARGETS
    return False


def return_path(scope: Scope, trusted_origins: Sequence[str]) -> str | None:
    """The path and query of the page the visitor is on, for a fragment request.

    Read from `HX-Current-URL` (htmx), else from `Referer`, and only when that URL is on
    the request's own host (`Host`, default ports ignored) or one of `trusted_origins`
    (lower-case `scheme://host[:port]`, as `ConsentConfig` keeps them). The path must
    pass `safe_next`, so it can go into a form's `next` as it is. None when no header
    names such a page: the caller falls back to the request's path.

    >>> return_path({"headers": [(b"host", b"example.com"),
    ...     (b"referer", b"https://example.com/news?page=2")]}, ())
    '/news?page=2'
    """
    current = referer = None
    host = b""
    for key, value in scope["headers"]:
        key = key.lower()
        if key == b"hx-current-url" and current is None:
            current = value
        elif key == b"referer" and referer is None:
            referer = value
        elif key == b"host" and not host:
            host = value
    own = _without_default_port(host.decode("latin-1").strip().lower())
    for candidate in (current, referer):
        if candidate is not None:
            path = _same_origin_path(candidate, own, trusted_origins)
            if path is not None:
                return path
    return None


def _same_origin_path(url: bytes, own: str, trusted: Sequence[str]) -> str | None:
    if len(url) > _MAX_URL:
        return None
    try:
        parts = urlsplit(url.decode("latin-1").strip())
    except ValueError:  # "http://[::1" and friends
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.netloc:
        return None
    netloc = _without_default_port(parts.netloc.lower())
    origin = f"{scheme}://{netloc}"
    if not (own and netloc == own) and not any(
        _without_default_port(trusted_origin) == origin for trusted_origin in trusted
    ):
        return None
    path = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    # safe_next answers "/" for anything it refuses: only a path it keeps is ours.
    return path if safe_next(path) == path else None


def _without_default_port(netloc: str) -> str:
    # The Host header does not say the scheme (a proxy may have ended TLS): either
    # default port is no port.
    for suffix in (":80", ":443"):
        if netloc.endswith(suffix):
            return netloc[: -len(suffix)]
    return netloc
