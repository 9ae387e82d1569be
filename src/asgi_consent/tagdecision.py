"""What one start tag becomes: left alone, held back, or woken up.

`decide_start_tag` is a pure function of the tag, the document context and the plan;
the rewriter applies the edits it returns. Holding back follows one contract that
consent.js reverses: our `data-consent="<categories>"` first (the first of two equal
attribute names is the one the DOM keeps), every fetching attribute renamed
`data-consent-<name>`, and scripts and styles typed `text/plain`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .config import NECESSARY
from .fetching import (
    INERT,
    MARKED,
    RUNS,
    Context,
    Edit,
    content_needs,
    content_span,
    decode,
    page_mark,
    script_state,
    tag_needs,
    url_categories,
)
from .fetchtable import ELEMENT_ATTRIBUTES, NOT_PLAIN, PREFIX, attribute_kind, plain_kinds
from .tags import Attribute, Tag, attribute, read_attributes
from .tree import LEFT
from .urls import parse_url

if TYPE_CHECKING:
    from .plan import RewritePlan

_HIDDEN = b' hidden="hidden" data-consent-hidden=""'


def escape_attr(value: bytes) -> bytes:
    """`value` safe inside a double-quoted attribute (and read back the same)."""
    return value.replace(b"&", b"&amp;").replace(b'"', b"&quot;").replace(b"<", b"&lt;")
# A script with one of these loads it and runs no text of its own.
_HTML_SOURCES = (b"src", b"data-src", b"data-consent-src")
_SVG_SOURCES = (b"href", b"xlink:href", b"data-consent-href", b"data-consent-xlink:href")


@dataclass(slots=True)
class Decided:
    held: set[str]  # the categories it waits for (empty when it was woken up)
    edits: list[Edit]


def decide_start_tag(
    tag: Tag,
    buf: bytes,
    ctx: Context,
    plan: RewritePlan,
    in_noscript: bool,
    *,
    extra: set[str] | None = None,
) -> Decided | None:
    """The edits for one start tag, or None when it stays as it is."""
    if tag.name == b"base" and not tag.foreign:
        return _base(tag, buf, ctx, plan)
    if tag.name not in _TABLE_NAMES and not _may_fetch(buf, tag):
        return None
    attrs = tag.attributes(buf)
    script = tag.name == b"script"
    typed = tag.name in (b"script", b"style")
    state = script_state(tag, attrs, ctx) if typed else RUNS
    if script and state not in (RUNS, MARKED):
        return None  # inert, and nothing of ours will wake it
    # A <style> of any type is read: Chromium's preload scanner fetches its @import
    # whatever the type says, and consent.js wakes a marked one (its CSS then applies).
    needed, live = tag_needs(tag, buf, ctx)
    if extra:
        needed |= extra
    if typed and _reads_content(tag, buf):
        needed |= content_needs(tag, buf, ctx)
    # data-category marks a <style> too: consent.js wakes any element it marks.
    claimed = page_mark(attrs, ctx, script=typed)
    required = needed | claimed
    required.discard(NECESSARY)
    if not required and state != MARKED:
        return None
    refused = {c for c in required if plan.refuses(c)}
    if not refused:
        return _wake(tag, attrs, buf) if state == MARKED else None
    stash = _stash_css(tag, buf) if tag.name == b"style" else []
    if state == INERT:  # a style no browser applies, but whose @import it fetches:
        # its CSS put aside and its fetching attributes renamed, for good (no mark)
        renamed = [(a.name_start, a.name_end, _renamed(a.name, ctx)) for a in live]
        return Decided(required, [*renamed, *stash])
    edits = _hold(tag, attrs, live, required, state, ctx, claimed, stash)
    if not edits:
        return Decided(required, edits)  # already held back as we would hold it
    placed = attribute(attrs, b"data-consent-hidden") is not None
    if tag.name == b"iframe" and not (tag.foreign or in_noscript or placed) and plan.placeholder:
        category = sorted(refused)[0]
        box = plan.placeholder(category, ctx.provider, plan.page_path, _size(attrs, ctx))
        edits.append((tag.start, tag.start, box))
        edits.append((tag.name_end, tag.name_end, _HIDDEN))
    return Decided(required, edits)


def guarded_srcdoc(tag: Tag, buf: bytes, ctx: Context, plan: RewritePlan) -> list[Edit]:
    """An iframe's srcdoc document is a realm of its own, which the page's guard does
    not reach: it gets the guard first. A new srcdoc goes before the iframe's own (the DOM
    keeps the first of two), holding the guard and the document as it was."""
    if tag.name != b"iframe" or tag.foreign or not plan.guard_first:
        return []
    srcdoc = attribute(tag.attributes(buf), b"srcdoc")
    guard = plan.frame_start
    if srcdoc is None or not guard:
        return []
    document = decode(srcdoc.value, ctx).encode("utf-8", "replace")
    value = escape_attr(guard + document)
    return [(tag.name_end, tag.name_end, b' srcdoc="' + value + b'"')]


def _size(attrs: list[Attribute], ctx: Context) -> tuple[str, str] | None:
    """The iframe's width and height attributes, for a placeholder of the same size."""
    width, height = attribute(attrs, b"width"), attribute(attrs, b"height")
    if width is None or height is None:
        return None
    return decode(width.value, ctx), decode(height.value, ctx)


