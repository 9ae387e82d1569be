"""Which encoding a browser reads a page in, and a streaming transcoder for the few
encodings our byte-level scanner cannot read.

The rewriter works on bytes and is sound only where every ASCII byte means that ASCII
character. The WHATWG Encoding standard has four encodings where that fails: UTF-16LE,
UTF-16BE, ISO-2022-JP and replacement. Pages in the first three are transcoded to UTF-8
(`Transcoder`) and sent as `charset=utf-8`. A replacement page renders as a single
U+FFFD (no markup at all), so it can pass through untouched.
"""

from __future__ import annotations

import re

from .mime import (
    HTML_TYPES,
    ContentTypes,
    MimeType,
    extract_mime_type,
    sniffs_as_html,
    with_charset,
)
from .transcoding import Transcoder as Transcoder

# The Encoding standard's label table (encoding.spec.whatwg.org/encodings.json): each
# encoding's name, then its labels. Labels match after ASCII lower-casing and trimming.
_ENCODINGS: dict[str, str] = {
    "UTF-8": "unicode-1-1-utf-8 unicode11utf8 unicode20utf8 utf-8 utf8 x-unicode20utf8",
    "IBM866": "866 cp866 csibm866 ibm866",
    "ISO-8859-2": "csisolatin2 iso-8859-2 iso-ir-101 iso8859-2 iso88592 iso_8859-2"
    " iso_8859-2:1987 l2 latin2",
    "ISO-8859-3": "csisolatin3 iso-8859-3 iso-ir-109 iso8859-3 iso88593 iso_8859-3"
    " iso_8859-3:1988 l3 latin3",
    "ISO-8859-4": "csisolatin4 iso-8859-4 iso-ir-110 iso8859-4 iso88594 iso_8859-4"
    " iso_8859-4:1988 l4 latin4",
    "ISO-8859-5": "csisolatincyrillic cyrillic iso-8859-5 iso-ir-144 iso8859-5 iso88595"
    " iso_8859-5 iso_8859-5:1988",
    "ISO-8859-6": "arabic asmo-708 csiso88596e csiso88596i csisolatinarabic ecma-114"
    " iso-8859-6 iso-8859-6-e iso-8859-6-i iso-ir-127 iso8859-6 iso88596 iso_8859-6"
    " iso_8859-6:1987",
    "ISO-8859-7": "csisolatingreek ecma-118 elot_928 greek greek8 iso-8859-7 iso-ir-126"
    " iso8859-7 iso88597 iso_8859-7 iso_8859-7:1987 sun_eu_greek",
    "ISO-8859-8": "csiso88598e csisolatinhebrew hebrew iso-8859-8 iso-8859-8-e iso-ir-138"
    " iso8859-8 iso88598 iso_8859-8 iso_8859-8:1988 visual",
    "ISO-8859-8-I": "csiso88598i iso-8859-8-i logical",
    "ISO-8859-10": "csisolatin6 iso-8859-10 iso-ir-157 iso8859-10 iso885910 l6 latin6",
    "ISO-8859-13": "iso-8859-13 iso8859-13 iso885913",
    "ISO-8859-14": "iso-8859-14 iso8859-14 iso885914",
    "ISO-8859-15": "csisolatin9 iso-8859-15 iso8859-15 iso885915 iso_8859-15 l9",
    "ISO-8859-16": "iso-8859-16",
    "KOI8-R": "cskoi8r koi koi8 koi8-r koi8_r",
    "KOI8-U": "koi8-ru koi8-u",
    "macintosh": "csmacintosh mac macintosh x-mac-roman",
    "windows-874": "dos-874 iso-8859-11 iso8859-11 iso885911 tis-620 windows-874",
    "windows-1250": "cp1250 windows-1250 x-cp1250",
    "windows-1251": "cp1251 windows-1251 x-cp1251",
    "windows-1252": "ansi_x3.4-1968 ascii cp1252 cp819 csisolatin1 ibm819 iso-8859-1"
    " iso-ir-100 iso8859-1 iso88591 iso_8859-1 iso_8859-1:1987 l1 latin1 us-ascii"
    " windows-1252 x-cp1252",
    "windows-1253": "cp1253 windows-1253 x-cp1253",
    "windows-1254": "cp1254 csisolatin5 iso-8859-9 iso-ir-148 iso8859-9 iso88599 iso_8859-9"
    " iso_8859-9:1989 l5 latin5 windows-1254 x-cp1254",
    "windows-1255": "cp1255 windows-1255 x-cp1255",
    "windows-1256": "cp1256 windows-1256 x-cp1256",
    "windows-1257": "cp1257 windows-1257 x-cp1257",
    "windows-1258": "cp1258 windows-1258 x-cp1258",
    "x-mac-cyrillic": "x-mac-cyrillic x-mac-ukrainian",
    "GBK": "chinese csgb2312 csiso58gb231280 gb2312 gb_2312 gb_2312-80 gbk iso-ir-58 x-gbk",
    "gb18030": "gb18030",
    "Big5": "big5 big5-hkscs cn-big5 csbig5 x-x-big5",
    "EUC-JP": "cseucpkdfmtjapanese euc-jp x-euc-jp",
    "ISO-2022-JP": "csiso2022jp iso-2022-jp",
    "Shift_JIS": "csshiftjis ms932 ms_kanji shift-jis shift_jis sjis windows-31j x-sjis",
    "EUC-KR": "cseuckr csksc56011987 euc-kr iso-ir-149 korean ks_c_5601-1987 ks_c_5601-1989"
    " ksc5601 ksc_5601 windows-949",
    "replacement": "csiso2022kr hz-gb-2312 iso-2022-cn iso-2022-cn-ext iso-2022-kr replacement",
    "UTF-16BE": "unicodefffe utf-16be",
    "UTF-16LE": "csunicode iso-10646-ucs-2 ucs-2 unicode unicodefeff utf-16 utf-16le",
    "x-user-defined": "x-user-defined",
}
LABELS: dict[str, str] = {
    label: name for name, labels in _ENCODINGS.items() for label in labels.split()
}
# Where an ASCII byte may not mean that ASCII character (the HTML standard's complement
# of "ASCII-compatible encoding"). replacement is among them but needs no transcoding.
TRANSCODED = frozenset({"UTF-16LE", "UTF-16BE", "ISO-2022-JP"})
_ASCII_WHITESPACE = b"\t\n\x0c\r "
PRESCAN_BYTES = 1024


