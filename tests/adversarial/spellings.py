"""Tracker URLs from the catalogue, and the many ways a page can spell one.

Every spelling here is one a browser reads as the same tracker URL (the WHATWG URL parser
strips tabs, newlines and leading controls, turns backslashes into slashes, percent-decodes
and IDNA-maps the host, removes dot segments; the HTML tokenizer decodes character
references in attribute values). A few spellings only mean the tracker next to a given
base URL (`https:host/...` is a path under an https base); the oracle resolves each URL
itself, so the generator does not need to know which.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from asgi_consent.trackers import CATALOGUE

KINDS = ("script", "iframe", "pixel")
# Hosts that are no tracker, for benign third-party markup and a CDN <base href>.
CDN = "https://cdn.example.net"
FIRST_PARTY_PATHS = {
    "script": ("/static/app.js", "js/site.js", "/assets/main.mjs", f"{CDN}/lib/jquery.js"),
    "iframe": ("/embed/poll", "widgets/map.html", f"{CDN}/embed/video.html"),
    "pixel": ("/static/img/logo.png", "img/a.jpg", f"{CDN}/img/hero.webp", "/favicon.ico"),
}
_DEFAULT_PATH = {"script": "/x.js", "iframe": "/embed/x", "pixel": "/p.gif?ev=1"}


@dataclass(frozen=True)
class TrackerUrl:
    """One concrete tracker URL: `https://{host}{path}`."""

    category: str
    host: str
    path: str

    @property
    def plain(self) -> str:
        return f"https://{self.host}{self.path}"


def _pattern_parts(pattern: str) -> tuple[str, str]:
    host, slash, rest = pattern.lower().partition("/")
    return host, (slash + rest) if slash else ""


def _complete_path(path: str, kind: str) -> str:
    if not path:
        return _DEFAULT_PATH[kind]
    if path.endswith("-"):
        path += "ABC123"
    elif path.endswith(("=", "?")):
        path += "1" if path.endswith("=") else "id=1"
    elif path.endswith("/"):
        path += "x"
    elif "?" not in path:
        path += "?id=G-ABC123" if path.endswith("gtag/js") else ""
    # Tag ids are written upper case in real snippets (`?id=AW-123`).
    return re.sub(r"id=([a-z]{1,3}-)", lambda m: "id=" + m.group(1).upper(), path)


def _patterns() -> dict[str, list[tuple[str, str, str]]]:
    table: dict[str, list[tuple[str, str, str]]] = {kind: [] for kind in KINDS}
    for tracker in CATALOGUE:
        for kind, patterns in (
            ("script", tracker.script_urls),
            ("iframe", tracker.iframe_urls),
            ("pixel", tracker.pixel_urls),
        ):
            for pattern in patterns:
                host, path = _pattern_parts(pattern)
                table[kind].append((tracker.category, host, _complete_path(path, kind)))
    return table


PATTERNS = _patterns()


def tracker_url(rng: random.Random, kind: str) -> TrackerUrl:
    """A catalogued tracker URL of `kind`; now and then one of another kind (a browser
    fetches a script URL put in an <img> just the same)."""
    if rng.random() < 0.2:
        kind = rng.choice(KINDS)
    category, host, path = rng.choice(PATTERNS[kind])
    if host.count(".") == 1 and rng.random() < 0.7:
        host = "www." + host
    return TrackerUrl(category, host, path)


def first_party_url(rng: random.Random, kind: str) -> str:
    return rng.choice(FIRST_PARTY_PATHS[kind])


# -- spellings ------------------------------------------------------------------------

_FULLWIDTH_OFFSET = 0xFEE0
_DOTS = ("\u3002", "\uff0e", "\uff61")


def _spell_host(rng: random.Random, host: str) -> str:
    roll = rng.random()
    if roll < 0.15:
        host = host.upper()
    elif roll < 0.3:
        dot = rng.choice(("%2e", "%2E"))
        host = host.replace(".", dot, rng.choice((1, -1)))
    elif roll < 0.42:
        host = host.replace(".", rng.choice(_DOTS))
    elif roll < 0.52:
        host = "".join(
            chr(ord(c) + _FULLWIDTH_OFFSET) if c.isalpha() and rng.random() < 0.5 else c
            for c in host
        )
    elif roll < 0.57:
        host += "."
    if rng.random() < 0.08:
        host += ":443"
    if rng.random() < 0.05:
        host = "user:pw@" + host
    return host


def _spell_path(rng: random.Random, path: str) -> str:
    roll = rng.random()
    if roll < 0.1:
        return "/." + path
    if roll < 0.2:
        return "/x/.." + path
    if roll < 0.27:
        return "/%2e" + path
    if roll < 0.32:
        return "/x/%2E%2e" + path
    return path


def _join(rng: random.Random, host: str, path: str) -> str:
    roll = rng.random()
    if roll < 0.4:
        return f"https://{host}{path}"
    if roll < 0.5:
        return f"//{host}{path}"
    if roll < 0.6:
        return "https:\\\\" + host + path.replace("/", "\\")
    if roll < 0.67:
        return "\\\\" + host + path
    if roll < 0.74:
        return "/\\" + host + path
    if roll < 0.82:
        return f"https:{host}{path}"  # special scheme, no slashes: still the host
    if roll < 0.88:
        return f"HTTPS://{host}{path}"
    return f"http://{host}{path}"


def _sprinkle(rng: random.Random, url: str) -> str:
    """Tabs and newlines anywhere, controls and spaces around: the URL parser drops them."""
    if rng.random() < 0.2:
        chars = list(url)
        for _ in range(rng.randint(1, 3)):
            chars.insert(rng.randrange(len(chars) + 1), rng.choice("\t\n\r"))
        url = "".join(chars)
    if rng.random() < 0.15:
        url = "".join(rng.choice("\x01\x02\x08\x0b\x0e\x1f  ") for _ in range(3)) + url
    if rng.random() < 0.1:
        url += rng.choice((" ", "\x0c", "\t ", "\x1f"))
    return url


def spell(rng: random.Random, url: TrackerUrl) -> str:
    """The tracker URL as some page might write it (before any HTML escaping)."""
    if rng.random() < 0.35:
        return url.plain
    return _sprinkle(rng, _join(rng, _spell_host(rng, url.host), _spell_path(rng, url.path)))


def spell_host_only(rng: random.Random, url: TrackerUrl) -> str:
    """For preconnect and dns-prefetch hints: the origin only."""
    return _sprinkle(rng, _join(rng, _spell_host(rng, url.host), rng.choice(("", "/"))))


def relative(rng: random.Random, url: TrackerUrl) -> str:
    """The path alone: a tracker URL only under a <base href> on the tracker's host."""
    path = _spell_path(rng, url.path)
    return path if rng.random() < 0.5 else path.lstrip("/")