# Before CSS we could not read (past the hold limit): a rule, after which Chromium's
# preload scanner looks for no @import (and the CSS parser takes none either).
STOP_IMPORTS = b"@media not all{}"


def _stash_css(tag: Tag, buf: bytes) -> list[Edit]:
    """A held <style> keeps its CSS in an attribute: Chromium fetches the @import of a
    style element whatever its type or media. consent.js puts it back. CSS too long to
    read stays, after a rule that ends the @import rules (`STOP_IMPORTS`)."""
    span = content_span(tag, buf)
    if span is None:
        unread = not (tag.foreign and tag.self_closing(buf))
        return [(tag.end, tag.end, b""), (tag.end, tag.end, STOP_IMPORTS)] if unread else []
    if span[0] == span[1]:
        return []
    css = escape_attr(buf[span[0] : span[1]])
    # the first is merged into the tag's one insertion by _hold, so its order is fixed
    return [(tag.name_end, tag.name_end, b' data-consent-css="' + css + b'"'), (*span, b"")]


def _reads_content(tag: Tag, buf: bytes) -> bool:
    """Whether an inline script's or a style's content is read: a script's unless it
    loads a source instead; a style's always (its type stops no preload scanner)."""
    if tag.foreign and tag.self_closing(buf):
        return False
    if tag.name == b"script":
        sources = _SVG_SOURCES if tag.foreign else _HTML_SOURCES
        return not any(a.name in sources for a in tag.attributes(buf))
    return tag.name == b"style"


def _hold(
    tag: Tag,
    attrs: list[Attribute],
    live: list[Attribute],
    required: set[str],
    state: int,
    ctx: Context,
    claimed: set[str],
    stash: list[Edit],
) -> list[Edit]:
    edits: list[Edit] = []
    inserted = b""
    typed = tag.name in (b"script", b"style")  # SVG's too: a type not CSS/JS turns them off
    if typed and state == RUNS:
        inserted += b' type="text/plain"'
        edits += [
            (a.name_start, a.name_end, b"data-consent-type") for a in attrs if a.name == b"type"
        ]
    marks = [a for a in attrs if a.name == b"data-consent"]
    if len(marks) > 1 or claimed != required:
        inserted += b' data-consent="' + escape_attr(" ".join(sorted(required)).encode()) + b'"'
        edits += [(a.name_start, a.name_end, b"data-consent-page") for a in marks]
    if tag.name == b"script" and not (tag.foreign or ctx.xml):
        live = [a for a in live if a.name not in (b"src", b"data-src")]  # text/plain: no fetch
    if tag.name == b"meta":
        edits += [
            (a.name_start, a.name_end, PREFIX + a.name) for a in attrs if a.name == b"http-equiv"
        ]
    edits += [(a.name_start, a.name_end, _renamed(a.name, ctx)) for a in live]
    if stash:
        inserted += stash[0][2]
        edits += stash[1:]
    if inserted:
        edits.append((tag.name_end, tag.name_end, inserted))
    return edits


