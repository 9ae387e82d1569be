"""The kinds of option values: what each takes, and how a text spells one.

A kind's `check` is the whole validation of a value (and its normal form); its `read`
turns the text of an environment variable into such a value. `config.py` declares each
option with one of these kinds.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import PurePath
from types import MappingProxyType

from .errors import MAKE_A_SECRET, ConfigError
from .options import Check, Kind, Unreadable

MIN_SECRET_LENGTH = 16

_THEME_KEYS = (
    "background",
    "text",
    "accent",
    "accent-text",
    "border",
    "link",
    "radius",
    "font",
    "z-index",
)
# A CSS value we are willing to paste into a custom property: no way out of the
# declaration or the rule, no url() that could leak a request.
_SAFE_CSS_VALUE = re.compile(r"[A-Za-z0-9#%.,()\s'\"/+-]{1,120}")
_CSS_FETCHES = re.compile(r"(?i)(url|image|image-set|cross-fade|element|src)\s*\(|//")
_HOST = re.compile(r"\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")
_PATH = re.compile(r"(/[A-Za-z0-9._~-]+)+")
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.:\[\]-]+")
_COOKIE_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")


# -- reading a value from text ------------------------------------------------------------

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def read_as_is(raw: str) -> object:
    return raw


def read_whole_number(raw: str) -> object:
    try:
        return int(raw.strip())
    except ValueError:
        raise Unreadable("a whole number") from None


def read_flag(raw: str) -> object:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise Unreadable("true/false, 1/0, yes/no or on/off")


def read_list(raw: str) -> list[str]:
    """Comma-separated items; blanks around and between them dropped."""
    return [item.strip() for item in raw.split(",") if item.strip()]


def read_json(raw: str) -> object:
    try:
        return json.loads(raw.strip())
    except ValueError:
        raise Unreadable("valid JSON") from None


def read_text(raw: str) -> object:
    """A plain text as it is, or JSON `{"en": ..., "de": ...}` for one text per language."""
    return read_json(raw) if raw.strip().startswith("{") else raw


# -- kinds ------------------------------------------------------------------------------------


def whole_number(low: int, high: int) -> Kind:
    def check(name: str, value: object, earlier: Mapping[str, object]) -> object:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(name, value, f"a whole number from {low} to {high}")
        return value

    return Kind(f"whole number {low}..{high}", check, read_whole_number)


def one_of(*choices: str) -> Kind:
    def check(name: str, value: object, earlier: Mapping[str, object]) -> object:
        if value not in choices:
            raise ConfigError(name, value, "one of " + ", ".join(choices))
        return value

    return Kind(" | ".join(choices), check, read_as_is)


def _check_flag(name: str, value: object, earlier: Mapping[str, object]) -> object:
    if not isinstance(value, bool):
        raise ConfigError(name, value, "true or false")
    return value


FLAG = Kind("true | false", _check_flag, read_flag)


def matching(
    summary: str,
    accepts: Callable[[str], object],
    expected: str,
    normalise: Callable[[str], str] | None = None,
) -> Kind:
    """A string that `accepts` (a regex's fullmatch, a predicate), read as it is."""

    def check(name: str, value: object, earlier: Mapping[str, object]) -> object:
        if not isinstance(value, str) or not accepts(value):
            raise ConfigError(name, value, expected)
        return normalise(value) if normalise else value

    return Kind(summary, check, read_as_is)


def optional(kind: Kind) -> Kind:
    """`kind`, or None (unset); an empty or blank text reads as None."""

    def check(name: str, value: object, earlier: Mapping[str, object]) -> object:
        return None if value is None else kind.check(name, value, earlier)

    def read(raw: str) -> object:
        return None if not raw.strip() or kind.read is None else kind.read(raw)

    return dataclasses.replace(kind, summary=f"{kind.summary}, or unset", check=check, read=read)


def list_of(item: Kind, expected: str) -> Kind:
    """A list (any iterable but a string) of `item`s, kept as a tuple; comma-separated text."""

    def check(name: str, value: object, earlier: Mapping[str, object]) -> object:
        if isinstance(value, str | bytes) or not isinstance(value, Iterable):
            raise ConfigError(name, value, expected)
        return tuple(item.check(name, one, earlier) for one in value)

    return Kind(f"comma list of {item.summary}", check, read_list)


def structured(summary: str, check: Check) -> Kind:
    """A mapping or list given in code, TOML or JSON text (environment variables)."""
    return Kind(summary, check, read_json)


def code_only(summary: str, check: Check) -> Kind:
    """A value only code can give (a callable): never read from text."""
    return Kind(summary, check, None)


def _check_flag_or_automatic(name: str, value: object, earlier: Mapping[str, object]) -> object:
    if value is not None and not isinstance(value, bool):
        raise ConfigError(name, value, "true, false or unset (automatic)")
    return value


def _read_flag_or_automatic(raw: str) -> object:
    return None if raw.strip().lower() in ("", "auto", "none") else read_flag(raw)


FLAG_OR_AUTOMATIC = Kind("true | false | auto", _check_flag_or_automatic, _read_flag_or_automatic)

# -- texts the visitor reads ------------------------------------------------------------------

LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*")


def checked_text(name: str, value: object) -> str | Mapping[str, str] | None:
    """None (the built-in translation), a non-empty string, or a non-empty mapping of
    language code to non-empty string, which comes back read-only with lower-case codes."""
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            raise ConfigError(name, value, "a non-empty text")
        return value
    if isinstance(value, Mapping) and value:
        texts: dict[str, str] = {}
        for lang, text in value.items():
            if not isinstance(lang, str) or not LANGUAGE_CODE.fullmatch(lang.lower()):
                raise ConfigError(name, lang, "language codes such as 'en' or 'pt-br' as keys")
            if not isinstance(text, str) or not text.strip():
                raise ConfigError(f"{name}[{lang!r}]", text, "a non-empty text")
            texts[lang.lower()] = text
        return MappingProxyType(texts)
    raise ConfigError(name, value, "a non-empty text or a mapping of language code to text")


#: A text the visitor reads; unset means the built-in translation.
TEXT = Kind(
    "text, or {language: text}",
    lambda name, value, earlier: checked_text(name, value),
    read_text,
    text=True,
)


# -- values of one option each -----------------------------------------------------------


def is_safe_url(url: str) -> bool:
    """A relative path or an http(s) URL; nothing that could run script."""
    if not url or any(ord(ch) < 0x21 or ch == "\\" for ch in url):
        return False
    lowered = url.lower()
    if lowered.startswith(("http://", "https://")):
        return len(lowered.split("/", 3)[2]) > 0
    # A relative reference must not start with a scheme ("javascript:", "data:").
    head = url.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return ":" not in head and not url.startswith("//")


def _is_endpoint_prefix(path: str) -> bool:
    return bool(_PATH.fullmatch(path)) and not any(part in (".", "..") for part in path.split("/"))


SECRET_EXPECTED = (
    f"a secret of at least {MIN_SECRET_LENGTH} characters that signs the consent cookie "
    f"(make one: {MAKE_A_SECRET})"
)


def _check_secret(name: str, value: object, earlier: Mapping[str, object]) -> object:
    if isinstance(value, str):
        keys: tuple[object, ...] = (value,) if value.strip() else ()
    elif isinstance(value, Iterable) and not isinstance(value, bytes):
        keys = tuple(value)
    else:
        raise ConfigError(name, value, "a string or a list of strings")
    if not keys:  # the default, an empty string or an empty list
        raise ConfigError(name, value, SECRET_EXPECTED, unset=True)
    strings = tuple(k for k in keys if isinstance(k, str))
    if len(strings) != len(keys):
        raise ConfigError(name, keys, "a string or a non-empty list of strings")
    for key in strings:
        if len(key) < MIN_SECRET_LENGTH:
            raise ConfigError(name, key, SECRET_EXPECTED)
    return strings[0] if len(strings) == 1 else strings


def _read_secret(raw: str) -> object:
    keys = read_list(raw)
    return keys[0] if len(keys) == 1 else keys


def _check_theme(name: str, value: object, earlier: Mapping[str, object]) -> object:
    if not isinstance(value, Mapping):
        raise ConfigError(name, value, "a mapping of " + ", ".join(_THEME_KEYS))
    for key, css in value.items():
        if key not in _THEME_KEYS:
            raise ConfigError(f"{name}[{key!r}]", key, "one of " + ", ".join(_THEME_KEYS))
        if (
            not isinstance(css, str)
            or not _SAFE_CSS_VALUE.fullmatch(css)
            or _CSS_FETCHES.search(css)
        ):
            raise ConfigError(f"{name}[{key!r}]", css, "a plain CSS value such as #1a73e8")
    return MappingProxyType(dict(value))


def _check_selector(name: str, value: object, earlier: Mapping[str, object]) -> object:
    if value is not None and not callable(value):
        raise ConfigError(name, value, "a callable(request)")
    return value


def _check_store(name: str, value: object, earlier: Mapping[str, object]) -> object:
    # Imported here: a site without a consent log never loads the log package.
    from .log.store import Store, open_store

    if not isinstance(value, str) and isinstance(value, Store):
        return value  # a site's own store
    open_store(value)  # type: ignore[arg-type]  # it checks the type itself
    return value


def _check_path(name: str, value: object, earlier: Mapping[str, object]) -> object:
    text = str(value) if isinstance(value, str | PurePath) else ""
    # Spaces around a path are a slip in an environment variable or a .env file.
    if not text or text != text.strip() or any(ord(ch) < 0x20 for ch in text):
        raise ConfigError(name, value, "a folder path (no spaces around it)")
    return text


SECRET = Kind("comma list of secrets", _check_secret, _read_secret, secret=True)
URL = matching("relative path or http(s) URL", is_safe_url, "a relative path or an http(s) URL")
LANGUAGE = matching(
    "language code",
    lambda code: LANGUAGE_CODE.fullmatch(code.lower()),
    "a language code such as 'en', 'de' or 'pt-br'",
    str.lower,
)
HOST = matching("host name", _HOST.fullmatch, "a host name such as example.com")
PARENT_HOSTS = list_of(
    matching(
        "host name",
        _HOST.fullmatch,
        "a host name such as example.com",
        lambda host: host.lstrip(".").lower(),
    ),
    "a list of host names",
)
ORIGINS = list_of(
    matching("origin", _ORIGIN.fullmatch, "origins such as https://example.com", str.lower),
    "a list of origins such as https://example.com",
)
ENDPOINT_PATH = matching(
    "path", _is_endpoint_prefix, "a path such as /_consent (no trailing slash)"
)
COOKIE_NAME = matching(
    "cookie name", _COOKIE_NAME.fullmatch, "a cookie name (letters, digits, _ -)"
)
THEME = structured("{" + " | ".join(_THEME_KEYS) + ": css}", _check_theme)
#: Where consent records go: a URL checked (not opened) when the config is built.
STORE = Kind("sqlite:///path.db, postgresql://... or a Store", _check_store, read_as_is)
FOLDER = Kind("folder path", _check_path, read_as_is)
SELECTOR = code_only("callable(request) -> language code or None", _check_selector)
