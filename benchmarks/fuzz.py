"""atheris harness for the rewriter and the cookie decoder (`make fuzz`).

    python benchmarks/fuzz.py -max_total_time=120            # what `make fuzz` runs
    python benchmarks/fuzz.py -max_total_time=600 -jobs=2    # longer, two processes
    python benchmarks/fuzz.py crash-<hash>                   # replay one input

The first input byte picks the target:

- rewriter: the next bytes pick a plan (granted and blocked categories, banner, head
  insertion, placeholders) and up to 12 cut points; the rest is the document. Checks: no
  exception escapes, the rewriter never falls back to passing the page through because it
  failed internally (it logs and gives up; we turn that log into a crash), and the output
  of the chunked run equals the one-piece run (and the byte-by-byte run on short inputs,
  the cut-after-every-">" run on longer ones).
- cookie: the rest is a Cookie header (and, mutated, a valid signed value). Checks:
  `read_cookie` and `ConsentCodec.decode` never raise and return what they promise.

Without a corpus directory on the command line, a fresh one in /tmp is seeded with the
fixture pages and a few valid cookies.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["asgi_consent"]):
    from asgi_consent.config import ConsentConfig
    from asgi_consent.cookie import Consent, ConsentCodec, read_cookie
    from asgi_consent.rewrite import HtmlRewriter, RewritePlan
    from asgi_consent.rules import TrackerRules

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "pages"
CATEGORIES = ("analytics", "marketing", "media")
CONFIG = ConsentConfig(
    secret_key="fuzz-secret-key-0123456789abcdef",
    tracker_urls={"analytics": ["stats.example.org/js"]},
    tracker_markers={"marketing": ["adsbyfriend("]},
)
RULES = TrackerRules(CONFIG)
CODEC = ConsentCodec(CONFIG, clock=lambda: 1_700_000_000.0)
VALID = [CODEC.encode(CATEGORIES[:n], consent_id="fuzz") for n in range(4)]
BANNERS = (b"", b'<div id="asgi-consent">banner</div>')
HEAD_STARTS = (b"", b'<script src="/_consent/consent-mode.js"></script>')
# FUZZ_SKIP_FAST_PATH=1: leave out plans with nothing to block (the granted-visitor fast
# path), to explore the scanner while a known fast-path bug is open.
SKIP_FAST_PATH = os.environ.get("FUZZ_SKIP_FAST_PATH") == "1"


class RewriterFailed(AssertionError):
    pass


class _RaiseOnError(logging.Handler):
    """The rewriter swallows its own exceptions (a page must never break): make them loud."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            cause = record.exc_info[1] if record.exc_info else None
            raise RewriterFailed(record.getMessage()) from cause


logging.getLogger("asgi_consent").addHandler(_RaiseOnError())
logging.getLogger("asgi_consent").propagate = False


def _placeholder(category: str, provider: str, page: str) -> bytes:
    return f'<div data-consent-placeholder="{category}">{provider}</div>'.encode()


def _plan(flags: int) -> RewritePlan:
    granted = frozenset(c for i, c in enumerate(CATEGORIES) if flags & (1 << i))
    return RewritePlan(
        granted=granted | {"necessary"},
        blocked=frozenset(CATEGORIES) - granted,
        rules=RULES,
        before_body_end=BANNERS[(flags >> 3) & 1],
        head_start=HEAD_STARTS[(flags >> 4) & 1],
        placeholder=_placeholder if flags & 0x20 else None,
        page_path="/fuzz?x=1",
    )


def rewrite(plan: RewritePlan, pieces: list[bytes]) -> bytes:
    rewriter = HtmlRewriter(plan)
    out = [rewriter.feed(piece) for piece in pieces]
    out.append(rewriter.finish())
    return b"".join(out)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, at = [], 0
    for point in points:
        pieces.append(data[at:point])
        at = point
    pieces.append(data[at:])
    return pieces