def _renamed(name: bytes, ctx: Context) -> bytes:
    # In XHTML a prefix must be declared: "l:href" becomes data-consent-href, not a name
    # with an unknown prefix (the page would not parse at all).
    return PREFIX + (name.rpartition(b":")[2] if ctx.xml and name != b"xlink:href" else name)


def _wake(tag: Tag, attrs: list[Attribute], buf: bytes) -> Decided:
    """Inert markup of granted categories (vanilla-cookieconsent style, or ours): the
    script runs in its place in the page, as the site wrote it."""
    original = attribute(attrs, b"data-consent-type") or attribute(attrs, b"data-type")
    inert = attribute(attrs, b"type")
    assert inert is not None
    if original is not None and original.value:
        edit = (inert.name_start, inert.end, b'type="' + escape_attr(original.value) + b'"')
    else:
        start = inert.name_start
        while buf[start - 1 : start] in (b" ", b"\t", b"\n", b"\f", b"\r"):
            start -= 1
        edit = (start, inert.end, b"")
    edits: list[Edit] = [edit]
    edits += [
        (a.name_start, a.name_end, a.name[len(PREFIX) :])
        for a in attrs
        if a.name in (b"data-consent-src",)
    ]
    return Decided(set(), edits)


def _base(tag: Tag, buf: bytes, ctx: Context, plan: RewritePlan) -> Decided | None:
    """The first <base href> moves every relative URL after it: a tracker's host there
    is held back like any URL; any other becomes the base for what follows."""
    href = attribute(tag.attributes(buf), b"href")
    if href is None:
        return None
    needed, live = tag_needs(tag, buf, ctx)
    refused = {c for c in needed if plan.refuses(c)}
    if refused:
        edits = _hold(tag, tag.attributes(buf), live, needed, RUNS, ctx, set(), [])
        return Decided(needed, edits)
    note_base(tag, buf, ctx)
    return None


def note_base(tag: Tag, buf: bytes, ctx: Context) -> None:
    """The first <base href> (an HTML one) becomes the base of every relative URL after
    it, ours included: note it, and whether it moves them to another origin."""
    href = attribute(tag.attributes(buf), b"href")
    if href is None or ctx.base_seen or tag.foreign:
        return
    ctx.base_seen = True
    ctx.base = parse_url(decode(href.value, ctx), ctx.document_url)
    document = ctx.document_url
    if ctx.base is not None and document is not None:
        moved = (ctx.base.scheme, ctx.base.host) != (document.scheme, document.host)
        ctx.cross_origin_base = moved
        ctx.skip_relative = ctx.skip_relative and not moved


_TABLE_NAMES = frozenset(ELEMENT_ATTRIBUTES) | {b"style"}  # style: its content fetches
_BEFORE_NAME = rb"[\t\n\f\r /\"']"  # what an attribute's name comes after in a tag
_GENERIC = re.compile(_BEFORE_NAME + rb"(?:on|style|attributionsrc|data-consent-)", re.I)
# In SVG and MathML, every name that fetches on any element, a handler, a name with a
# prefix ("xlink:href", "l:href"), or ours (data-consent claims categories): the starts
# of the names that make the whole decision below read a tag; ":" anywhere is enough.
_FOREIGN_NAMES = sorted({*plain_kinds(b"", foreign=True), *NOT_PLAIN, b"data-consent"})
_FOREIGN_GENERIC = re.compile(
    _BEFORE_NAME + rb"(?:" + b"|".join(map(re.escape, _FOREIGN_NAMES)) + rb")|:", re.I
)


def _may_fetch(buf: bytes, tag: Tag) -> bool:
    """A cheap first look: could any attribute of this tag fetch (style, on*, ...)?"""
    generic = _FOREIGN_GENERIC if tag.foreign else _GENERIC
    return generic.search(buf, tag.name_end, tag.end) is not None


