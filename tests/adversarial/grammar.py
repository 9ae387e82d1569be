"""A grammar of adversarial pages: every family of issue 8 mixed into one document.

    rng = random.Random(7)
    doc = document(rng)          # a Document: its top-level pieces, and .render() -> bytes
    chunks = split(rng, doc.render())

A document mixes fetching sites (`sites.py`, tracker URLs spelled as in `spellings.py`)
with tokenizer traps (bogus comments and CDATA holding `<!--`, attribute names that start
with a quote, foreign content and its break-out elements, self-closing scripts, the
script-data escaped states, `</scripts`, end tags with attributes, raw-text elements
closed in odd spellings, NUL and CR), giant attributes and inline scripts past 64 KB,
inline loaders, benign first-party markup, and odd endings (no `</body>`, constructs
left open at the end of the file). Nothing here knows how the middleware reads a page:
`oracle.py` decides what a browser would fetch.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from . import sites, spellings
from .sites import img, site
from .snippets import snippet_code
from .writer import Writer

BENIGN = (
    "<p>Ferry &amp; fares &lt;today&gt;</p>",
    "<h1>News</h1>",
    '<a href="https://www.facebook.com/ourpage">Follow us</a>',
    '<script src="/static/app.js" defer></script>',
    '<script>document.documentElement.className = "js";</script>',
    '<script type="application/ld+json">{"embedUrl": "https://www.youtube.com/embed/X"}</script>',
    '<img src="/static/img/a.jpg" alt="a > b">',
    '<link rel="stylesheet" href="/site.css">',
    '<div data-granted="analytics marketing media">a comment</div>',
    '<div data-consent="necessary">x</div>',
    '<script type="text/plain" data-category="analytics">gtag("config", "G-ABC123");</script>',
    "<ul><li>one<li>two</ul>",
    "caf\u00e9 \u2603 \U0001f600",
    "\x00",
    "\r\n",
    "<br/>",
    '<form action="/search"><input name="q"></form>',
    '<iframe src="/embed/poll"></iframe>',
    "<!-- c -->",
    "\udcff\udcfe",  # invalid UTF-8 bytes (rendered with surrogateescape)
)
GIANT = 66_000


@dataclass
class Document:
    """A generated page as its top-level pieces (dropping pieces shrinks a finding)."""

    pieces: list[str] = field(default_factory=list)

    def render(self) -> bytes:
        return "".join(self.pieces).encode("utf-8", "surrogateescape")


# -- tokenizer traps ------------------------------------------------------------------


def breakout(w: Writer) -> str:
    """Content that starts with an element which leaves SVG/MathML for HTML."""
    opener = w.rng.choice(("<p>", "<div>", "<b>", "<span>", "<br>", "<font color=red>", "<ul>"))
    return img(w) if w.chance(0.3) else opener + site(w)


def _bogus_comment(w: Writer) -> str:
    opener = w.rng.choice(
        ("<!x <!-- >", "</p <!-- >", "<? <!-- ?>", "<![CDATA[ <!-- ]]>", "</ <!-- >", "<!a-->")
    )
    return opener + site(w) + w.rng.choice(("", " -->", "]]>"))


def _quote_in_attribute_name(w: Writer) -> str:
    opener = w.rng.choice(('<p =" >', "<p =' >", '<p " >', "<p ' >", '<a b=1 ="c >', '<i `=">'))
    return opener + site(w) + w.rng.choice(('">', "'>", ' ">'))


_FOREIGN_RAW = ("style", "title", "textarea", "xmp", "iframe", "noembed", "noframes", "noscript")


def _foreign(w: Writer) -> str:
    root = w.rng.choice(("svg", "math"))
    roll = w.rng.random()
    if roll < 0.35:
        raw = w.rng.choice(_FOREIGN_RAW)
        return f"<{root}><{raw}>{breakout(w)}</{raw}></{root}>"
    if roll < 0.6:
        point = w.rng.choice(
            ("title", "desc", "foreignObject") if root == "svg" else ("mi", "mo", "mtext")
        )
        return f"<{root}><{point}>{site(w)}</{point}></{root}>"
    if roll < 0.75:
        return f"<{root}><{w.tag('script')}/></{root}>{site(w)}"
    if roll < 0.85:
        return f"<{root}><g>{breakout(w)}"  # the break-out closes the foreign element
    if roll < 0.93:
        return f"<svg><![CDATA[</svg>{site(w)}]]></svg>{site(w)}"
    return f"<math><annotation-xml encoding=text/html>{site(w)}</annotation-xml></math>"


_RAW_TEXT = (
    "title",
    "textarea",
    "xmp",
    "noembed",
    "noframes",
    "iframe",
    "style",
    "script",
    "noscript",
)


def _raw_text(w: Writer) -> str:
    name = w.rng.choice(_RAW_TEXT)
    junk = w.rng.choice(("", f"</{name}s>", f"</{name}", "<!--", f"<{name}>", "-->", site(w)))
    if name == "plaintext":
        return f"<plaintext>{junk}"
    return f"<{w.tag(name)}>{junk}{w.end(name)}{site(w)}"


_SCRIPT_ESCAPES = (
    '<script>"<!--"</script>',
    "<script><!--<script>--></script>",
    "<script><!--<script></script>x--></script>",
    "<script>// <!--\n</script>",
    "<script><!--</script>",
    "<script><!--<script>x</script>--></script>",
    "<script><!-- --!></script>",
    "<script><!--<SCRIPT >alert(1)</script>--></script>",
    "<script><!--<scripts></script>",
    "<script><!--<script/></script>-->x</script>",
)


def _script_escape(w: Writer) -> str:
    if w.chance(0.3):  # hidden: the site is script text (benign)
        return f"<script><!--<script>{site(w)}</script>--></script>"
    return w.rng.choice(_SCRIPT_ESCAPES) + site(w)


def _false_script_end(w: Writer) -> str:
    fake = w.rng.choice(('"</scripts>"', "1/*</scriptx*/", "'</script-'", "'</scrip'", "`</`"))
    return f"<script>var a={fake};{snippet_code(w)}</script>"


def _self_closing(w: Writer) -> str:
    roll = w.rng.random()
    if roll < 0.4:  # text/html: the "/" is ignored, the script runs to the next </script>
        return f'<script src="/static/a.js"/>{site(w)}</script>{site(w)}'
    if roll < 0.7:
        return f'<svg><script href="/static/a.js"/></svg>{site(w)}'
    return f"<{w.tag('SCRIPT')} SRC=/static/a.js />x</SCRIPT>{site(w)}"


def _comment(w: Writer) -> str:
    opener = w.rng.choice(
        ("<!---->", "<!-->", "<!--->", "<!-- --!>", "<!-- -- -->", "<!--x--!>", "<!-- <!-- -->")
    )
    return opener + site(w)


def _separators(w: Writer) -> str:
    fragment = site(w)
    at = fragment.find(" ")
    if at > 0 and w.chance(0.7):
        return fragment[:at] + w.rng.choice(("\r", "\x0c", "/", "\r\n", "\x00")) + fragment[at:]
    at = w.rng.randrange(len(fragment) + 1)
    return fragment[:at] + "\x00" + fragment[at:]


def _context(w: Writer) -> str:
    roll = w.rng.random()
    if roll < 0.3:
        return f"<noscript>{site(w)}</noscript>"
    if roll < 0.5:
        return f"<table>{site(w)}</table>"
    if roll < 0.6:
        return f"<template>{site(w)}</template>"
    if roll < 0.7:
        return f"<textarea>{site(w)}</textarea>"
    if roll < 0.8:
        return f"<!-- {site(w)} -->"
    return f"<div><p>{site(w)}</div>"


TRAPS: tuple[Callable[[Writer], str], ...] = (
    _bogus_comment,
    _quote_in_attribute_name,
    _foreign,
    _foreign,
    _raw_text,
    _script_escape,
    _false_script_end,
    _self_closing,
    _comment,
    _separators,
    _context,
)


def trap(w: Writer) -> str:
    return w.rng.choice(TRAPS)(w)


def giant(w: Writer) -> str:
    """Past the 64 KB hold limit: a tracker after a huge attribute, in a huge script."""
    size = w.rng.randint(GIANT, GIANT + 6000)
    src = w.attr("src", w.url("pixel"))
    return w.rng.choice(
        (
            lambda: f'<img data-pad="{"a" * size}"{src}>',
            lambda: f'<img alt="{">" * size}"{src}>',
            lambda: f"<script>/*{'x' * size}*/{snippet_code(w)}</script>",
            lambda: f"<script>{snippet_code(w)}/*{'x' * size}*/</script>",
            lambda: f"<!--{'x' * size}-->{site(w)}",
            lambda: f"<p>{'lorem ipsum ' * (size // 12)}</p>{site(w)}",
            lambda: f"<{w.tag('script')}{' ' * size}{w.attr('src', w.url('script'))}></script>",
        )
    )()


# -- whole documents ------------------------------------------------------------------


def _base(w: Writer) -> str:
    roll = w.rng.random()
    if roll < 0.6:
        return ""
    if roll < 0.8:
        tracker = spellings.tracker_url(w.rng, w.rng.choice(spellings.KINDS))
        w.base = tracker
        root = spellings.TrackerUrl(tracker.category, tracker.host, "/")
        base = f"<base{w.attr('href', spellings.spell(w.rng, root))}>"
        # An SVG <base> is no document base, but Chromium's preload scanner resolves by it.
        return f"<svg>{base}</svg>" if w.chance(0.15) else base
    return f"<base{w.attr('href', spellings.CDN + '/assets/')}>"


def _body_item(w: Writer) -> str:
    roll = w.rng.random()
    if roll < 0.4:
        return site(w)
    if roll < 0.75:
        return trap(w)
    if roll < 0.97:
        return w.rng.choice(BENIGN)
    return giant(w)


def _head(w: Writer, base: str) -> list[str]:
    pieces = ["<meta charset=utf-8>", "<title>Adversarial &amp; page</title>"]
    if base and w.chance(0.8):
        pieces.insert(0, base)
    pieces += [w.rng.choice(sites.HEAD_SITES)(w) for _ in range(w.rng.randint(0, 3))]
    return pieces


_UNFINISHED = (
    lambda w: f"<img{w.attr('src', w.url('pixel'))}",
    lambda w: f"<!-- {site(w)}",
    lambda w: f"<script>{snippet_code(w)}",
    lambda w: f"<textarea>{site(w)}",
    lambda w: f"<{w.tag('script')}{w.attr('src', w.url('script'))}",
    lambda w: f"<plaintext>{site(w)}",
)


def _ending(w: Writer) -> list[str]:
    roll = w.rng.random()
    if roll < 0.45:
        return [w.rng.choice(("</body></html>", "</BODY>\n</HTML>\n", "</body >", "</body>"))]
    if roll < 0.6:  # after </body>: the parser still puts it in the body
        return ["</body>", site(w), "</html>"]
    if roll < 0.8:
        return []
    return [w.rng.choice(_UNFINISHED)(w)]


def document(rng: random.Random) -> Document:
    """One random page; `rng` decides everything (a seed replays it)."""
    w = Writer(rng)
    base = _base(w)
    shape = rng.random()
    pieces: list[str] = [rng.choice(("<!doctype html>", "<!DOCTYPE html>\n", ""))]
    if shape < 0.08:  # frames: no body at all
        frames = [f"<frame{w.attr('src', w.url('iframe'))}>" for _ in range(rng.randint(1, 3))]
        pieces += ["<html><head>", *_head(w, base), "</head><frameset cols='50%,50%'>"]
        pieces += [*frames, "<noframes>no frames</noframes></frameset></html>"]
        return Document(pieces)
    if shape < 0.2:  # a fragment: no html, head or body tags
        pieces.append(base)
    else:
        pieces += ["<html lang=en><head>", *_head(w, base), "</head>"]
        pieces.append(rng.choice(("<body>", "<BODY class=x>", "<body\nonload=''>", "")))
    items = [_body_item(w) for _ in range(rng.randint(3, 12))]
    if base and base not in pieces:
        items.insert(rng.randrange(len(items) + 1), base)
    return Document(pieces + items + _ending(w))


def split(rng: random.Random, data: bytes) -> list[bytes]:
    """Cut a body into ASGI messages as a streaming app might (never joined by us)."""
    roll = rng.random()
    if roll < 0.2 or not data:
        return [data]
    if roll < 0.65:
        cuts = sorted({rng.randrange(len(data) + 1) for _ in range(rng.randint(1, 12))})
    elif roll < 0.85:
        size = rng.choice((1, 7, 16, 64, 1024)) if len(data) < 4000 else rng.choice((16, 4096))
        cuts = list(range(size, len(data), size))
    else:  # a template engine flushing after each tag
        cuts = [i + 1 for i, byte in enumerate(data) if byte == 0x3E]
    pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    if rng.random() < 0.3:
        pieces.append(b"")  # a final empty body message, as many servers send
    return pieces
