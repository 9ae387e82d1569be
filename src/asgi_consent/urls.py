"""URL reading as the WHATWG URL parser does it, before any tracker match.

https://url.spec.whatwg.org/#concept-basic-url-parser: browsers strip control characters
and spaces around a URL, drop tabs and newlines inside it, read a backslash as a slash in
special schemes, take "https:host/x" as a host unless the base has the same scheme,
percent-decode and IDNA-map the host, and remove dot segments. A matcher that reads a URL
any other way can be walked around; this module reads it the browser's way.

Also here: the other readings of attribute values that yield URLs (srcset, meta refresh,
data: bodies). Everything is pure, linear in its input and never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from urllib.parse import unquote

from .attribute_urls import data_url_parts as data_url_parts
from .attribute_urls import meta_refresh_url as meta_refresh_url
from .attribute_urls import srcset_urls as srcset_urls
from .charrefs import decode_attribute as decode_attribute
from .hosts import parse_host

DEFAULT_PORTS: dict[str, int | None] = {
    "http": 80,
    "https": 443,
    "ws": 80,
    "wss": 443,
    "ftp": 21,
    "file": None,
}
NETWORK_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp"})

_C0_OR_SPACE = "".join(map(chr, range(0x21)))
_NO_TAB_OR_NEWLINE = str.maketrans("", "", "\t\n\r")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_SLASHES = re.compile(r"[/\\]")
_SINGLE_DOT = frozenset({".", "%2e"})
_DOUBLE_DOT = frozenset({"..", ".%2e", "%2e.", "%2e%2e"})


def _encode_set(extra: str) -> re.Pattern[str]:
    # Runs of what a percent-encode set names: C0 controls, non-ASCII, and `extra`.
    safe = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in extra)
    return re.compile("[^" + re.escape(safe) + "]+")


_C0_SET = _encode_set("")
_QUERY_SET = _encode_set(' "#<>')
_SPECIAL_QUERY_SET = _encode_set(" \"#<>'")
_PATH_SET = _encode_set(' "#<>?^`{}')
_USERINFO_SET = _encode_set(' "#<>?^`{}/:;=@[\\]|')


def _encode(text: str, encode_set: re.Pattern[str]) -> str:
    return encode_set.sub(_encode_run, text)


def _encode_run(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match.group().encode("utf-8"))


@dataclass(frozen=True, slots=True)
class Url:
    """A parsed URL, fragment dropped (it never changes what is fetched).

    `host` is the host a special URL connects to (domain, IPv4 or "[IPv6]") or the IPv6
    host of another URL; a non-special URL's opaque host is in `opaque_host`.
    """

    scheme: str
    host: str | None
    port: int | None
    path: str
    query: str | None
    username: str = ""
    password: str = ""
    opaque_host: str | None = None

    @property
    def has_opaque_path(self) -> bool:
        """True for URLs like "data:..." or "javascript:...": no host, no "/" path."""
        return self.host is None and self.opaque_host is None and not self.path.startswith("/")

    def href(self) -> str:
        """The URL serializer's output without a fragment: Url("https", "a.b", None,
        "/x", "q").href() == "https://a.b/x?q"."""
        out = [self.scheme, ":"]
        authority = self.host if self.host is not None else self.opaque_host
        if authority is not None:
            out.append("//")
            if self.username or self.password:
                out.append(self.username)
                if self.password:
                    out += [":", self.password]
                out.append("@")
            out.append(authority)
            if self.port is not None:
                out += [":", str(self.port)]
        elif self.path.startswith("//"):
            out.append("/.")  # "web+x:/.//p": without it the path would read as a host
        out.append(self.path)
        if self.query is not None:
            out += ["?", self.query]
        return "".join(out)


def _clean(text: str) -> str:
    if _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)  # a browser's USVString conversion
    text = text.strip(_C0_OR_SPACE)
    if "\t" in text or "\n" in text or "\r" in text:  # (translate costs per character)
        text = text.translate(_NO_TAB_OR_NEWLINE)
    return text


def is_relative(text: str) -> bool:
    r"""True iff parsing `text` against a base takes neither scheme nor host from `text`:
    no scheme and no leading pair of slashes or backslashes after the cleanup the parser
    does ("/x", "x", "?q" are relative; "//h", "/\h", "https:x", "\t/\n/h" are not)."""
    text = _clean(text)
    if _SCHEME.match(text):
        return False
    return not (len(text) > 1 and text[0] in "/\\" and text[1] in "/\\")


def parse_url(text: str, base: Url | None = None) -> Url | None:
    r"""The URL a browser makes of `text` against `base`, or None where it fails (or
    where a host holds a character newer than the stdlib's Unicode database).

    Example: parse_url(r"https:\\WWW.Example.com\a/../b?q#f").href()
    == "https://www.example.com/b?q".
    """
    text = _clean(text)
    head, hash_mark, _ = text.partition("#")
    head, question_mark, raw_query = head.partition("?")
    query = raw_query if question_mark else None
    match = _SCHEME.match(head)
    if match is None:
        if base is None:
            return None
        if base.has_opaque_path:
            return base if text.startswith("#") else None
        if base.scheme == "file":
            return _file(head, query, base)
        return _relative(base.scheme, head, query, base)
    scheme = match.group()[:-1].lower()
    rest = head[match.end() :]
    if scheme == "file":
        return _file(rest, query, base)
    if scheme in DEFAULT_PORTS:
        if base is not None and base.scheme == scheme and not rest.startswith("//"):
            return _relative(scheme, rest, query, base)
        return _authority(scheme, rest.lstrip("/\\"), query)
    if rest.startswith("//"):
        return _authority(scheme, rest[2:], query)
    if rest.startswith("/"):
        return _with_path(Url(scheme, None, None, "", None), [], rest[1:], query)
    if rest.endswith(" ") and (question_mark or hash_mark):
        rest = rest[:-1] + "%20"  # a space right before "?" or "#" would be lost
    return Url(scheme, None, None, _encode(rest, _C0_SET), _query(scheme, query))


def _query(scheme: str, query: str | None) -> str | None:
    if query is None:
        return None
    return _encode(query, _SPECIAL_QUERY_SET if scheme in DEFAULT_PORTS else _QUERY_SET)


def _segments(url: Url) -> list[str]:
    return url.path[1:].split("/") if url.path.startswith("/") else []


def _with_path(authority: Url, segments: list[str], text: str, query: str | None) -> Url:
    """`authority` (scheme, credentials, host, port) with `text` walked onto `segments`."""
    scheme = authority.scheme
    special = scheme in DEFAULT_PORTS
    parts = _SLASHES.split(text) if special else text.split("/")
    last = len(parts) - 1
    for index, raw in enumerate(parts):
        segment = _encode(raw, _PATH_SET)
        lower = segment.lower()
        if lower in _DOUBLE_DOT:
            _shorten(segments, scheme)
            if index == last:
                segments.append("")
        elif lower in _SINGLE_DOT:
            if index == last:
                segments.append("")
        else:
            if scheme == "file" and not segments and _is_drive_letter(segment):
                segment = segment[0] + ":"
            segments.append(segment)
    return Url(
        scheme,
        authority.host,
        authority.port,
        "/" + "/".join(segments) if segments else "",
        _query(scheme, query),
        authority.username,
        authority.password,
        authority.opaque_host,
    )


def _shorten(segments: list[str], scheme: str) -> None:
    if scheme == "file" and len(segments) == 1 and _is_drive_letter(segments[0], ":"):
        return  # "file:///C:/.." stays on the drive
    if segments:
        segments.pop()


def _is_drive_letter(text: str, seconds: str = ":|") -> bool:
    return len(text) == 2 and text[0].isascii() and text[0].isalpha() and text[1] in seconds


def _starts_with_drive_letter(text: str) -> bool:
    return _is_drive_letter(text[:2]) and (len(text) == 2 or text[2] in "/\\")


def _relative(scheme: str, head: str, query: str | None, base: Url) -> Url | None:
    special = scheme in DEFAULT_PORTS
    slashes = "/\\" if special else "/"
    if head[:1] and head[0] in slashes:
        after = head[1:]
        if after[:1] and after[0] in slashes:
            return _authority(scheme, after.lstrip(slashes) if special else after[1:], query)
        return _with_path(base, [], after, query)
    if head:
        segments = _segments(base)
        _shorten(segments, scheme)
        return _with_path(base, segments, head, query)
    return base if query is None else replace(base, query=_query(scheme, query))


def _authority(scheme: str, text: str, query: str | None) -> Url | None:
    special = scheme in DEFAULT_PORTS
    end = _SLASHES.search(text) if special else None
    stop = end.start() if end else (len(text) if special else _find(text, "/"))
    authority, path = text[:stop], text[stop:]
    userinfo, at_sign, hostport = authority.rpartition("@")
    if at_sign and not hostport:
        return None
    host_text, port_text = _split_port(hostport)
    if not host_text and (port_text is not None or special):
        return None
    host = parse_host(host_text, special)
    port = _port(scheme, port_text)
    if host is None or port == -1:
        return None
    username, _, password = userinfo.partition(":")
    name, opaque = host
    start = Url(
        scheme,
        None if opaque else name,
        port,
        "",
        None,
        _encode(username, _USERINFO_SET),
        _encode(password, _USERINFO_SET),
        name if opaque else None,
    )
    if not special and not path:
        return replace(start, query=_query(scheme, query))  # "web+x://h": no path at all
    return _with_path(start, [], path[1:], query)


def _find(text: str, char: str) -> int:
    at = text.find(char)
    return len(text) if at < 0 else at


def _split_port(hostport: str) -> tuple[str, str | None]:
    if "[" not in hostport:
        host, colon, port = hostport.partition(":")
        return host, port if colon else None
    inside = False
    for index, char in enumerate(hostport):
        if char == "[":
            inside = True
        elif char == "]":
            inside = False
        elif char == ":" and not inside:
            return hostport[:index], hostport[index + 1 :]
    return hostport, None


def _port(scheme: str, text: str | None) -> int | None:
    """The port, None for none or the scheme's default, -1 for a port the browser refuses."""
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        return -1
    digits = text.lstrip("0")
    if len(digits) > 5 or int(digits or "0") > 65535:
        return -1
    port = int(digits or "0")
    return None if DEFAULT_PORTS.get(scheme) == port else port


def _file(head: str, query: str | None, base: Url | None) -> Url | None:
    file_base = base if base is not None and base.scheme == "file" else None
    empty = Url("file", "", None, "", None)
    if head[:1] and head[0] in "/\\":
        after = head[1:]
        if after[:1] and after[0] in "/\\":
            return _file_host(after[1:], query)
        segments: list[str] = []
        if file_base is not None:
            empty = Url("file", file_base.host, None, "", None)
            first = _segments(file_base)[:1]
            if not _starts_with_drive_letter(after) and first and _is_drive_letter(first[0], ":"):
                segments = first
        return _with_path(empty, segments, after, query)
    if file_base is None:
        return _with_path(empty, [], head, query)
    if not head:
        return _relative("file", head, query, file_base)
    segments = [] if _starts_with_drive_letter(head) else _segments(file_base)
    if segments:
        _shorten(segments, "file")
    return _with_path(Url("file", file_base.host, None, "", None), segments, head, query)


def _file_host(text: str, query: str | None) -> Url | None:
    end = _SLASHES.search(text)
    stop = end.start() if end else len(text)
    host_text = text[:stop]
    if _is_drive_letter(host_text):
        return _with_path(Url("file", "", None, "", None), [], text, query)
    host = ""
    if host_text:
        parsed = parse_host(host_text, True)
        if parsed is None:
            return None
        host = "" if parsed[0] == "localhost" else parsed[0]
    rest = text[stop + 1 :] if stop < len(text) else ""
    return _with_path(Url("file", host, None, "", None), [], rest, query)


def match_parts(url: Url) -> tuple[str, str] | None:
    """(host, path-and-query) to match catalogue patterns "host/path-prefix" against, both
    lower case and percent-decoded; None for a URL that is not fetched over the network.

    Example: match_parts(parse_url("HTTPS://A.Example./P%41th?Q")) == ("a.example", "/path?q").
    """
    if url.scheme not in NETWORK_SCHEMES or not url.host:
        return None
    target = url.path if url.query is None else url.path + "?" + url.query
    return url.host.rstrip("."), unquote(target, errors="replace").lower()


def data_url_body(text: str) -> tuple[str, bytes] | None:
    """(MIME type essence, body bytes) of a data: URL; None if `text` is not one, its
    base64 is broken or the body passes 4 MB.

    Example: data_url_body("data:text/HTML;base64,PHA+") == ("text/html", b"<p>").
    """
    url = parse_url(text)
    if url is None or url.scheme != "data":
        return None
    return data_url_parts(url.href())


def absolute_url(text: str) -> Url:
    """A URL known to be valid (one of ours), parsed; ValueError if it is not."""
    url = parse_url(text)
    if url is None:
        raise ValueError(f"not an absolute URL: {text!r}")
    return url
