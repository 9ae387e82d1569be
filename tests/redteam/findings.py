"""The red team's confirmed leak pages (issue 8), shared by the harness and the tests.

Each page, served as it is, makes Chromium 156 request a catalogued tracker; served
through the middleware to a visitor with no choice or after reject, it still does
(checked with `harness.py tests/redteam/findings.py`). A value is the page, or
(page, response headers).
"""

from __future__ import annotations

import base64
from urllib.parse import quote

GTAG = "https://www.googletagmanager.com/gtag/js?id=G-ABC123"
FBEVENTS = "https://connect.facebook.net/en_US/fbevents.js"
PIXEL = "https://www.facebook.com/tr?id=1"
HTML = [(b"content-type", b"text/html; charset=utf-8")]
XHTML = [(b"content-type", b"application/xhtml+xml; charset=utf-8")]
LOADER = f"var s=document.createElement('script');s.src='{GTAG}';document.head.appendChild(s);"
LOADER_BASE64 = base64.b64encode(LOADER.encode()).decode()
IMAGE = f'<image href="{PIXEL}" width="1" height="1"/>'
CDATA_SCRIPT = f'<![CDATA[><script src="{GTAG}"></script>]]>'


def page(body: str, head: str = "") -> bytes:
    return (
        "<!doctype html><html><head><meta charset=utf-8><title>t</title>"
        f"{head}</head><body><p>hello</p>{body}</body></html>"
    ).encode()


def xhtml(body: str, doctype: str = "<!DOCTYPE html>", namespaces: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{doctype}'
        f'<html xmlns="http://www.w3.org/1999/xhtml" {namespaces}><head><title>t</title>'
        f"</head><body><p>hello</p>{body}</body></html>"
    ).encode()


H_NS = 'xmlns:h="http://www.w3.org/1999/xhtml"'
SVG_NS = 'xmlns="http://www.w3.org/2000/svg"'
_DATA_XHTML = quote(f'<x xmlns:h="http://www.w3.org/1999/xhtml"><h:img src="{PIXEL}"/></x>')
_DATA_SVG = quote(
    f'<!DOCTYPE svg [<!ENTITY u "{PIXEL}">]><svg {SVG_NS} width="9" height="9">'
    '<image href="&u;" width="9" height="9"/></svg>'
)
_FRAMESET_TAIL = (
    f'<frameset><textarea><!--</textarea><script src="{GTAG}"></script>--></textarea>'
    "</frameset></html>"
)
_HEAD = "<!doctype html><html><head><title>t</title>"

