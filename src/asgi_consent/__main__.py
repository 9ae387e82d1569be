"""`python -m asgi_consent check-config [--env [PREFIX]] [--env-file FILE] [--toml FILE]`
and `python -m asgi_consent options`; both read the option table of `ConsentConfig`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping

from .config import OPTIONS, ConsentConfig
from .errors import ConfigError


def describe(config: ConsentConfig) -> list[tuple[str, str]]:
    """(option, effective value) pairs for display; a secret is masked."""
    rows = []
    for name, declared in OPTIONS.items():
        value: object = getattr(config, name)
        if declared.kind.secret:
            value = f"<{len(config.secret_keys)} key(s), hidden>"
        rows.append((name, _shown(value)))
    return rows


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
    try:
        if args.toml:
            config = ConsentConfig.from_toml(args.toml, table=args.table)
        else:
            config = ConsentConfig.from_env(args.env or "CONSENT_", env_file=args.env_file)
    except ConfigError as error:
        sys.stderr.write(f"configuration error: {error}\n")
        return 1
    rows = describe(config)
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        sys.stdout.write(f"{name.ljust(width)}  {value}\n")
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
    check.add_argument("--toml", metavar="FILE", help="a TOML file")
    check.add_argument("--table", default="tool.asgi-consent", help="the TOML table")
    check.set_defaults(run=_check_config)
    listing = commands.add_parser(
        "options", help="list every option: its variable, TOML key, default and meaning"
    )
    listing.add_argument("--prefix", default="CONSENT_", help="the environment variable prefix")
    listing.set_defaults(run=_options)
    args = parser.parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
