"""What the consent log keeps: one `ConsentRecord` per choice, and the `BannerVersion` it saw.

A record names the banner version by id; each version is stored once, whole, so an
auditor can read what any visitor was shown. Both are plain frozen dataclasses that
serialise to JSON-friendly dicts (the spill file and the jsonl export use the same form).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import secrets
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from typing import Any, Literal, get_args

from ..memo import Memo

SCHEMA_VERSION = 1
"""The schema this package writes; a store migrates older schemas up to it."""

EXPORT_PAGE = 500
"""Rows read per query while exporting: memory stays flat whatever the range."""

MAX_RECORDS_OF = 10_000
"""`records_of` returns at most this many records (one visitor makes a handful)."""


Action = Literal["accept", "reject", "save", "grant", "withdraw"]
"""accept (all, or all but marketing under GPC), reject, save a selection, grant from a
click-to-load placeholder, withdraw."""

Method = Literal["javascript", "form", "placeholder"]
"""How the choice was given: the banner's JavaScript, a plain form post, an embed placeholder."""

ClientAddressMode = Literal["truncated", "full", "none"]
"""What is kept of the client address: its network (IPv4 /24, IPv6 /48), all of it, nothing."""

ACTIONS: tuple[str, ...] = get_args(Action)
METHODS: tuple[str, ...] = get_args(Method)
CLIENT_ADDRESS_MODES: tuple[str, ...] = get_args(ClientAddressMode)

# Visitor-controlled text is cut to these lengths: a record stays small whatever is sent.
MAX_PATH = 2048
MAX_USER_AGENT = 512
MAX_SHORT = 128  # consent id, language, record id

# What isoformat(timespec="microseconds") gives, with "Z" for "+00:00". Printf-style:
# 1.1 µs where isoformat and its cut take 1.8 and an f-string 2.0 (per field formats).
# It runs twice for each record a SQLite batch writes.
_TIME_TEXT = "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ"


def format_time(moment: datetime) -> str:
    """`moment` in UTC as fixed-width ISO 8601 text, so text order is time order."""
    if moment.tzinfo is not UTC:  # a record's times are UTC already
        moment = _utc(moment)
    return _TIME_TEXT % (
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond,
    )


