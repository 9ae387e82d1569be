"""Proof of consent for the endpoints: one `ConsentRecord` per choice, and what was shown.

`ChoiceLog.from_config(config)` is None when `consent_log` is unset. Otherwise the
endpoints call `record(...)` once per choice and await what it returns; the banner
version (every text, category and option of the banner in the language shown) is built
once per language and kept. The choice never depends on the log: `record` never raises,
and the wait is for the writer, at most its commit timeout (a store that hangs is left
to the spill).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Iterable
from datetime import datetime
from typing import Any, cast

from starlette.requests import Request

from ..config import ConsentConfig
from ..locales import choose_language, texts_for
from ..memo import Memo
from .records import Action, BannerVersion, ConsentRecord, Method, pseudonymise_client
from .store import default_spill_dir, open_store
from .writer import LogWriter, Outcome

LOG = logging.getLogger("asgi_consent.log")


def banner_content(config: ConsentConfig, language: str) -> dict[str, Any]:
    """Everything the banner shows in `language`, as a `BannerVersion` keeps it."""
    texts = texts_for(config, language)
    return {
        "language": texts.language,
        "direction": texts.direction,
        "texts": dict(texts.strings),
        "categories": [
            {
                "name": category.name,
                "label": texts.labels[category.name],
                "description": texts.descriptions[category.name],
            }
            for category in config.categories_list
        ],
        "policy_url": config.policy_url,
        "policy_revision": config.policy_revision,
        "mode": config.mode,
        "honor_gpc": config.honor_gpc,
        "expiry_days": config.expiry_days,
    }


class ChoiceLog:
    """Turns a choice at the endpoints into a record for the `LogWriter`."""

    def __init__(self, config: ConsentConfig, writer: LogWriter) -> None:
        self.writer = writer
        self._config = config
        # Keys are languages the banner is offered in: bounded by the config.
        self._banners: Memo[str, tuple[BannerVersion, str]] = Memo(size=256)
        # Keys are sets of the config's categories: a handful.
        self._refused: Memo[frozenset[str], frozenset[str]] = Memo(size=256)
        self._category_names = config.category_names  # a property that builds a tuple

    @classmethod
    def from_config(cls, config: ConsentConfig) -> ChoiceLog | None:
        """The log `config` asks for, or None; nothing is opened until it is first used."""
        given = config.consent_log
        if given is None:
            return None
        if isinstance(given, str):
            store, name = open_store(given), given
        else:  # a site's own store: its spill is named after its class
            store, name = given, f"{type(given).__module__}.{type(given).__qualname__}"
        spill = config.consent_log_spill_dir or default_spill_dir(name)
        writer = LogWriter(store, spill, retention_days=config.consent_log_retention_days)
        return cls(config, writer)

    def banner_version(self, language: str) -> BannerVersion:
        """The version of the banner shown in `language` (computed once per language)."""
        return self._shown(language)[0]

    def _shown(self, language: str) -> tuple[BannerVersion, str]:
        # The banner version, and the language its texts are in (computed once each).
        return self._banners.get(
            language,
            lambda code: (
                BannerVersion.of(banner_content(self._config, code)),
                texts_for(self._config, code).language,
            ),
        )

    def _refused_of(self, chosen: frozenset[str]) -> frozenset[str]:
        return self._refused.get(
            chosen, lambda key: frozenset(n for n in self._category_names if n not in key)
        )

    def record(
        self,
        request: Request,
        *,
        consent_id: str,
        action: str,
        granted: Iterable[str],
        expires_at: datetime | None,
        javascript: bool,
        page: str,
        decided: bool = True,
    ) -> Awaitable[Outcome] | None:
        """Record one choice made by `request`'s visitor on `page` (an `Action`; a grant
        comes from an embed placeholder, `javascript` is a fetch from our script). A grant
        before the banner was answered (`decided=False`) refuses nothing: the other
        categories are still undecided.

        Returns what to await for the record's batch (the writer's answer), or None when
        no record could be built (logged). Never raises."""
        cfg = self._config
        try:
            banner, shown_in = self._shown(choose_language(cfg, request))
            chosen = frozenset(granted)
            method: Method = (
                "placeholder" if action == "grant" else "javascript" if javascript else "form"
            )
            client = request.scope.get("client")
            headers = request.scope["headers"]
            record = ConsentRecord.create(
                consent_id=consent_id,
                action=cast(Action, action),
                granted=chosen,
                refused=self._refused_of(chosen) if decided else frozenset(),
                policy_revision=cfg.policy_revision,
                expires_at=expires_at,
                method=method,
                gpc=_header(headers, b"sec-gpc").strip() == "1",
                language=shown_in,
                path=page,
                banner_version=banner.version_id,
                client=pseudonymise_client(
                    client[0] if client else None, cfg.consent_log_client_address
                ),
                user_agent=_header(headers, b"user-agent") if cfg.consent_log_user_agent else None,
            )
            return self.writer.record(record, banner)
        except Exception:  # a bug here must not cost the visitor their choice
            LOG.exception("consent log: 1 record could not be written")
            return None


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str:
    """The first value of header `name` (lowercase, as ASGI servers give names), or "".
    What `request.headers.get(name, "")` gives, for a fifth of its cost when the header
    is missing (it raises and catches a KeyError)."""
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return ""
