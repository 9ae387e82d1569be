"""Hand-picked leak vectors, one family of issue 8 each, as whole pages.

Every page here makes Chromium fetch a catalogued tracker when served as it is (the
browser corpus test proves it on each run). Left out because Chromium showed no request
for them in 300 generated pages loaded raw (so a page would prove nothing): `<link
rel=preconnect|dns-prefetch>` (a connection, no request event), `<a ping>` and
`attributionsrc` (on click, or not enabled), speculation rules (a cross-site prefetch needs
Google's proxy), `<link rel=icon|manifest>` (headless fetches neither). The differential
test still covers them through the oracle.
"""

from __future__ import annotations

from dataclasses import dataclass

GTAG = "https://www.googletagmanager.com/gtag/js?id=G-ABC123"
FBEVENTS = "https://connect.facebook.net/en_US/fbevents.js"
PIXEL = "https://www.facebook.com/tr?id=1&amp;ev=PageView&amp;noscript=1"
YOUTUBE = "https://www.youtube.com/embed/XXXXXXXXXXX"
GA_LOADER = (
    "var id='G-ABC123';var s=document.createElement('script');s.async=true;"
    "s.src='https://www.googletagmanager.com/gtag/js?id='+id;document.head.appendChild(s);"
)
CLARITY = (
    "(function(c,l,a,r,i,t,y){c[a]=c[a]||function(){(c[a].q=c[a].q||[]).push(arguments)};"
    't=l.createElement(r);t.async=1;t.src="https:\\/\\/www.clarity.ms\\/tag\\/"+i;'
    "y=l.getElementsByTagName(r)[0];y.parentNode.insertBefore(t,y);})(window,document,"
    '"clarity","script","abcdefghij");'
)


@dataclass(frozen=True)
class Page:
    """One corpus page; `javascript=False` pages are loaded with scripting off."""

    name: str
    html: str
    javascript: bool = True


def _page(body: str, head: str = "") -> str:
    return (
        "<!doctype html><html><head><meta charset=utf-8><title>corpus</title>"
        f"{head}</head><body><p>An article.</p>{body}</body></html>"
    )


