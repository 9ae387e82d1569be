"""Every element and attribute that makes a browser fetch, written as a page might.

Each site function takes a `Writer` and returns one fragment of HTML that fetches a URL
the writer picks: a catalogued tracker (spelled in one of the ways of `spellings`), a
first-party or CDN URL, or a path that only means the tracker under the page's
`<base href>`. Inline loaders are in `snippets.py`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from urllib.parse import quote

from . import spellings
from .snippets import loader_code, snippet
from .writer import Writer, script_type


def script_src(w: Writer) -> str:
    extra = w.rng.choice(("", " async", " defer", w.attr("data-consent", "necessary")))
    return f"<{w.tag('script')}{script_type(w)}{w.attr('src', w.url('script'))}{extra}>" + w.end(
        "script"
    )


def _no_space(url: str) -> str:
    """srcset splits on whitespace: keep the URL one candidate."""
    return "".join(c for c in url if c not in " \t\n\r\x0c")


def srcset(w: Writer, kind: str = "pixel") -> str:
    candidates = [_no_space(w.url(kind)) + w.rng.choice(("", " 1x", " 2x", " 640w"))]
    if w.chance(0.4):
        candidates.insert(w.rng.randrange(2), "/static/img/a.png 1.5x")
    return ", ".join(candidates)


def img(w: Writer) -> str:
    name = w.rng.choice(("img", "img", "img", "image"))  # <image> is parsed as <img>
    attrs = w.attr("src", w.url("pixel"))
    if w.chance(0.3):
        attrs = w.attr("alt", "a > b") + w.attr("srcset", srcset(w))
    return f"<{w.tag(name)}{attrs}{w.rng.choice(('>', '/>', ' />'))}"


def picture(w: Writer) -> str:
    source = f"<{w.tag('source')}{w.attr('srcset', srcset(w))}{w.attr('type', 'image/webp')}>"
    return f"<picture>{source}<img src=/static/img/a.png alt=''></picture>"


def media(w: Writer) -> str:
    name = w.rng.choice(("video", "audio"))
    roll = w.rng.random()
    if roll < 0.3:
        return f"<{w.tag(name)}{w.attr('src', w.url('pixel'))} controls></{name}>"
    if roll < 0.5 and name == "video":
        return f"<{w.tag('video')}{w.attr('poster', w.url('pixel'))}></video>"
    if roll < 0.8:
        inner = f"<{w.tag('source')}{w.attr('src', w.url('pixel'))} type=video/mp4>"
    else:
        inner = f"<track default kind=captions{w.attr('src', w.url('pixel'))}>"
    return f"<{w.tag(name)} controls>{inner}</{name}>"


def _nested_document(w: Writer) -> str:
    inner = Writer(w.rng, w.depth + 1)
    inner.base = w.base
    makers = [script_src, img, iframe_src, snippet, style_element, link]
    return "".join(w.rng.choice(makers)(inner) for _ in range(w.rng.randint(1, 2)))


def iframe_src(w: Writer) -> str:
    return f"<{w.tag('iframe')}{w.attr('src', w.url('iframe'))} width=560></iframe>"


def iframe_srcdoc(w: Writer) -> str:
    if w.depth > 1:
        return iframe_src(w)
    return f"<iframe{w.attr('srcdoc', _nested_document(w))}></iframe>"


def iframe_data(w: Writer) -> str:
    if w.depth > 1:
        return iframe_src(w)
    # A data: document has no base to resolve against: only absolute tracker URLs.
    inner = Writer(w.rng, w.depth + 1)
    content = "".join(
        w.rng.choice((script_src, img, snippet))(inner) for _ in range(w.rng.randint(1, 2))
    )
    roll = w.rng.random()
    if roll < 0.4:
        url = "data:text/html;base64," + base64.b64encode(content.encode()).decode()
    elif roll < 0.8 or "#" in content or "%" in content:
        url = "data:text/html," + quote(content, safe="")
    else:
        url = "data:text/html;charset=utf-8," + content
    return f"<iframe{w.attr('src', url)}></iframe>"


def embed(w: Writer) -> str:
    if w.chance(0.5):
        return f"<{w.tag('embed')}{w.attr('src', w.url('iframe'))} type=text/html>"
    return f"<{w.tag('object')}{w.attr('data', w.url('iframe'))}></object>"


def input_image(w: Writer) -> str:
    kind = w.rng.choice(("image", "IMAGE", " image"))  # " image" is not an image button
    return f"<input{w.attr('type', kind)}{w.attr('src', w.url('pixel'))} alt=Go>"


_LINK_RELS = (
    ("stylesheet", "pixel"),
    ("icon", "pixel"),
    ("shortcut icon", "pixel"),
    ("preload", "script"),
    ("modulepreload", "script"),
    ("prefetch", "script"),
    ("manifest", "pixel"),
    ("preconnect", "host"),
    ("dns-prefetch", "host"),
    ("Preload", "image"),
)


def link(w: Writer) -> str:
    rel, kind = w.rng.choice(_LINK_RELS)
    rel = w.rng.choice((rel, rel, rel.upper()))  # rel keywords ignore ASCII case
    if kind == "host":
        href = spellings.spell_host_only(w.rng, spellings.tracker_url(w.rng, "script"))
        return f"<{w.tag('link')}{w.attr('rel', rel)}{w.attr('href', href)}>"
    if kind == "image":
        attrs = w.attr("as", "image") + w.attr("imagesrcset", srcset(w))
        return f"<link{w.attr('rel', rel)}{attrs}>"
    as_attr = w.attr("as", "script") if rel == "preload" else ""
    return f"<{w.tag('link')}{w.attr('rel', rel)}{as_attr}{w.attr('href', w.url(kind))}>"


def background(w: Writer) -> str:
    name = w.rng.choice(("body", "table", "td"))
    value = w.url("pixel")
    if name == "body":  # a later <body> tag adds its attributes to the one body
        return f"<{w.tag('body')}{w.attr('background', value)}>"
    cell = f"<td{w.attr('background', value)}>x</td>" if name == "td" else "<td>x</td>"
    table_bg = w.attr("background", value) if name == "table" else ""
    return f"<table{table_bg}><tr>{cell}</tr></table>"


def _css(w: Writer) -> str:
    url = spellings.in_css(w.rng, w.url("pixel"))
    if url.startswith(("'", '"')):
        return f"@import {url};"
    roll = w.rng.random()
    if roll < 0.3:
        return f"@import {url};"
    if roll < 0.5:
        return f"/* {url} */ body {{ background: {url} }}"
    return f"body {{ background-image: {url}; }}"


def style_attribute(w: Writer) -> str:
    name = w.rng.choice(("div", "p", "span", "li"))
    declaration = _css(w).partition("{")[2].rstrip("} ") or "background: url(/a.png)"
    return f"<{name}{w.attr('style', declaration)}>styled</{name}>"


def style_element(w: Writer) -> str:
    kind = w.attr("type", w.rng.choice(("text/css", "TEXT/CSS"))) if w.chance(0.2) else ""
    return f"<{w.tag('style')}{kind}>{_css(w)}" + w.end("style")


def meta_refresh(w: Writer) -> str:
    url = w.url("iframe")
    content = w.rng.choice(
        (f"0; url={url}", f"0;URL='{url}'", f"1, url={url}", f"0 ; Url = {url}", f"5;{url}")
    )
    equiv = w.rng.choice(("refresh", "REFRESH", "Refresh"))
    return f"<{w.tag('meta')}{w.attr('http-equiv', equiv)}{w.attr('content', content)}>"


def ping(w: Writer) -> str:
    urls = " ".join(w.url("pixel") for _ in range(w.rng.randint(1, 2)))
    if w.chance(0.5):
        return f"<a href=/article{w.attr('ping', _no_space(urls))}>read</a>"
    name = w.rng.choice(("img src=/static/img/a.png", "a href=/x", "script src=/static/app.js"))
    closing = {"s": "</script>", "a": "read</a>"}.get(name[0], "")
    return f"<{name}{w.attr('attributionsrc', _no_space(urls))}>{closing}"


def svg(w: Writer) -> str:
    roll = w.rng.random()
    href = w.rng.choice(("href", "xlink:href", "XLINK:HREF"))
    if roll < 0.3:
        inner = f"<script{w.attr(href, w.url('script'))}></script>"
    elif roll < 0.38:
        inner = f"<script{w.attr(href, w.url('script'))}/>"
    elif roll < 0.45:  # Chromium fetches an SVG script's href whatever its type
        inner = f"<script type=text/plain{w.attr(href, w.url('script'))}></script>"
    elif roll < 0.65:
        inner = f"<image{w.attr(href, w.url('pixel'))} width=1 height=1 />"
    elif roll < 0.72:
        inner = f"<filter id=f><feImage{w.attr(href, w.url('pixel'))}/></filter>"
    elif roll < 0.8:
        inner = f"<use{w.attr(href, w.url('pixel') + '#icon')}/>"
    elif roll < 0.9:
        return foreign_preload(w)
    else:
        inner = f"<script>{loader_code(w)}</script>"
    return f"<{w.tag('svg')} width=10 height=10>{inner}</svg>"


def foreign_preload(w: Writer) -> str:
    """HTML names inside SVG/MathML: foreign elements, yet Chromium's preload scanner
    fetches from them (it reads tag names, not namespaces)."""
    inner = w.rng.choice(
        (
            lambda: f"<link rel=stylesheet{w.attr('href', w.url('pixel'))}>",
            lambda: f"<input type=image{w.attr('src', w.url('pixel'))}>",
            lambda: f"<video{w.attr('poster', w.url('pixel'))}></video>",
        )
    )()
    root = w.rng.choice(("svg", "math"))
    return f"<{root}>{inner}</{root}>"


def on_handler(w: Writer) -> str:
    code = loader_code(w)
    name = w.rng.choice(("img src=/missing.png onerror", "body onload", "svg onload"))
    element, _, handler = name.rpartition(" ")
    closing = "</svg>" if element.startswith("svg") else ""
    return f"<{element}{w.attr(handler, code)}>{closing}"


SITES: tuple[Callable[[Writer], str], ...] = (
    script_src,
    script_src,
    img,
    img,
    picture,
    media,
    iframe_src,
    iframe_srcdoc,
    iframe_data,
    embed,
    input_image,
    link,
    link,
    background,
    style_attribute,
    style_element,
    meta_refresh,
    ping,
    svg,
    on_handler,
    snippet,
    snippet,
)
HEAD_SITES: tuple[Callable[[Writer], str], ...] = (
    script_src,
    link,
    style_element,
    meta_refresh,
    snippet,
)


def site(w: Writer) -> str:
    return w.rng.choice(SITES)(w)
