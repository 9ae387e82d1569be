"""Compiled tracker rules: which category a URL, an inline script or a cookie belongs to.

Built once per middleware from the catalogue (`trackers.py`) and the config's own
additions; every lookup on the request path is a few dict probes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .config import ConsentConfig
from .memo import Memo
from .trackers import CATALOGUE, Tracker
from .urls import Url, absolute_url, match_parts, parse_url

URL_KINDS = ("script", "iframe", "pixel")
UrlNeeds = tuple[frozenset[str], str | None]  # categories, and the provider matched


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


@dataclass
class _UrlTable:
    by_host: dict[str, list[tuple[str, Match]]] = field(default_factory=dict)

    def add(self, pattern: str, match: Match) -> None:
        host, path = _split_pattern(pattern)
        if host:
            self.by_host.setdefault(host, []).append((path, match))

    def lookup(self, host: str, path: str, *, any_path: bool = False) -> Match | None:
        """The first entry for `host` (or a parent domain) whose path prefix `path` has."""
        labels = host.split(".")
        for start in range(len(labels) - 1):
            entries = self.by_host.get(".".join(labels[start:]))
            if entries:
                for prefix, match in entries:
                    if any_path or path.startswith(prefix):
                        return match
        return None


def _cookie_matcher(pattern: str) -> tuple[str, bool]:
    return (pattern[:-1], True) if pattern.endswith("*") else (pattern, False)


def _configured_trackers(config: ConsentConfig) -> list[Tracker]:
    """The config's `tracker_*` additions, then the catalogue's entries of its categories."""
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
        trackers.append(Tracker(f"config:{category}", category, "", inline_markers=tuple(inline)))
    for category, names in config.tracker_cookies.items():
        trackers.append(Tracker(f"config:{category}", category, "", cookies=tuple(names)))
    if config.block_catalogue:
        known = set(config.category_names)
        trackers.extend(t for t in CATALOGUE if t.category in known)
    return trackers


class TrackerRules:
    """Lookups over the catalogue and the config's `tracker_*` additions.

    Config additions come first, so a site can move a catalogue entry to another
    category. `data-consent` markup in the page always wins over both.
    """

    def __init__(self, config: ConsentConfig) -> None:
        self.categories = frozenset(config.category_names)
        trackers = _configured_trackers(config)
        self._tables = {kind: _UrlTable() for kind in URL_KINDS}
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
            markers.extend((m.encode(), tracker.category) for m in _url_markers(tracker))
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
        # Tracker hosts named anywhere in code ("t.co" as a name, not inside "const.co").
        self._host_category = {h.encode(): c for h, c in _hosts(trackers).items()}
        hosts = sorted(self._host_category, key=len, reverse=True)
        self._host_scan = re.compile(
            rb"(?<![a-z0-9-])(?:" + b"|".join(map(re.escape, hosts)) + rb")(?![a-z0-9-])"
        ).finditer
        # Inline script body -> the categories of its markers: snippets repeat on every
        # page; big or per-request bodies are not kept.
        self._inline: Memo[bytes, tuple[str, ...]] = Memo(size=1024, longest=2048)
        # Hosts and absolute URLs repeat on every page a site serves: kept across pages.
        self._known_hosts: Memo[str, bool] = Memo(size=1024, longest=253)
        self._absolute: Memo[str, UrlNeeds | None] = Memo(size=1024, longest=256)
        self._absolute_hosts: Memo[str, UrlNeeds | None] = Memo(size=256, longest=256)
        self._cookie_exact = exact
        self._cookie_prefixes = tuple(prefixes)

    def needs(self, url: Url, *, host_only: bool = False) -> UrlNeeds:
        """The categories a parsed URL needs and the provider it matched: the first
        entry that matches it (by host alone with `host_only`, for preconnect hints),
        else every category with an entry on its host."""
        found = self.match_host(url) if host_only else self.match_url(url)
        if found is None:
            return self.host_categories(url), None
        return frozenset({found.category}), found.provider

    def absolute_needs(self, text: str, *, host_only: bool = False) -> UrlNeeds | None:
        """`needs()` of an absolute URL as written, parsed without a base; None when the
        browser would refuse it. Only for URLs that no base can move ("https://host/x")."""
        memo = self._absolute_hosts if host_only else self._absolute
        return memo.get(text, lambda text: self._absolute_needs(text, host_only))

    def _absolute_needs(self, text: str, host_only: bool) -> UrlNeeds | None:
        url = parse_url(text)
        return None if url is None else self.needs(url, host_only=host_only)

    def match_url(self, url: Url) -> Match | None:
        """The tracker a parsed URL belongs to (any kind of element), or None."""
        parts = match_parts(url)
        if parts is None:
            return None
        for table in self._tables.values():
            found = table.lookup(*parts)
            if found:
                return found
        return None

    def host_categories(self, url: Url) -> frozenset[str]:
        """Every category with an entry on the URL's host (or a parent domain): a URL on
        a tracker's host that no path pattern names still reaches the tracker."""
        parts = match_parts(url)
        if parts is None:
            return frozenset()
        labels = parts[0].split(".")
        found: set[str] = set()
        for start in range(len(labels) - 1):
            suffix = ".".join(labels[start:])
            for table in self._tables.values():
                found.update(match.category for _, match in table.by_host.get(suffix, ()))
        return frozenset(found)

    def match_host(self, url: Url) -> Match | None:
        """The tracker whose host `url` names, whatever the path (preconnect hints)."""
        parts = match_parts(url)
        if parts is None:
            return None
        for table in self._tables.values():
            found = table.lookup(parts[0], "", any_path=True)
            if found:
                return found
        return None

    def classify(self, text: str, base: Url | None) -> Match | None:
        """The tracker a URL as written (a header, an attribute) belongs to, or None."""
        url = parse_url(text, base or _SOMEWHERE)
        return self.match_url(url) if url is not None else None

    def knows_host(self, host: str | None) -> bool:
        """Whether any entry names `host` or a parent of it (first-party entries)."""
        if not host:
            return False
        return self._known_hosts.get(host, self._knows_host)

    def _knows_host(self, host: str) -> bool:
        return any(table.lookup(host, "", any_path=True) for table in self._tables.values())

    def inline_categories(self, body: bytes) -> tuple[str, ...]:
        """The categories whose markers occur in an inline script (or handler) body, in
        text order. JavaScript string escapes (`\\/`, `\\x2f`, `\\u002f`) are read first."""
        if self._marker_scan is None:
            return ()
        return self._inline.get(body, self._inline_scan)

    def _inline_scan(self, body: bytes) -> tuple[str, ...]:
        assert self._marker_scan is not None  # checked by inline_categories
        categories: list[str] = []
        raw = body.lower()
        # As written, and with JavaScript's escapes read: "\\/" is "/", but reading
        # "com\\p" as "comp" would hide the end of a host name.
        for text in (raw, _JS_ESCAPE.sub(_unescape, raw)) if b"\\" in raw else (raw,):
            categories += [self._marker_category[m.group()] for m in self._marker_scan(text)]
            categories += [self._host_category[m.group()] for m in self._host_scan(text)]
        return tuple(dict.fromkeys(categories))

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

    def as_data(self) -> dict[str, object]:
        """Every lookup above as plain data (lists of pairs, in the order they are tried):
        the browser's run-time guard is generated from this (guard_rules.py)."""
        return {
            "categories": sorted(self.categories),
            "urls": [
                [
                    [host, [[prefix, m.category] for prefix, m in entries]]
                    for host, entries in table.by_host.items()
                ]
                for table in self._tables.values()
            ],
            "markers": [[m.decode(), c] for m, c in self._marker_category.items()],
            "hosts": [[h.decode(), c] for h, c in self._host_category.items()],
            "cookies": [list(self._cookie_exact.items()), list(self._cookie_prefixes)],
        }


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


