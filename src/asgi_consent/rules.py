"""Compiled tracker rules: which category a URL, an inline script or a cookie belongs to.

Built once per middleware from the catalogue (`trackers.py`) and the config's own
additions; every lookup on the request path is a few dict probes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .config import ConsentConfig
from .trackers import CATALOGUE, Tracker

URL_KINDS = ("script", "iframe", "pixel")


@dataclass(frozen=True, slots=True)
class Match:
    category: str
    provider: str


def _split_pattern(pattern: str) -> tuple[str, str]:
    pattern = pattern.strip().lower()
    for scheme in ("https://", "http://", "//"):
        pattern = pattern.removeprefix(scheme)
    host, slash, rest = pattern.partition("/")
    return host.removeprefix("www."), (slash + rest) if slash else ""


def split_url(url: bytes | str) -> tuple[str, str] | None:
    """(host, path-and-query) of an absolute or protocol-relative URL, lower case; else None."""
    text = url.decode("latin-1") if isinstance(url, bytes) else url
    text = text.strip().lower()
    if text.startswith("//"):
        rest = text[2:]
    elif text.startswith(("https://", "http://")):
        rest = text.split("//", 1)[1]
    else:
        return None
    host, slash, path = rest.partition("/")
    if not slash:
        host, question, query = host.partition("?")
        path = "/" + question + query if question else "/"
    else:
        path = "/" + path
    host = host.rsplit("@", 1)[-1].split(":", 1)[0].rstrip(".")
    return host, path


@dataclass
class _UrlTable:
    by_host: dict[str, list[tuple[str, Match]]] = field(default_factory=dict)

    def add(self, pattern: str, match: Match) -> None:
        host, path = _split_pattern(pattern)
        if host:
            self.by_host.setdefault(host, []).append((path, match))

    def lookup(self, url: bytes | str) -> Match | None:
        parts = split_url(url)
        if parts is None:
            return None
        host, path = parts
        labels = host.split(".")
        for start in range(len(labels) - 1):
            entries = self.by_host.get(".".join(labels[start:]))
            if entries:
                for prefix, match in entries:
                    if path.startswith(prefix):
                        return match
        return None

    def lookup_host(self, url: bytes | str) -> Match | None:
        """Any entry for the URL's host, whatever the path (for preconnect hints)."""
        parts = split_url(url)
        if parts is None:
            return None
        labels = parts[0].split(".")
        for start in range(len(labels) - 1):
            entries = self.by_host.get(".".join(labels[start:]))
            if entries:
                return entries[0][1]
        return None


def _cookie_matcher(pattern: str) -> tuple[str, bool]:
    return (pattern[:-1], True) if pattern.endswith("*") else (pattern, False)


