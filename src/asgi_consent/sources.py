"""Loading a `ConsentConfig` from a mapping, environment variables or a TOML file.

Every value is converted to the field's type here; `ConsentConfig` then validates it.
Errors name the source (variable, key, file), the field and the bad value.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from collections.abc import Mapping
from typing import Any

from .config import ConfigError, ConsentConfig, check_option_names

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
# Options that cannot come from text (a callable).
_CODE_ONLY = {"language_selector"}
_INTS = {"expiry_days", "policy_revision", "max_body_size"}
_BOOLS = {"settings_button", "honor_gpc", "consent_mode", "block_catalogue"}
_LISTS = {"secret_key", "trusted_origins", "cookie_parent_domains"}
_JSON = {"categories", "theme", "tracker_urls", "tracker_markers", "tracker_cookies"}
_OPTIONAL = {"policy_url", "language", "cookie_domain"}
# Texts: a plain string, or JSON {"en": ..., "de": ...} for one text per language.
_TEXTS = {
    "title",
    "message",
    "accept_text",
    "reject_text",
    "preferences_text",
    "save_text",
    "policy_text",
    "settings_text",
}


def _kind(name: str) -> str:
    """How a text value of option `name` is read."""
    if name == "cookie_secure":
        return "optional-bool"
    for kind, names in (
        ("int", _INTS),
        ("bool", _BOOLS),
        ("list", _LISTS),
        ("json", _JSON),
        ("text", _TEXTS),
    ):
        if name in names:
            return kind
    return "str"


def _from_text(name: str, raw: str, source: str) -> object:
    kind = _kind(name)
    value = raw.strip()
    if kind == "int":
        try:
            return int(value)
        except ValueError:
            raise ConfigError(name, raw, "a whole number", source=source) from None
    if kind in ("bool", "optional-bool"):
        if kind == "optional-bool" and value.lower() in ("", "auto", "none"):
            return None
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise ConfigError(name, raw, "true/false, 1/0, yes/no or on/off", source=source)
    if kind == "list":
        items = [item.strip() for item in value.split(",") if item.strip()]
        return items[0] if name == "secret_key" and len(items) == 1 else items
    if kind == "json" or (kind == "text" and value.startswith("{")):
        try:
            return json.loads(value)
        except ValueError:
            raise ConfigError(name, raw, "valid JSON", source=source) from None
    if name in _OPTIONAL and not value:
        return None
    return raw


def config_from_mapping(values: Mapping[str, Any], *, source: str = "mapping") -> ConsentConfig:
    if not isinstance(values, Mapping):
        raise ConfigError("config", values, "a mapping of option names to values", source=source)
    options = {str(k).lower(): v for k, v in values.items()}
    check_option_names(options, source=source)
    return _build(options, source)


def _build(
    options: Mapping[str, Any], source: str, sources: Mapping[str, str] | None = None
) -> ConsentConfig:
    try:
        return ConsentConfig(**options)
    except ConfigError as error:
        if error.source is None:
            field = error.field.split("[")[0].split(".")[0]
            where = (sources or {}).get(field, source)
            raise ConfigError(error.field, error.value, error.expected, source=where) from None
        raise
    except TypeError as error:  # a value of a shape no field takes
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
    prefix: str = "CONSENT_",
    *,
    environ: Mapping[str, str] | None = None,
    env_file: str | None = None,
) -> ConsentConfig:
    merged: dict[str, tuple[str, str]] = {}
    if env_file is not None:
        for key, value in read_env_file(env_file).items():
            merged[key] = (value, f"{env_file}: {key}")
    for key, value in (os.environ if environ is None else environ).items():
        merged[key] = (value, f"environment variable {key}")
    options: dict[str, object] = {}
    sources: dict[str, str] = {}
    for key, (raw, source) in merged.items():
        if not key.startswith(prefix):
            continue
        name = key[len(prefix) :].lower()
        if name in _CODE_ONLY:
            raise ConfigError(name, key, "a callable set in code", source=source)
        check_option_names([name], source=source)
        options[name] = _from_text(name, raw, source)
        sources[name] = source
    return _build(options, f"environment ({prefix}*)", sources)


def config_from_toml(path: str, *, table: str = "tool.asgi-consent") -> ConsentConfig:
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
    options = {str(k).replace("-", "_"): v for k, v in section.items()}
    for name in options:
        if name in _CODE_ONLY:
            raise ConfigError(name, name, "a callable set in code", source=f"{path} [{table}]")
    return config_from_mapping(options, source=f"{path} [{table}]")


def describe(config: ConsentConfig) -> list[tuple[str, str]]:
    """(option, effective value) pairs for display; the secret key is masked."""
    rows = []
    for f in dataclasses.fields(config):
        value: object = getattr(config, f.name)
        if f.name == "secret_key":
            value = f"<{len(config.secret_keys)} key(s), hidden>"
        elif isinstance(value, Mapping):
            value = json.dumps(_plain(value), ensure_ascii=False)
        rows.append((f.name, str(value)))
    return rows


def _plain(value: object) -> object:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    return value
