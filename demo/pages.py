"""The demo's HTML. Tracker snippets are copied in their official form (placeholder ids)
from the fixture corpus in tests/fixtures/pages/ (ga4.html, meta_pixel.html,
youtube.html), where each carries its vendor source."""

from __future__ import annotations

from html import escape

from asgi_consent import Consent

SITE = "The Daily Crumb"

# https://developers.google.com/analytics/devguides/collection/gtagjs
GA4_SNIPPET = """<!-- Google tag (gtag.js) -->
<script async src="https://www.googletagmanager.com/gtag/js?id=G-XXXXXXXXXX"></script>
<script>
  window.dataLayer = window.dataLayer || [];
  function gtag(){window.dataLayer.push(arguments);}
  gtag('js', new Date());

  gtag('config', 'G-XXXXXXXXXX');
</script>"""

# https://developers.facebook.com/docs/meta-pixel/get-started
META_PIXEL_SNIPPET = """<!-- Facebook Pixel Code -->
<script>
  !function(f,b,e,v,n,t,s)
  {if(f.fbq)return;n=f.fbq=function(){n.callMethod?
  n.callMethod.apply(n,arguments):n.queue.push(arguments)};
  if(!f._fbq)f._fbq=n;n.push=n;n.loaded=!0;n.version='2.0';
  n.queue=[];t=b.createElement(e);t.async=!0;
  t.src=v;s=b.getElementsByTagName(e)[0];
  s.parentNode.insertBefore(t,s)}(window, document,'script',
  'https://connect.facebook.net/en_US/fbevents.js');
  fbq('init', '000000000000000');
  fbq('track', 'PageView');
</script>
<noscript>
  <img height="1" width="1" style="display:none"
       src="https://www.facebook.com/tr?id=000000000000000&ev=PageView&noscript=1"/>
</noscript>
<!-- End Facebook Pixel Code -->"""

# https://developers.google.com/youtube/player_parameters (the share dialog's embed)
YOUTUBE_EMBED = (
    '<iframe width="560" height="315" src="https://www.youtube.com/embed/XXXXXXXXXXX"'
    ' title="YouTube video player" frameborder="0" allow="accelerometer; autoplay;'
    ' clipboard-write; encrypted-media; gyroscope; picture-in-picture; web-share"'
    ' referrerpolicy="strict-origin-when-cross-origin" allowfullscreen></iframe>'
)

# First-party analytics, marked for the middleware; the inline call needs the file first.
FIRST_PARTY_ANALYTICS = """<script src="/static/analytics-demo.js" data-consent="analytics">\
</script>
<script data-consent="analytics">demoAnalytics.track("page_view");</script>"""

STYLE = """<style>
  body { font: 17px/1.55 Georgia, serif; max-width: 46rem; margin: 0 auto; padding: 1rem;
         color: #222; }
  header, footer { font-family: system-ui, sans-serif; font-size: 15px; }
  nav a { margin-right: 1rem; }
  .status { font-family: ui-monospace, monospace; padding: .5rem .75rem; border: 1px solid #999;
            background: #fff4e5; }
  .status[data-status="ran"] { background: #e8f6e8; }
  aside.watch { font-family: system-ui, sans-serif; font-size: 15px; background: #f3f5f8;
                border-left: 4px solid #4263eb; padding: .25rem 1rem; margin: 1.5rem 0; }
  code { font-size: 90%; }
</style>"""

WATCH = """<aside class="watch">
  <h2>What to watch</h2>
  <p>Open your browser's developer tools on the <strong>Network</strong> panel, tick
  "Preserve log", and reload.</p>
  <ul>
    <li>Before you choose, there is not a single request to <code>googletagmanager.com</code>,
    <code>google-analytics.com</code>, <code>connect.facebook.net</code>,
    <code>facebook.com</code> or <code>youtube.com</code>: the middleware turned those tags
    into inert <code>type="text/plain"</code> scripts and source-less iframes in the HTML
    itself (view the page source to see them).</li>
    <li>Click <em>Reject all</em> and reload: still none.</li>
    <li>Click <em>Accept all</em>: the requests start at once, without a reload, and the
    status box below turns to "ran".</li>
    <li>Change your mind at any time with the <em>Cookie settings</em> link.</li>
  </ul>
</aside>"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _server_view(consent: Consent) -> str:
    if not consent.decided:
        seen = "no choice yet"
    else:
        seen = "granted: " + ", ".join(sorted(consent.categories))
    return (
        '<p class="server-view">On the server, <code>request.state.consent</code> says: '
        f'<span id="server-consent">{_e(seen)}</span>.</p>'
    )


def layout(
    title: str,
    main: str,
    *,
    consent: Consent,
    settings_url: str = "/_consent/preferences",
    note: str = "",
) -> str:
    """A whole page: site-wide tags in <head>, navigation, the status box, the footer."""
    return f"""<!doctype html>