PAGES: tuple[Page, ...] = (
    # -- URL spellings ----------------------------------------------------------------
    Page("script-plain", _page(f'<script src="{GTAG}"></script>')),
    Page("backslashes", _page('<script src="https:\\\\www.googletagmanager.com\\gtag\\js?id=G-1">'
                              "</script>")),
    Page("double-backslash", _page('<script src="\\\\connect.facebook.net/en_US/fbevents.js">'
                                   "</script>")),
    Page("slash-backslash", _page('<img src="/\\www.facebook.com/tr?id=1" alt="">')),
    Page("no-slashes", _page('<script src="https:connect.facebook.net/en_US/fbevents.js">'
                             "</script>")),
    Page("tab-newline", _page('<script src="ht\ntps://www.google\ttagmanager.com/gtag/js?id=G-1">'
                              "</script>")),
    Page("leading-controls", _page('<img src="\x01\x02 https://www.facebook.com/tr?id=1" alt="">')),
    Page("numeric-char-refs", _page('<script src="https&#58;&#47;&#47;www&#46;googletagmanager'
                                    '&#46;com/gtag/js?id=G-1"></script>')),
    Page("named-char-refs", _page('<script src="https&colon;&sol;&sol;connect&period;facebook'
                                  '&period;net/en_US/fbevents.js"></script>')),
    Page("percent-dot-host", _page('<script src="https://connect%2efacebook%2Enet/en_US/'
                                   'fbevents.js"></script>')),
    Page("dot-segments", _page('<script src="https://www.googletagmanager.com/x/../gtag/./js?'
                               'id=G-1"></script>')),
    Page("ideographic-dots", _page('<script src="https://connect\u3002facebook\u3002net/en_US/'
                                   'fbevents.js"></script>')),
    Page("fullwidth-host", _page('<script src="https://\uff43\uff4f\uff4e\uff4e\uff45\uff43\uff54'
                                 '.facebook.net/en_US/fbevents.js"></script>')),
    Page("base-href", _page('<script src="gtag/js?id=G-1"></script>',
                            '<base href="https://www.googletagmanager.com/">')),
    # -- elements and attributes that fetch ---------------------------------------------
    Page("embed", _page(f'<embed src="{YOUTUBE}" type="text/html" width=300 height=200>')),
    Page("object", _page(f'<object data="{YOUTUBE}" width=300 height=200></object>')),
    Page("frameset", "<!doctype html><html><head><title>f</title></head><frameset cols='50%,50%'>"
                     f'<frame src="{YOUTUBE}"><frame src="/static/a.html"></frameset></html>'),
    Page("iframe-srcdoc", _page(f"<iframe srcdoc=\"<script src='{FBEVENTS}'></script>\">"
                                "</iframe>")),
    Page("iframe-data", _page(f"<iframe src=\"data:text/html,<img src='{PIXEL}'>\"></iframe>")),
    Page("video-poster", _page(f'<video poster="{PIXEL}" width=100 height=100></video>')),
    Page("audio-src", _page('<audio src="https://www.google-analytics.com/g/collect?v=2">'
                            "</audio>")),
    Page("video-source", _page(f'<video><source src="{PIXEL}"></video>')),
    Page("picture-source", _page(f'<picture><source srcset="{PIXEL}"><img src="/a.png" alt="">'
                                 "</picture>")),
    Page("img-srcset", _page(f'<img srcset="{PIXEL} 1x" alt="">')),
    Page("image-element", _page(f'<image src="{PIXEL}">')),
    Page("input-image", _page(f'<input type="image" src="{PIXEL}" alt="Go">')),
    Page("link-stylesheet", _page("", '<link rel="stylesheet" href="https://connect.facebook.net'
                                      '/x.css">')),
    Page("link-preload-imagesrcset", _page("", f'<link rel="preload" as="image" '
                                               f'imagesrcset="{PIXEL} 1x">')),
    Page("link-modulepreload", _page("", f'<link rel="modulepreload" href="{FBEVENTS}">')),
    Page("svg-image", _page(f'<svg width=10 height=10><image href="{PIXEL}" width=10 height=10/>'
                            "</svg>")),
    Page("svg-script-xlink", _page(f'<svg><script xlink:href="{FBEVENTS}"></script></svg>')),
    Page("svg-script-text-plain", _page(f'<svg><script type="text/plain" href="{FBEVENTS}">'
                                        "</script></svg>")),
    Page("svg-use", _page(f'<svg width=10 height=10><use href="{PIXEL}#icon"/></svg>')),
    Page("svg-feimage", _page(f'<svg width=10 height=10><filter id=f><feImage href="{PIXEL}"/>'
                              "</filter><rect filter='url(#f)' width=5 height=5 /></svg>")),
    # Chromium's preload scanner reads tag names, not namespaces:
    Page("svg-link-stylesheet", _page(f'<svg><link rel=stylesheet href="{FBEVENTS}"></svg>')),
    Page("math-input-image", _page(f'<math><input type=image src="{PIXEL}"></math>')),
    Page("svg-video-poster", _page(f'<svg><video poster="{PIXEL}"></video></svg>')),
    Page("svg-base", _page('<svg><base href="https://connect.facebook.net/"></svg>'
                           '<img src="/static/a.png" alt="">')),
    # ... and it reads the last of repeated rel and type attributes; the DOM the first:
    Page("link-duplicate-rel", _page("", f'<link rel=author rel=preload as=script href="{GTAG}">')),
    Page("script-duplicate-type", _page(f'<script type="text/plain" type="text/javascript" '
                                        f'src="{GTAG}"></script>')),
    Page("input-duplicate-type", _page(f'<input type=text type=image src="{PIXEL}">')),
    Page("svg-after-body-picture", '<html lang=en><head><svg><g><IMAGE alt="a > b" srcset="a.jpg'
                                   f' 640w"></body><picture><source srcset="{PIXEL} 2x">'
                                   "<img src=/static/a.png alt=''></picture>"),
    Page("style-import", _page("", f'<style>@import "{FBEVENTS}";</style>')),
    Page("style-url-escapes", _page("<div class=hero>x</div>",
                                    "<style>.hero{background:u\\72l(https\\3a //www.facebook.com"
                                    "/tr?id=1)}</style>")),
    Page("style-attribute", _page(f"<div style=\"background-image:url('{PIXEL}')\">x</div>")),
    Page("body-background", _page(f'<body background="{PIXEL}"><p>x</p>')),
    Page("meta-refresh", _page("", f'<meta http-equiv="refresh" content="0; url={PIXEL}">')),
    # -- tokenizer traps ----------------------------------------------------------------
    Page("bogus-comment", _page(f'<!x <!-- ><script src="{GTAG}"></script> -->')),
    Page("cdata-in-html", _page(f'<![CDATA[ <!-- ]]><script src="{GTAG}"></script> -->')),
    Page("quote-attribute-name", _page(f'<p =" ><script src="{GTAG}"></script> ">')),
    Page("svg-style-breakout", _page(f'<svg><style><img src="{PIXEL}" alt=""></style></svg>')),
    Page("svg-title-script", _page(f'<svg><title><script src="{FBEVENTS}"></script></title>'
                                   "</svg>")),
    Page("svg-self-closing-script", _page(f'<svg><script/></svg><script src="{GTAG}"></script>')),
    # Past the head window, where the skim reads "</div><div>" as one run: the <div> is
    # open, the </div> leaves the SVG, the <input> rules the <frameset> out, and the
    # <style> is raw text, so its "<!--" hides nothing (no <body>: it would rule it out).
    Page("svg-closed-by-a-skimmed-div", "<!doctype html><p>" + " " * 4100 + "</div><div><svg>"
         f"</div><input><p><frameset><style><!--</style><img src=\"{PIXEL}\" alt=''>--></style>"),
    # An end tag inside SVG whose effect only the count of open elements guesses: the
    # rewriter makes the browser agree (an empty <span> after a guessed exit, a guessed
    # stay's end tag dropped), or the tracker behind it goes live.
    Page("svg-exit-span-closed-by-its-parent", _page("<div><span></div><svg></span>"
         f"<style><img src=\"{PIXEL}\" alt=''></style>")),
    Page("svg-exit-li-closed-by-the-next-li", _page("<li><li></li><svg></li>"
         f"<style><img src=\"{PIXEL}\" alt=''></style>")),
    Page("svg-exit-div-past-a-cell", _page("<div><table><tr><td><svg></div>"
         f"<style><img src=\"{PIXEL}\" alt=''></style></table>")),
    Page("svg-exit-plaintext", _page("<div><span></div><svg></span><plaintext>"
         f"<img src=\"{PIXEL}\" alt=''>")),
    Page("svg-exit-feimage", _page("<div><span></div><svg></span>"
         f"<filter><feImage href=\"{PIXEL}\"/></filter>")),
    Page("svg-stay-tbody-opened-by-tr", _page("<table><tr><td><svg></tbody>"
         f"<script/>{GA_LOADER}</script></table>")),
    Page("svg-exit-frameset", "<!doctype html><p><div><span></div><svg></span><input><p>"
         f"<frameset><textarea><frame src=\"{PIXEL}\"></textarea>"),
    Page("script-escaped", _page(f'<script>"<!--"</script><script src="{GTAG}"></script>')),
    Page("script-double-escaped", _page("<script><!--<script>--></script>"
                                        f'<script src="{GTAG}"></script>')),
    Page("scripts-false-end", _page(f'<script>var a="</scripts>";{GA_LOADER}</script>')),
    Page("end-tag-slash", _page(f'<textarea></textarea/x><script src="{GTAG}"></script>')),
    Page("raw-text-odd-close", _page(f'<title></TITLE\n><img src="{PIXEL}" alt="">')),
    Page("mixed-case-cr", _page(f'<ScRiPt\rSrC="{GTAG}"></sCrIpT>')),
    Page("javascript1-5", _page(f'<script type="text/javascript1.5" src="{GTAG}"></script>')),
    Page("language-attribute", _page(f'<script language="JavaScript1.2" src="{GTAG}"></script>')),
    Page("after-body", _page("").replace("</body>", f'</body><script src="{GTAG}"></script>')),
    Page("no-body-end", _page(f'<script src="{GTAG}"></script>').replace("</body></html>", "")),
    # -- limits -------------------------------------------------------------------------
    Page("giant-attribute", _page(f'<img data-pad="{"a" * 70_000}" src="{PIXEL}" alt="">')),
    Page("giant-inline", _page(f"<script>/*{'x' * 70_000}*/{GA_LOADER}</script>")),
    # -- inline snippets ----------------------------------------------------------------
    Page("ga-loader-variable", _page(f"<script>{GA_LOADER}</script>")),
    Page("clarity-json-slashes", _page(f"<script>{CLARITY}</script>")),
    Page("module-import", _page(f"<script type=module>import('{FBEVENTS}');</script>")),
    Page("import-map", _page(f'<script type=importmap>{{"imports": {{"fb": "{FBEVENTS}"}}}}'
                             '</script><script type=module>import "fb";</script>')),
    Page("onerror-handler", _page("<img src=/missing.png alt='' onerror=\"new Image().src="
                                  "'https://www.facebook.com/tr?id=1'\">")),
    # -- page markup that claims our state --------------------------------------------------
    Page("page-data-granted", _page('<div data-granted="analytics marketing media">comment</div>'
                                    f'<script src="{GTAG}"></script>')),
    Page("page-consent-necessary", _page(f'<script data-consent="necessary" src="{GTAG}">'
                                         "</script>")),
    # -- no JavaScript: <noscript> content is markup ------------------------------------
    Page("noscript-pixel", _page(f'<noscript><img src="{PIXEL}" alt=""></noscript>'),
         javascript=False),
    Page("noscript-in-head", _page("", f'<noscript><img src="{PIXEL}" alt=""></noscript>'),
         javascript=False),
)  # fmt: skip
