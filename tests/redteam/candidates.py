# ruff: noqa: E501
"""Candidate leak pages for the red-team harness (harness.py)."""

import base64
from urllib.parse import quote

GTAG = "https://www.googletagmanager.com/gtag/js?id=G-ABC123"
FB = "https://connect.facebook.net/en_US/fbevents.js"
PIXEL = "https://www.facebook.com/tr?id=1"


def page(body: str, head: str = "") -> str:
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>t</title>{head}</head>"
        f"<body><p>hello</p>{body}</body></html>"
    )


B64JS = base64.b64encode(
    f"var s=document.createElement('script');s.src='{GTAG}';document.head.appendChild(s);".encode()
).decode()
LOADER = "var s=document.createElement('script');s.src='" + GTAG + "';document.head.appendChild(s)"
PAGES = {
    # tree model: scanner thinks the svg ended, browser still in svg
    "td-outside-table": page(f'<td><svg></td><image href="{PIXEL}" width=1 height=1/></svg>'),
    "head-end-in-svg": (
        "<!doctype html><html><head><title>t</title><body><p>x</p>"
        f'<svg></head><image href="{PIXEL}" width=1 height=1/></svg></body></html>'
    ),
    "heading-mismatch": page(f'<h1>T</h2><svg></h1><image href="{PIXEL}" width=1 height=1/></svg>'),
    "foreignobject-td": page(
        f'<svg><foreignObject><td></foreignObject><image href="{PIXEL}" width=1 height=1/></svg>'
    ),
    # scanner thinks foreign, browser HTML: CDATA hides a script from the scanner
    "tbody-implied": page(
        f'<table><tr><td><svg></tbody><![CDATA[><script src="{GTAG}"></script>]]></table>'
    ),
    "fo-special-div": page(
        f"<svg><foreignObject><span><div></span></foreignObject>"
        f'<![CDATA[><script src="{GTAG}"></script>]]></div></svg>'
    ),
    "fo-implicit-p": page(
        f'<svg><foreignObject><p><div></p><![CDATA[><script src="{GTAG}"></script>]]></div></foreignObject></svg>'
    ),
    "annotation-svg-fo": page(
        f"<math><annotation-xml><svg><foreignObject>"
        f'<![CDATA[><script src="{GTAG}"></script>]]></foreignObject></svg></annotation-xml></math>'
    ),
    "annotation-charref": page(
        f'<math><annotation-xml encoding="text&#47;html"><style><a title="</style>'
        f'<script src="{GTAG}"></script>"></a></annotation-xml></math>'
    ),
    "annotation-space": page(
        f'<math><annotation-xml encoding=" text/html"><xmp><svg>'
        f'<image href="{PIXEL}" width=1 height=1 /></svg></xmp></annotation-xml></math>'
    ),
    "many-names-div": page(
        "".join(f"<c{i}></c{i}>" for i in range(4100))
        + f'<div><svg></div><![CDATA[><script src="{GTAG}"></script>]]>'
    ),
    # frameset-ok differences
    "frameset-after-template": (
        "<!doctype html><html><head><title>t</title><template></template></head>"
        f'<frameset><textarea><!--</textarea><script src="{GTAG}"></script>--></textarea></frameset></html>'
    ),
    "frameset-after-endbr": (
        "<!doctype html><html><head><title>t</title></head></br>"
        f'<frameset><textarea><!--</textarea><script src="{GTAG}"></script>--></textarea></frameset></html>'
    ),
    "frameset-hidden-input": (
        "<!doctype html><html><head><title>t</title></head><input type=hidden name=a value=b>"
        f'<frameset cols="50%,50%"><textarea><frame src="{PIXEL}"></textarea><frame src="/x"></frameset></html>'
    ),
    "frameset-charref-space": (
        "<!doctype html><html><head><title>t</title></head>&#32;"
        f'<frameset cols="50%,50%"><textarea><frame src="{PIXEL}"></textarea><frame src="/x"></frameset></html>'
    ),
    # Chromium's preload scanner simulator
    "preload-p-end-in-svg": page(f'<svg></p><textarea><img src="{PIXEL}"></textarea>'),
    "preload-div-end-in-svg": page(f'<div><svg></div><textarea><img src="{PIXEL}"></textarea>'),
    "preload-nested-svg": page(f'<svg><svg><p><textarea><img src="{PIXEL}"></textarea>'),
    "preload-dup-type": page(
        f'<script type="text/plain" data-category="analytics" src="{GTAG}" type="text/javascript"></script>'
    ),
    "preload-title-in-svg": page(
        f'<svg><title></title></svg><textarea><img src="{PIXEL}"></textarea>'
    ),
    # data: URLs that fetch by themselves
    "script-data-url": page(f'<script src="data:text/javascript,{quote(LOADER)}"></script>'),
    "script-data-b64": page(f'<script src="data:text/javascript;base64,{B64JS}"></script>'),
    "link-css-data": page("", f'<link rel=stylesheet href="data:text/css,@import url({FB});">'),
    "style-import-data": page("", f'<style>@import "data:text/css,@import url({FB});";</style>'),
    "svg-script-data": page(
        f'<svg><script href="data:text/javascript;base64,{B64JS}"></script></svg>'
    ),
    # SVG attributes that fetch
    "svg-animate-href": page(
        f'<svg width=10 height=10><image width=10 height=10><set attributeName="href" to="{PIXEL}"/></image></svg>'
    ),
    "svg-animate-xlink": page(
        f'<svg width=10 height=10><image width=10 height=10><animate attributeName="xlink:href" values="{PIXEL}" dur="1s"/></image></svg>'
    ),
    "svg-filter-attr": page(
        f'<svg width=10 height=10><rect width=10 height=10 filter="url({PIXEL}#f)"/></svg>'
    ),
    "svg-mask-attr": page(
        f'<svg width=10 height=10><rect width=10 height=10 mask="url({PIXEL}#f)"/></svg>'
    ),
    "svg-clip-attr": page(
        f'<svg width=10 height=10><rect width=10 height=10 clip-path="url({PIXEL}#f)"/></svg>'
    ),
    "svg-cursor-attr": page(
        f'<svg width=100 height=100><rect width=100 height=100 cursor="url({PIXEL}), auto"/></svg>'
    ),
    "svg-fill-attr": page(
        f'<svg width=10 height=10><rect width=10 height=10 fill="url({PIXEL}#g)"/></svg>'
    ),
    "svg-marker-attr": page(
        f'<svg width=10 height=10><path d="M0 0L5 5" marker-end="url({PIXEL}#m)"/></svg>'
    ),
    "xml-base": page(
        '<svg xml:base="https://www.facebook.com/" width=10 height=10><image href="tr?id=1" width=10 height=10/></svg>'
    ),
    # object params
    "object-param-movie": page(
        f'<object type="text/html" width=10 height=10><param name="movie" value="{PIXEL}"></object>'
    ),
    "object-param-src": page(
        '<object width=10 height=10><param name="src" value="https://www.youtube.com/embed/x"></object>'
    ),
    # huge constructs
    "style-huge-import": page("", f'<style>@import "{FB}";/*{"x" * (1100 * 1024)}*/</style>'),
    "style-long-tag": page("", f'<style data-pad="{"x" * (1100 * 1024)}">@import "{FB}";</style>'),
    # select
    "select-style": page(f'<select><style><script src="{GTAG}"></script></style></select>'),
    "select-textarea": page(
        f'<select><textarea><!--</textarea><script src="{GTAG}"></script>--></textarea></select>'
    ),
    # encodings
    "iso2022-undeclared": (
        b"<!doctype html><html><head><title>t</title></head><body><p>\x1b$B$3$s$K$A$O\x1b(B</p>"
        b'\x1b$B<!--\x1b(B<script src="' + GTAG.encode() + b'"></script>--></body></html>',
        [(b"content-type", b"text/html")],
    ),
    "late-meta-iso2022": (
        b"<!doctype html><html><head><title>t</title><script>/*" + b"x" * 1200 + b"*/</script>"
        b"<meta charset=iso-2022-jp></head><body><p>\x1b$B$3$s$K$A$O\x1b(B</p>"
        b'\x1b$B<!--\x1b(B<script src="' + GTAG.encode() + b'"></script>--></body></html>',
        [(b"content-type", b"text/html")],
    ),
}
