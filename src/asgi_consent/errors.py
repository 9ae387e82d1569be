"""`ConfigError`, at the bottom of the import graph: every module may raise it."""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration value is missing or wrong.

    `field` names the option, `value` is the bad value (masked for the secret key),
    `source` tells where it came from (an environment variable, a key, a file).
    """

    def __init__(
        self,
        field: str,
        value: object,
        expected: str,
        *,
        source: str | None = None,
    ) -> None:
        self.field = field
        self.value = "<hidden>" if "secret" in field else value
        self.expected = expected
        self.source = source
        where = f" (from {source})" if source else ""
        super().__init__(f"{field}{where}: expected {expected}, got {self.value!r}")
