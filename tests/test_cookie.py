"""The signed consent cookie: codec, `Consent`, reading the Cookie header, Set-Cookie."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import anyio
import pytest
from itsdangerous import TimestampSigner

from asgi_consent import Consent, ConsentConfig
from asgi_consent.cookie import (
    MAX_CONSENT_VALUES,
    SALT,
    ConsentCodec,
    cookie_names,
    cookie_values,
    most_restrictive,
    read_cookie,
    set_cookie_header,
)
from helpers import SECRET, fastest_in_turns, make_scope, run_asgi, wrap

T0 = 1_700_000_000  # 2023-11-14 22:13:20 UTC
DAY = 86400
OTHER_SECRET = "another-secret-key-fedcba9876543210"


def _codec(at: float = T0, **options: object) -> ConsentCodec:
    options.setdefault("secret_key", SECRET)
    return ConsentCodec(ConsentConfig(**options), clock=lambda: at)  # type: ignore[arg-type]


def _sign(payload: str, *, at: float = T0, key: str = SECRET, salt: str = SALT) -> str:
    """A value signed like ours (same salt, key and digest) with any payload."""

    class Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(at)

    return Signer(key, salt=salt, digest_method=hashlib.sha256).sign(payload).decode()


# -- round trip and expiry ---------------------------------------------------------


def test_an_encoded_choice_decodes_to_the_same_categories() -> None:
    codec = _codec()
    consent = codec.decode(codec.encode(["analytics", "media"]))
    assert consent.categories == {"necessary", "analytics", "media"}


@pytest.mark.parametrize("decided", [True, False])
@pytest.mark.parametrize("cacheable_html", [False, True])
def test_an_issued_choice_is_what_its_value_decodes_to(decided: bool, cacheable_html: bool) -> None:
    codec = _codec(at=T0 + 0.75, cacheable_html=cacheable_html)
    value, consent = codec.issue(["media", "unknown"], consent_id="id-1", decided=decided)
    assert value == codec.encode(["media", "unknown"], consent_id="id-1", decided=decided)
    assert consent == _codec(at=T0 + 5, cacheable_html=cacheable_html).decode(value)
    assert consent.categories == {"necessary", "media"}
    assert consent.decided is decided


def test_an_issued_value_is_signed_as_itsdangerous_signs() -> None:
    value, _ = _codec().issue(["analytics"], consent_id="abc")
    assert value == _sign("c1~1~analytics~abc")


def test_a_decoded_choice_records_when_it_was_made_in_utc() -> None:
    codec = _codec()
    consent = codec.decode(codec.encode(["analytics"]))
    assert consent.given_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


def test_a_decoded_choice_keeps_its_consent_id_and_policy_revision() -> None:
    codec = _codec(policy_revision=3)
    consent = codec.decode(codec.encode(["marketing"], consent_id="abc123"))
    assert (consent.consent_id, consent.revision, consent.decided) == ("abc123", 3, True)


def test_each_new_choice_gets_a_different_random_consent_id() -> None:
    codec = _codec()
    first = codec.decode(codec.encode([])).consent_id
    second = codec.decode(codec.encode([])).consent_id
    assert first and second and first != second


def test_a_rejection_decodes_as_decided_with_only_necessary() -> None:
    codec = _codec()
    consent = codec.decode(codec.encode([]))
    assert consent.decided
    assert consent.categories == {"necessary"}


def test_a_choice_is_still_valid_one_second_before_expiry_days() -> None:
    raw = _codec(expiry_days=30).encode(["analytics"])
    later = _codec(T0 + 30 * DAY - 1, expiry_days=30)
    assert later.decode(raw).allows("analytics")


def test_a_choice_is_no_choice_one_second_after_expiry_days() -> None:
    raw = _codec(expiry_days=30).encode(["analytics"])
    later = _codec(T0 + 30 * DAY + 1, expiry_days=30)
    assert later.decode(raw) == Consent()
    assert not later.decode(raw).decided


def test_the_expiry_of_a_choice_is_expiry_days_after_it_was_made() -> None:
    codec = _codec(expiry_days=30)
    consent = codec.decode(codec.encode([]))
    assert codec.expires_at(consent) == datetime(2023, 12, 14, 22, 13, 20, tzinfo=UTC)


def test_no_choice_has_no_expiry() -> None:
    assert _codec().expires_at(Consent()) is None


# -- values that must not pass -----------------------------------------------------------


def test_a_tampered_signature_is_no_choice() -> None:
    raw = _codec().encode(["analytics"])
    # A middle character: the last one of the base64 signature carries padding bits.
    tampered = raw[:-5] + ("A" if raw[-5] != "A" else "B") + raw[-4:]
    assert not _codec().decode(tampered).decided


def test_a_tampered_payload_is_no_choice() -> None:
    raw = _codec().encode([])
    forged = raw.replace("c1~1~~", "c1~1~analytics.marketing.media~", 1)
    assert forged != raw
    assert not _codec().decode(forged).decided


def test_a_truncated_value_is_no_choice() -> None:
    raw = _codec().encode(["analytics"])
    assert not _codec().decode(raw[: len(raw) // 2]).decided


@pytest.mark.parametrize("raw", [None, "", "garbage", "a.b.c", "x" * 2000, "c1~1~analytics~id"])
def test_malformed_values_are_no_choice(raw: str | None) -> None:
    assert not _codec().decode(raw).decided


def test_a_value_signed_with_a_foreign_key_is_no_choice() -> None:
    raw = _codec(secret_key=OTHER_SECRET).encode(["analytics"])
    assert not _codec().decode(raw).decided


def test_a_starlette_style_session_cookie_with_the_same_secret_is_no_choice() -> None:
    # Same secret and a payload of our shape, but the session signer's salt.
    raw = _sign("c1~1~analytics~abc123", salt="cookie-session")
    assert not _codec().decode(raw).decided


def test_a_cookie_signed_by_starlettes_default_signer_is_no_choice() -> None:
    # starlette.middleware.sessions: itsdangerous.TimestampSigner(str(secret_key))
    raw = TimestampSigner(SECRET).sign("c1~1~analytics~abc123").decode()
    assert not _codec().decode(raw).decided


def test_our_own_signature_of_a_well_formed_payload_is_accepted() -> None:
    # The control for the hand-signed values below: the helper signs as the codec does.
    consent = _codec().decode(_sign("c1~1~analytics~abc123"))
    assert consent.categories == {"necessary", "analytics"}
    assert consent.consent_id == "abc123"


def test_a_choice_made_under_an_older_policy_revision_is_no_choice() -> None:
    raw = _codec(policy_revision=1).encode(["analytics"])
    assert not _codec(policy_revision=2).decode(raw).decided


@pytest.mark.parametrize(
    "payload",
    [
        "c1~1~analytics",
        "c1~1~analytics~abc~extra",
        "c2~1~analytics~abc",
        "c1~1~analytics~",
        "c1~one~analytics~abc",
        "",
        '{"categories": ["analytics"]}',
    ],
)
def test_a_validly_signed_payload_of_the_wrong_shape_is_no_choice(payload: str) -> None:
    assert not _codec().decode(_sign(payload)).decided


def test_a_validly_signed_non_ascii_payload_is_no_choice() -> None:
    assert not _codec().decode(_sign("c1~1~analytics~ïd")).decided


def test_a_choice_signed_more_than_five_minutes_in_the_future_is_no_choice() -> None:
    raw = _sign("c1~1~analytics~abc123", at=T0 + 301)
    assert not _codec(T0).decode(raw).decided


def test_a_choice_signed_by_a_server_whose_clock_is_a_minute_ahead_is_honoured() -> None:
    raw = _codec(T0 + 60).encode(["analytics"])
    assert _codec(T0).decode(raw).allows("analytics")


def test_unknown_categories_in_a_valid_cookie_are_dropped() -> None:
    consent = _codec().decode(_sign("c1~1~analytics.spying~abc123"))
    assert consent.categories == {"necessary", "analytics"}


def test_encoding_ignores_categories_the_config_does_not_know() -> None:
    codec = _codec()
    assert codec.decode(codec.encode(["spying", "media"])).categories == {"necessary", "media"}


# -- key rotation ----------------------------------------------------------------------


def test_a_cookie_signed_with_the_old_key_still_verifies_after_rotation() -> None:
    old = _codec(secret_key=OTHER_SECRET).encode(["analytics"])
    rotated = _codec(secret_key=[SECRET, OTHER_SECRET])
    assert rotated.decode(old).allows("analytics")


def test_new_cookies_are_signed_with_the_first_key() -> None:
    raw = _codec(secret_key=[SECRET, OTHER_SECRET]).encode(["analytics"])
    assert _codec(secret_key=SECRET).decode(raw).allows("analytics")
    assert not _codec(secret_key=OTHER_SECRET).decode(raw).decided


def test_a_cookie_signed_with_a_dropped_key_no_longer_verifies() -> None:
    old = _codec(secret_key=OTHER_SECRET).encode(["analytics"])
    assert not _codec(secret_key=SECRET).decode(old).decided


# -- Consent -------------------------------------------------------------------------


def test_no_choice_allows_only_necessary() -> None:
    consent = Consent()
    assert consent.allows("necessary")
    assert not consent.allows("analytics")
    assert consent.categories == {"necessary"}


def test_no_choice_has_no_revision_time_or_id() -> None:
    consent = Consent()
    assert (consent.decided, consent.revision, consent.given_at, consent.consent_id) == (
        False,
        None,
        None,
        None,
    )


def test_a_consent_always_allows_necessary_even_when_not_listed() -> None:
    consent = Consent(["analytics"], given_at=datetime(2024, 1, 1, tzinfo=UTC))
    assert consent.allows("necessary")
    assert consent.categories == {"necessary", "analytics"}


def test_a_consent_does_not_allow_a_category_it_was_not_given() -> None:
    consent = Consent(["analytics"], given_at=datetime(2024, 1, 1, tzinfo=UTC))
    assert not consent.allows("marketing")


def test_a_consent_is_decided_once_it_has_a_time() -> None:
    assert Consent([], given_at=datetime(2024, 1, 1, tzinfo=UTC)).decided


def test_consents_with_the_same_values_are_equal_and_hash_alike() -> None:
    at = datetime(2024, 1, 1, tzinfo=UTC)
    first = Consent(["media"], revision=2, given_at=at, consent_id="x")
    second = Consent(["media", "necessary"], revision=2, given_at=at, consent_id="x")
    assert first == second
    assert len({first, second}) == 1


def test_the_repr_of_no_choice_says_so() -> None:
    assert repr(Consent()) == "Consent(decided=False)"


# -- deferred consent ---------------------------------------------------------------------


def _cookie_headers(raw: str | None) -> list[tuple[bytes, bytes]]:
    """The request headers that carry `raw` as our cookie (none for None)."""
    headers = [(b"host", b"example.com")]
    if raw is not None:
        headers.append((b"cookie", b"theme=dark; asgi_consent=" + raw.encode()))
    return headers


def test_a_deferred_consent_does_not_verify_before_it_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    codec = _codec()
    raw = codec.encode(["analytics"])
    calls: list[str | None] = []
    real_decode = codec.decode

    def spy(value: str | None) -> Consent:
        calls.append(value)
        return real_decode(value)

    monkeypatch.setattr(codec, "decode", spy)
    deferred = codec.deferred(_cookie_headers(raw))
    assert calls == []
    assert deferred.allows("analytics")
    assert calls == [raw]


def test_a_deferred_consent_verifies_only_once(monkeypatch: pytest.MonkeyPatch) -> None:
    codec = _codec()
    raw = codec.encode(["analytics"])
    calls: list[str | None] = []
    real_decode = codec.decode
    monkeypatch.setattr(codec, "decode", lambda value: calls.append(value) or real_decode(value))
    deferred = codec.deferred(_cookie_headers(raw))
    _ = (deferred.decided, deferred.categories, deferred.consent_id, deferred.given_at)
    assert deferred.allows("analytics")
    assert len(calls) == 1


def test_a_deferred_consent_answers_like_the_decoded_one() -> None:
    codec = _codec(policy_revision=4)
    raw = codec.encode(["analytics", "media"], consent_id="id42")
    deferred, decoded = codec.deferred(_cookie_headers(raw)), codec.decode(raw)
    assert (
        deferred.decided,
        deferred.categories,
        deferred.revision,
        deferred.given_at,
        deferred.consent_id,
        deferred.allows("media"),
        deferred.allows("marketing"),
    ) == (True, decoded.categories, 4, decoded.given_at, "id42", True, False)
    assert deferred == decoded


def test_a_deferred_tampered_cookie_reads_as_no_choice() -> None:
    deferred = _codec().deferred(_cookie_headers("c1~1~analytics~id.forged.signature"))
    assert not deferred.decided
    assert deferred.categories == {"necessary"}


def test_a_deferred_consent_without_a_cookie_is_no_choice() -> None:
    assert _codec().deferred(_cookie_headers(None)) == Consent()


def test_a_deferred_consent_is_a_consent() -> None:
    assert isinstance(_codec().deferred(_cookie_headers("x")), Consent)


# -- reading the Cookie header ----------------------------------------------------------


def _read(*cookie_headers: bytes, name: bytes = b"asgi_consent") -> str | None:
    headers = [(b"host", b"example.com"), *((b"cookie", value) for value in cookie_headers)]
    return read_cookie(headers, name)


def test_read_cookie_finds_the_consent_among_several_cookies() -> None:
    assert _read(b"a=1; asgi_consent=VALUE; b=2") == "VALUE"


def test_read_cookie_finds_the_consent_as_the_first_cookie() -> None:
    assert _read(b"asgi_consent=VALUE; b=2") == "VALUE"


def test_read_cookie_ignores_a_cookie_whose_name_ends_with_ours() -> None:
    assert _read(b"xasgi_consent=EVIL") is None


def test_read_cookie_skips_a_suffix_match_and_finds_the_real_cookie() -> None:
    assert _read(b"xasgi_consent=EVIL; asgi_consent=GOOD") == "GOOD"


def test_read_cookie_ignores_a_cookie_whose_name_starts_with_ours() -> None:
    assert _read(b"asgi_consent_old=OLD; asgi_consent=NEW") == "NEW"


def test_read_cookie_ignores_our_name_inside_another_cookies_value() -> None:
    assert _read(b"other=asgi_consent=EVIL; asgi_consent=GOOD") == "GOOD"


def test_read_cookie_strips_spaces_around_the_value() -> None:
    assert _read(b"a=1;   asgi_consent=VALUE  ; b=2") == "VALUE"


def test_read_cookie_strips_quotes_around_the_value() -> None:
    assert _read(b'asgi_consent="VALUE"') == "VALUE"


def test_read_cookie_looks_in_every_cookie_header() -> None:
    assert _read(b"a=1", b"asgi_consent=VALUE") == "VALUE"


def test_read_cookie_without_the_cookie_is_none() -> None:
    assert _read(b"a=1; b=2") is None


def test_read_cookie_without_a_cookie_header_is_none() -> None:
    assert _read() is None


def test_read_cookie_with_a_non_ascii_value_is_none() -> None:
    assert _read("asgi_consent=caf\u00e9".encode()) is None


def test_read_cookie_is_not_confused_by_non_ascii_bytes_in_other_cookies() -> None:
    assert _read(b"name=\xc3\xa9\xff; asgi_consent=VALUE") == "VALUE"


def test_read_cookie_uses_the_configured_cookie_name() -> None:
    assert _read(b"asgi_consent=A; site_consent=B", name=b"site_consent") == "B"


def test_a_cookie_read_from_the_header_decodes_to_the_choice() -> None:
    codec = _codec()
    raw = codec.encode(["marketing"])
    found = _read(b"sessionid=abc; asgi_consent=" + raw.encode() + b"; theme=dark")
    assert codec.decode(found).allows("marketing")


# -- size and Set-Cookie --------------------------------------------------------------------


def test_a_cookie_with_every_category_stays_under_200_bytes() -> None:
    codec = _codec(
        categories={"live-chat": {"label": "Chat", "description": "A support chat."}},
        policy_revision=2**31,
    )
    raw = codec.encode(["analytics", "marketing", "media", "live-chat"])
    assert codec.decode(raw).categories == {
        "necessary",
        "analytics",
        "marketing",
        "media",
        "live-chat",
    }
    assert len(("asgi_consent=" + raw).encode()) < 200


def test_set_cookie_has_path_httponly_and_samesite_lax() -> None:
    header = set_cookie_header("asgi_consent", "V", max_age=DAY, secure=False, samesite="lax")
    assert header.split(b"; ")[-3:] == [b"Path=/", b"HttpOnly", b"SameSite=Lax"]
    assert b"Secure" not in header


def test_set_cookie_is_secure_when_asked() -> None:
    header = set_cookie_header("asgi_consent", "V", max_age=DAY, secure=True, samesite="strict")
    assert header.split(b"; ")[-3:] == [b"HttpOnly", b"Secure", b"SameSite=Strict"]


def test_set_cookie_names_the_domain_when_given() -> None:
    header = set_cookie_header(
        "asgi_consent", "V", max_age=DAY, secure=True, samesite="lax", domain="example.com"
    )
    assert b"; Domain=example.com; Path=/;" in header


def test_set_cookie_has_no_domain_when_none_is_given() -> None:
    header = set_cookie_header("asgi_consent", "V", max_age=DAY, secure=True, samesite="lax")
    assert b"Domain=" not in header


def test_set_cookie_max_age_is_expiry_days_in_seconds() -> None:
    config = ConsentConfig(secret_key=SECRET, expiry_days=30)
    header = set_cookie_header(
        "asgi_consent", "V", max_age=config.max_age, secure=True, samesite="lax"
    )
    assert header.startswith(b"asgi_consent=V; Max-Age=2592000; ")


def test_set_cookie_expires_matches_max_age() -> None:
    header = set_cookie_header(
        "asgi_consent", "V", max_age=DAY, secure=True, samesite="lax", clock=lambda: T0
    )
    assert b"; Expires=Wed, 15 Nov 2023 22:13:20 GMT;" in header


def test_set_cookie_with_max_age_zero_expires_in_the_past() -> None:
    header = set_cookie_header("asgi_consent", "", max_age=0, secure=True, samesite="lax")
    assert header.startswith(b"asgi_consent=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT;")


# -- several values of our cookie (one planted by a sibling subdomain) ----------------------


def _headers(*values: str, extra: bytes = b"") -> list[tuple[bytes, bytes]]:
    cookie = b"; ".join([extra, *(b"asgi_consent=" + v.encode() for v in values)]).strip(b"; ")
    return [(b"host", b"example.com"), (b"cookie", cookie)]


def test_cookie_values_lists_every_value_of_the_name_in_order() -> None:
    headers = [(b"cookie", b"asgi_consent=A; x=1; asgi_consent =B"), (b"cookie", b"asgi_consent=C")]
    assert cookie_values(headers, b"asgi_consent", 8) == ["A", "B", "C"]


def test_cookie_values_stops_at_its_limit() -> None:
    assert cookie_values(_headers(*"ABCDE"), b"asgi_consent", 3) == ["A", "B", "C"]


def test_a_planted_accept_does_not_win_over_the_visitors_own_reject() -> None:
    codec = _codec()
    planted, own = codec.encode(["analytics", "marketing", "media"]), codec.encode([])
    for order in ((planted, own), (own, planted)):
        consent = codec.read(_headers(*order))
        assert consent.decided
        assert consent.categories == {"necessary"}


def test_several_valid_choices_grant_only_what_all_of_them_grant() -> None:
    codec = _codec()
    first = codec.encode(["analytics", "media"])
    second = codec.encode(["marketing", "media"], consent_id="second")
    consent = codec.read(_headers(first, second))
    assert consent.categories == {"necessary", "media"}
    assert consent.decided


def test_an_invalid_value_beside_a_valid_one_is_ignored() -> None:
    codec = _codec()
    valid = codec.encode(["analytics"])
    assert codec.read(_headers("forged", valid)) == codec.decode(valid)


def test_only_invalid_values_are_no_choice() -> None:
    assert _codec().read(_headers("forged", "also.forged")) == Consent()


def test_more_values_than_are_verified_is_no_choice() -> None:
    codec = _codec()
    values = [codec.encode([]) for _ in range(MAX_CONSENT_VALUES + 1)]
    assert codec.read(_headers(*values)) == Consent()
    assert codec.read(_headers(*values[:MAX_CONSENT_VALUES])).decided


def test_a_deferred_consent_reads_every_value() -> None:
    codec = _codec()
    planted, own = codec.encode(["analytics"]), codec.encode([])
    assert not codec.deferred(_headers(planted, own)).allows("analytics")


def test_most_restrictive_of_nothing_is_no_choice() -> None:
    assert most_restrictive([]) == Consent()


# -- linear time on hostile Cookie headers ------------------------------------------------


HOSTILE_COOKIES = {
    "our name repeated": b"asgi_consent",
    "our name and a separator": b"asgi_consent;",
    "our name as a suffix": b"xasgi_consent=1;",
    "our name in values": b"a=asgi_consent=",
    "spaces": b" \t",
    "separators": b";",
    "many cookies": b"_ga_x=1; ",
}


@pytest.mark.parametrize("unit", list(HOSTILE_COOKIES.values()), ids=list(HOSTILE_COOKIES))
def test_reading_a_hostile_cookie_header_takes_linear_time(unit: bytes) -> None:
    codec = _codec()
    headers = {
        size: [(b"cookie", unit * (size // len(unit)) + b"; asgi_consent=forged")]
        for size in (1_000_000, 10_000_000)
    }
    small, large = fastest_in_turns(
        lambda size: (codec.read(headers[size]), cookie_names(headers[size])), sorted(headers)
    )
    assert large < 5.0  # the old reader took 10 s for 1.2 MB
    assert large < 40 * max(small, 0.001)  # 10x the bytes; quadratic would be 100x


def test_a_hostile_cookie_header_takes_linear_time_through_the_middleware() -> None:
    mw = wrap(_json_app)
    scopes = {
        size: make_scope(headers=[(b"cookie", b"asgi_consent" * (size // 12))])
        for size in (1_000_000, 10_000_000)
    }
    small, large = fastest_in_turns(
        lambda size: anyio.run(run_asgi, mw, scopes[size]), sorted(scopes)
    )
    assert large < 5.0
    assert large < 40 * max(small, 0.001)


async def _json_app(scope: Any, receive: Any, send: Any) -> None:
    scope["state"]["consent"].decided  # noqa: B018  (reads the cookie)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def test_a_grant_before_a_choice_round_trips_as_granted_but_undecided() -> None:
    codec = ConsentCodec(ConsentConfig(secret_key=SECRET))
    consent = codec.decode(codec.encode({"media"}, consent_id="abc", decided=False))
    assert consent.allows("media") and not consent.allows("analytics")
    assert not consent.decided and consent.recorded
    assert consent.consent_id == "abc"
    assert codec.decode(codec.encode({"media"}, consent_id="abc")).decided


def test_several_values_are_decided_only_if_every_one_is() -> None:
    codec = ConsentCodec(ConsentConfig(secret_key=SECRET))
    decided = codec.decode(codec.encode({"media", "analytics"}))
    granted_only = codec.decode(codec.encode({"media"}, decided=False))
    combined = most_restrictive([decided, granted_only])
    assert combined.categories == {"necessary", "media"}
    assert not combined.decided
