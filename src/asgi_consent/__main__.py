"""`python -m asgi_consent check-config [--env [PREFIX]] [--env-file FILE] [--toml FILE]`."""

from __future__ import annotations

import argparse
import sys

from .config import ConfigError, ConsentConfig
from .sources import describe


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
    args = parser.parse_args(argv)
    try:
        if args.toml:
            config = ConsentConfig.from_toml(args.toml, table=args.table)
        else:
            config = ConsentConfig.from_env(args.env or "CONSENT_", env_file=args.env_file)
    except ConfigError as error:
        sys.stderr.write(f"configuration error: {error}\n")
        return 1
    width = max(len(name) for name, _ in describe(config))
    for name, value in describe(config):
        sys.stdout.write(f"{name.ljust(width)}  {value}\n")
    sys.stderr.write("configuration OK\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