def parse_time(text: str) -> datetime:
    """The inverse of `format_time` (also reads any ISO 8601 time with an offset)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"time without a zone: {text!r}")
    return moment.astimezone(UTC)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is UTC:
        return moment
    if moment.tzinfo is None:
        raise ValueError("consent log times must be timezone-aware")
    return moment.astimezone(UTC)


def new_record_id() -> str:
    """A random id that makes writing a record idempotent (128 bits, hex)."""
    return secrets.token_hex(16)


def pseudonymise_client(host: str | None, mode: ClientAddressMode = "truncated") -> str | None:
    """What the log keeps of a client address (`scope["client"][0]`).

    ``truncated`` keeps the network only: ``203.0.113.0/24`` for IPv4, ``2001:db8:1::/48``
    for IPv6 (an IPv4-mapped IPv6 address counts as IPv4). ``full`` keeps the address,
    normalised; ``none`` keeps nothing. Anything that is not an IP address (a Unix socket
    path, a test client's name) gives `None`.
    """
    if mode == "none" or not host or len(host) > 64:
        return None
    # The common case, a dotted IPv4 address, without building ipaddress objects.
    # inet_pton is as strict as ipaddress (four decimal parts, no leading zeros);
    # anything it refuses takes the general path below.
    try:
        packed = socket.inet_pton(socket.AF_INET, host)
    except (OSError, ValueError):  # ValueError: an embedded NUL
        pass
    else:
        if mode == "full":
            return socket.inet_ntop(socket.AF_INET, packed)
        return f"{packed[0]}.{packed[1]}.{packed[2]}.0/24"
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if mode == "full":
        return str(address)
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _clean_text(text: str, limit: int) -> str:
    # PostgreSQL text cannot hold NUL, and no UTF-8 store can hold a lone surrogate:
    # one such character from a visitor would make every batch it is in fail, forever.
    text = text[:limit]
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    if text.isascii():  # the common case: no surrogate to replace, no copy to make
        return text
    return text.encode("utf-8", "replace").decode("utf-8")


def _clean_path(path: str) -> str:
    # The query string and fragment may carry personal data (search terms, tokens).
    for mark in ("?", "#"):
        path = path.split(mark, 1)[0]
    return _clean_text(path, MAX_PATH)


# A site has a handful of categories, so a handful of sets of them: each set is sorted
# and checked once (about 1.5 µs a record), not for every record. Pure: shared by all.
_SORTED_CATEGORIES: Memo[frozenset[str], tuple[str, ...]] = Memo(size=256)


def _categories(names: Iterable[str]) -> tuple[str, ...]:
    if isinstance(names, frozenset):
        return _SORTED_CATEGORIES.get(names, _sorted_categories)
    return _sorted_categories(names)


def _sorted_categories(names: Iterable[str]) -> tuple[str, ...]:
    result = tuple(sorted(set(names)))
    # Split back apart, the names come out the same unless one is empty or holds a space.
    if " ".join(result).split() != list(result):
        bad = next(name for name in result if name.split() != [name])
        raise ValueError(f"category names cannot be empty or hold spaces: {bad!r}")
    return result


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentRecord:
    """One choice, as kept for proof of consent.

    Build one with `ConsentRecord.create(...)` (a fresh `record_id`, the current time,
    the path without its query string); the constructor takes the fields as stored.
    `record_id` is unique: writing the same record twice keeps one row.
    """

    record_id: str
    consent_id: str
    recorded_at: datetime
    action: Action
    granted: tuple[str, ...]
    refused: tuple[str, ...]
    policy_revision: int
    expires_at: datetime | None
    method: Method
    gpc: bool
    language: str
    path: str
    banner_version: str
    client: str | None = None
    user_agent: str | None = None

    @classmethod
    def create(
        cls,
        *,
        consent_id: str,
        action: Action,
        granted: Iterable[str],
        refused: Iterable[str],
        policy_revision: int,
        expires_at: datetime | None,
        method: Method,
        gpc: bool,
        language: str,
        path: str,
        banner_version: str,
        client: str | None = None,
        user_agent: str | None = None,
        recorded_at: datetime | None = None,
    ) -> ConsentRecord:
        """A new record of a choice made now.

        `client` is what `pseudonymise_client` returned; `user_agent` only when the
        site turned it on. The path loses its query string and fragment; long text
        from the visitor is cut (path 2048, user agent 512 characters).
        """
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}: {action!r}")
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}: {method!r}")
        if (
            not consent_id
            or len(consent_id) > MAX_SHORT
            or _clean_text(consent_id, 128) != consent_id
        ):
            raise ValueError("a record needs a consent id of at most 128 characters")
        now = recorded_at or datetime.now(UTC)
        # In the order of the fields. Set through the slots, not by calling the class:
        # the dataclass's __init__ takes its 15 fields as keywords (a dict, built and
        # taken apart) and sets each with object.__setattr__, 4.5 of the 9 µs a record
        # took to build.
        values = (
            new_record_id(),
            consent_id,
            _utc(now),
            action,
            _categories(granted),
            _categories(refused),
            policy_revision,
            None if expires_at is None else _utc(expires_at),
            method,
            gpc,
            _clean_text(language, MAX_SHORT),
            _clean_path(path),
            _clean_text(banner_version, MAX_SHORT),
            None if client is None else _clean_text(client, MAX_SHORT),
            None if user_agent is None else _clean_text(user_agent, MAX_USER_AGENT),
        )
        record = object.__new__(cls)
        for set_field, value in zip(_FIELD_SETTERS, values, strict=True):
            set_field(record, value)
        return record

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict: times as ISO 8601 UTC text, categories as lists."""
        return {
            "record_id": self.record_id,
            "consent_id": self.consent_id,
            "recorded_at": format_time(self.recorded_at),
            "action": self.action,
            "granted": list(self.granted),
            "refused": list(self.refused),
            "policy_revision": self.policy_revision,
            "expires_at": None if self.expires_at is None else format_time(self.expires_at),
            "method": self.method,
            "gpc": self.gpc,
            "language": self.language,
            "path": self.path,
            "banner_version": self.banner_version,
            "client": self.client,
            "user_agent": self.user_agent,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConsentRecord:
        """The inverse of `to_dict`; `ValueError` for anything malformed."""
        try:
            expires = data["expires_at"]
            record = cls(
                record_id=_text(data["record_id"]),
                consent_id=_text(data["consent_id"]),
                recorded_at=parse_time(_text(data["recorded_at"])),
                action=data["action"],
                granted=tuple(_text(name) for name in data["granted"]),
                refused=tuple(_text(name) for name in data["refused"]),
                policy_revision=int(data["policy_revision"]),
                expires_at=None if expires is None else parse_time(_text(expires)),
                method=data["method"],
                gpc=bool(data["gpc"]),
                language=_text(data["language"]),
                path=_text(data["path"]),
                banner_version=_text(data["banner_version"]),
                client=_optional_text(data.get("client")),
                user_agent=_optional_text(data.get("user_agent")),
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a consent record: {error}") from error
        if record.action not in ACTIONS or record.method not in METHODS:
            raise ValueError("not a consent record: unknown action or method")
        return record


# The slots' setters, in the order of the fields (`create` sets a record through them).
_FIELD_SETTERS = tuple(
    getattr(ConsentRecord, field.name).__set__ for field in fields(ConsentRecord)
)


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)


def canonical_json(content: Mapping[str, Any]) -> str:
    """One text for one content: sorted keys, no spaces, non-ASCII kept as is."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class BannerVersion:
    """The exact texts and options a visitor was shown, stored once under their hash.

    `content` is canonical JSON; `version_id` is the first 32 hex digits of its SHA-256,
    so an auditor can check that a stored version is what its id says. Build one with
    `BannerVersion.of({...})` from everything the banner showed in one language, e.g.::

        BannerVersion.of({
            "language": "en",
            "texts": {"title": "...", "accept": "Accept all", ...},
            "categories": [{"name": "analytics", "label": "...", "description": "..."}],
            "policy_url": "/privacy", "policy_revision": 3,
        })

    Compute it once per language and configuration, not per request.
    """

    version_id: str
    content: str

    @classmethod
    def of(cls, content: Mapping[str, Any]) -> BannerVersion:
        """The version of `content` (any JSON-serialisable mapping)."""
        text = canonical_json(content)
        return cls(version_id=hashlib.sha256(text.encode()).hexdigest()[:32], content=text)

    @property
    def data(self) -> dict[str, Any]:
        """`content` read back as a dict."""
        value: dict[str, Any] = json.loads(self.content)
        return value

    def verify(self) -> bool:
        """Whether `version_id` is the hash of `content` (a store could have been edited)."""
        return hashlib.sha256(self.content.encode()).hexdigest()[:32] == self.version_id

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (the content as parsed JSON)."""
        return {"version_id": self.version_id, "content": self.data}


@dataclass(frozen=True, slots=True)
class DailyCount:
    """How many choices of one action were recorded on one day (UTC)."""

    day: date
    action: str
    count: int
