"""Records, banner versions, client pseudonymisation and open_store URLs."""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from asgi_consent import ConfigError
from asgi_consent.log import (
    BannerVersion,
    ConsentRecord,
    SqliteStore,
    default_spill_dir,
    open_store,
    pseudonymise_client,
)
from asgi_consent.log.postgres import PostgresStore

from .helpers import make_record


@pytest.mark.parametrize(
    ("host", "mode", "kept"),
    [
        ("203.0.113.77", "truncated", "203.0.113.0/24"),
        ("2001:db8:abcd:12:1::5", "truncated", "2001:db8:abcd::/48"),
        ("::ffff:198.51.100.9", "truncated", "198.51.100.0/24"),
        ("2001:DB8:0::1", "full", "2001:db8::1"),
        ("203.0.113.77", "full", "203.0.113.77"),
        ("203.0.113.77", "none", None),
        ("testclient", "truncated", None),
        ("/run/app.sock", "full", None),
        (None, "truncated", None),
        ("1" * 10_000, "full", None),
    ],
)
def test_client_addresses_are_pseudonymised_as_asked(
    host: str | None, mode: str, kept: str | None
) -> None:
    assert pseudonymise_client(host, mode) == kept  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "host",
    ["1.2.3.4", "01.2.3.4", "1.2.3.04", "1.2.3", "1.2.3.4.5", "1.2.3.256", " 1.2.3.4",
     "1.2.3.4 ", "0x1.2.3.4", "0.0.0.0", "255.255.255.255", "1.2.3.4/8", "1.2.3.4\x00"],
)  # fmt: skip
def test_dotted_ipv4_addresses_are_read_as_ipaddress_reads_them(host: str) -> None:
    try:
        address = ipaddress.IPv4Address(host)
    except ValueError:
        expected: tuple[str | None, str | None] = (None, None)
    else:
        expected = (str(ipaddress.ip_network(f"{address}/24", strict=False)), str(address))
    assert (pseudonymise_client(host), pseudonymise_client(host, "full")) == expected


def test_a_new_record_keeps_the_path_without_query_or_fragment() -> None:
    record = make_record(path="/search?q=my+name#top")
    assert record.path == "/search"


def test_a_new_record_cuts_long_visitor_text() -> None:
    record = make_record(path="/" + "a" * 100_000, user_agent="U" * 100_000)
    assert len(record.path) == 2048
    assert record.user_agent is not None and len(record.user_agent) == 512


def test_a_new_record_sorts_categories_and_gets_a_fresh_id() -> None:
    first, second = make_record(granted=["statistics", "analytics", "analytics"]), make_record()
    assert first.granted == ("analytics", "statistics")
    assert first.record_id != second.record_id and len(first.record_id) == 32


def test_a_new_record_is_in_utc_with_microseconds() -> None:
    paris = timezone(timedelta(hours=1))
    record = make_record(recorded_at=datetime(2026, 3, 1, 13, 0, 0, 123456, tzinfo=paris))
    assert record.recorded_at == datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    assert record.recorded_at.tzinfo == UTC


