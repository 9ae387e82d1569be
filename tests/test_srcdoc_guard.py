"""A document written in an iframe's srcdoc gets the run-time guard first.

A srcdoc document is a realm of its own (same-origin): the guard in the page does not
wrap its DOM, so a loader that builds a tracker's URL at run time there went out before
any choice (red-team session 4, "srcdoc-frame"; the Chromium test is in
test_redteam_session4.py). The server now writes a new srcdoc before the iframe's own
(the DOM keeps the first of two): the guard's script, its URL pinned to the page's host
(a srcdoc document takes the page's base URL, which a <base> may move), then the
document as it was. consent.js tells each srcdoc document's guard of a grant.
The output is read with html5lib, as a browser reads it.
"""

from __future__ import annotations

import html5lib  # type: ignore[import-untyped]
import pytest

from adversarial import oracle, visitors

HEAD = "<!doctype html><html><head><title>t</title></head><body>"
DOCUMENT = "<p>a &amp; b</p><script>window.x = 1 < 2;</script>"
GUARD_START = '<script src="//testserver/_consent/static/guard.'


def _srcdocs(out: bytes) -> list[str | None]:
    tree = html5lib.parse(oracle.browser_text(out), namespaceHTMLElements=False)
    return [frame.get("srcdoc") for frame in tree.iter("iframe")]


def _serve(body: str, visitor: visitors.Visitor = "none") -> bytes:
    return visitors.serve([(HEAD + body + "</body></html>").encode()], visitor)


@pytest.mark.parametrize(
    "written",
    [
        '<iframe srcdoc="{}"></iframe>',
        "<iframe srcdoc='{}'></iframe>",
        "<iframe title=x srcdoc='{}' src=/a></iframe>",
    ],
)
@pytest.mark.parametrize("visitor", ["none", "reject"])
def test_a_srcdoc_document_gets_the_guard_first_and_keeps_its_own_markup(
    written: str, visitor: visitors.Visitor
) -> None:
    escaped = DOCUMENT.replace("&", "&amp;").replace('"', "&quot;").replace("'", "&#39;")
    (srcdoc,) = _srcdocs(_serve(written.format(escaped), visitor))
    assert srcdoc is not None and srcdoc.startswith(GUARD_START)
    guard, _, document = srcdoc.partition("</script>")
    assert 'data-granted="necessary"' in guard
    assert document == DOCUMENT


def test_an_unquoted_srcdoc_is_read_as_the_tokenizer_reads_it() -> None:
    (srcdoc,) = _srcdocs(_serve("<iframe srcdoc=&lt;b&gt;bold&lt;/b&gt;></iframe>"))
    assert srcdoc is not None and srcdoc.startswith(GUARD_START)
    assert srcdoc.endswith("</script><b>bold</b>")


def test_a_visitor_who_accepted_gets_the_iframe_as_it_was() -> None:
    page = (HEAD + '<iframe srcdoc="<p>x</p>"></iframe></body></html>').encode()
    out = visitors.serve([page], "accept")
    assert visitors.accepted_unchanged(page, out)


def test_an_iframe_held_back_for_its_srcdoc_gets_no_live_srcdoc() -> None:
    tracker = '<script src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>'
    out = _serve(f'<iframe srcdoc="{tracker.replace(chr(34), "&quot;")}"></iframe>')
    assert _srcdocs(out) == [None]  # renamed, no guarded copy
    assert oracle.find_leaks(out, frozenset(visitors.CATEGORIES)) == []


def test_an_svg_iframe_element_is_left_alone() -> None:
    out = _serve('<svg><iframe srcdoc="<p>x</p>"></iframe></svg>')
    assert b'srcdoc="<p>x</p>"' in out and GUARD_START.encode() not in out




# -- data: and javascript: frames: a realm the guard cannot enter ---------------------------


@pytest.mark.parametrize(
    "src",
    [
        "data:text/html,%3Cscript%3Evar%20a%3D1%3C%2Fscript%3E",
        "data:text/html;base64,PHNjcmlwdD52YXIgYT0xPC9zY3JpcHQ+",  # <script>var a=1</script>
        "data:text/html,<img src=x onerror=alert(1)>",
        "javascript:'<p>x</p>'",
        " JavaScript:void(0)",
    ],
)
@pytest.mark.parametrize("visitor", ["none", "reject"])
def test_a_frame_whose_document_runs_code_we_cannot_guard_is_held(
    src: str, visitor: visitors.Visitor
) -> None:
    out = _serve(f'<iframe src="{src}"></iframe>', visitor)
    tree = html5lib.parse(oracle.browser_text(out), namespaceHTMLElements=False)
    (frame,) = tree.iter("iframe")
    assert frame.get("src") is None and frame.get("data-consent-src") == src
    assert set(frame.get("data-consent", "").split()) == set(visitors.CATEGORIES)


def test_a_data_frame_without_code_is_left_alone() -> None:
    out = _serve('<iframe src="data:text/html,%3Cp%3Ehello%3C%2Fp%3E"></iframe>')
    assert b'<iframe src="data:text/html,%3Cp%3Ehello%3C%2Fp%3E">' in out


def test_a_visitor_who_accepted_gets_a_javascript_frame_as_it_was() -> None:
    page = (HEAD + "<iframe src=\"javascript:'<p>x</p>'\"></iframe></body></html>").encode()
    assert visitors.accepted_unchanged(page, visitors.serve([page], "accept"))


def test_with_consent_mode_on_the_srcdoc_gets_the_guard_alone() -> None:
    from asgi_consent import ConsentMiddleware

    middleware = ConsentMiddleware(visitors.page_app, secret_key=visitors.SECRET, consent_mode=True)
    page = (HEAD + f'<iframe srcdoc="{DOCUMENT.replace("&", "&amp;")}"></iframe>').encode()
    out = visitors.serve([page + b"</body></html>"], "none", middleware=middleware)
    assert b"/_consent/static/consent-mode." in out  # after the guard in <head>
    (srcdoc,) = _srcdocs(out)
    assert srcdoc is not None and srcdoc.startswith(GUARD_START)
    assert srcdoc.partition("</script>")[2] == DOCUMENT
