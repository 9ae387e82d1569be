# ruff: noqa: E501
"""Second round of candidate pages (harness.py)."""

GTAG = "https://www.googletagmanager.com/gtag/js?id=G-ABC123"
FB = "https://connect.facebook.net/en_US/fbevents.js"
PIXEL = "https://www.facebook.com/tr?id=1"
XHTML = [(b"content-type", b"application/xhtml+xml; charset=utf-8")]
XNS = 'xmlns="http://www.w3.org/1999/xhtml"'


def page(body: str, head: str = "") -> str:
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>t</title>{head}</head>"
        f"<body><p>hello</p>{body}</body></html>"
    )


def xpage(body: str, doctype: str = "<!DOCTYPE html>", extra_ns: str = "") -> tuple[bytes, list]:
    return (
        (
            f'<?xml version="1.0" encoding="utf-8"?>{doctype}<html {XNS} {extra_ns}><head><title>t</title></head>'
            f"<body><p>hello</p>{body}</body></html>"
        ).encode(),
        XHTML,
    )


PAGES = {
    "xhtml-plain-script": xpage(f'<script src="{GTAG}"></script>'),
    "xhtml-prefixed-script": xpage(
        f'<h:script src="{GTAG}"></h:script>', extra_ns='xmlns:h="http://www.w3.org/1999/xhtml"'
    ),
    "xhtml-prefixed-img": xpage(
        f'<h:img src="{PIXEL}" alt=""/>', extra_ns='xmlns:h="http://www.w3.org/1999/xhtml"'
    ),
    "xhtml-default-ns-img": xpage(
        f'<x:wrap xmlns:x="urn:x"><img xmlns="http://www.w3.org/1999/xhtml" src="{PIXEL}" alt=""/></x:wrap>'
    ),
    "xhtml-svg-image": xpage(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="{PIXEL}" width="10" height="10"/></svg>'
    ),
    "xhtml-svg-xlink-prefix": xpage(
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:l="http://www.w3.org/1999/xlink" width="10" height="10"><image l:href="{PIXEL}" width="10" height="10"/></svg>'
    ),
    "xhtml-entity-attr": xpage(
        '<img src="&t;" alt=""/>', doctype=f'<!DOCTYPE html [<!ENTITY t "{PIXEL}">]>'
    ),
    "xhtml-entity-markup": xpage(
        "&e;", doctype=f"<!DOCTYPE html [<!ENTITY e \"<img src='{PIXEL}' alt=''/>\">]>"
    ),
    "xhtml-script-cdata": xpage(
        f'<script><![CDATA[var s=document.createElement("script");s.src="{GTAG}";document.head.appendChild(s);]]></script>'
    ),
    "xhtml-uppercase-script": xpage(
        f'<SCRIPT xmlns="http://www.w3.org/1999/xhtml" src="{GTAG}"></SCRIPT>'
    ),
    "data-iframe-xhtml-prefix": page(
        f'<iframe src="data:application/xhtml+xml,&lt;x xmlns:h=&quot;http://www.w3.org/1999/xhtml&quot;&gt;&lt;h:img src=&quot;{PIXEL}&quot;/&gt;&lt;/x&gt;"></iframe>'
    ),
    "data-object-svg-entity": page(
        f'<object type="image/svg+xml" data="data:image/svg+xml,&lt;!DOCTYPE svg [&lt;!ENTITY u &quot;{PIXEL}&quot;&gt;]&gt;&lt;svg xmlns=&quot;http://www.w3.org/2000/svg&quot; width=&quot;10&quot; height=&quot;10&quot;&gt;&lt;image href=&quot;&amp;u;&quot; width=&quot;10&quot; height=&quot;10&quot;/&gt;&lt;/svg&gt;" width=20 height=20></object>'
    ),
    "noscript-huge-nojs": page(
        f'<noscript><p>{"x" * (1100 * 1024)}</p><img src="{PIXEL}" alt=""></noscript>'
    ),
    "noscript-long-tag-nojs": page(
        f'<noscript data-pad="{"x" * (1100 * 1024)}"><img src="{PIXEL}" alt=""></noscript>'
    ),
    "refresh-header": (
        page(""),
        [(b"content-type", b"text/html; charset=utf-8"), (b"refresh", f"0;url={PIXEL}".encode())],
    ),
    "annotation-space-script": page(
        f'<math><annotation-xml encoding=" text/html"><xmp><svg><script href="{GTAG}"></script></svg></xmp></annotation-xml></math>'
    ),
    "annotation-svg-fo-style": page(
        f'<math><annotation-xml><svg><foreignObject><style><a title="</style><script src="{GTAG}"></script>"></a></style></foreignObject></svg></annotation-xml></math>'
    ),
    "annotation-svg-fo-cdata2": page(
        f'<math><annotation-xml><svg><foreignObject><div><![CDATA[><script src="{GTAG}"></script>]]></div></foreignObject></svg></annotation-xml></math>'
    ),
    "preload-svg-p-img-attr": page(
        f'<svg></p><textarea><img src="{PIXEL}" alt=""></textarea></svg>'
    ),
    "select-xmp": page(f'<select><xmp><script src="{GTAG}"></script></xmp></select>'),
}
