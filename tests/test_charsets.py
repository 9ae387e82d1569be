"""Which encoding a page is read in (as a browser decides it), and transcoding to UTF-8
for the encodings our byte-level scanner cannot read."""

from __future__ import annotations

import codecs
import tracemalloc
from typing import Any

import pytest

from asgi_consent.charsets import (
    LABELS,
    body_encoding,
    encoding_for_label,
    page_charset,
    prescan,
    python_codec,
    sent_encoding,
)
from asgi_consent.mime import extract_mime_type
from asgi_consent.transcoding import Iso2022JpDecoder, Transcoder
from helpers import body_of, make_scope, run_asgi, wrap

TRACKER = b'<script src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>'


def tracker_held(body: bytes) -> bool:
    """Whether the tracker's script element in `body` is inert (type="text/plain")."""
    start = body.rindex(b"<script", 0, body.index(b"www.googletagmanager.com/gtag/js"))
    return b'type="text/plain"' in body[start : body.index(b">", start)]


def one_piece(headers: list[tuple[bytes, bytes]], body: bytes) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": list(headers)})
        await send({"type": "http.response.body", "body": body})

    return app


def chunked(headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": list(headers)})
        for index, chunk in enumerate(chunks):
            more = index < len(chunks) - 1
            await send({"type": "http.response.body", "body": chunk, "more_body": more})

    return app


def start_of(messages: list[dict[str, Any]]) -> dict[str, Any]:
    (start,) = [m for m in messages if m["type"] == "http.response.start"]
    return start


def content_types(messages: list[dict[str, Any]]) -> list[bytes]:
    return [v for k, v in start_of(messages)["headers"] if k == b"content-type"]


# -- the label table --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "encoding"),
    [
        ("unicode-1-1-utf-8", "UTF-8"),
        ("iso_8859-1", "windows-1252"),
        ("windows-874", "windows-874"),
        ("ansi_x3.4-1968", "windows-1252"),
        ("windows-31j", "Shift_JIS"),
        ("shift-jis", "Shift_JIS"),
        ("ks_c_5601-1987", "EUC-KR"),
        ("utf-16", "UTF-16LE"),
        ("iso-2022-kr", "replacement"),
        ("x-user-defined", "x-user-defined"),
    ],
)
def test_labels_the_issue_found_name_their_whatwg_encoding(label: str, encoding: str) -> None:
    assert encoding_for_label(label) == encoding


def test_a_label_matches_whatever_its_case_and_surrounding_whitespace() -> None:
    assert encoding_for_label(b"\t Latin1 \n") == "windows-1252"


def test_an_unknown_label_names_no_encoding() -> None:
    assert encoding_for_label("utf-7") is None


def test_the_table_has_every_label_of_the_encoding_standard() -> None:
    assert len(LABELS) == 228
    assert all(label == label.lower().strip() for label in LABELS)


# -- the decision: byte order mark, header, prescan ---------------------------------------


def test_a_utf16_byte_order_mark_wins_over_a_utf8_header() -> None:
    assert body_encoding(b"text/html; charset=utf-8", b"\xff\xfe<\x00") == ("UTF-16LE", True)
    assert body_encoding(b"text/html; charset=utf-8", b"\xfe\xff\x00<") == ("UTF-16BE", True)


def test_a_utf8_byte_order_mark_wins_over_a_utf16_header() -> None:
    assert body_encoding(b"text/html; charset=utf-16", b"\xef\xbb\xbf<p>") == ("UTF-8", False)


def test_a_utf16_header_without_byte_order_mark_needs_transcoding() -> None:
    assert body_encoding(b"text/html; charset=utf-16", b"<\x00p\x00") == ("UTF-16LE", True)


def test_the_header_charset_wins_over_a_meta_charset() -> None:
    page = b'<meta charset="iso-2022-jp">'
    assert body_encoding(b"text/html; charset=shift_jis", page) == ("Shift_JIS", False)


def test_an_unknown_header_label_leaves_the_decision_to_the_meta_charset() -> None:
    page = b'<meta charset="iso-2022-jp">'
    assert body_encoding(b"text/html; charset=bogus", page) == ("ISO-2022-JP", True)


def test_without_any_declaration_an_html_page_is_windows_1252() -> None:
    assert body_encoding(b"text/html", b"<p>caf\xe9</p>") == ("windows-1252", False)


def test_without_any_declaration_an_xhtml_page_is_utf8() -> None:
    assert body_encoding(b"application/xhtml+xml", b"<html/>") == ("UTF-8", False)


