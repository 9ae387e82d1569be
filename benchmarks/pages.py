"""The pages the benchmarks send: built from the kitchen-sink fixture (real vendor snippets).

- `news_page()`: about 20 KB, a dozen `<script>` elements (GTM, gtag.js, Meta Pixel,
  JSON-LD, first-party scripts), a YouTube embed, `noscript` pixels: one article.
- `archive_page()`: about 2 MB, the same page with its `<article>` repeated, as a long
  archive or "load everything" page would be: tag-dense, with trackers in every copy.
- `long_read_page()`: about 2 MB, the same page with a very long article body (text,
  links, emphasis; no images or embeds): what a rewriter meets on a text-heavy page.
- `filler_chunk()`: 64 KB of ordinary article markup without `</body>`, for streaming.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

FIXTURE = (
    Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "pages" / "kitchen_sink.html"
)
NEWS_SIZE = 20 * 1024
ARCHIVE_SIZE = 2 * 1024 * 1024

_EXTRA_SCRIPT = b'<script src="/static/newsletter.js" defer></script>\n'
_PARAGRAPH = (
    b"<p>Harbour officials said the crossing would run every night except Christmas Day, "
    b'with a crew of nine and room for <a href="/transport/ferry-bikes">twelve bicycles</a>.'
    b"</p>\n"
)


@cache
def kitchen_sink() -> bytes:
    return FIXTURE.read_bytes()


@cache
def news_page(size: int = NEWS_SIZE) -> bytes:
    """The kitchen sink plus one more script (12 in all), padded to `size` bytes."""
    page = kitchen_sink().replace(b"</main>", _EXTRA_SCRIPT + b"</main>", 1)
    missing = size - len(page)
    if missing > 0:
        # Whole paragraphs, then spaces: a cut paragraph would leave an open <a>.
        whole = _PARAGRAPH * (missing // len(_PARAGRAPH))
        filler = whole + b" " * (missing - len(whole))
        page = page.replace(b"</main>", filler + b"</main>", 1)
    return page


@cache
def archive_page(size: int = ARCHIVE_SIZE) -> bytes:
    """The news page with its `<article>` repeated until the page is `size` bytes."""
    page = news_page()
    start = page.index(b"<article")
    end = page.index(b"</article>") + len(b"</article>")
    article = page[start:end] + b"\n"
    head, tail = page[:end], page[end:]
    copies = (size - len(page)) // len(article)
    body = head + article * copies
    missing = size - len(body) - len(tail)
    return body + b" " * max(0, missing) + tail


@cache
def long_read_page(size: int = ARCHIVE_SIZE) -> bytes:
    """The news page with paragraphs of text added inside its article until `size` bytes."""
    page = news_page()
    missing = size - len(page)
    whole = _PARAGRAPH * (missing // len(_PARAGRAPH))
    filler = whole + b" " * (missing - len(whole))
    return page.replace(b"</article>", filler + b"</article>", 1)


@cache
def filler_chunk(size: int = 64 * 1024) -> bytes:
    """`size` bytes of article markup (tags, links, images) with no `</body>` in it."""
    page = news_page()
    start = page.index(b"<article")
    end = page.index(b"</article>") + len(b"</article>")
    block = page[start:end] + b"\n"
    data = block * (size // len(block) + 1)
    # End on a tag boundary so that every chunk starts with a fresh tag.
    cut = data.rfind(b"\n", 0, size)
    return data[:cut] + b" " * (size - cut)


def count_scripts(page: bytes) -> int:
    return page.lower().count(b"<script")
