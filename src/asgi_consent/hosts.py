"""The WHATWG host parser: what host a browser connects to for the host part of a URL.

https://url.spec.whatwg.org/#host-parsing. A special URL's host is percent-decoded, mapped
the way UTS #46 maps it (fullwidth letters fold to ASCII, U+3002 is a dot, ...), then read
as an IPv4 address when its last label is a number. `urls.py` is the only caller.

Stdlib only: the IDNA mapping is approximated with `unicodedata` (NFKC and case folding,
which is how UTS #46 derives its table). A code point the stdlib's Unicode database does not
know could map to anything in a newer browser, so a host containing one fails to parse:
None means "cannot tell" as well as "the browser refuses it".
"""

from __future__ import annotations

import re
import unicodedata

# Host code points a URL can never carry; domains also refuse C0 controls, '%' and DEL.
_FORBIDDEN_HOST = frozenset("\x00\t\n\r #/:<>?@[\\]^|")
_FORBIDDEN_DOMAIN = _FORBIDDEN_HOST | frozenset(map(chr, range(0x20))) | {"%", "\x7f"}
_PERCENT_BYTE = re.compile(rb"%([0-9A-Fa-f]{2})")
_NOT_C0_SAFE = re.compile("[^\x20-\x7e]+")
_LONGEST_LABEL = 63
_DIGITS = "abcdefghijklmnopqrstuvwxyz0123456789"
_DOTS = str.maketrans("\u3002\uff0e\uff61", "...")
# UTS #46 non-transitional processing keeps these four as they are (browsers agree).
_DEVIATIONS = frozenset("\u00df\u03c2\u200c\u200d")
# UTS #46 "ignored": removed before anything else looks at the label.
_IGNORED = frozenset(
    "\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f\u200b"
    "\u2060\u2061\u2062\u2063\u2064\u206a\u206b\u206c\u206d\u206e\u206f"
    "\u3164\ufeff\uffa0"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "\U0001bca0\U0001bca1\U0001bca2\U0001bca3"
    + "".join(map(chr, range(0x1D173, 0x1D17B)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)
_DISALLOWED_CATEGORIES = frozenset({"Cn", "Co", "Cs", "Cc", "Cf", "Zs", "Zl", "Zp"})
# Mapped by NFKC but disallowed by UTS #46 (ideographic description characters).
_DISALLOWED = frozenset([*map(chr, range(0x2FF0, 0x3000)), "\ufffc", "\ufffd"])
# Newer than the stdlib's Unicode database and mapped to ASCII by UTS #46 (Unicode 16, 17):
# without them "outlined" letters would spell a tracker's host that we read as a failure.
_NEWER_TO_ASCII = {
    **{chr(0x1CCD6 + i): chr(0x61 + i) for i in range(26)},
    **{chr(0x1CCF0 + i): chr(0x30 + i) for i in range(10)},
    "\ua7f1": "s",
}


def percent_encode_c0(text: str) -> str:
    """`text` with C0 controls and everything above U+007E percent-encoded as UTF-8."""
    return _NOT_C0_SAFE.sub(_encode_match, text)


def _encode_match(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match.group().encode("utf-8", "surrogatepass"))


def parse_host(text: str, special: bool) -> tuple[str, bool] | None:
    """(serialized host, opaque?) for the host part of a URL, or None where the browser fails.

    Example: parse_host("WWW%2Eexample\u3002com", True) == ("www.example.com", False).
    """
    if text.startswith("["):
        if not text.endswith("]"):
            return None
        pieces = parse_ipv6(text[1:-1])
        return None if pieces is None else ("[" + serialize_ipv6(pieces) + "]", False)
    if not special:
        if not _FORBIDDEN_HOST.isdisjoint(text):
            return None
        return percent_encode_c0(text), True
    raw = _PERCENT_BYTE.sub(lambda m: bytes([int(m.group(1), 16)]), text.encode("utf-8"))
    domain = domain_to_ascii(raw.decode("utf-8", "replace"))
    if domain is None or not _FORBIDDEN_DOMAIN.isdisjoint(domain):
        return None
    if _ends_in_number(domain):
        address = parse_ipv4(domain)
        return None if address is None else (_serialize_ipv4(address), False)
    return domain, False


def domain_to_ascii(domain: str) -> str | None:
    """UTS #46 ToASCII as the URL standard calls it (no hyphen or DNS length checks)."""
    if domain.isascii():
        # Browsers (and ada) lower-case an ASCII domain without validating xn-- labels.
        return domain.lower() or None
    mapped = _uts46_map(domain.translate(_DOTS))
    if mapped is None:
        return None
    # The validity checks (Bidi, joiners, xn-- labels) only turn a non-ASCII label into a
    # failure; we keep the label instead: it can never spell a catalogued host.
    return ".".join(map(_label_to_ascii, mapped.split("."))) or None


def _label_to_ascii(label: str) -> str:
    if label.isascii():
        return label
    # NFC cannot cross a dot, so label by label is the same; it and punycode are quadratic
    # in the worst case, so only labels a DNS name can carry (63 octets) are encoded.
    if len(label) <= 4 * _LONGEST_LABEL:
        label = unicodedata.normalize("NFC", label)
        if len(label) <= _LONGEST_LABEL:
            return "xn--" + punycode(label)
    # Names no server: keep its ASCII, which the forbidden code point check still reads.
    return "xn--" + "".join(ch for ch in label if ch < "\x80") + "-"


def punycode(label: str) -> str:
    """RFC 3492 Punycode of one label (what the stdlib codec gives, five times faster)."""
    codes = [ord(ch) for ch in label]
    out = [ch for ch in label if ch < "\x80"]
    handled = basic = len(out)
    if basic:
        out.append("-")
    n, delta, bias = 128, 0, 72
    for m in sorted({code for code in codes if code >= 128}):
        delta += (m - n) * (handled + 1)
        n = m
        for code in codes:
            if code < n:
                delta += 1
            elif code == n:
                q, k = delta, 36
                while True:
                    t = 1 if k <= bias + 1 else 26 if k >= bias + 26 else k - bias
                    if q < t:
                        break
                    out.append(_DIGITS[t + (q - t) % (36 - t)])
                    q, k = (q - t) // (36 - t), k + 36
                out.append(_DIGITS[q])
                bias = _adapt(delta, handled + 1, handled == basic)
                delta, handled = 0, handled + 1
        delta, n = delta + 1, n + 1
    return "".join(out)


def _adapt(delta: int, points: int, first: bool) -> int:
    delta = delta // 700 if first else delta // 2
    delta += delta // points
    k = 0
    while delta > 455:
        delta, k = delta // 35, k + 36
    return k + 36 * delta // (delta + 38)


def _uts46_map(domain: str) -> str | None:
    out = []
    for ch in domain:
        if ch in _DEVIATIONS or ch < "\x80":
            out.append(ch.lower())
        elif ch in _IGNORED:
            continue
        elif ch in _NEWER_TO_ASCII:
            out.append(_NEWER_TO_ASCII[ch])
        elif ch in _DISALLOWED or unicodedata.category(ch) in _DISALLOWED_CATEGORIES:
            return None
        elif ch == "\u1e9e":
            out.append("\u00df")  # capital sharp s folds to the deviation, not to "ss"
        else:
            mapped = _fold(ch)
            if "." in mapped.translate(_DOTS):
                return None  # e.g. U+2488 "1." would move a label boundary: disallowed
            out.append(mapped)
    return "".join(out)


def _fold(ch: str) -> str:
    # NFKC_Casefold, which UTS #46 derives its mappings from, reached by iteration.
    folded = unicodedata.normalize("NFKC", ch)
    for _ in range(3):
        again = unicodedata.normalize("NFKC", folded.casefold())
        if again == folded:
            break
        folded = again
    return folded


def _ends_in_number(domain: str) -> bool:
    parts = domain.split(".")
    if parts[-1] == "":
        if len(parts) == 1:
            return False
        parts.pop()
    last = parts[-1]
    if last and all("0" <= ch <= "9" for ch in last):
        return True
    return _ipv4_number(last) is not None


def _ipv4_number(part: str) -> int | None:
    if not part:
        return None
    radix, digits = 10, part
    if part[:2] in ("0x", "0X"):
        radix, digits = 16, part[2:]
    elif len(part) > 1 and part[0] == "0":
        radix, digits = 8, part[1:]
    if not digits:
        return 0
    allowed = "0123456789abcdefABCDEF"[: 22 if radix == 16 else radix]
    if any(ch not in allowed for ch in digits):
        return None
    digits = digits.lstrip("0")
    # Past 20 digits any value is far beyond an address: skip the big-number work.
    return 1 << 64 if len(digits) > 20 else int(digits or "0", radix)


def parse_ipv4(text: str) -> int | None:
    """The 32-bit address of a WHATWG IPv4 host ("0x7f.1" is 127.0.0.1), or None."""
    parts = text.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if len(parts) > 4:
        return None
    numbers = [_ipv4_number(part) for part in parts]
    if None in numbers:
        return None
    values = [n for n in numbers if n is not None]
    if any(n > 255 for n in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        return None
    address = values[-1]
    for index, n in enumerate(values[:-1]):
        address += n << (8 * (3 - index))
    return address


def _serialize_ipv4(address: int) -> str:
    return ".".join(str((address >> shift) & 0xFF) for shift in (24, 16, 8, 0))


def parse_ipv6(text: str) -> list[int] | None:
    """The eight 16-bit pieces of a WHATWG IPv6 address (without brackets), or None."""
    pieces = [0] * 8
    index, compress, at, end = 0, None, 0, len(text)
    if text.startswith(":"):
        if not text.startswith("::"):
            return None
        at, index, compress = 2, 1, 1
    while at < end:
        if index == 8:
            return None
        if text[at] == ":":
            if compress is not None:
                return None
            at, index, compress = at + 1, index + 1, index + 1
            continue
        start = at
        while at < end and at - start < 4 and text[at] in "0123456789abcdefABCDEF":
            at += 1
        if at < end and text[at] == ".":
            if at == start or index > 6 or not _ipv4_in_ipv6(text[start:], pieces, index):
                return None
            index += 2
            break
        value = int(text[start:at], 16) if at > start else 0
        if at < end:
            if text[at] != ":" or at + 1 == end:
                return None
            at += 1
        pieces[index] = value
        index += 1
    if compress is not None:
        moved = pieces[compress:index]
        pieces[compress:index] = [0] * (index - compress)
        pieces[8 - len(moved) :] = moved
    elif index != 8:
        return None
    return pieces


def _ipv4_in_ipv6(text: str, pieces: list[int], index: int) -> bool:
    numbers = text.split(".")
    if len(numbers) != 4:
        return False
    for number in numbers:
        if not number or not all("0" <= ch <= "9" for ch in number):
            return False
        if (number[0] == "0" and len(number) > 1) or len(number) > 3 or int(number) > 255:
            return False
    a, b, c, d = (int(n) for n in numbers)
    pieces[index], pieces[index + 1] = (a << 8) | b, (c << 8) | d
    return True


def serialize_ipv6(pieces: list[int]) -> str:
    """Lower-case hex pieces, the first longest run of two or more zero pieces as '::'."""
    best_start, best_length, run_start = -1, 1, -1
    for index, piece in enumerate([*pieces, 1]):
        if piece == 0 and run_start < 0:
            run_start = index
        elif piece != 0 and run_start >= 0:
            if index - run_start > best_length:
                best_start, best_length = run_start, index - run_start
            run_start = -1
    if best_start < 0:
        return ":".join(f"{piece:x}" for piece in pieces)
    head = ":".join(f"{piece:x}" for piece in pieces[:best_start])
    tail = ":".join(f"{piece:x}" for piece in pieces[best_start + best_length :])
    return head + "::" + tail
