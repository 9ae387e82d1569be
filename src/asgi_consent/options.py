"""The option table: how an option is declared, checked, read from text and named.

Each option of `ConsentConfig` is declared once, as a field made by `option()`: its
kind (the values it takes, how a text spells one, whether it is a per-language text),
its default and a one-line doc. `options_of(cls)` reads those declarations back as
`Option` rows; validation, the mapping/environment/TOML loaders, did-you-mean,
`python -m asgi_consent` and the locale fallbacks all read these rows.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar, Protocol, TypeVar, overload

from .errors import ConfigError

T = TypeVar("T")
#: check(name, value, earlier) -> the value normalised, or raises ConfigError. `earlier`
#: holds the options checked before this one, in declaration order, already normalised.
Check = Callable[[str, object, Mapping[str, object]], object]
#: read(text) -> a value for `check`, from an environment variable or a .env file.
Read = Callable[[str], object]


class Unreadable(Exception):
    """A text that spells no value of the option's kind; `expected` says what would."""

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


@dataclass(frozen=True, slots=True)
class Kind:
    """What values an option takes.

    `summary` names them for people (`python -m asgi_consent options`); `read` is None for
    an option that can only be set in code; `text` marks a text the visitor reads (one
    string, or one per language); `secret` a value never shown.
    """

    summary: str
    check: Check
    read: Read | None
    text: bool = False
    secret: bool = False


@dataclass(frozen=True, slots=True)
class Option:
    """One row of the option table."""

    name: str
    kind: Kind
    default: object
    doc: str

    def env_variable(self, prefix: str) -> str:
        """The environment variable that sets this option: `CONSENT_EXPIRY_DAYS`."""
        return prefix + self.name.upper()

    @property
    def toml_key(self) -> str:
        """The key in a TOML table (`expiry-days`; `expiry_days` is read too)."""
        return self.name.replace("_", "-")


def name_of_env_variable(variable: str, prefix: str) -> str:
    """The option an environment variable under `prefix` names (the inverse of
    `Option.env_variable`, case-insensitive)."""
    return variable[len(prefix) :].lower()


def name_of_toml_key(key: str) -> str:
    """The option a TOML key names (the inverse of `Option.toml_key`)."""
    return key.replace("-", "_")


_DECLARED = "asgi_consent.option"


@overload
def option(kind: Kind, doc: str, *, default: T) -> T: ...
@overload
def option(kind: Kind, doc: str, *, factory: Callable[[], T]) -> T: ...
def option(
    kind: Kind,
    doc: str,
    *,
    default: object = dataclasses.MISSING,
    factory: Callable[[], object] | None = None,
) -> Any:
    """Declare a dataclass field as an option of `kind` (a row of the option table)."""
    metadata = {_DECLARED: (kind, doc)}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


class Configurable(Protocol):
    """A dataclass whose fields are declared with `option()`."""

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]


_TABLE = "_option_table"  # kept on the class itself: its fields never change


def options_of(cls: type[Configurable]) -> Mapping[str, Option]:
    """The option table of a config class, in declaration order."""
    found: Mapping[str, Option] | None = cls.__dict__.get(_TABLE)
    if found is None:
        found = _read_table(cls)
        setattr(cls, _TABLE, found)  # a subclass reads and keeps its own
    return found


def _read_table(cls: type[Configurable]) -> Mapping[str, Option]:
    table: dict[str, Option] = {}
    for f in dataclasses.fields(cls):
        if _DECLARED not in f.metadata:
            continue  # a plain field a subclass added: no loader or check knows it
        kind, doc = f.metadata[_DECLARED]
        if f.default_factory is not dataclasses.MISSING:
            default: object = f.default_factory()
        else:
            default = f.default
        table[f.name] = Option(f.name, kind, default, doc)
    return MappingProxyType(table)


def check_names(
    names: Iterable[str],
    table: Mapping[str, Option],
    *,
    source: str | None = None,
    spell: Callable[[str], str] = repr,
) -> None:
    """Raise `ConfigError` for the first name that is not an option, with a suggestion
    spelled as the source spells names (`spell`: an option's name to its key there)."""
    for name in names:
        if name not in table:
            close = difflib.get_close_matches(name, table, n=1)
            hint = (
                f"one of the options (did you mean {spell(close[0])}?)"
                if close
                else ("one of the options: " + ", ".join(table))
            )
            raise ConfigError(name, name, hint, source=source)


def resembles(name: str, table: Mapping[str, Option]) -> str | None:
    """The option `name` was probably meant to be, if any: a near spelling (`expiry_day`,
    `mdoe`) or a whole-word part of it (`secret` for `secret_key`, `title_text`).

    An environment variable under our prefix that resembles no option is somebody
    else's (`CONSENT_MANAGER_URL`, the `CONSENT_SERVICE_HOST` of a Kubernetes service
    called consent), and is ignored; one that resembles an option is a typo, and an error.
    """
    close = difflib.get_close_matches(name, table, n=1, cutoff=0.75)
    if close:
        return close[0]
    for option in table:
        if option.startswith(name + "_") or name.startswith(option + "_"):
            return option
    return None