def held_unread(name: bytes, every: frozenset[str]) -> bytes:
    """What goes after the name of a tag too long to read: held for every category."""
    typed = b' type="text/plain"' if name in (b"script", b"style") else b""
    return typed + b' data-consent="' + " ".join(sorted(every)).encode() + b'"'


def renamed_unread(tag_name: bytes, name: bytes) -> bytes | None:
    """The new name of an attribute of a tag too long to read, None to keep it."""
    if name == b"data-consent":
        return b"data-consent-page"
    if name == b"type" and tag_name in (b"script", b"style"):
        return b"data-consent-type"
    if name.startswith(PREFIX):
        return None
    fetches = attribute_kind(tag_name, name, False) is not None
    if fetches or attribute_kind(tag_name, name, True) is not None or name == b"http-equiv":
        return PREFIX + name
    return None


CDATA = b"![cdata["  # the name the scanner gives a CDATA section it reports


def split_cdata(tag: Tag, buf: bytes) -> list[Edit]:
    """A CDATA section with ">" inside, cut at each one: `<![CDATA[a>b]]>` becomes
    `<![CDATA[a]]>&gt;<![CDATA[b]]>`. In SVG the text is the same; in HTML, where each
    piece is a bogus comment, every piece now ends where the SVG reading ends it."""
    assert tag.content_end is not None
    content = buf[tag.name_end : tag.content_end]
    if b">" not in content:
        return []
    return [(tag.name_end, tag.content_end, content.replace(b">", b"]]>&gt;<![CDATA["))]


def held_stylesheet(
    tag: Tag, buf: bytes, ctx: Context, plan: RewritePlan
) -> tuple[set[str], list[Edit]]:
    """An XHTML page's `<?xml-stylesheet href="..."?>` (the scanner's PI): the browser
    fetches the stylesheet its href names. One that needs a refused category, or whose
    data we could not read, gets another target (an unknown instruction does nothing)."""
    if tag.content_end is None:
        needed = set(ctx.every_category)
    else:
        needed = set()
        for attr in read_attributes(buf, tag.name_end, tag.content_end):
            if attr.name == b"href":
                needed |= url_categories(decode(attr.value, ctx), ctx)
    if not any(plan.refuses(c) for c in needed - {NECESSARY}):
        return set(), []
    return needed, [(tag.start + 2, tag.start + 2, PREFIX)]


_ENTITY = re.compile(rb"""(<!ENTITY\s+[^\s%]\S*\s+)("[^"]*"|'[^']*')""")


def empty_entities(tag: Tag, buf: bytes, ctx: Context, plan: RewritePlan) -> list[Edit]:
    """An XHTML page's own entities: the XML parser puts their text, markup included, in
    place of each reference. An entity whose text names a refused tracker (in a URL, in
    markup or in code) is emptied: the scanner never sees where it is used."""
    assert tag.content_end is not None
    edits: list[Edit] = []
    for found in _ENTITY.finditer(buf, tag.start, tag.content_end):
        text = found.group(2)[1:-1]
        needed = set(ctx.rules.inline_categories(text)) | url_categories(decode(text, ctx), ctx)
        if any(plan.refuses(c) for c in needed - {NECESSARY}):
            start, end = found.span(2)
            edits.append((start + 1, end - 1, b""))
    return edits


def agreed_end(tag: Tag) -> Edit:
    """An end tag inside SVG or MathML whose effect our tree model guessed (tree.py's
    end_tag): make the browser do what we read. Where we left foreign content, an empty
    <span> (a start tag that breaks out of it) makes the browser leave too; where we
    stayed, the end tag is dropped, so the browser cannot leave on an element we did not
    see open. (Only where something is held back: misnested SVG may then render
    differently, never a tracker go live.)"""
    if tag.guess == LEFT:
        return (tag.end, tag.end, b"<span></span>")
    return (tag.start, tag.end, b"")