def fuzz_rewriter(fdp: atheris.FuzzedDataProvider) -> None:
    plan = _plan(fdp.ConsumeInt(1))
    if SKIP_FAST_PATH and not plan.scans:
        return
    cuts = [fdp.ConsumeIntInRange(0, 1 << 16) for _ in range(fdp.ConsumeIntInRange(0, 12))]
    document = fdp.ConsumeBytes(fdp.remaining_bytes())
    whole = rewrite(plan, [document])
    chunked = rewrite(plan, split(document, cuts))
    if chunked != whole:
        raise AssertionError(f"chunking changed the output: cuts {sorted(cuts)}")
    if len(document) <= 256:
        single = rewrite(plan, [document[i : i + 1] for i in range(len(document))])
        if single != whole:
            raise AssertionError("byte-by-byte feeding changed the output")
    else:  # a streaming template flushes at tag boundaries: cut after every ">"
        at_tags = split(document, [i + 1 for i in range(len(document)) if document[i] == 62])
        if rewrite(plan, at_tags) != whole:
            raise AssertionError("cutting after every '>' changed the output")
    if not plan.blocked and not plan.before_body_end and not plan.head_start:
        # Nothing to do but wake up inert markup of granted categories.
        if b"text/plain" not in document.lower() and whole != document:
            raise AssertionError("a visitor who granted everything got a changed page")


def fuzz_cookie(fdp: atheris.FuzzedDataProvider) -> None:
    mode = fdp.ConsumeInt(1)
    if mode & 1:  # a valid value with a few bytes changed, inserted or cut
        value = bytearray(VALID[mode % len(VALID)].encode())
        for _ in range(fdp.ConsumeIntInRange(1, 4)):
            at = fdp.ConsumeIntInRange(0, len(value))
            byte = fdp.ConsumeInt(1) & 0xFF
            action = fdp.ConsumeIntInRange(0, 2)
            if action == 0 and at < len(value):
                value[at] = byte
            elif action == 1:
                value.insert(at, byte)
            elif at < len(value):
                del value[at]
        header = b"a=1; asgi_consent=" + bytes(value)
    else:
        header = fdp.ConsumeBytes(fdp.remaining_bytes())
    raw = read_cookie([(b"cookie", header), (b"x-other", header)], b"asgi_consent")
    if raw is not None and not isinstance(raw, str):
        raise AssertionError(f"read_cookie returned {raw!r}")
    for value in (raw, header.decode("latin-1")):
        consent = CODEC.decode(value)
        if not isinstance(consent, Consent):
            raise AssertionError(f"decode returned {consent!r}")
        if consent.decided and not consent.categories <= {"necessary", *CATEGORIES}:
            raise AssertionError(f"unknown categories from {value!r}")
        if consent.decided and value not in VALID:
            # Only exactly what we signed may verify (itsdangerous: trailing "=" padding
            # and the like must not produce a second valid spelling that grants more).
            original = next((v for v in VALID if CODEC.decode(v) == consent), None)
            if original is None:
                raise AssertionError(f"a forged value verified: {value!r}")


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    if fdp.ConsumeInt(1) & 1:
        fuzz_cookie(fdp)
    else:
        fuzz_rewriter(fdp)


def _seed_corpus() -> str:
    corpus = Path(tempfile.mkdtemp(prefix="asgi-consent-fuzz-"))
    for index, page in enumerate(sorted(FIXTURES.glob("*.html"))):
        # nothing granted; + banner, head, placeholders; all (no banner); all + settings; one
        for flags in (0x00, 0x38, 0x07, 0x0F, 0x01):
            corpus.joinpath(f"page-{index}-{flags}").write_bytes(
                b"\x00" + bytes([flags, 3]) + b"\x10\x00\x20\x00\x40\x00" + page.read_bytes()
            )
    for index, value in enumerate(VALID):
        corpus.joinpath(f"cookie-{index}").write_bytes(
            b"\x01\x00a=1; asgi_consent=" + value.encode()
        )
    return str(corpus)


def main() -> None:
    argv = list(sys.argv)
    if not any(not a.startswith("-") for a in argv[1:]):
        argv.append(_seed_corpus())
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