class TrackerRules:
    """Lookups over the catalogue and the config's `tracker_*` additions.

    Config additions come first, so a site can move a catalogue entry to another
    category. `data-consent` markup in the page always wins over both.
    """

    def __init__(self, config: ConsentConfig) -> None:
        self.categories = frozenset(config.category_names)
        trackers: list[Tracker] = []
        for category, urls in config.tracker_urls.items():
            trackers.append(
                Tracker(
                    name=f"config:{category}",
                    category=category,
                    provider="",
                    script_urls=tuple(urls),
                    iframe_urls=tuple(urls),
                    pixel_urls=tuple(urls),
                )
            )
        for category, inline in config.tracker_markers.items():
            trackers.append(
                Tracker(f"config:{category}", category, "", inline_markers=tuple(inline))
            )
        for category, names in config.tracker_cookies.items():
            trackers.append(Tracker(f"config:{category}", category, "", cookies=tuple(names)))
        if config.block_catalogue:
            known = set(config.category_names)
            trackers.extend(t for t in CATALOGUE if t.category in known)
        self._tables = {kind: _UrlTable() for kind in URL_KINDS}
        self._seen: dict[tuple[str, bytes | str], Match | None] = {}
        markers: list[tuple[bytes, str]] = []
        exact: dict[str, str] = {}
        prefixes: list[tuple[str, str]] = []
        for tracker in trackers:
            provider = tracker.provider or tracker.name
            match = Match(tracker.category, provider)
            for kind, patterns in (
                ("script", tracker.script_urls),
                ("iframe", tracker.iframe_urls),
                ("pixel", tracker.pixel_urls),
            ):
                for pattern in patterns:
                    self._tables[kind].add(pattern, match)
            markers.extend((m.lower().encode(), tracker.category) for m in tracker.inline_markers)
            for pattern in tracker.cookies:
                name, is_prefix = _cookie_matcher(pattern)
                if is_prefix:
                    prefixes.append((name, tracker.category))
                else:
                    exact.setdefault(name, tracker.category)
        # One alternation over every marker: a single C-level scan per inline script.
        self._marker_category: dict[bytes, str] = {}
        for marker, category in markers:
            self._marker_category.setdefault(marker, category)
        self._marker_scan = (
            re.compile(_trie_pattern(list(self._marker_category))).finditer
            if self._marker_category
            else None
        )
        # inline script body -> the categories of its markers, in text order
        self._inline_seen: dict[bytes, tuple[str, ...]] = {}
        self._cookie_exact = exact
        self._cookie_prefixes = tuple(prefixes)

    def url(self, kind: str, url: bytes | str) -> Match | None:
        """The tracker a `<script src>`, `<iframe src>` or `<img src>` URL belongs to."""
        if len(url) > 512:  # long, likely per-request URLs are not worth remembering
            return self._tables[kind].lookup(url)
        key = (kind, url)
        if key in self._seen:  # pages repeat their URLs request after request
            return self._seen[key]
        found = self._tables[kind].lookup(url)
        if len(self._seen) >= 4096:  # bounded: at most ~2 MB
            self._seen.clear()
        self._seen[key] = found
        return found

    def host(self, url: bytes | str) -> Match | None:
        """The tracker whose host `url` names, ignoring the path (preconnect, dns-prefetch)."""
        for kind in URL_KINDS:
            found = self._tables[kind].lookup_host(url)
            if found:
                return found
        return None

    def any_url(self, url: bytes | str) -> Match | None:
        for kind in URL_KINDS:
            found = self._tables[kind].lookup(url)
            if found:
                return found
        return None

    @property
    def has_markers(self) -> bool:
        return self._marker_scan is not None

    def inline(self, lower: bytes, start: int, end: int, blocked: frozenset[str]) -> str | None:
        """A blocked category whose marker occurs in lower[start:end] (an inline script)."""
        if self._marker_scan is None:
            return None
        body = lower[start:end]
        found = self._inline_seen.get(body)
        if found is None:  # most inline scripts repeat request after request: remember them
            categories = (self._marker_category[m.group()] for m in self._marker_scan(body))
            found = tuple(dict.fromkeys(categories))
            if len(body) <= 2048:  # snippets repeat; big or per-request bodies are not kept
                if len(self._inline_seen) >= 1024:  # bounded: at most ~2 MB
                    self._inline_seen.clear()
                self._inline_seen[body] = found
        for category in found:
            if category in blocked:
                return category
        return None

    def cookie_category(self, name: str) -> str | None:
        """The category a cookie name belongs to (`_ga` -> analytics), None if unknown."""
        found = self._cookie_exact.get(name)
        if found:
            return found
        for prefix, category in self._cookie_prefixes:
            if name.startswith(prefix):
                return category
        return None

    def cookies_of(self, names: Sequence[str], refused: frozenset[str]) -> list[str]:
        return [n for n in names if self.cookie_category(n) in refused]


def _trie_pattern(words: list[bytes]) -> bytes:
    """One regex for many literal markers, shaped as a trie ("gtag(" and "gtm." share
    "gt"): the regex engine then tries a handful of branches per byte, not every marker."""
    if not any(words):
        return b""
    groups: dict[bytes, list[bytes]] = {}
    for word in words:
        if word:
            groups.setdefault(word[:1], []).append(word[1:])
    branches = [re.escape(head) + _trie_pattern(tails) for head, tails in sorted(groups.items())]
    pattern = branches[0] if len(branches) == 1 else b"(?:" + b"|".join(branches) + b")"
    return b"(?:" + pattern + b")?" if b"" in words else pattern