def test_an_xhtml_page_follows_its_xml_declaration() -> None:
    page = b'<?xml version="1.0" encoding="ISO-2022-JP"?><html/>'
    assert body_encoding(b"application/xhtml+xml", page) == ("ISO-2022-JP", True)


def test_the_replacement_encoding_needs_no_transcoding() -> None:
    assert body_encoding(b"text/html; charset=iso-2022-kr", b"<p>") == ("replacement", False)


# -- the prescan, step for step ---------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"<meta charset=shift_jis>", "Shift_JIS"),
        (b'<META CHARSET="KOI8-R">', "KOI8-R"),
        (b'<meta http-equiv="Content-Type" content="text/html; charset=euc-kr">', "EUC-KR"),
        (b"<meta content='text/html;charset = \"big5\"' http-equiv=content-type>", "Big5"),
        (b'<meta content="text/html; charset=euc-kr">', None),  # content= needs http-equiv
        (b'<meta charset="utf-16">', "UTF-8"),
        (b'<meta charset="utf-16be">', "UTF-8"),
        (b'<meta charset="x-user-defined">', "windows-1252"),
        (b'<meta charset="bogus"><meta charset="gbk">', "GBK"),
        (b'<meta charset="gbk" charset="big5">', "GBK"),
        (b"<!-- <meta charset=koi8-r> --><meta charset=euc-jp>", "EUC-JP"),
        (b'<div title="<meta charset=big5>"><meta charset=gbk>', "GBK"),
        (b"<script>var a = '<meta charset=big5>'</script>", "Big5"),  # the prescan is naive
        (b"<meta/charset=iso-2022-jp>", "ISO-2022-JP"),
        (b'<meta charset="utf-8', None),  # ran out of bytes
        (b"<metax charset=big5>", None),
        (b'<?xml version="1.0" encoding="windows-1251"?><p>', "windows-1251"),
        (b"<\x00?\x00x\x00m\x00l\x00", "UTF-16LE"),
        (b"\x00<\x00?\x00x\x00m\x00l", "UTF-16BE"),
        (b"<p>no declaration</p>", None),
    ],
)
def test_the_prescan_finds_what_the_html_standard_finds(
    head: bytes, expected: str | None
) -> None:
    assert prescan(head) == expected


def test_a_meta_after_the_first_1024_bytes_is_not_seen() -> None:
    page = b"<p>" + b"x" * 1100 + b"<meta charset=iso-2022-jp>"
    assert body_encoding(b"text/html", page) == ("windows-1252", False)


def test_the_prescan_of_a_long_first_chunk_is_linear() -> None:
    # Unclosed quotes and endless attributes: each costs one pass, never a re-scan.
    for page in (b'<a b="' * 200_000, b"<a " + b"b " * 500_000, b"<!--" * 300_000):
        assert prescan(page[:1024]) is None
        assert prescan(page) is None


# -- the Content-Type a rewritten page is sent with ---------------------------------------


def test_a_page_whose_header_names_its_encoding_keeps_its_content_type() -> None:
    headers = [(b"content-type", b"text/html; charset=UTF-8")]
    assert page_charset(headers, b"<p>", sniff=False, complete=True) == (None, None)


def test_a_page_without_a_charset_is_pinned_to_the_one_we_read() -> None:
    headers = [(b"content-type", b"text/html")]
    found = page_charset(headers, b"<meta charset=shift_jis>", sniff=False, complete=True)
    assert found == (b"text/html; charset=shift_jis", None)


def test_a_page_with_an_unknown_charset_label_is_pinned_to_the_one_we_read() -> None:
    headers = [(b"content-type", b"text/html; charset=bogus")]
    found = page_charset(headers, b"<p>", sniff=False, complete=True)
    assert found == (b"text/html; charset=windows-1252", None)


def test_a_sniffed_page_is_sent_as_text_html() -> None:
    headers = [(b"content-type", b"unknown/unknown")]
    found = page_charset(headers, b"<!doctype html>", sniff=True, complete=True)
    assert found == (b"text/html; charset=windows-1252", None)
    assert page_charset(headers, b"%PDF-1.4", sniff=True, complete=True) is None


def test_a_utf16_page_is_sent_as_utf8_keeping_its_other_parameters() -> None:
    headers = [(b"content-type", b'text/html; level="1"; charset=utf-16')]
    found = page_charset(headers, b"<\x00", sniff=False, complete=True)
    assert found is not None and found[0] == b"text/html; level=1; charset=utf-8"
    assert isinstance(found[1], Transcoder)


