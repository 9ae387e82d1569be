"""Configuration: one frozen `ConsentConfig`, validated when it is built.

Every field can come from keyword arguments, a mapping, environment variables or a
TOML table (see `sources.py`). A bad value raises `ConfigError` naming the field.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, TypeAlias

from starlette.requests import Request

from .errors import ConfigError as ConfigError

#: A text the visitor reads: one string, or one string per language code.
Text: TypeAlias = str | Mapping[str, str]
Position: TypeAlias = Literal["bottom", "corner", "modal"]
Mode: TypeAlias = Literal["choice", "notice"]
SameSite: TypeAlias = Literal["lax", "strict", "none"]

NECESSARY = "necessary"
BUILTIN_CATEGORIES = (NECESSARY, "analytics", "marketing", "media")
MIN_SECRET_LENGTH = 16

_CATEGORY_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*")
_COOKIE_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")
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


@dataclass(frozen=True, slots=True)
class Category:
    """A consent category: `name` is what scripts refer to (`data-consent="analytics"`).

    `label` and `description` are shown in the preferences view; leave them `None` to
    use the built-in translations (built-in categories only).
    """

    name: str
    label: Text | None = None
    description: Text | None = None


def _default_categories() -> tuple[Category, ...]:
    return tuple(Category(name) for name in BUILTIN_CATEGORIES)


@dataclass(frozen=True, eq=False)
class ConsentConfig:
    """Everything `ConsentMiddleware` can be told. Frozen and validated on creation.

    Example::

        ConsentConfig(secret_key=os.environ["CONSENT_SECRET"], policy_url="/privacy",
                      accept_text={"en": "Accept all", "de": "Alle akzeptieren"})

    Texts left at `None` come from the built-in translation of the visitor's language.
    """

    secret_key: str | Sequence[str] = field(default="", repr=False)
    # texts
    title: Text | None = None
    message: Text | None = None
    accept_text: Text | None = None
    reject_text: Text | None = None
    preferences_text: Text | None = None
    save_text: Text | None = None
    policy_text: Text | None = None
    settings_text: Text | None = None
    policy_url: str | None = None
    # behaviour
    expiry_days: int = 180
    policy_revision: int = 1
    mode: Mode = "choice"
    position: Position = "bottom"
    categories: Sequence[Category] | Mapping[str, Any] = field(default_factory=_default_categories)
    settings_button: bool = True
    theme: Mapping[str, str] = field(default_factory=dict)
    # languages
    language: str | None = None
    default_language: str = "en"
    language_selector: Callable[[Request], str | None] | None = None
    # trackers
    honor_gpc: bool = True
    consent_mode: bool = False
    block_catalogue: bool = True
    tracker_urls: Mapping[str, Sequence[str]] = field(default_factory=dict)
    tracker_markers: Mapping[str, Sequence[str]] = field(default_factory=dict)
    tracker_cookies: Mapping[str, Sequence[str]] = field(default_factory=dict)
    # cookie and endpoints
    cookie_name: str = "asgi_consent"
    cookie_domain: str | None = None
    cookie_secure: bool | None = None
    cookie_samesite: SameSite = "lax"
    cookie_parent_domains: Sequence[str] = ()
    endpoint_prefix: str = "/_consent"
    trusted_origins: Sequence[str] = ()
    max_body_size: int = 8192

    def __post_init__(self) -> None:
        _validate(self)

    # Frozen: normalised values are written once, here and in _validate only.
    def _set(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)

    @property
    def secret_keys(self) -> tuple[str, ...]:
        """The secret keys, newest first: the first signs, all of them verify."""
        keys = self.secret_key
        return (keys,) if isinstance(keys, str) else tuple(keys)

    @property
    def category_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.categories_list)

    @property
    def categories_list(self) -> tuple[Category, ...]:
        return self.categories  # type: ignore[return-value]  # normalised in _validate

    @property
    def max_age(self) -> int:
        """The consent cookie's lifetime in seconds."""
        return self.expiry_days * 86400

    def replace(self, **changes: Any) -> ConsentConfig:
        """A copy with some options changed (validated again)."""
        check_option_names(changes)
        return dataclasses.replace(self, **changes)

    def __repr__(self) -> str:
        shown = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "secret_key":
                value = f"<{len(self.secret_keys)} hidden>"
            if f.default is not dataclasses.MISSING and value == f.default:
                continue
            shown.append(f"{f.name}={value!r}" if f.name != "secret_key" else f"{f.name}={value}")
        return f"ConsentConfig({', '.join(shown)})"

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, source: str = "mapping") -> ConsentConfig:
        """Build from a mapping (a Django settings dict, a parsed JSON/YAML document).

        Unknown keys are errors, so a typo cannot be silently ignored.
        """
        from .sources import config_from_mapping

        return config_from_mapping(values, source=source)

    @classmethod
    def from_env(
        cls,
        prefix: str = "CONSENT_",
        *,
        environ: Mapping[str, str] | None = None,
        env_file: str | None = None,
    ) -> ConsentConfig:
        """Build from environment variables (`CONSENT_SECRET_KEY`, `CONSENT_EXPIRY_DAYS`, ...).

        Lists are comma-separated, booleans true/false/1/0, mappings JSON. `env_file`
        names a `.env` file read first; real environment variables win over it.
        """
        from .sources import config_from_env

        return config_from_env(prefix, environ=environ, env_file=env_file)

    @classmethod
    def from_toml(cls, path: str, table: str = "tool.asgi-consent") -> ConsentConfig:
        """Build from a table of a TOML file (stdlib `tomllib`)."""
        from .sources import config_from_toml

        return config_from_toml(path, table=table)


