"""Loading a config from a mapping, environment variables or a TOML file.

Every loader takes the config class (`ConsentConfig` or a subclass) and reads its option
table: which names exist, how a text spells each value, which options only code can set.
The class then validates the values. Errors name the source (variable, key, file), the
field and the bad value, and spell a suggestion as the source spells names.

Environment variables under the prefix that resemble none of our options belong to
someone else and are ignored (logged at debug level); one that resembles an option is a
typo and an error. A TOML file's table is ours alone: every key in it must be an option.
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Callable, Mapping
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
    resembles,
)

C = TypeVar("C", bound=Configurable)
logger = logging.getLogger("asgi_consent")
#: Where an unset option should have been set, by option name: the variable or key.
Unset = Callable[[str], str]


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
    unset: Unset | None = None,
) -> C:
    """`cls(**options)`, its errors naming where each value came from (`sources`, by
    option; else `source`), and a required value left unset by what sets it (`unset`)."""
    try:
        return cls(**options)
    except ConfigError as error:
        field = error.field.split("[")[0].split(".")[0]
        if error.unset and unset is not None:
            message = f"{unset(field)} is not set: expected {error.expected}"
            raise ConfigError(
                error.field, error.value, error.expected, message=message, unset=True
            ) from None
        if error.source is None:
            where = (sources or {}).get(field, source)
            raise ConfigError(
                error.field, error.value, error.expected, source=where, unset=error.unset
            ) from None
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


def _merged_environment(
    environ: Mapping[str, str] | None, env_file: str | None
) -> dict[str, tuple[str, str]]:
    """Variable -> (value, where it was set): a `.env` file first, the environment over it."""
    merged: dict[str, tuple[str, str]] = {}
    if env_file is not None:
        for key, value in read_env_file(env_file).items():
            merged[key] = (value, f"{env_file}: {key}")
    for key, value in (os.environ if environ is None else environ).items():
        merged[key] = (value, f"environment variable {key}")
    return merged


def _env_options(
    cls: type[C], prefix: str, merged: Mapping[str, tuple[str, str]]
) -> tuple[dict[str, object], dict[str, str], list[str]]:
    """(options, where each came from, the variables ignored) from merged variables."""
    table = options_of(cls)
    options: dict[str, object] = {}
    sources: dict[str, str] = {}
    ignored: list[str] = []
    for key, (raw, source) in merged.items():
        if not key.startswith(prefix):
            continue
        name = name_of_env_variable(key, prefix)
        if name not in table:
            meant = resembles(name, table)
            if meant is None:
                logger.debug("ignoring %s: no option of asgi-consent is called like it", key)
                ignored.append(key)
                continue
            meant_variable = table[meant].env_variable(prefix)
            raise ConfigError(
                name,
                key,
                f"an option's variable (did you mean {meant_variable}?)",
                message=f"{source}: not an option (did you mean {meant_variable}?)",
            )
        options[name] = _from_text(table[name], key, raw, source)
        sources[name] = source
    return options, sources, ignored


def ignored_env_variables(
    cls: type[Configurable],
    prefix: str = "CONSENT_",
    *,
    environ: Mapping[str, str] | None = None,
    env_file: str | None = None,
) -> list[str]:
    """The variables under `prefix` that `config_from_env` ignores: they resemble none of
    the options, so they are taken to belong to something else (`CONSENT_MANAGER_URL`)."""
    return _env_options(cls, prefix, _merged_environment(environ, env_file))[2]


def config_from_env(
    cls: type[C],
    prefix: str = "CONSENT_",
    *,
    environ: Mapping[str, str] | None = None,
    env_file: str | None = None,
) -> C:
    """`cls` built from the variables named `prefix` + option name, any case; a `.env`
    file first, if given, and the real environment over it."""
    merged = _merged_environment(environ, env_file)
    options, sources, _ = _env_options(cls, prefix, merged)
    table = options_of(cls)
    return _build(
        cls, options, f"environment ({prefix}*)", sources, lambda n: table[n].env_variable(prefix)
    )


def _toml_table(path: str, table: str) -> Mapping[str, Any]:
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
    return section


def config_from_toml(
    cls: type[C],
    path: str,
    *,
    table: str = "tool.asgi-consent",
    env_prefix: str | None = "CONSENT_",
    environ: Mapping[str, str] | None = None,
) -> C:
    """`cls` built from a table of a TOML file (keys may use `-` for `_`), with the
    environment variables under `env_prefix` over it: the secret key belongs in
    `CONSENT_SECRET_KEY`, not in a file you commit. `env_prefix=None` reads the file alone.
    """
    source = f"{path} [{table}]"
    declared = options_of(cls)
    options = {name_of_toml_key(str(k)): v for k, v in _toml_table(path, table).items()}
    check_names(options, declared, source=source, spell=lambda n: repr(declared[n].toml_key))
    for name in options:
        # TOML holds no code: say so rather than fail later on the value's type.
        if declared[name].kind.read is None:
            raise ConfigError(name, name, "a callable set in code", source=source)
    sources = dict.fromkeys(options, source)
    if env_prefix is not None:
        from_env, env_sources, _ = _env_options(cls, env_prefix, _merged_environment(environ, None))
        options.update(from_env)
        sources.update(env_sources)

    def unset(name: str) -> str:
        key = f"{declared[name].toml_key} in {source}"
        if env_prefix is None:
            return key
        return f"{declared[name].env_variable(env_prefix)} (or {key})"

    return _build(cls, options, source, sources, unset)