def test_a_replacement_page_is_passed_through() -> None:
    headers = [(b"content-type", b"text/html; charset=hz-gb-2312")]
    assert page_charset(headers, b"<p>", sniff=False, complete=True) is None


# -- transcoding --------------------------------------------------------------------------


def test_utf16le_is_transcoded_and_its_byte_order_mark_dropped() -> None:
    transcoder = Transcoder("UTF-16LE")
    assert transcoder.feed("\ufeff<p>é</p>".encode("utf-16-le"), final=True) == "<p>é</p>".encode()


def test_utf16_split_anywhere_transcodes_like_one_piece() -> None:
    data = "\ufeff<p>😀 x</p>".encode("utf-16-be")
    for cut in range(len(data) + 1):
        transcoder = Transcoder("UTF-16BE")
        out = transcoder.feed(data[:cut]) + transcoder.feed(data[cut:], final=True)
        assert out == "<p>😀 x</p>".encode()


def test_a_lone_surrogate_becomes_one_replacement_and_keeps_the_next_character() -> None:
    transcoder = Transcoder("UTF-16LE")
    assert transcoder.feed(b"\x00\xd8<\x00p\x00", final=True) == "\ufffd<p".encode()


def test_an_odd_last_byte_becomes_a_replacement_character() -> None:
    assert Transcoder("UTF-16LE").feed(b"<\x00p", final=True) == "<\ufffd".encode()


def test_transcoding_keeps_constant_memory() -> None:
    chunk = "<p>bonjour</p>\n".encode("utf-16-le") * 4096  # 120 KB
    transcoder = Transcoder("UTF-16LE")
    tracemalloc.start()
    try:
        for _ in range(100):  # 12 MB in all
            transcoder.feed(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000


def _iso2022jp(data: bytes) -> str:
    return Iso2022JpDecoder().decode(data, final=True)


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"a<p>", "a<p>"),
        (b"\x1b$B0!\x1b(B<p>", "亜<p>"),
        (b"\x1b$@#G\x1b(B", "Ｇ"),
        (b"\x1b(I12\x1b(B", "ｱｲ"),
        (b"\x1b(J\\~\x1b(B", "¥‾"),
        (b"\x1b<p>", "\ufffd<p>"),  # not an escape: the bytes after it are kept
        (b"\x1b$<p>", "\ufffd$<p>"),
        (b"\x1b$B0\x1b(B<b>", "\ufffd<b>"),  # an escape in place of a trail byte
        (b"\x1b(B\x1b(B<p>", "\ufffd<p>"),  # two escapes in a row
        (b"a\x80b\x0e", "a\ufffdb\ufffd"),
        (b"\x1b$B0", "\ufffd"),  # ends inside a character
    ],
)
def test_the_iso_2022_jp_decoder_follows_the_encoding_standard(data: bytes, text: str) -> None:
    assert _iso2022jp(data) == text


def test_iso_2022_jp_split_anywhere_decodes_like_one_piece() -> None:
    data = b"a\x1b$B0!#G\x1b(B<p>\x1b(I1\x1b(Jz\x1b<x"
    whole = _iso2022jp(data)
    for cut in range(len(data) + 1):
        decoder = Iso2022JpDecoder()
        assert decoder.decode(data[:cut]) + decoder.decode(data[cut:], final=True) == whole


# -- through the middleware ---------------------------------------------------------------


@pytest.mark.anyio
async def test_a_utf16_page_under_a_utf8_header_is_rewritten_and_sent_as_utf8() -> None:
    page = "\ufeff<html><body>" + TRACKER.decode() + "<p>é</p></body></html>"
    headers = [(b"content-type", b"text/html; charset=utf-8")]
    sent = await run_asgi(wrap(one_piece(headers, page.encode("utf-16-le"))), make_scope())
    body = body_of(sent)
    assert content_types(sent) == [b"text/html; charset=utf-8"]
    assert "<p>é</p>".encode() in body
    assert tracker_held(body)
    assert b'id="asgi-consent"' in body


@pytest.mark.anyio
async def test_a_streamed_utf16_page_is_transcoded_chunk_by_chunk() -> None:
    page = ("<html><body>" + TRACKER.decode() + "<p>ü</p></body></html>").encode("utf-16-be")
    chunks = [page[i : i + 7] for i in range(0, len(page), 7)]  # odd: cuts code units
    headers = [(b"content-type", b"text/html; charset=utf-16be")]
    sent = await run_asgi(wrap(chunked(headers, chunks)), make_scope())
    body = body_of(sent)
    assert content_types(sent) == [b"text/html; charset=utf-8"]
    assert "<p>ü</p>".encode() in body and tracker_held(body)


