"""Streaming a page from an encoding our byte-level scanner cannot read to UTF-8."""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable

_PYTHON_CODECS = {"UTF-16LE": "utf-16-le", "UTF-16BE": "utf-16-be"}


class Transcoder:
    """Streams a body from UTF-16LE, UTF-16BE or ISO-2022-JP to UTF-8 in constant memory.

    ::

        transcoder = Transcoder("UTF-16LE")
        out = transcoder.feed(chunk) + transcoder.feed(last, final=True)

    Malformed input becomes U+FFFD, as in the browser; a leading byte order mark is
    dropped. The output is what the browser will parse, so the rewriter reads exactly
    what the visitor's browser reads.
    """

    def __init__(self, encoding: str) -> None:
        self._decode: Callable[[bytes, bool], str]
        if encoding == "ISO-2022-JP":
            self._decode = Iso2022JpDecoder().decode
        else:
            decoder = codecs.getincrementaldecoder(_PYTHON_CODECS[encoding])("replace")
            self._decode = decoder.decode
        self._at_start = True

    def feed(self, data: bytes, final: bool = False) -> bytes:
        text = self._decode(data, final)
        if self._at_start and text:
            self._at_start = False
            text = text.removeprefix("\ufeff")
        return text.encode("utf-8")


_ASCII, _ROMAN, _KATAKANA, _LEAD, _TRAIL, _ESCAPE_START, _ESCAPE = range(7)
_ESCAPES = {
    (0x28, 0x42): _ASCII,
    (0x28, 0x4A): _ROMAN,
    (0x28, 0x49): _KATAKANA,
    (0x24, 0x40): _LEAD,
    (0x24, 0x42): _LEAD,
}
_ASCII_RUN = re.compile(rb"[\x00-\x0d\x10-\x1a\x1c-\x7f]+")


class Iso2022JpDecoder:
    """The Encoding standard's ISO-2022-JP decoder, fed in pieces.

    Its jis0208 index is the one the Shift_JIS decoder uses, so a pair is read by
    turning its pointer into Shift_JIS bytes for Python's cp932 codec."""

    def __init__(self) -> None:
        self._state = self._output_state = _ASCII
        self._lead = 0
        self._output = False

    def decode(self, data: bytes, final: bool = False) -> str:
        out: list[str] = []
        restored: list[int] = []  # bytes put back in front of the queue, last first
        position, end = 0, len(data)
        while True:
            if restored:
                byte: int | None = restored.pop()
            elif position < end:
                if self._state == _ASCII:  # the common case, a run at a time
                    run = _ASCII_RUN.match(data, position)
                    if run is not None:
                        out.append(run.group().decode("ascii"))
                        self._output = False
                        position = run.end()
                        continue
                byte = data[position]
                position += 1
            elif final:
                byte = None  # end of queue
            else:
                break
            step = self._step(byte, restored)
            if step:
                out.append(step)
            if byte is None and not restored:
                break
        return "".join(out)

    def _step(self, byte: int | None, restored: list[int]) -> str:
        state = self._state
        if state == _ESCAPE_START:
            if byte in (0x24, 0x28):
                self._lead, self._state = byte, _ESCAPE
                return ""
            if byte is not None:
                restored.append(byte)
            self._output, self._state = False, self._output_state
            return "\ufffd"
        if state == _ESCAPE:
            return self._escape(byte, restored)
        if byte is None:
            if state == _TRAIL:
                self._state = _LEAD
                return "\ufffd"
            return ""
        if byte == 0x1B:
            self._state = _ESCAPE_START
            return "\ufffd" if state == _TRAIL else ""
        if state == _TRAIL:
            self._state = _LEAD
            return _jis0208(self._lead, byte) if 0x21 <= byte <= 0x7E else "\ufffd"
        self._output = False
        return self._character(state, byte)

    def _character(self, state: int, byte: int) -> str:
        if byte in (0x0E, 0x0F) or byte > 0x7F:
            return "\ufffd"
        if state == _ASCII:
            return chr(byte)
        if state == _ROMAN:
            return {0x5C: "\u00a5", 0x7E: "\u203e"}.get(byte, chr(byte))
        if state == _KATAKANA:
            return chr(0xFF61 - 0x21 + byte) if 0x21 <= byte <= 0x5F else "\ufffd"
        if 0x21 <= byte <= 0x7E:  # lead byte
            self._lead, self._state = byte, _TRAIL
            return ""
        return "\ufffd"

    def _escape(self, byte: int | None, restored: list[int]) -> str:
        lead, self._lead = self._lead, 0
        state = _ESCAPES.get((lead, byte if byte is not None else -1))
        if state is not None:
            self._state = self._output_state = state
            was, self._output = self._output, True
            return "\ufffd" if was else ""
        if byte is not None:
            restored.append(byte)
        restored.append(lead)
        self._output, self._state = False, self._output_state
        return "\ufffd"


def _jis0208(lead: int, trail: int) -> str:
    pointer = (lead - 0x21) * 94 + trail - 0x21
    row, cell = divmod(pointer, 188)
    sjis = bytes((row + (0x81 if row < 0x1F else 0xC1), cell + (0x40 if cell < 0x3F else 0x41)))
    return sjis.decode("cp932", "replace")