OPTION_NAMES = tuple(f.name for f in dataclasses.fields(ConsentConfig))


def check_option_names(names: Iterable[str], *, source: str | None = None) -> None:
    """Raise `ConfigError` for the first name that is not an option, with a suggestion."""
    for name in names:
        if name not in OPTION_NAMES:
            close = difflib.get_close_matches(name, OPTION_NAMES, n=1)
            hint = (
                f"one of the options (did you mean {close[0]!r}?)"
                if close
                else ("one of the options: " + ", ".join(OPTION_NAMES))
            )
            raise ConfigError(name, name, hint, source=source)


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


def _check_text(name: str, value: object, *, optional: bool = True) -> None:
    if value is None and optional:
        return
    if isinstance(value, str):
        if not value.strip():
            raise ConfigError(name, value, "a non-empty text")
        return
    if isinstance(value, Mapping) and value:
        for lang, text in value.items():
            if not isinstance(lang, str) or not _LANGUAGE.fullmatch(lang.lower()):
                raise ConfigError(name, lang, "language codes such as 'en' or 'pt-br' as keys")
            if not isinstance(text, str) or not text.strip():
                raise ConfigError(f"{name}[{lang!r}]", text, "a non-empty text")
        return
    raise ConfigError(name, value, "a non-empty text or a mapping of language code to text")


def _freeze_text(value: Text | None) -> Text | None:
    if isinstance(value, Mapping):
        return MappingProxyType({k.lower(): v for k, v in value.items()})
    return value


def _normalise_categories(value: object) -> tuple[Category, ...]:
    given: list[Category] = []
    if isinstance(value, Mapping):
        for name, spec in value.items():
            if spec is None:
                spec = {}
            if not isinstance(spec, Mapping):
                raise ConfigError(
                    f"categories[{name!r}]", spec, "a mapping with 'label' and 'description'"
                )
            unknown = set(spec) - {"label", "description"}
            if unknown:
                raise ConfigError(
                    f"categories[{name!r}]", sorted(unknown)[0], "only 'label' and 'description'"
                )
            given.append(Category(str(name), spec.get("label"), spec.get("description")))
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for item in value:
            if isinstance(item, str):
                item = Category(item)
            if not isinstance(item, Category):
                raise ConfigError("categories", item, "Category objects or names")
            given.append(item)
    else:
        raise ConfigError("categories", value, "a mapping of name to label/description")
    by_name: dict[str, Category] = {c.name: c for c in _default_categories()}
    for cat in given:
        if not _CATEGORY_NAME.fullmatch(cat.name):
            raise ConfigError(
                "categories", cat.name, "names of lower-case letters, digits, '_' or '-'"
            )
        if cat.name not in BUILTIN_CATEGORIES and (cat.label is None or cat.description is None):
            raise ConfigError(f"categories[{cat.name!r}]", cat.label, "a label and a description")
        _check_text(f"categories[{cat.name!r}].label", cat.label)
        _check_text(f"categories[{cat.name!r}].description", cat.description)
        by_name[cat.name] = Category(
            cat.name, _freeze_text(cat.label), _freeze_text(cat.description)
        )
    return tuple(by_name.values())