@pytest.mark.anyio
async def test_a_page_declaring_iso_2022_jp_in_a_meta_is_read_as_the_browser_reads_it() -> None:
    # In ISO-2022-JP, ESC $ B turns the bytes after it into JIS pairs: the tracker tag
    # below is only markup once ESC ( B ends them. The transcoded page says so plainly.
    page = b'<meta charset="iso-2022-jp"><p>\x1b$B0!\x1b(B</p>' + TRACKER
    headers = [(b"content-type", b"text/html")]
    sent = await run_asgi(wrap(one_piece(headers, page)), make_scope())
    body = body_of(sent)
    assert content_types(sent) == [b"text/html; charset=utf-8"]
    assert "<p>亜</p>".encode() in body and tracker_held(body)


@pytest.mark.anyio
async def test_an_iso_2022_jp_escape_cannot_hide_a_tracker_inside_an_attribute() -> None:
    # Read byte by byte, the script is inside x='...'. The browser reads the quote after
    # ESC $ B as half of a JIS pair, so alt='...' ends at x=' and the script is live.
    page = b"<p><img alt='\x1b$B'\x1b(B x='>" + TRACKER + b"'></p>"
    headers = [(b"content-type", b"text/html; charset=ISO-2022-JP")]
    sent = await run_asgi(wrap(one_piece(headers, page)), make_scope())
    body = body_of(sent)
    assert body.startswith("<p><img alt='\ufffd x='>".encode())
    assert tracker_held(body)


@pytest.mark.anyio
async def test_a_page_without_a_charset_is_sent_with_the_one_it_was_read_in() -> None:
    # Chromium 156 reads an undeclared page as windows-1252 too (it does not detect
    # UTF-8); the header then also wins over a <meta charset> past the prescan's 1024 bytes.
    headers = [(b"content-type", b"text/html")]
    sent = await run_asgi(wrap(one_piece(headers, b"<p>caf\xe9</p>")), make_scope())
    assert content_types(sent) == [b"text/html; charset=windows-1252"]
    assert b"<p>caf\xe9</p>" in body_of(sent)


@pytest.mark.anyio
async def test_a_page_whose_header_names_its_charset_keeps_its_header_bytes() -> None:
    headers = [(b"content-type", b"text/html; Charset=ISO-8859-1")]
    sent = await run_asgi(wrap(one_piece(headers, b"<p>caf\xe9</p>")), make_scope())
    assert content_types(sent) == [b"text/html; Charset=ISO-8859-1"]


@pytest.mark.anyio
async def test_a_replacement_encoded_page_passes_through_byte_for_byte() -> None:
    page = b"<html><body>" + TRACKER + b"</body></html>"
    headers = [(b"content-type", b"text/html; charset=iso-2022-kr")]
    sent = await run_asgi(wrap(one_piece(headers, page)), make_scope())
    assert body_of(sent) == page
    assert content_types(sent) == [b"text/html; charset=iso-2022-kr"]


@pytest.mark.anyio
async def test_a_first_chunk_shorter_than_a_byte_order_mark_waits_for_the_next() -> None:
    page = ("\ufeff<html><body>" + TRACKER.decode() + "</body></html>").encode("utf-16-le")
    headers = [(b"content-type", b"text/html; charset=utf-8")]
    sent = await run_asgi(wrap(chunked(headers, [page[:1], page[1:]])), make_scope())
    assert content_types(sent) == [b"text/html; charset=utf-8"]
    assert body_of(sent).startswith(b"<html><body>")
    assert tracker_held(body_of(sent))


def test_every_encoding_but_replacement_has_a_python_codec() -> None:
    for name in set(LABELS.values()) - {"replacement"}:
        codecs.lookup(python_codec(name))
    assert python_codec("windows-1252") == "cp1252"
    assert python_codec("ISO-2022-JP") == "utf-8"  # transcoded before it is read


def test_the_encoding_a_settled_page_is_read_in_comes_from_its_content_type() -> None:
    assert sent_encoding(extract_mime_type([b"text/html; charset=Shift_JIS"])) == "cp932"
    assert sent_encoding(extract_mime_type([b"text/html; charset=utf-8"])) == "utf-8"
    assert sent_encoding(extract_mime_type([b"text/html"])) == "utf-8"
    assert sent_encoding(None) == "utf-8"
