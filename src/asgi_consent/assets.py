"""The banner's own CSS and JavaScript, served under a content-hashed URL."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

from .config import ConsentConfig
from .guard_rules import guard_script
from .rules import TrackerRules

_MEDIA_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
# consent-cache.js/.css: the head of a page under `cacheable_html` (see cacheable.py).
FILES = (
    "consent.css", "consent.js", "consent-mode.js", "consent-cache.js", "consent-cache.css",
    "guard.js", "microsoft-consent.js",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Asset:
    name: str
    body: bytes
    digest: str
    media_type: str

    @property
    def file_name(self) -> str:
        stem, dot, ext = self.name.rpartition(".")
        return f"{stem}.{self.digest}{dot}{ext}"


def _theme_css(config: ConsentConfig) -> bytes:
    if not config.theme:
        return b""
    declarations = "".join(f"--ac-{key}:{value};" for key, value in config.theme.items())
    return (
        "\n.asgi-consent,.asgi-consent-settings,.asgi-consent-placeholder{" + declarations + "}\n"
    ).encode()


class Assets:
    """The static files, read once; the theme is baked into the CSS (no inline styles,
    so a strict Content-Security-Policy needs nothing more than 'self')."""

    def __init__(self, config: ConsentConfig, rules: TrackerRules | None = None) -> None:
        self._prefix = config.endpoint_prefix + "/static/"
        folder = resources.files(__package__).joinpath("static")
        self._by_file: dict[str, Asset] = {}
        self._by_name: dict[str, Asset] = {}
        for name in FILES:
            body = folder.joinpath(name).read_bytes()
            if name == "consent.css":
                body += _theme_css(config)
            elif name == "guard.js":  # the server's own rules, written in
                body = guard_script(body, rules or TrackerRules(config))
            digest = hashlib.sha256(body).hexdigest()[:12]
            asset = Asset(name, body, digest, _MEDIA_TYPES["." + name.rpartition(".")[2]])
            self._by_file[asset.file_name] = asset
            self._by_name[name] = asset

    def url(self, name: str) -> str:
        return self._prefix + self._by_name[name].file_name

    def find(self, file_name: str) -> Asset | None:
        return self._by_file.get(file_name)

    def digests(self) -> str:
        """Every file's content hash, in one string (for `cacheable_html`'s ETags)."""
        return " ".join(asset.file_name for asset in self._by_name.values())
