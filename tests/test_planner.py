"""PagePlanner: what one page gets for one visitor, read from the plan it returns."""

from __future__ import annotations

from typing import Any

from asgi_consent import ConsentMiddleware
from asgi_consent.cookie import NO_CHOICE, Consent
from asgi_consent.plan import RewritePlan
from helpers import PAGE, html_app, make_scope, wrap

HTML = (b"content-type", b"text/html; charset=utf-8")
ALL_CATEGORIES = ("analytics", "marketing", "media")


def middleware(**options: Any) -> ConsentMiddleware:
    return wrap(html_app([PAGE]), **options)


def chosen(mw: ConsentMiddleware, *categories: str) -> Consent:
    return mw.codec.decode(mw.codec.encode(categories))


def plan(
    mw: ConsentMiddleware,
    consent: Consent = NO_CHOICE,
    *,
    headers: tuple[tuple[bytes, bytes], ...] = (HTML,),
    request: tuple[tuple[bytes, bytes], ...] = (),
    path: str = "/",
) -> RewritePlan:
    return mw.planner.plan(make_scope(path, headers=request), consent, list(headers))


def test_a_visitor_without_a_choice_gets_the_banner_and_every_category_held_back() -> None:
    found = plan(middleware())
    assert found.blocked == frozenset(ALL_CATEGORIES)
    assert found.before_body_end.startswith(b'<div id="asgi-consent" ')
    assert found.placeholder is not None


def test_a_visitor_who_granted_everything_gets_the_settings_control_and_no_placeholders() -> None:
    mw = middleware()
    found = plan(mw, chosen(mw, *ALL_CATEGORIES))
    assert found.blocked == frozenset()
    assert found.before_body_end.startswith(b'<div id="asgi-consent-settings" ')
    assert found.placeholder is None


def test_the_page_path_and_query_are_the_next_of_our_forms() -> None:
    mw = middleware()
    scope = make_scope("/news/1", query_string=b"page=2")
    found = mw.planner.plan(scope, NO_CHOICE, [HTML])
    assert found.page_path == "/news/1?page=2"
    assert b'name="next" value="/news/1?page=2"' in found.before_body_end


def test_the_document_url_is_the_page_as_the_browser_has_it() -> None:
    found = plan(middleware(), path="/a/b.html")
    assert found.document_url is not None
    assert (found.document_url.host, found.document_url.path) == ("testserver", "/a/b.html")


def test_an_htmx_request_is_a_fragment_whose_forms_return_to_the_visitors_page() -> None:
    request = ((b"hx-request", b"true"), (b"hx-current-url", b"http://testserver/shop?x=1"))
    found = plan(middleware(), request=request, path="/cart")
    assert found.fragment
    assert found.page_path == "/shop?x=1"


def test_a_turbo_stream_is_a_fragment() -> None:
    found = plan(middleware(), headers=((b"content-type", b"text/vnd.turbo-stream.html"),))
    assert found.fragment


def test_an_xhtml_page_is_read_as_xml() -> None:
    assert plan(middleware(), headers=((b"content-type", b"application/xhtml+xml"),)).xml
    assert not plan(middleware()).xml


def test_our_urls_are_pinned_to_the_host_for_a_page_whose_base_names_another() -> None:
    found = plan(middleware())
    assert b'="//testserver/_consent/' in found.cross_origin_insertion
    assert b'="/_consent/' not in found.cross_origin_insertion


def test_a_host_header_with_markup_in_it_pins_nothing() -> None:
    mw = middleware()
    scope = make_scope()
    scope["headers"] = [(b"host", b'evil"><script>')]
    assert mw.planner.plan(scope, NO_CHOICE, [HTML]).cross_origin_insertion == b""


def test_the_pages_csp_nonce_goes_on_everything_we_insert() -> None:
    csp = (b"content-security-policy", b"script-src 'nonce-abc123' 'strict-dynamic'")
    found = plan(middleware(consent_mode=True), headers=(HTML, csp))
    assert found.before_body_end.count(b' nonce="abc123"') == 2  # our stylesheet and script
    assert b' nonce="abc123"' in found.head_start


def test_the_consent_mode_default_states_each_signal_as_the_visitor_chose() -> None:
    mw = middleware(consent_mode=True)
    found = plan(mw, chosen(mw, "analytics"))
    assert found.head_start.startswith(b'<script src="/_consent/static/consent-mode.')
    assert (
        b' data-consent-state="analytics_storage:granted ad_storage:denied'
        b' ad_user_data:denied ad_personalization:denied"'
    ) in found.head_start


def test_without_consent_mode_nothing_goes_into_the_head() -> None:
    assert plan(middleware()).head_start == b""


def test_placeholders_speak_the_banner_language() -> None:
    found = plan(middleware(), request=((b"accept-language", b"de"),))
    assert found.placeholder is not None
    box = found.placeholder("media", "YouTube", "/", None)
    assert b"Dieser Inhalt wird von YouTube bereitgestellt" in box


def test_the_language_of_an_accept_language_header_is_remembered_only_for_short_headers() -> None:
    mw = middleware()
    mw.planner.language(make_scope(headers=[(b"accept-language", b"fr")]))
    mw.planner.language(make_scope(headers=[(b"accept-language", b"fr, " + b"x-y, " * 100)]))
    assert len(mw.planner._languages) == 1