@pytest.mark.parametrize(
    "bad",
    [
        {"action": "like"},
        {"method": "telepathy"},
        {"consent_id": ""},
        {"granted": ["two words"]},
        {"recorded_at": datetime(2026, 1, 1)},
    ],
)
def test_a_new_record_refuses_what_it_cannot_store(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        make_record(**bad)


def test_a_record_survives_its_dict_and_json() -> None:
    record = make_record(user_agent="Mozilla", expires_at=None, client=None)
    again = ConsentRecord.from_dict(json.loads(json.dumps(record.to_dict())))
    assert again == record


@pytest.mark.parametrize(
    "broken", [{}, {"record_id": 5}, {"action": "like"}, {"recorded_at": "yesterday"}]
)
def test_from_dict_refuses_malformed_data(broken: dict[str, object]) -> None:
    data = {**make_record().to_dict(), **broken} if broken else {}
    with pytest.raises(ValueError):
        ConsentRecord.from_dict(data)


def test_a_banner_version_is_the_same_for_the_same_content_in_any_key_order() -> None:
    one = BannerVersion.of({"texts": {"a": "Akzeptieren", "b": "x"}, "language": "de"})
    two = BannerVersion.of({"language": "de", "texts": {"b": "x", "a": "Akzeptieren"}})
    assert one == two and one.verify() and len(one.version_id) == 32
    assert "Akzeptieren" in one.content and " " not in one.content


def test_a_banner_version_changes_with_any_text() -> None:
    one = BannerVersion.of({"texts": {"accept": "Accept all"}})
    assert one != BannerVersion.of({"texts": {"accept": "Accept All"}})


def test_an_edited_banner_version_no_longer_verifies() -> None:
    one = BannerVersion.of({"texts": {"accept": "Accept all"}})
    assert not BannerVersion(one.version_id, one.content.replace("all", "some")).verify()


def test_open_store_reads_sqlite_urls_as_sqlalchemy_does() -> None:
    assert repr(open_store("sqlite:///consent.db")) == "SqliteStore('consent.db')"
    assert repr(open_store("sqlite:////var/lib/c.db")) == "SqliteStore('/var/lib/c.db')"
    assert isinstance(open_store("sqlite:///:memory:"), SqliteStore)
    assert Path("consent.db").exists() is False  # nothing opened until first use


def test_open_store_reads_postgresql_urls_with_a_schema() -> None:
    store = open_store("postgresql://app:pw@db.internal:5433/site?schema=audit")
    assert isinstance(store, PostgresStore) and repr(store) == "PostgresStore(schema='audit')"
    assert isinstance(open_store("postgres://app@db/site"), PostgresStore)


@pytest.mark.parametrize(
    "url",
    [
        "mysql://root@localhost/db",
        "consent.db",
        "sqlite://consent.db",
        "sqlite:///",
        "sqlite:///consent.db?mode=ro",
        "postgresql://",
        "postgresql://app:hunter2@db/site?schema=Bad-Name",
        "postgresql://app@db/site?statement_cache_size=lots",
    ],
)
def test_open_store_names_consent_log_for_a_bad_url(url: str) -> None:
    with pytest.raises(ConfigError, match="consent_log") as caught:
        open_store(url)
    assert "hunter2" not in str(caught.value)


def test_the_default_spill_folder_sits_beside_a_sqlite_file() -> None:
    assert default_spill_dir("sqlite:///data/consent.db") == Path("data/consent.db.spill")
    assert default_spill_dir("sqlite:////var/c.db") == Path("/var/c.db.spill")


def test_the_default_spill_folder_of_a_server_is_one_per_url() -> None:
    one = default_spill_dir("postgresql://app@db/site")
    assert one == default_spill_dir("postgresql://app@db/site")
    assert one != default_spill_dir("postgresql://app@db/other")
    assert one.name.startswith("asgi-consent-spill-")


def test_a_new_record_replaces_what_no_store_can_hold() -> None:
    record = make_record(path="/a\x00b", user_agent="x\ud800y", language="e\x00n")
    assert record.path == "/a\ufffdb" and record.language == "e\ufffdn"
    assert record.user_agent == "x?y"


def test_times_are_kept_as_fixed_width_utc_text_in_time_order() -> None:
    from asgi_consent.log.records import format_time, parse_time

    paris = timezone(timedelta(hours=1))
    moments = [
        datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        datetime(2026, 3, 1, 12, 0, 0, 1, tzinfo=UTC),
        datetime(2026, 3, 1, 13, 0, 0, 2, tzinfo=paris),  # 12:00:00.000002 UTC
        datetime(2026, 3, 1, 12, 0, 9, 999_999, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
    ]
    texts = [format_time(moment) for moment in moments]
    assert texts[0] == "2026-03-01T12:00:00.000000Z"
    assert texts[2] == "2026-03-01T12:00:00.000002Z"
    assert {len(text) for text in texts} == {27}
    assert sorted(texts) == texts
    assert [parse_time(text) for text in texts] == moments
    with pytest.raises(ValueError, match="timezone-aware"):
        format_time(datetime(2026, 3, 1))


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(999, 2, 3, 4, 5, 6, 7, tzinfo=UTC),
        datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        datetime(2026, 3, 1, 13, 0, 0, 2, tzinfo=timezone(timedelta(hours=1))),
        datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    ],
)
def test_time_text_is_what_isoformat_gives_with_z_for_the_utc_offset(moment: datetime) -> None:
    from asgi_consent.log.records import format_time

    expected = moment.astimezone(UTC).isoformat(timespec="microseconds")
    assert expected.endswith("+00:00")
    assert format_time(moment) == expected[: -len("+00:00")] + "Z"


@pytest.mark.parametrize("name", ["", " analytics", "ads ", "web ads", "ads\u00a0web", "a\tb"])
def test_a_category_name_that_is_empty_or_holds_a_space_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="empty or hold spaces"):
        make_record(granted=["necessary", name])
    with pytest.raises(ValueError, match="empty or hold spaces"):
        make_record(refused=[name])
