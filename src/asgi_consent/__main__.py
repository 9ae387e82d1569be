"""`python -m asgi_consent check-config [--env [PREFIX]] [--env-file FILE] [--toml FILE]`
and `python -m asgi_consent options`; both read the option table of `ConsentConfig`.
`python -m asgi_consent log export|show|stats|purge`: the consent log (`log/cli.py`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping

from .config import OPTIONS, ConsentConfig, banner_texts
from .errors import ConfigError
from .locales import supported_languages, texts_for
from .log.cli import add_log_commands
from .log.store import mask_url
from .sources import ignored_env_variables


def describe(config: ConsentConfig) -> list[tuple[str, str]]:
    """(option, effective value) pairs for display; a secret is masked, and a text left
    unset shows the built-in text the default language gets."""
    texts = texts_for(config, config.default_language)
    rows = []
    for name, declared in OPTIONS.items():
        value: object = getattr(config, name)
        if declared.kind.secret:
            shown = f"<{len(config.secret_keys)} key(s), hidden>"
        elif declared.kind.text and value is None:
            shown = f"{texts[name]}  (built in, {texts.language})"
        elif declared.kind.text and isinstance(value, Mapping):
            shown = f"{_shown(value)}  (built in for other languages)"
        elif name == "consent_log" and isinstance(value, str):
            shown = mask_url(value)
        elif name == "categories":
            shown = ", ".join(f"{c} ({label})" for c, label in texts.labels.items())
        else:
            shown = _shown(value)
        rows.append((name, shown))
    return rows


def notes(config: ConsentConfig, ignored: list[str]) -> list[str]:
    """What check-config says beside the settings: the banner's languages, and the
    variables under the prefix it ignored."""
    offered = sorted(supported_languages(config))
    lines = [f"banner languages: {', '.join(offered)} (default {config.default_language})"]
    plain = [text.name for text in banner_texts(config) if isinstance(text.value, str)]
    if plain:
        lines.append(
            f"{', '.join(plain)}: one plain text, so the banner is in "
            f"{config.default_language} only; give texts per language to offer others"
        )
    lines.extend(f"ignored {variable}: resembles no option" for variable in ignored)
    return lines


def _shown(value: object) -> str:
    if isinstance(value, Mapping):
        return json.dumps(_plain(value), ensure_ascii=False)
    return str(value)


def _plain(value: object) -> object:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _check_config(args: argparse.Namespace) -> int:
    prefix = args.env or "CONSENT_"
    try:
        if args.toml:
            config = ConsentConfig.from_toml(args.toml, table=args.table)
            ignored = ignored_env_variables(ConsentConfig)
        else:
            config = ConsentConfig.from_env(prefix, env_file=args.env_file)
            ignored = ignored_env_variables(ConsentConfig, prefix, env_file=args.env_file)
    except ConfigError as error:
        sys.stderr.write(f"configuration error: {error}\n")
        return 1
    rows = describe(config)
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        sys.stdout.write(f"{name.ljust(width)}  {value}\n")
    for line in notes(config, ignored):
        sys.stderr.write(f"{line}\n")
    sys.stderr.write("configuration OK\n")
    return 0


def _options(args: argparse.Namespace) -> int:
    for declared in OPTIONS.values():
        default = declared.default
        if declared.kind.secret:
            head = f"{declared.name} (required)"
        elif default is None or default == () or default == {}:
            head = declared.name
        elif isinstance(default, tuple):  # the built-in categories
            head = f"{declared.name} = " + ", ".join(str(getattr(d, "name", d)) for d in default)
        else:
            head = f"{declared.name} = {_shown(default)}"
        where = (
            f"{declared.env_variable(args.prefix)}, {declared.toml_key}"
            if declared.kind.read
            else "code only"
        )
        sys.stdout.write(f"{head}\n  {declared.doc}\n  {declared.kind.summary}; {where}\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m asgi_consent")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser(
        "check-config", help="validate a configuration and print the effective settings"
    )
    check.add_argument(
        "--env",
        nargs="?",
        const="CONSENT_",
        metavar="PREFIX",
        help="read environment variables (default prefix CONSENT_)",
    )
    check.add_argument("--env-file", metavar="FILE", help="a .env file read before the environment")
    check.add_argument(
        "--toml", metavar="FILE", help="a TOML file (CONSENT_* environment variables win over it)"
    )
    check.add_argument("--table", default="tool.asgi-consent", help="the TOML table")
    check.set_defaults(run=_check_config)
    listing = commands.add_parser(
        "options", help="list every option: its variable, TOML key, default and meaning"
    )
    listing.add_argument("--prefix", default="CONSENT_", help="the environment variable prefix")
    listing.set_defaults(run=_options)
    add_log_commands(commands)
    args = parser.parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