def encoding_for_label(label: bytes | str) -> str | None:
    """The encoding a label names ("latin1" -> "windows-1252"), None for no encoding."""
    raw = label.encode("latin-1", "replace") if isinstance(label, str) else label
    return LABELS.get(raw.strip(_ASCII_WHITESPACE).lower().decode("latin-1"))


def bom_encoding(data: bytes) -> str | None:
    """The encoding a byte order mark at the start of `data` names; it beats every label."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "UTF-8"
    if data.startswith(b"\xfe\xff"):
        return "UTF-16BE"
    if data.startswith(b"\xff\xfe"):
        return "UTF-16LE"
    return None


def body_encoding(content_type: bytes, first_bytes: bytes) -> tuple[str, bool]:
    """(WHATWG encoding name, needs transcoding) of a page, decided as a browser does.

    `content_type` is the response's Content-Type (several headers joined with ", "),
    `first_bytes` the start of its body. A byte order mark wins; then a charset label
    in the header; then, for HTML, the prescan of the first 1024 bytes for a `<meta>`
    charset (for XML, the XML declaration); else windows-1252 (HTML) or UTF-8 (XML).

    >>> body_encoding(b"text/html; charset=utf-8", b"\\xff\\xfe<\\x00")
    ('UTF-16LE', True)
    """
    return _body_encoding(extract_mime_type([content_type]) if content_type else None, first_bytes)


def _body_encoding(mime: MimeType | None, first_bytes: bytes) -> tuple[str, bool]:
    """`body_encoding`, given the MIME type extracted from the Content-Type."""
    encoding = bom_encoding(first_bytes)
    if encoding is None and mime is not None and "charset" in mime.parameters:
        encoding = encoding_for_label(mime.parameters["charset"])
    if encoding is None:
        if mime is not None and mime.essence == "application/xhtml+xml":
            head = first_bytes[:PRESCAN_BYTES]
            encoding = _utf16_xml_declaration(head) or xml_encoding(head) or "UTF-8"
        else:
            encoding = prescan(first_bytes[:PRESCAN_BYTES]) or "windows-1252"
    return encoding, encoding in TRANSCODED


def page_charset(
    headers: list[tuple[bytes, bytes]],
    first_bytes: bytes,
    *,
    sniff: bool,
    complete: bool,
    types: ContentTypes | None = None,
) -> tuple[bytes | None, Transcoder | None] | None:
    """How to send a page we may rewrite, from its headers and first body bytes.

    None: pass it through untouched (no type, and it does not sniff as HTML; or its
    encoding is replacement, which renders as one U+FFFD whatever the bytes say).
    Otherwise (a Content-Type to write, or None to keep the app's; a `Transcoder` to
    UTF-8, or None). The Content-Type names the charset we read the page in whenever
    the app's does not, so the browser cannot guess another one (a `<meta>` further
    down, or its own detection) and read markup we did not. `types` remembers what
    Content-Type values mean, if given.
    """
    if sniff and not sniffs_as_html(first_bytes, complete=complete):
        return None
    values = [value for key, value in headers if key == b"content-type"]
    mime = types.of(values) if types is not None else extract_mime_type(values)
    encoding, transcode = _body_encoding(mime, first_bytes)
    if encoding == "replacement":
        return None
    target = "UTF-8" if transcode else encoding
    # Sniffed, or HTML only in Chromium's reading of the type ("text/html x"): ours is
    # written in place of the app's, so every browser reads the type we read.
    declared = None
    if not sniff and mime is not None and mime.essence in HTML_TYPES:
        declared = mime.parameters.get("charset")
    # A page that names no encoding is pinned to the one we read it in (windows-1252 for
    # HTML): the browser's own default, and a header wins over a <meta charset> that
    # Chromium would still honour past the 1024 bytes the standard's prescan reads.
    content_type = None
    if declared is None or encoding_for_label(declared) != target:
        content_type = with_charset(values, target.lower())
    return content_type, Transcoder(encoding) if transcode else None


# Python's codec for each encoding the rewriter reads (transcoded ones arrive as UTF-8),
# for decoding attribute values before URLs are matched. Close, not exact: where the two
# differ it is on bytes that decode to no ASCII either way. x-user-defined has no codec;
# Latin-1 maps more bytes to letters a URL parser may fold to ASCII, never fewer.
_PYTHON_CODECS = {
    "UTF-8": "utf-8", "IBM866": "cp866", "ISO-8859-8-I": "iso8859-8", "KOI8-R": "koi8-r",
    "KOI8-U": "koi8-u", "macintosh": "mac-roman", "windows-874": "cp874",
    "x-mac-cyrillic": "mac-cyrillic", "GBK": "gb18030", "gb18030": "gb18030",
    "Big5": "big5hkscs", "EUC-JP": "euc-jp", "Shift_JIS": "cp932", "EUC-KR": "cp949",
    "x-user-defined": "latin-1", "UTF-16LE": "utf-8", "UTF-16BE": "utf-8",
    "ISO-2022-JP": "utf-8",
}  # fmt: skip


def python_codec(encoding: str) -> str:
    """The Python codec that reads `encoding` (a WHATWG name) as a browser does."""
    if encoding.startswith("ISO-8859-") and encoding != "ISO-8859-8-I":
        return "iso8859-" + encoding[len("ISO-8859-") :]
    if encoding.startswith("windows-125"):
        return "cp" + encoding[len("windows-") :]
    return _PYTHON_CODECS.get(encoding, "utf-8")


def sent_encoding(mime: MimeType | None) -> str:
    """The Python codec of a page the responder has settled (`page_charset` applied),
    given its MIME type: its charset then names the encoding its bytes are in."""
    label = mime.parameters.get("charset") if mime is not None else None
    return python_codec(encoding_for_label(label) or "UTF-8") if label else "utf-8"


# -- the HTML standard's "prescan a byte stream to determine its encoding" -------------

_META = re.compile(rb"<meta[\t\n\x0c\r /]", re.IGNORECASE)
_TAG = re.compile(rb"</?[A-Za-z]")
_TAG_NAME_END = re.compile(rb"[\t\n\x0c\r >]")
_SPACES = re.compile(rb"[\t\n\x0c\r ]*")
_CHARSET_IN_CONTENT = re.compile(rb"charset[\t\n\x0c\r ]*=[\t\n\x0c\r ]*", re.IGNORECASE)
_LABEL_END = re.compile(rb"[\t\n\x0c\r ;]")


class _OutOfBytes(Exception):
    """The prescan needed a byte past the end: it ends without a <meta> answer."""


def prescan(data: bytes) -> str | None:
    """The encoding a `<meta>` (or an XML declaration) in `data` declares, step for step
    as the HTML standard's prescan; None when it declares none."""
    found = _utf16_xml_declaration(data)
    if found is None:
        try:
            found = _scan(data)
        except _OutOfBytes:
            found = None
    return found or xml_encoding(data)


