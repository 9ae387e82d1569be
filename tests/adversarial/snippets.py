"""Inline tracker loaders: the vendors' snippets and generic loaders, in a <script> of
any type that runs, in a module's `import()`, an import map or speculation rules."""

from __future__ import annotations

from collections.abc import Callable

from . import spellings
from .spellings import TrackerUrl
from .writer import Writer, script_type


def _js_url(w: Writer, kind: str = "script") -> str:
    return spellings.in_javascript(w.rng, spellings.tracker_url(w.rng, kind))


def loader_code(w: Writer) -> str:
    roll = w.rng.random()
    if roll < 0.5:
        return (
            "var s=document.createElement('script');s.async=true;"
            f"s.src='{_js_url(w)}';document.head.appendChild(s);"
        )
    if roll < 0.75:
        return f"new Image().src='{_js_url(w, 'pixel')}';"
    return f"navigator.sendBeacon('{_js_url(w, 'pixel')}');"


def _ga_loader(w: Writer) -> str:
    host = spellings.in_javascript(
        w.rng, TrackerUrl("analytics", "www.googletagmanager.com", "/gtag/js?id=")
    )
    return (
        "var id='G-ABC123';var s=document.createElement('script');s.async=true;"
        f"s.src='{host}'+id;document.head.appendChild(s);"
        "window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}"
        "gtag('js',new Date());gtag('config',id);"
    )


_FB = TrackerUrl("marketing", "connect.facebook.net", "/en_US/fbevents.js")
_YT = TrackerUrl("media", "www.youtube.com", "/iframe_api")


SNIPPET_CODE: tuple[Callable[[Writer], str], ...] = (
    _ga_loader,
    lambda w: (
        "(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':new Date().getTime(),"
        "event:'gtm.js'});var f=d.getElementsByTagName(s)[0],j=d.createElement(s),"
        "dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src='https://www.googletagmanager.com"
        "/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);})(window,document,'script',"
        "'dataLayer','GTM-ABC123');"
    ),
    lambda w: (
        "!function(f,b,e,v,n,t,s){if(f.fbq)return;n=f.fbq=function(){n.callMethod?"
        "n.callMethod.apply(n,arguments):n.queue.push(arguments)};if(!f._fbq)f._fbq=n;"
        "n.push=n;n.loaded=!0;n.version='2.0';n.queue=[];t=b.createElement(e);t.async=!0;"
        "t.src=v;s=b.getElementsByTagName(e)[0];s.parentNode.insertBefore(t,s)}(window,"
        f"document,'script','{spellings.in_javascript(w.rng, _FB)}');"
        "fbq('init','000000000000000');fbq('track','PageView');"
    ),
    lambda w: (
        "(function(c,l,a,r,i,t,y){c[a]=c[a]||function(){(c[a].q=c[a].q||[]).push(arguments)};"
        't=l.createElement(r);t.async=1;t.src="https:\\/\\/www.clarity.ms\\/tag\\/"+i;'
        "y=l.getElementsByTagName(r)[0];y.parentNode.insertBefore(t,y);})(window,document,"
        '"clarity","script","abcdefghij");'
    ),
    lambda w: (
        "(function(h,o,t,j,a,r){h.hj=h.hj||function(){(h.hj.q=h.hj.q||[]).push(arguments)};"
        "h._hjSettings={hjid:1,hjsv:6};a=o.getElementsByTagName('head')[0];"
        "r=o.createElement('script');r.async=1;r.src=t+h._hjSettings.hjid+j+h._hjSettings.hjsv;"
        "a.appendChild(r);})(window,document,'https://static.hotjar.com/c/hotjar-','.js?sv=');"
    ),
    lambda w: "var _paq = window._paq = window._paq || []; _paq.push(['trackPageView']);",
    lambda w: (
        "var tag=document.createElement('script');"
        f"tag.src='{spellings.in_javascript(w.rng, _YT)}';"
        "var first=document.getElementsByTagName('script')[0];"
        "first.parentNode.insertBefore(tag,first);"
    ),
    loader_code,
)


def snippet_code(w: Writer) -> str:
    return w.rng.choice(SNIPPET_CODE)(w)


def snippet(w: Writer) -> str:
    """An inline loader in a <script> element, classic, module, import map or rules."""
    roll = w.rng.random()
    url = _js_url(w)
    if roll < 0.6:
        return f"<{w.tag('script')}{script_type(w)}>{snippet_code(w)}" + w.end("script")
    if roll < 0.75:
        code = w.rng.choice((f"import('{url}');", f'import "{url}";', f"import x from '{url}';"))
        return f"<script{w.attr('type', 'module')}>{code}</script>"
    if roll < 0.88:
        return f'<script type=importmap>{{"imports": {{"t": "{url}"}}}}</script>'
    rules = f'{{"prefetch": [{{"source": "list", "urls": ["{url}"]}}]}}'
    return f"<script type=speculationrules>{rules}</script>"