# -- HTML attribute values ------------------------------------------------------------

_CHAR_REFS = {
    ":": ("&#58;", "&colon;", "&#x3A;", "&#x3a", "&#0058;"),
    "/": ("&#47;", "&sol;", "&#x2F;", "&#x2f", "&#47"),
    ".": ("&#46;", "&period;", "&#x2E;", "&#46"),
    "\\": ("&#92;", "&bsol;"),
}
_UNQUOTABLE = re.compile(r"""[\s"'=<>`]""")


def _obfuscate(rng: random.Random, value: str, rate: float) -> str:
    out = []
    for index, char in enumerate(value):
        refs = _CHAR_REFS.get(char)
        if refs is None and char.isascii() and char.isalpha() and rng.random() < rate / 4:
            out.append(f"&#{ord(char)};")
            continue
        if refs is None or rng.random() >= rate:
            out.append(char)
            continue
        ref = rng.choice(refs)
        following = value[index + 1 : index + 2]
        if not ref.endswith(";") and (following.isalnum() or following == ";"):
            ref += ";"  # without ";" a following digit (or hex letter) would join the number
        out.append(ref)
    return "".join(out)


def attribute(rng: random.Random, name: str, value: str, *, obfuscate: bool = True) -> str:
    """` name=value` with random quoting, separators and character references."""
    escaped = value.replace("&", "&amp;")
    if obfuscate and rng.random() < 0.3:
        escaped = _obfuscate(rng, escaped, rng.choice((0.2, 0.6, 1.0)))
    quote = rng.choice(('"', '"', "'", ""))
    if quote == "" and (not escaped or _UNQUOTABLE.search(escaped)):
        quote = '"'
    if quote == '"':
        escaped = escaped.replace('"', "&quot;")
    elif quote == "'":
        escaped = escaped.replace("'", "&#39;")
    separator = rng.choice((" ", " ", " ", "\n", "\t", "\r\n", "\x0c", "/", "  "))
    equals = "=" if rng.random() < 0.9 else rng.choice((" = ", "\n=\t", " =", "= "))
    return f"{separator}{mixed_case(rng, name)}{equals}{quote}{escaped}{quote}"


def mixed_case(rng: random.Random, name: str) -> str:
    roll = rng.random()
    if roll < 0.75:
        return name
    if roll < 0.85:
        return name.upper()
    return "".join(c.upper() if rng.random() < 0.5 else c for c in name)


# -- URLs inside JavaScript and CSS ---------------------------------------------------


def in_javascript(rng: random.Random, url: TrackerUrl) -> str:
    """A URL as a JS string literal holds it: plain, protocol-relative or JSON-escaped."""
    text = url.plain if rng.random() < 0.7 else f"//{url.host}{url.path}"
    if rng.random() < 0.4:
        text = text.replace("/", "\\/")
    return text


# `url(` spelled with CSS escapes: the tokenizer decodes them before it checks the name.
_URL_FUNCTIONS = ("url", "URL", "u\\72l", "uR\\4c ")


def _css_hex(char: str) -> str:
    return f"\\{ord(char):x} "


def in_css(rng: random.Random, url: str) -> str:
    """`url(...)` (or a bare string, for @import) as CSS writes it, escapes included."""
    if rng.random() < 0.4:
        body = "".join(_css_hex(c) if ord(c) < 0x21 or c in "\"'()\\\x7f" else c for c in url)
        if rng.random() < 0.3:
            body = body.replace("/", "\\/", 2)
        return rng.choice(_URL_FUNCTIONS) + f"({body})"
    quote = rng.choice(('"', "'"))
    body = "".join(_css_hex(c) if c in (quote, "\\", "\n", "\r", "\x0c") else c for c in url)
    if rng.random() < 0.3:
        body = body.replace("/", "\\2f ", 2).replace(":", "\\3a ", 1)
    return f"url({quote}{body}{quote})" if rng.random() < 0.8 else f"{quote}{body}{quote}"
