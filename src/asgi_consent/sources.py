"""Loading a config from a mapping, environment variables or a TOML file.

Every loader takes the config class (`ConsentConfig` or a subclass) and reads its option
table: which names exist, how a text spells each value, which options only code can set.
The class then validates the values. Errors name the source (variable, key, file), the
field and the bad value.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from typing import Any, TypeVar

from .errors import ConfigError
from .options import (
    Configurable,
    Option,
    Unreadable,
    check_names,
    name_of_env_variable,
    name_of_toml_key,
    options_of,
)

C = TypeVar("C", bound=Configurable)


def _from_text(declared: Option, variable: str, raw: str, source: str) -> object:
    if declared.kind.read is None:
        raise ConfigError(declared.name, variable, "a callable set in code", source=source)
    try:
        return declared.kind.read(raw)
    except Unreadable as error:
        raise ConfigError(declared.name, raw, error.expected, source=source) from None


def config_from_mapping(cls: type[C], values: Mapping[str, Any], *, source: str = "mapping") -> C:
    """`cls` built from a mapping whose keys are option names in any case."""
    if not isinstance(values, Mapping):
        raise ConfigError("config", values, "a mapping of option names to values", source=source)
    options = {str(k).lower(): v for k, v in values.items()}
    check_names(options, options_of(cls), source=source)
    return _build(cls, options, source)


def _build(
    cls: type[C],
    options: Mapping[str, Any],
    source: str,
    sources: Mapping[str, str] | None = None,
) -> C:
    try:
        return cls(**options)
    except ConfigError as error:
        if error.source is None:
            field = error.field.split("[")[0].split(".")[0]
            where = (sources or {}).get(field, source)
            raise ConfigError(error.field, error.value, error.expected, source=where) from None
        raise
    except TypeError as error:  # a value of a shape no check expected
        raise ConfigError(
            "config", str(error), "values of the documented types", source=source
        ) from None


def read_env_file(path: str) -> dict[str, str]:
    """A `.env` file: KEY=VALUE lines, `#` comments, optional quotes, `export ` allowed."""
    values: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError as error:
        raise ConfigError("env_file", path, f"a readable file ({error.strerror})") from None
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        text = text.removeprefix("export ").strip()
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            # never quote the line: it may hold the secret
            raise ConfigError(
                "env_file", "<line hidden>", "KEY=VALUE lines", source=f"{path}, line {number}"
            )
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        elif " #" in value:  # an inline comment after an unquoted value
            value = value.split(" #", 1)[0].rstrip()
        values[key.strip()] = value
    return values


def config_from_env(
    cls: type[C],
    prefix: str = "CONSENT_",
    *,
    environ: Mapping[str, str] | None = None,
    env_file: str | None = None,
) -> C:
    """`cls` built from the variables named `prefix` + option name, any case; a `.env`
    file first, if given, and the real environment over it."""
    merged: dict[str, tuple[str, str]] = {}
    if env_file is not None:
        for key, value in read_env_file(env_file).items():
            merged[key] = (value, f"{env_file}: {key}")
    for key, value in (os.environ if environ is None else environ).items():
        merged[key] = (value, f"environment variable {key}")
    table = options_of(cls)
    options: dict[str, object] = {}
    sources: dict[str, str] = {}
    for key, (raw, source) in merged.items():
        if not key.startswith(prefix):
            continue
        name = name_of_env_variable(key, prefix)
        check_names([name], table, source=source)
        options[name] = _from_text(table[name], key, raw, source)
        sources[name] = source
    return _build(cls, options, f"environment ({prefix}*)", sources)


def config_from_toml(cls: type[C], path: str, *, table: str = "tool.asgi-consent") -> C:
    """`cls` built from a table of a TOML file; keys may use `-` for `_`."""
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except OSError as error:
        raise ConfigError("toml", path, f"a readable file ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError("toml", path, f"valid TOML ({error})") from None
    section: Any = document
    for part in table.split("."):
        if not isinstance(section, Mapping) or part not in section:
            raise ConfigError("toml", path, f"a [{table}] table", source=path)
        section = section[part]
    if not isinstance(section, Mapping):
        raise ConfigError("toml", path, f"a [{table}] table", source=path)
    source = f"{path} [{table}]"
    options = {name_of_toml_key(str(k)): v for k, v in section.items()}
    for name, declared in options_of(cls).items():
        # TOML holds no code: say so rather than fail later on the value's type.
        if declared.kind.read is None and name in options:
            raise ConfigError(name, name, "a callable set in code", source=source)
    return config_from_mapping(cls, options, source=source)
