"""The pages the benchmarks send: built from the kitchen-sink fixture (real vendor snippets).

- `news_page()`: about 20 KB, a dozen `<script>` elements (GTM, gtag.js, Meta Pixel,
  JSON-LD, first-party scripts), a YouTube embed, `noscript` pixels: one article.
- `archive_page()`: about 2 MB, the same page with its `<article>` repeated, as a long
  archive or "load everything" page would be: tag-dense, with trackers in every copy.
- `long_read_page()`: about 2 MB, the same page with a very long article body (text,
  links, emphasis; no images or embeds): what a rewriter meets on a text-heavy page.
- `front_page()`: about 2 MB, the news page with its article replaced by a front page's
  grid of teasers, as real news front pages are built: each teaser a `<picture>` with
  `<source srcset>` and a lazy `<img srcset>`, an inline SVG icon, links and data
  attributes; an ad slot with an inline `googletag` call and a `style` every 8 teasers;
  a YouTube embed, a JSON config `<script>` and a Meta pixel every 24. Several times as
  dense in tags that matter as `archive_page()`.
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


_TEASER = (
    '<article class="teaser" data-id="{i}" data-section="{section}">\n'
    '  <a class="teaser__link" href="/{section}/2024/05/story-{i}" data-track="teaser">\n'
    '    <picture class="teaser__media">\n'
    '      <source type="image/avif" srcset="https://static.harbourgazette.example/t/{i}-320.avif'
    ' 320w, https://static.harbourgazette.example/t/{i}-640.avif 640w" sizes="20rem">\n'
    '      <img src="https://static.harbourgazette.example/t/{i}-320.jpg"'
    ' srcset="https://static.harbourgazette.example/t/{i}-640.jpg 2x" loading="lazy"'
    ' decoding="async" width="320" height="180" alt="">\n'
    "    </picture>\n"
    '    <h3 class="teaser__title">Harbour board agrees plan number {i} for the quay</h3>\n'
    "  </a>\n"
    '  <p class="teaser__standfirst">Islanders and crews say the change will shape the'
    " summer timetable.</p>\n"
    '  <footer class="teaser__meta"><time datetime="2024-05-14T06:30:00+01:00">06:30</time>'
    ' <a class="teaser__comments" href="/{section}/2024/05/story-{i}#comments">'
    '<svg class="icon" aria-hidden="true"><use href="#icon-comment"></use></svg> {i}</a>'
    "</footer>\n"
    "</article>\n"
)
_AD_SLOT = (
    '<div class="ad-slot" id="ad-{i}" data-ad-unit="/1234/gazette/home/mpu-{i}"'
    ' style="min-height:250px">\n'
    "<script>googletag.cmd.push(function() {{ googletag.display('ad-{i}'); }});</script>\n"
    "</div>\n"
)
_EVERY_24 = (
    '<figure class="video"><iframe src="https://www.youtube.com/embed/XXXXXXXXXXX?rel=0"'
    ' width="560" height="315" title="Video {i}" allowfullscreen loading="lazy"></iframe>'
    "</figure>\n"
    '<script type="application/json" data-config="home-{i}">{{"slot": {i}, "section":'
    ' "{section}", "lazy": true, "sizes": [[300, 250], [320, 50]]}}</script>\n'
    '<img src="https://www.facebook.com/tr?id=000000000000000&amp;ev=ViewContent&amp;cd={i}"'
    ' width="1" height="1" style="display:none" alt="">\n'
)
_SECTIONS = ("news", "transport", "business", "sport", "opinion", "what-s-on")


@cache
def front_page(size: int = ARCHIVE_SIZE) -> bytes:
    """The news page with its article replaced by a front page's grid of teasers."""
    page = news_page()
    start = page.index(b"<article")
    end = page.index(b"</article>") + len(b"</article>")
    head, tail = page[:start], page[end:]
    parts: list[bytes] = []
    total, i = len(head) + len(tail), 0
    while True:
        section = _SECTIONS[(i // 8) % len(_SECTIONS)]
        block = _TEASER.format(i=i, section=section)
        if i % 8 == 7:
            block += _AD_SLOT.format(i=i)
        if i % 24 == 23:
            block += _EVERY_24.format(i=i, section=section)
        data = block.encode()
        if total + len(data) > size:
            break
        parts.append(data)
        total += len(data)
        i += 1
    return head + b"".join(parts) + b" " * (size - total) + tail


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