# The base of a URL read without a page around it: "//host/x" still names a host.
_SOMEWHERE = absolute_url("https://localhost/")
_JS_ESCAPE = re.compile(rb"\\(?:x([0-9a-f]{2})|u([0-9a-f]{4})|u\{([0-9a-f]{1,6})\}|(.))", re.S)


def _unescape(m: re.Match[bytes]) -> bytes:
    if m.group(4) is not None:
        return m.group(4)  # "\/" is "/"; any other escaped character stands for itself
    code = int(m.group(1) or m.group(2) or m.group(3), 16)
    return chr(code).encode("utf-8", "replace") if code < 0x110000 else b"?"


def _url_markers(tracker: Tracker) -> list[str]:
    """A tracker's script URLs as inline markers: a snippet that builds the URL in code
    still spells its host and path."""
    out = []
    for pattern in tracker.script_urls:
        out.append(_marker_of(pattern))
    return out


def _hosts(trackers: list[Tracker]) -> dict[str, str]:
    """Every catalogued host and its (first) category, for finding hosts named in code."""
    hosts: dict[str, str] = {}
    for tracker in trackers:
        for pattern in (*tracker.script_urls, *tracker.pixel_urls, *tracker.iframe_urls):
            hosts.setdefault(_split_pattern(pattern)[0], tracker.category)
    return hosts


def _marker_of(pattern: str) -> str:
    host, path = _split_pattern(pattern)
    return host + path