def _normalise_patterns(
    name: str, value: object, known: tuple[str, ...]
) -> Mapping[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise ConfigError(name, value, "a mapping of category name to a list of strings")
    result: dict[str, tuple[str, ...]] = {}
    for category, patterns in value.items():
        if category not in known or category == NECESSARY:
            raise ConfigError(f"{name}[{category!r}]", category, f"one of {', '.join(known[1:])}")
        if isinstance(patterns, str) or not isinstance(patterns, Iterable):
            raise ConfigError(f"{name}[{category!r}]", patterns, "a list of strings")
        items = tuple(patterns)
        if not all(isinstance(p, str) and p.strip() for p in items):
            raise ConfigError(f"{name}[{category!r}]", items, "non-empty strings")
        result[category] = items
    return MappingProxyType(result)


def _validate(cfg: ConsentConfig) -> None:  # noqa: C901 - one check per field, in order
    keys = cfg.secret_key
    if isinstance(keys, str):
        keys = (keys,)
    elif isinstance(keys, Iterable) and not isinstance(keys, bytes):
        keys = tuple(keys)
    else:
        raise ConfigError("secret_key", keys, "a string or a list of strings")
    if not keys or not all(isinstance(k, str) for k in keys):
        raise ConfigError("secret_key", keys, "a string or a non-empty list of strings")
    for key in keys:
        if len(key) < MIN_SECRET_LENGTH:
            raise ConfigError(
                "secret_key",
                key,
                f"a secret of at least {MIN_SECRET_LENGTH} characters "
                "(generate one: python -c 'import secrets; print(secrets.token_urlsafe(32))')",
            )
    cfg._set("secret_key", keys[0] if len(keys) == 1 else keys)

    for name in (
        "title",
        "message",
        "accept_text",
        "reject_text",
        "preferences_text",
        "save_text",
        "policy_text",
        "settings_text",
    ):
        value = getattr(cfg, name)
        _check_text(name, value)
        cfg._set(name, _freeze_text(value))

    if cfg.policy_url is not None and (
        not isinstance(cfg.policy_url, str) or not is_safe_url(cfg.policy_url)
    ):
        raise ConfigError("policy_url", cfg.policy_url, "a relative path or an http(s) URL")

    for name, upper in (
        ("expiry_days", 3650),
        ("policy_revision", 2**31),
        ("max_body_size", 2**20),
    ):
        value = getattr(cfg, name)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= upper:
            raise ConfigError(name, value, f"a whole number from 1 to {upper}")

    for name, allowed in (
        ("mode", ("choice", "notice")),
        ("position", ("bottom", "corner", "modal")),
        ("cookie_samesite", ("lax", "strict", "none")),
    ):
        if getattr(cfg, name) not in allowed:
            raise ConfigError(name, getattr(cfg, name), "one of " + ", ".join(allowed))

    for name in ("settings_button", "honor_gpc", "consent_mode", "block_catalogue"):
        if not isinstance(getattr(cfg, name), bool):
            raise ConfigError(name, getattr(cfg, name), "true or false")
    if cfg.cookie_secure is not None and not isinstance(cfg.cookie_secure, bool):
        raise ConfigError("cookie_secure", cfg.cookie_secure, "true, false or unset (automatic)")
    if cfg.cookie_samesite == "none" and cfg.cookie_secure is False:
        raise ConfigError("cookie_secure", False, "true or unset when cookie_samesite is 'none'")

    cfg._set("categories", _normalise_categories(cfg.categories))
    known = cfg.category_names
    for name in ("tracker_urls", "tracker_markers", "tracker_cookies"):
        cfg._set(name, _normalise_patterns(name, getattr(cfg, name), known))

    if not isinstance(cfg.theme, Mapping):
        raise ConfigError("theme", cfg.theme, "a mapping of " + ", ".join(_THEME_KEYS))
    for key, value in cfg.theme.items():
        if key not in _THEME_KEYS:
            raise ConfigError(f"theme[{key!r}]", key, "one of " + ", ".join(_THEME_KEYS))
        if (
            not isinstance(value, str)
            or not _SAFE_CSS_VALUE.fullmatch(value)
            or _CSS_FETCHES.search(value)
        ):
            raise ConfigError(f"theme[{key!r}]", value, "a plain CSS value such as #1a73e8")
    cfg._set("theme", MappingProxyType(dict(cfg.theme)))

    for name in ("language", "default_language"):
        value = getattr(cfg, name)
        if value is None and name == "language":
            continue
        if not isinstance(value, str) or not _LANGUAGE.fullmatch(value.lower()):
            raise ConfigError(name, value, "a language code such as 'en', 'de' or 'pt-br'")
        cfg._set(name, value.lower())
    if cfg.language_selector is not None and not callable(cfg.language_selector):
        raise ConfigError("language_selector", cfg.language_selector, "a callable(request)")

    if not isinstance(cfg.cookie_name, str) or not _COOKIE_NAME.fullmatch(cfg.cookie_name):
        raise ConfigError("cookie_name", cfg.cookie_name, "a cookie name (letters, digits, _ -)")
    if isinstance(cfg.cookie_parent_domains, str) or not isinstance(
        cfg.cookie_parent_domains, Iterable
    ):
        raise ConfigError(
            "cookie_parent_domains", cfg.cookie_parent_domains, "a list of host names"
        )
    for name, domains in (
        ("cookie_domain", (cfg.cookie_domain,)),
        ("cookie_parent_domains", tuple(cfg.cookie_parent_domains)),
    ):
        for domain in domains:
            if domain is not None and (
                not isinstance(domain, str)
                or not re.fullmatch(r"\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*", domain)
            ):
                raise ConfigError(name, domain, "a host name such as example.com")
    cfg._set(
        "cookie_parent_domains", tuple(d.lstrip(".").lower() for d in cfg.cookie_parent_domains)
    )

    prefix = cfg.endpoint_prefix
    if (
        not isinstance(prefix, str)
        or not re.fullmatch(r"(/[A-Za-z0-9._~-]+)+", prefix)
        or any(part in (".", "..") for part in prefix.split("/"))
    ):
        raise ConfigError("endpoint_prefix", prefix, "a path such as /_consent (no trailing slash)")
    origins = tuple(cfg.trusted_origins)
    for origin in origins:
        if not isinstance(origin, str) or not re.fullmatch(r"https?://[A-Za-z0-9.:\[\]-]+", origin):
            raise ConfigError("trusted_origins", origin, "origins such as https://example.com")
    cfg._set("trusted_origins", tuple(o.lower() for o in origins))