<html lang="en">
<head>
{GA4_SNIPPET}
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)} | {SITE}</title>
{STYLE}
{META_PIXEL_SNIPPET}
</head>
<body>
<header>
  <strong>{SITE}</strong>
  <nav>
    <a href="/">Article</a>
    <a href="/video">Video</a>
    <a href="/privacy">Privacy policy</a>
    <a href="/notice">Classic notice</a>
    <a href="{_e(settings_url)}" data-consent-open>Cookie settings</a>
  </nav>
</header>
<main>
{main}
<p id="analytics-status" class="status" data-status="blocked">analytics script: blocked</p>
{_server_view(consent)}
{note}
{WATCH}
</main>
<footer>
  <p>&copy; {SITE} (a demo of asgi-consent) &middot; <a href="/privacy">Privacy policy</a>
  &middot; <a href="{_e(settings_url)}" data-consent-open>Cookie settings</a></p>
</footer>
{FIRST_PARTY_ANALYTICS}
</body>
</html>
"""


ARTICLE = """<article>
  <h1>Town council votes to keep the night bus</h1>
  <p>After three hours of debate the council agreed on Tuesday to keep the N4 night bus
  running until at least next spring. Shift workers at the hospital had collected more than
  2,000 signatures.</p>
  <p>The route costs the town about 140,000 euros a year. The council will look for a
  sponsor over the summer.</p>
  <p>There is a <a href="/video">video of the debate</a>.</p>
</article>"""

VIDEO = f"""<article>
  <h1>Watch: the night bus debate in four minutes</h1>
  <p>The video below is a YouTube embed. Until you allow "External content", the middleware
  removes its address from the HTML and shows a box with an <em>Allow and load</em> button in
  its place: that button allows this one category and loads the video, nothing else.</p>
  {YOUTUBE_EMBED}
</article>"""

PRIVACY = """<article>
  <h1>Privacy policy</h1>
  <p>This demo site sets one cookie of its own, <code>asgi_consent</code>, which records your
  choice (signed, HttpOnly, kept for 180 days). It sets no other cookie.</p>
  <p>If you allow them, these third parties may set cookies and receive your IP address:</p>
  <ul>
    <li><strong>Analytics</strong>: Google Analytics (gtag.js) and our own first-party
    script.</li>
    <li><strong>Marketing</strong>: the Meta Pixel.</li>
    <li><strong>External content</strong>: YouTube, for the embedded video.</li>
  </ul>
  <p>You can change or withdraw your choice at any time through <em>Cookie settings</em>.</p>
</article>"""

NOTICE = """<article>
  <h1>The classic notice bar</h1>
  <p>This is the notice bar many small sites still show: <q>Bullion Bite uses cookies to
  enhance your experience. How We Use Cookies? [Ok, Go it!]</q>, kept for 20 days.</p>
  <p>Here it is real: the page carries the same Google Analytics and Meta Pixel tags as the
  rest of the site, and neither makes a request until you click <em>Ok, Go it!</em>.</p>
  <h2>How this path is wired</h2>
  <p>Everything under <code>/notice</code> goes through a second
  <code>ConsentMiddleware</code> configured with <code>mode="notice"</code>,
  <code>expiry_days=20</code>, its own endpoints under <code>/notice/_consent</code> and its
  own cookie <code>asgi_consent_notice</code>; the rest of the site goes through the first
  one. So a choice made here does not count for the other pages, and the other way round.</p>
</article>"""
