"""Configuration: one frozen `ConsentConfig`, validated when it is built.

The fields of `ConsentConfig` are the option table: each is declared once with its kind,
default and doc (`options.py` says what a row is, `kinds.py` what each kind takes), and
everything else reads them from there. Every option can come from keyword arguments, a
mapping, environment variables or a TOML table (see `sources.py`). A bad value raises
`ConfigError` naming the field.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, Self, TypeAlias, cast

from starlette.requests import Request

from . import sources
from .errors import ConfigError as ConfigError
from .kinds import (
    COOKIE_NAME,
    ENDPOINT_PATH,
    FLAG,
    FLAG_OR_AUTOMATIC,
    FOLDER,
    HOST,
    LANGUAGE,
    ORIGINS,
    PARENT_HOSTS,
    SECRET,
    SELECTOR,
    STORE,
    TEXT,
    THEME,
    URL,
    checked_text,
    one_of,
    optional,
    structured,
    whole_number,
)
from .languages import BannerText, builtin_text_names, check_languages
from .options import check_names, option, options_of

if TYPE_CHECKING:
    from .log.store import Store

#: A text the visitor reads: one string, or one string per language code.
Text: TypeAlias = str | Mapping[str, str]
Position: TypeAlias = Literal["bottom", "corner", "modal"]
Mode: TypeAlias = Literal["choice", "notice"]
ColorScheme: TypeAlias = Literal["light", "dark", "system"]
SameSite: TypeAlias = Literal["lax", "strict", "none"]
ClientAddress: TypeAlias = Literal["truncated", "full", "none"]

NECESSARY = "necessary"
BUILTIN_CATEGORIES = (NECESSARY, "analytics", "marketing", "media")

_CATEGORY_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")


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


def _categories_given(value: object) -> list[Category]:
    if isinstance(value, Mapping):
        given = []
        for name, spec in value.items():
            spec = {} if spec is None else spec
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
        return given
    if isinstance(value, Sequence) and not isinstance(value, str):
        items = [Category(item) if isinstance(item, str) else item for item in value]
        for item in items:
            if not isinstance(item, Category):
                raise ConfigError("categories", item, "Category objects or names")
        return items
    raise ConfigError("categories", value, "a mapping of name to label/description")


def _check_categories(name: str, value: object, earlier: Mapping[str, object]) -> object:
    by_name: dict[str, Category] = {c.name: c for c in _default_categories()}
    for cat in _categories_given(value):
        if not _CATEGORY_NAME.fullmatch(cat.name):
            raise ConfigError(
                "categories", cat.name, "names of lower-case letters, digits, '_' or '-'"
            )
        if cat.name not in BUILTIN_CATEGORIES and (cat.label is None or cat.description is None):
            raise ConfigError(f"categories[{cat.name!r}]", cat.label, "a label and a description")
        by_name[cat.name] = Category(
            cat.name,
            checked_text(f"categories[{cat.name!r}].label", cat.label),
            checked_text(f"categories[{cat.name!r}].description", cat.description),
        )
    return tuple(by_name.values())


def _check_patterns(name: str, value: object, earlier: Mapping[str, object]) -> object:
    # `categories` is declared before the tracker options, so it is checked already.
    known = tuple(c.name for c in cast(tuple[Category, ...], earlier["categories"]))
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


CATEGORIES = structured("{name: {label, description}} or [Category]", _check_categories)
PATTERNS = structured("{category: [pattern]}", _check_patterns)


@dataclass(frozen=True, eq=False)
class ConsentConfig:
    """Everything `ConsentMiddleware` can be told. Frozen and validated on creation.

    Example::

        ConsentConfig(secret_key=os.environ["CONSENT_SECRET_KEY"], policy_url="/privacy",
                      accept_text={"en": "Accept all", "de": "Alle akzeptieren"})

    Texts left at `None` come from the built-in translation of the visitor's language; a
    text given as one string is in `default_language` and keeps the banner in it (see
    `languages.py`). `python -m asgi_consent options` lists every option with its doc.
    """

    # One declaration per option: `option(kind, doc, default=...)`. Checks run in this order.
    secret_key: str | Sequence[str] = option(
        SECRET, "Signs the consent cookie (16+ characters); a list rotates keys.", default=""
    )
    # texts
    title: Text | None = option(TEXT, "Banner heading.", default=None)
    message: Text | None = option(TEXT, "Banner text.", default=None)
    accept_text: Text | None = option(TEXT, "The accept button.", default=None)
    reject_text: Text | None = option(TEXT, "The reject button.", default=None)
    preferences_text: Text | None = option(TEXT, "Opens the switches.", default=None)
    save_text: Text | None = option(TEXT, "Saves the switches.", default=None)
    policy_text: Text | None = option(TEXT, "The policy link's text.", default=None)
    settings_text: Text | None = option(TEXT, "The control shown after a choice.", default=None)
    withdraw_text: Text | None = option(TEXT, "Withdraws a choice.", default=None)
    preferences_title: Text | None = option(TEXT, "The switches' heading.", default=None)
    always_on_text: Text | None = option(TEXT, "Beside the necessary category.", default=None)
    gpc_notice: Text | None = option(TEXT, "Said to a browser sending Sec-GPC: 1.", default=None)
    placeholder_text: Text | None = option(
        TEXT,
        "Stands in for a held-back frame; {provider} and {category} are filled in.",
        default=None,
    )
    placeholder_button: Text | None = option(TEXT, "Loads a held-back frame.", default=None)
    close_text: Text | None = option(TEXT, "Names the dialog's close button.", default=None)
    back_text: Text | None = option(TEXT, "The preferences page's way back.", default=None)
    policy_url: str | None = option(optional(URL), "The policy link.", default=None)
    # behaviour
    expiry_days: int = option(whole_number(1, 3650), "Days a choice is kept.", default=180)
    policy_revision: int = option(whole_number(1, 2**31), "Raise it to ask again.", default=1)
    mode: Mode = option(one_of("choice", "notice"), "notice: one button.", default="choice")
    position: Position = option(
        one_of("bottom", "corner", "modal"), "Where the banner sits.", default="bottom"
    )
    categories: Sequence[Category] | Mapping[str, Any] = option(
        CATEGORIES, "Built-in category labels, and your own.", factory=_default_categories
    )
    settings_button: bool = option(FLAG, "The settings control after a choice.", default=True)
    cacheable_html: bool = option(
        FLAG,
        "The same HTML for every visitor (shared caches, CDNs); decided in the browser.",
        default=False,
    )
    theme: Mapping[str, str] = option(THEME, "CSS custom properties.", factory=dict)
    color_scheme: ColorScheme = option(
        one_of("light", "dark", "system"), "system: follows prefers-color-scheme.", default="light"
    )
    # languages
    language: str | None = option(optional(LANGUAGE), "Force one language.", default=None)
    default_language: str = option(LANGUAGE, "When nothing else matches.", default="en")
    language_selector: Callable[[Request], str | None] | None = option(
        SELECTOR, "Your own choice of language, per request.", default=None
    )
    # trackers
    honor_gpc: bool = option(FLAG, "Sec-GPC: 1 keeps marketing off.", default=True)
    consent_mode: bool = option(FLAG, "Google Consent Mode v2 signals.", default=False)
    uet_consent_mode: bool = option(FLAG, "Microsoft UET consent mode signals.", default=False)
    clarity_consent: bool = option(FLAG, "Microsoft Clarity consentv2 signals.", default=False)
    runtime_guard: bool = option(FLAG, "Hold back trackers page code adds.", default=True)
    block_catalogue: bool = option(FLAG, "Use the built-in tracker catalogue.", default=True)
    tracker_urls: Mapping[str, Sequence[str]] = option(
        PATTERNS, "Extra tracker URL patterns (host/path-prefix).", factory=dict
    )
    tracker_markers: Mapping[str, Sequence[str]] = option(
        PATTERNS, "Extra inline-script markers.", factory=dict
    )
    tracker_cookies: Mapping[str, Sequence[str]] = option(
        PATTERNS, "Extra tracker cookie names (name* for a prefix).", factory=dict
    )
    # cookie and endpoints
    cookie_name: str = option(COOKIE_NAME, "The consent cookie's name.", default="asgi_consent")
    cookie_domain: str | None = option(
        optional(HOST), "Domain attribute, to share consent across subdomains.", default=None
    )
    cookie_secure: bool | None = option(
        FLAG_OR_AUTOMATIC, "Secure attribute; unset: on https requests.", default=None
    )
    cookie_samesite: SameSite = option(
        one_of("lax", "strict", "none"), "SameSite attribute.", default="lax"
    )
    cookie_parent_domains: Sequence[str] = option(
        PARENT_HOSTS, "Where refused tracker cookies are expired too.", default=()
    )
    endpoint_prefix: str = option(ENDPOINT_PATH, "Where the endpoints live.", default="/_consent")
    trusted_origins: Sequence[str] = option(
        ORIGINS, "Other origins allowed to post choices.", default=()
    )
    max_body_size: int = option(whole_number(1, 2**20), "Larger posts get 413.", default=8192)
    # proof of consent (README: "Proof of consent")
    consent_log: str | Store | None = option(
        optional(STORE),
        "Keep each choice: sqlite:///consent.db, postgresql://..., or your own Store.",
        default=None,
    )
    consent_log_retention_days: int | None = option(
        optional(whole_number(1, 3650)), "Purge records older than this.", default=None
    )
    consent_log_client_address: ClientAddress = option(
        one_of("truncated", "full", "none"),
        "Client address kept: /24 or /48.",
        default="truncated",
    )
    consent_log_user_agent: bool = option(FLAG, "Keep the user agent too.", default=False)
    consent_log_spill_dir: str | None = option(
        optional(FOLDER), "Spill folder when the store fails (local disk).", default=None
    )

    def __new__(cls, *args: Any, **options: Any) -> Self:
        # Before the dataclass __init__, whose TypeError would name no option: a typo
        # gets the did-you-mean that the loaders and the middleware give.
        check_names(options, options_of(cls))
        return super().__new__(cls)

    def __post_init__(self) -> None:
        checked: dict[str, object] = {}
        for name, declared in options_of(type(self)).items():
            checked[name] = declared.kind.check(name, getattr(self, name), checked)
        if checked["cookie_samesite"] == "none" and checked["cookie_secure"] is False:
            raise ConfigError(
                "cookie_secure", False, "true or unset when cookie_samesite is 'none'"
            )
        check_languages(
            _banner_texts(type(self), checked),
            cast(str, checked["default_language"]),
            cast("str | None", checked["language"]),
        )
        # Frozen: the normalised values are written once, here.
        for name, value in checked.items():
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
        return cast(tuple[Category, ...], self.categories)  # normalised on creation

    @property
    def max_age(self) -> int:
        """The consent cookie's lifetime in seconds."""
        return self.expiry_days * 86400

    def replace(self, **changes: Any) -> Self:
        """A copy with some options changed (validated again)."""
        check_names(changes, options_of(type(self)))
        return dataclasses.replace(self, **changes)

    def __repr__(self) -> str:
        shown = []
        table = options_of(type(self))
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "secret_key":
                value = f"<{len(self.secret_keys)} hidden>"
            elif f.name == "consent_log" and isinstance(value, str):
                from .log.store import mask_url  # loaded only for a site with a log

                value = mask_url(value)
            # Defaults from a factory (categories, theme) are in the table, not the field.
            default = table[f.name].default if f.name in table else f.default
            if default is not dataclasses.MISSING and value == default:
                continue
            shown.append(f"{f.name}={value!r}" if f.name != "secret_key" else f"{f.name}={value}")
        return f"{type(self).__name__}({', '.join(shown)})"

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, source: str = "mapping") -> Self:
        """Build from a mapping (a Django settings dict, a parsed JSON/YAML document).

        Unknown keys are errors, so a typo cannot be silently ignored.
        """
        return sources.config_from_mapping(cls, values, source=source)

    @classmethod
    def from_env(
        cls,
        prefix: str = "CONSENT_",
        *,
        environ: Mapping[str, str] | None = None,
        env_file: str | None = None,
    ) -> Self:
        """Build from environment variables (`CONSENT_SECRET_KEY`, `CONSENT_EXPIRY_DAYS`, ...).

        Lists are comma-separated, booleans true/false/1/0, mappings JSON. `env_file`
        names a `.env` file read first; real environment variables win over it. `prefix`
        changes `CONSENT_` (two sites in one process: `from_env("SHOP_CONSENT_")`).
        A variable under the prefix that resembles an option but is none (`CONSENT_EXPIRY_DAY`)
        is an error; one that resembles none (`CONSENT_MANAGER_URL`) is ignored.
        """
        return sources.config_from_env(cls, prefix, environ=environ, env_file=env_file)

    @classmethod
    def from_toml(
        cls,
        path: str,
        table: str = "tool.asgi-consent",
        *,
        env_prefix: str | None = "CONSENT_",
        environ: Mapping[str, str] | None = None,
    ) -> Self:
        """Build from a table of a TOML file (stdlib `tomllib`), keys as `expiry-days`.

        Environment variables under `env_prefix` win over the file, so the secret key can
        stay out of it: `CONSENT_SECRET_KEY`. `env_prefix=None` reads the file alone.
        """
        return sources.config_from_toml(
            cls, path, table=table, env_prefix=env_prefix, environ=environ
        )


def _banner_texts(cls: type[ConsentConfig], values: Mapping[str, object]) -> list[BannerText]:
    texts = [
        BannerText(name, cast("Text | None", values[name]), name in builtin_text_names())
        for name, declared in options_of(cls).items()
        if declared.kind.text
    ]
    for category in cast(tuple[Category, ...], values["categories"]):
        builtin = category.name in BUILTIN_CATEGORIES
        texts.append(BannerText(f"categories[{category.name!r}].label", category.label, builtin))
        texts.append(
            BannerText(f"categories[{category.name!r}].description", category.description, builtin)
        )
    return texts


def banner_texts(config: ConsentConfig) -> list[BannerText]:
    """Every text of the banner as `config` gives it, for `languages.offered_languages`."""
    return _banner_texts(type(config), {name: getattr(config, name) for name in OPTIONS})


#: The option table of `ConsentConfig`, in declaration order.
OPTIONS = options_of(ConsentConfig)
#: The options that are texts the visitor reads (one string, or one per language).
TEXT_OPTIONS = tuple(name for name, declared in OPTIONS.items() if declared.kind.text)

