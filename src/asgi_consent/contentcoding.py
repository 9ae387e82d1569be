"""Pages compressed inside the app: read as the browser reads them, sent compressed again.

Compression that runs inside the app (Django's GZipMiddleware in MIDDLEWARE, Litestar's
`compression_config=`, a precompressed file) hands us a compressed page. Passed through
untouched, every tracker in it would run: a page coded with gzip or deflate is decoded
as the browser decodes it, rewritten like any other, and compressed again with the same
coding (each body message flushed, so a streamed page still streams); brotli too when
its package (`brotli` or `brotlicffi`) is installed, as it is wherever an app compresses
with it. Other codings (zstd), brotli without its package, or more than one coding pass
through untouched, and the middleware logs that once (README: "Middleware order with
compression").

A page is decoded one body message at a time, whole: a message can grow by what the
coding allows (deflate about 1,000 times), which is the page the app itself held before
compressing it.
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Sequence
from typing import Any


def _brotli() -> Any | None:
    for name in ("brotli", "brotlicffi"):  # the same Compressor / Decompressor API
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


BROTLI = _brotli()
_BROTLI_ERROR: type[Exception] = BROTLI.error if BROTLI is not None else Exception
# Codings we decode: zlib's window bits (gzip: its header; deflate: zlib's); 0: brotli.
READABLE = {b"gzip": 31, b"x-gzip": 31, b"deflate": 15, **({b"br": 0} if BROTLI else {})}
_LEVEL = 6  # zlib's default: most of level 9's size for a fraction of its time
_BROTLI_QUALITY = 5  # what brotli-asgi and most servers use for dynamic pages


# The content codings a browser decodes (Chromium: br, deflate, gzip, x-gzip, zstd).
BROWSER_CODINGS = frozenset({b"br", b"deflate", b"gzip", b"x-gzip", b"zstd"})


def codings(values: Sequence[bytes]) -> list[bytes]:
    """The content codings named in Content-Encoding `values`, lower case, in order."""
    named = (value.strip(b" \t").lower() for value in b",".join(values).split(b","))
    return [coding for coding in named if coding]


def decoded(named: Sequence[bytes]) -> bool:
    """Whether a browser decodes a body sent in these `codings` (a body we cannot read as
    it comes). Chromium decodes only when every coding named is one it knows; any other
    ("identity", "none", a charset such as "UTF-8") and it renders the bytes as they
    are, which we then read like any page's."""
    return bool(named) and all(coding in BROWSER_CODINGS for coding in named)


def readable_coding(named: Sequence[bytes]) -> bytes | None:
    """The one coding we decode, when `named` (see `codings`) holds it alone, else None."""
    return named[0] if len(named) == 1 and named[0] in READABLE else None


class Inflater:
    """A page's body, decoded as it streams. HTTP's "deflate" is zlib-wrapped; a raw
    deflate stream, which browsers read too, is recognised by its first two bytes. Once
    the data is corrupt, nothing more comes out (the browser shows nothing past it)."""

    __slots__ = ("_coding", "_zlib", "_brotli", "_head", "_failed")

    def __init__(self, coding: bytes) -> None:
        self._coding = coding
        self._zlib: zlib._Decompress | None = None
        self._brotli: Any = BROTLI.Decompressor() if READABLE[coding] == 0 and BROTLI else None
        self._head = b""
        self._failed = False

    def feed(self, data: bytes, final: bool) -> bytes:
        if self._failed:
            return b""
        if self._brotli is not None:
            try:
                out: bytes = self._brotli.process(data)
            except _BROTLI_ERROR:
                self._failed = True
                return b""
            return out
        if self._zlib is None:
            data = self._head + data
            if len(data) < 2 and not final:
                self._head = data
                return b""
            self._zlib = zlib.decompressobj(self._window(data))
        try:
            out = self._zlib.decompress(data)
            if final:
                out += self._zlib.flush()
        except zlib.error:
            self._failed = True
            return b""
        return out

    def _window(self, start: bytes) -> int:
        bits = READABLE[self._coding]
        if bits == 15 and len(start) >= 2:
            header = start[0] * 256 + start[1]
            if start[0] & 0x0F != 8 or header % 31 != 0:
                return -15  # raw deflate, without zlib's header
        return bits


class Deflater:
    """Our output compressed again with the page's coding, each message flushed."""

    __slots__ = ("_zlib", "_brotli")

    def __init__(self, coding: bytes) -> None:
        bits = READABLE[coding]
        self._brotli: Any = None
        self._zlib: zlib._Compress | None = None
        if bits == 0 and BROTLI is not None:
            self._brotli = BROTLI.Compressor(quality=_BROTLI_QUALITY)
        else:
            self._zlib = zlib.compressobj(_LEVEL, zlib.DEFLATED, bits)

    def feed(self, data: bytes, final: bool) -> bytes:
        if self._brotli is not None:
            out: bytes = self._brotli.process(data)
            tail: bytes = self._brotli.finish() if final else self._brotli.flush()
            return out + tail
        assert self._zlib is not None
        out = self._zlib.compress(data)
        return out + self._zlib.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)