def _utf16_xml_declaration(data: bytes) -> str | None:
    if data.startswith(b"<\x00?\x00x\x00"):
        return "UTF-16LE"
    if data.startswith(b"\x00<\x00?\x00x"):
        return "UTF-16BE"
    return None


def _scan(data: bytes) -> str | None:
    position = 0
    while position < len(data):
        if data.startswith(b"<!--", position):
            position = _find(data, b"-->", position + 2) + 2
        elif _META.match(data, position):
            found, position = _meta_charset(data, position + 5)
            if found is not None:
                return found
        elif _TAG.match(data, position):
            stop = _TAG_NAME_END.search(data, position)
            if stop is None:
                raise _OutOfBytes
            name, _, position = _get_attribute(data, stop.start())
            while name is not None:
                name, _, position = _get_attribute(data, position)
        elif data.startswith((b"<!", b"</", b"<?"), position):
            position = _find(data, b">", position)
        position += 1
    return None


def _find(data: bytes, what: bytes, start: int) -> int:
    found = data.find(what, start)
    if found < 0:
        raise _OutOfBytes
    return found


def _meta_charset(data: bytes, position: int) -> tuple[str | None, int]:
    """Steps for one `<meta`: (the encoding it declares or None, where its attributes end)."""
    seen: set[bytes] = set()
    got_pragma = False
    need_pragma: bool | None = None
    charset: str | None = None
    charset_failed = False  # "failure" is not "null": a later content= may not fill it
    while True:
        name, value, position = _get_attribute(data, position)
        if name is None:
            break
        if name in seen:
            continue
        seen.add(name)
        if name == b"http-equiv":
            got_pragma = value == b"content-type"
        elif name == b"content":
            extracted = _charset_from_content(value)
            if extracted is not None and charset is None and not charset_failed:
                charset, need_pragma = extracted, True
        elif name == b"charset":
            charset = encoding_for_label(value)
            charset_failed = charset is None
            need_pragma = False
    if need_pragma is None or (need_pragma and not got_pragma) or charset is None:
        return None, position
    if charset in ("UTF-16BE", "UTF-16LE"):
        return "UTF-8", position
    if charset == "x-user-defined":
        return "windows-1252", position
    return charset, position