# -- the tree model: the scanner leaves SVG where the browser stays in it -------------
TREE_LEAVES_SVG_EARLY = {
    "td-outside-table": page(f"<td><svg></td>{IMAGE}</svg>"),
    "head-end-inside-svg": (
        _HEAD + f"<body><p>x</p><svg></head>{IMAGE}</svg></body></html>"
    ).encode(),
    "heading-end-mismatch": page(f"<h1>T</h2><svg></h1>{IMAGE}</svg>"),
    "foreignobject-ignored-td": page(f"<svg><foreignObject><td></foreignObject>{IMAGE}</svg>"),
}
# -- ... and stays in foreign content where the browser is back in HTML ---------------
TREE_STAYS_FOREIGN = {
    "implied-tbody-end": page(f"<table><tr><td><svg></tbody>{CDATA_SCRIPT}</table>"),
    "special-element-stops-end-tag": page(
        f"<svg><foreignObject><span><div></span></foreignObject>{CDATA_SCRIPT}</div></svg>"
    ),
    "implicitly-closed-p-in-foreignobject": page(
        f"<svg><foreignObject><p><div></p>{CDATA_SCRIPT}</div></foreignObject></svg>"
    ),
    "annotation-xml-encoding-charref": page(
        '<math><annotation-xml encoding="text&#47;html"><style><a title="</style>'
        f'<script src="{GTAG}"></script>"></a></annotation-xml></math>'
    ),
    "svg-in-annotation-xml-foreignobject": page(
        '<math><annotation-xml><svg><foreignObject><style><a title="</style>'
        f'<script src="{GTAG}"></script>"></a></style></foreignObject></svg>'
        "</annotation-xml></math>"
    ),
}
# -- frameset-ok: who honours <frameset> ----------------------------------------------
FRAMESET = {
    "frameset-after-template": (_HEAD + "<template></template></head>" + _FRAMESET_TAIL).encode(),
    "frameset-after-br-end-tag": (_HEAD + "</head></br>" + _FRAMESET_TAIL).encode(),
    "frameset-after-hidden-input": (
        _HEAD + "</head><input type=hidden name=a value=b><frameset cols='50%,50%'>"
        f'<textarea><frame src="{PIXEL}"></textarea><frame src="/x"></frameset></html>'
    ).encode(),
    "frameset-after-space-charref": (
        _HEAD + "</head>&#32;<frameset cols='50%,50%'>"
        f'<textarea><frame src="{PIXEL}"></textarea><frame src="/x"></frameset></html>'
    ).encode(),
}
# -- data: URLs whose content fetches --------------------------------------------------
DATA_URLS = {
    "script-src-data": page(f'<script src="data:text/javascript,{quote(LOADER)}"></script>'),
    "script-src-data-base64": page(
        f'<script src="data:text/javascript;base64,{LOADER_BASE64}"></script>'
    ),
    "svg-script-href-data": page(
        f'<svg><script href="data:text/javascript;base64,{LOADER_BASE64}"></script></svg>'
    ),
    "link-stylesheet-data-import": page(
        "", f'<link rel=stylesheet href="data:text/css,@import url({FBEVENTS});">'
    ),
    "style-import-data-import": page(
        "", f'<style>@import "data:text/css,@import url({FBEVENTS});";</style>'
    ),
}
# -- SVG attributes that fetch -----------------------------------------------------------
_RECT = '<svg width=9 height=9><rect width=9 height=9 {}="url({}#f)"/></svg>'
SVG_ATTRIBUTES = {
    f"svg-{name}-attribute": page(_RECT.format(name, PIXEL))
    for name in ("filter", "mask", "clip-path", "fill")
} | {
    "svg-cursor-attribute": page(
        f'<svg width=99 height=99><rect width=99 height=99 cursor="url({PIXEL}), auto"/></svg>'
    ),
    "svg-marker-end-attribute": page(
        f'<svg width=9 height=9><path d="M0 0L5 5" marker-end="url({PIXEL}#m)"/></svg>'
    ),
    "svg-set-href": page(
        f'<svg width=9 height=9><image width=9 height=9><set attributeName="href" to="{PIXEL}"/>'
        "</image></svg>"
    ),
}
# -- XML: XHTML pages and XML documents in data: frames ----------------------------------
XML = {
    "xhtml-prefixed-script": (xhtml(f'<h:script src="{GTAG}"></h:script>', namespaces=H_NS), XHTML),
    "xhtml-prefixed-img": (xhtml(f'<h:img src="{PIXEL}" alt=""/>', namespaces=H_NS), XHTML),
    "xhtml-svg-image": (xhtml(f"<svg {SVG_NS} width='9' height='9'>{IMAGE}</svg>"), XHTML),
    "xhtml-svg-other-xlink-prefix": (
        xhtml(
            f'<svg {SVG_NS} xmlns:l="http://www.w3.org/1999/xlink" width="9" height="9">'
            f'<image l:href="{PIXEL}" width="9" height="9"/></svg>'
        ),
        XHTML,
    ),
    "xhtml-entity-in-attribute": (
        xhtml('<img src="&t;" alt=""/>', doctype=f'<!DOCTYPE html [<!ENTITY t "{PIXEL}">]>'),
        XHTML,
    ),
    "xhtml-entity-with-markup": (
        xhtml("&e;", doctype=f"<!DOCTYPE html [<!ENTITY e \"<img src='{PIXEL}' alt=''/>\">]>"),
        XHTML,
    ),
    "data-frame-xhtml-prefixed-img": page(
        f'<iframe src="data:application/xhtml+xml,{_DATA_XHTML}"></iframe>'
    ),
    "data-object-svg-entity": page(
        f'<object type="image/svg+xml" data="data:image/svg+xml,{_DATA_SVG}" width=20 height=20>'
        "</object>"
    ),
}
# -- encodings and headers ----------------------------------------------------------------
OTHER = {
    "meta-charset-after-1024-bytes": (
        b"<!doctype html><html><head><title>t</title><script>/*" + b"x" * 1200 + b"*/</script>"
        b"<meta charset=iso-2022-jp></head><body><p>\x1b$B$3$s$K$A$O\x1b(B</p>"
        b'\x1b$B<!--\x1b(B<script src="' + GTAG.encode() + b'"></script>--></body></html>',
        [(b"content-type", b"text/html")],
    ),
    "refresh-header": (page(""), [*HTML, (b"refresh", f"0;url={PIXEL}".encode())]),
}
PAGES: dict[str, bytes | tuple[bytes, list[tuple[bytes, bytes]]]] = (
    TREE_LEAVES_SVG_EARLY | TREE_STAYS_FOREIGN | FRAMESET | DATA_URLS | SVG_ATTRIBUTES | XML | OTHER
)