def _get_attribute(data: bytes, position: int) -> tuple[bytes | None, bytes, int]:
    """The standard's "get an attribute": (lower-case name, value, position after it);
    the name is None when there is no attribute (a `>`)."""
    end = len(data)
    while position < end and data[position] in b"\t\n\x0c\r /":
        position += 1
    if position >= end:
        raise _OutOfBytes
    if data[position] == 0x3E:
        return None, b"", position
    start = position
    while True:
        if position >= end:
            raise _OutOfBytes
        byte = data[position]
        if byte == 0x3D and position > start:  # "=" after at least one name byte
            name = data[start:position].lower()
            position += 1
            break
        if byte in _ASCII_WHITESPACE:
            name = data[start:position].lower()
            position = _SPACES.match(data, position).end()  # type: ignore[union-attr]
            if position >= end:
                raise _OutOfBytes
            if data[position] != 0x3D:
                return name, b"", position
            position += 1
            break
        if byte in b"/>":
            return data[start:position].lower(), b"", position
        position += 1
    return _attribute_value(data, _SPACES.match(data, position).end(), name)  # type: ignore[union-attr]


def _attribute_value(data: bytes, position: int, name: bytes) -> tuple[bytes, bytes, int]:
    if position >= len(data):
        raise _OutOfBytes
    quote = data[position]
    if quote in b"\"'":
        close = _find(data, bytes((quote,)), position + 1)
        return name, data[position + 1 : close].lower(), close + 1
    if quote == 0x3E:
        return name, b"", position
    stop = _TAG_NAME_END.search(data, position + 1)
    if stop is None:
        raise _OutOfBytes
    return name, data[position : stop.start()].lower(), stop.start()


def _charset_from_content(value: bytes) -> str | None:
    """The standard's "extracting a character encoding from a meta element"."""
    found = _CHARSET_IN_CONTENT.search(value)
    if found is None:
        return None
    rest = value[found.end() :]
    if rest[:1] in (b'"', b"'"):
        close = rest.find(rest[:1], 1)
        return encoding_for_label(rest[1:close]) if close > 0 else None
    return encoding_for_label(_LABEL_END.split(rest, maxsplit=1)[0]) if rest else None


def xml_encoding(data: bytes) -> str | None:
    """The standard's "get an XML encoding": `<?xml ... encoding="...">` at the very start."""
    if not data.startswith(b"<?xml"):
        return None
    declaration = data[: max(data.find(b">"), 0)]
    at = declaration.find(b"encoding")
    if at < 0:
        return None
    position = _skip_controls(declaration, at + 8)
    if declaration[position : position + 1] != b"=":
        return None
    position = _skip_controls(declaration, position + 1)
    quote = declaration[position : position + 1]
    if quote not in (b'"', b"'"):
        return None
    close = declaration.find(quote, position + 1)
    label = declaration[position + 1 : close]
    if close < 0 or any(byte <= 0x20 for byte in label):
        return None
    encoding = encoding_for_label(label)
    return "UTF-8" if encoding in ("UTF-16BE", "UTF-16LE") else encoding


def _skip_controls(data: bytes, position: int) -> int:
    while position < len(data) and data[position] <= 0x20:
        position += 1
    return position
