"""The built-in tracker catalogue: which third-party code belongs to which consent category.

Each `Tracker` describes one vendor product the way it shows up in a page's HTML: the
URLs of its `<script src>`, `<iframe src>` and `<img src>` (noscript pixel) tags, the
substrings that identify its inline `<script>` loader snippet, and the first-party
cookies it leaves on the site's own domain. The middleware uses the catalogue to keep
these out of the page, and their cookies out of responses, until the visitor consents to
the tracker's category (`analytics`, `marketing` or `media`).

URL patterns are `host[/path-and-query-prefix]`, lower case, without a scheme. A URL
matches when its host equals the pattern's host or ends with "." + that host, and, if
the pattern has a path part, the URL's path and query start with it::

    "google-analytics.com"          matches https://region1.google-analytics.com/g/collect
    "googletagmanager.com/gtag/js"  matches https://www.googletagmanager.com/gtag/js?id=G-X

Entries are tried in catalogue order and the first match wins, so a more specific
pattern comes before a less specific one on the same host (Google Ads'
`gtag/js?id=AW-` before GA4's `gtag/js`; the X pixel's `platform.twitter.com/oct.js`
before the X widgets' `platform.twitter.com`).

Inline markers are exact substrings (compared case-insensitively by the matcher) of the
vendor's own loader snippet, chosen so that ordinary first-party code does not contain
them: `fbq(` yes, `track(` no. The matcher neutralises an inline script when a marker of
*any* refused category occurs in it, so a snippet that mixes two vendors waits for both.
Where one snippet could belong to two entries, the stricter category comes first so it
is the one reported.

Cookie names are exact, or a prefix when they end in "*" (`_ga_*`, `_hj*`). Only cookies
set on the site's own domain are listed: third-party cookies on the vendor's domain never
reach the site's responses.

`source` is the vendor documentation the entry was checked against. Entries whose install
page is not in the reference material available to us say so in a comment; the shapes
there were cross-checked against independent published copies of the snippet. The same
sources are tabulated in tests/fixtures/pages/SOURCES.md.

Known limits of host-based patterns: self-hosted Matomo (`/matomo.js`, `/matomo.php` on
the site's own analytics host), server-side tagging or GTM served from a custom first-party
domain, and Google tags whose linked destinations are configured in Google's UI (a G- tag
can load Ads code) cannot be recognised from the URL alone. Inline markers cover the
first case; sites add their own hosts through the config for the others.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Tracker:
    """One vendor product as it appears in a page, and the consent category it needs."""

    name: str
    category: str
    provider: str
    script_urls: tuple[str, ...] = ()
    inline_markers: tuple[str, ...] = ()
    iframe_urls: tuple[str, ...] = ()
    pixel_urls: tuple[str, ...] = ()
    cookies: tuple[str, ...] = ()
    source: str = ""


CATALOGUE: tuple[Tracker, ...] = (
    # ---------------------------------------------------------------- marketing
    # Google Ads comes before GA4: both load gtag.js from the same URL, and one loaded
    # gtag.js library runs every `gtag('config', ...)` queued on the page, whatever the id.
    # So an inline snippet that configures an AW-/DC-/GT- id must wait for marketing
    # consent even if it also configures a G- (GA4) id; the markers below are the exact
    # config and send_to forms, specific enough not to hit first-party code. GT- ids are
    # "Google tag" ids that Google Ads issues alongside AW- ids; they may also front GA4,
    # so they are treated as the stricter category (a site can move them in its config).
    Tracker(
        name="Google Ads (gtag.js conversion tracking, remarketing, AdSense)",
        category="marketing",
        provider="Google Ads",
        script_urls=(
            "googletagmanager.com/gtag/js?id=aw-",
            "googletagmanager.com/gtag/js?id=dc-",
            "googletagmanager.com/gtag/js?id=gt-",
            "googleadservices.com",
            "googlesyndication.com",
            "googletagservices.com",
            "doubleclick.net",
        ),
        inline_markers=(
            "gtag('config', 'AW-",
            "gtag('config','AW-",
            'gtag("config", "AW-',
            'gtag("config","AW-',
            "gtag('config', 'DC-",
            'gtag("config", "DC-',
            "gtag('config', 'GT-",
            'gtag("config", "GT-',
            "'send_to': 'AW-",
            "'send_to':'AW-",
            '"send_to": "AW-',
            '"send_to":"AW-',
            "send_to: 'AW-",
            'send_to: "AW-',
            "'send_to': 'DC-",
            '"send_to": "DC-',
            # legacy conversion.js / remarketing tag configuration variables
            "google_conversion_id",
            # AdSense ad slot activation
            "adsbygoogle",
        ),
        iframe_urls=(
            "doubleclick.net",
            "googlesyndication.com",
            "googleadservices.com",
        ),
        pixel_urls=(
            "googleadservices.com",
            "doubleclick.net",
            "google.com/pagead/",
        ),
        cookies=("_gcl_au", "_gcl_*", "_gac_*", "__gads", "__gpi"),
        # Verified: the Google tag shape (gtag/js?id=TAG_ID, gtag('config', TAG_ID)) and the
        # AW- tag id. The event snippet's send_to form and the legacy conversion.js /
        # googleadservices.com / doubleclick.net noscript pixels and AdSense's adsbygoogle.js
        # are not on that page; they were cross-checked against published copies only.
        source="https://support.google.com/google-ads/answer/12985952",
    ),
    # A GTM container can deploy any tag, ad pixels included, and the server cannot see
    # inside it; so the container is held back until marketing consent, the only way to
    # be sure no ad tag fires early. A site that uses GTM for analytics only can move the
    # container to "analytics" in its config.
    Tracker(
        name="Google Tag Manager (container loader)",
        category="marketing",
        provider="Google Tag Manager",
        script_urls=("googletagmanager.com/gtm.js",),
        inline_markers=("'gtm.start'", '"gtm.start"', "googletagmanager.com/gtm.js"),
        iframe_urls=("googletagmanager.com/ns.html",),
        # not verified: Google's install page (developers.google.com/tag-platform/
        # tag-manager/web, support.google.com/tagmanager/answer/6103696) is not in the
        # stored corpora; the head snippet and the <noscript><iframe ns.html> shape were
        # cross-checked against many copies of the snippet Tag Manager hands out.
        source="",
    ),
    Tracker(
        name="Meta Pixel (Facebook Pixel)",
        category="marketing",
        provider="Meta",
        # The whole host: fbevents.js's locale path varies (en_US, de_DE, ...) and it loads
        # signals/config/<pixel>. This also holds back the Facebook JS SDK (sdk.js).
        script_urls=("connect.facebook.net",),
        inline_markers=("fbq(", "fbevents.js"),
        pixel_urls=("facebook.com/tr?", "facebook.com/tr/"),
        cookies=("_fbp", "_fbc"),
        source="https://developers.facebook.com/docs/meta-pixel/get-started",
    ),
    Tracker(
        name="LinkedIn Insight Tag",
        category="marketing",
        provider="LinkedIn",
        script_urls=("snap.licdn.com",),
        inline_markers=(
            "_linkedin_partner_id",
            "_linkedin_data_partner_ids",
            "snap.licdn.com/li.lms-analytics",
            "lintrk(",
        ),
        # px.ads.linkedin.com today, dc.ads.linkedin.com in older copies
        pixel_urls=("ads.linkedin.com",),
        cookies=("li_fat_id", "ln_or"),
        # not verified: LinkedIn's install article (linkedin.com/help/lms/answer/a418880) is
        # not in the stored corpora. Snippet shape (partner id, insight.min.js, noscript
        # px.ads.linkedin.com/collect pixel) cross-checked against published copies; the
        # cookie names are from third-party cookie audits, not LinkedIn's own table.
        source="",
    ),
    Tracker(
        name="TikTok Pixel",
        category="marketing",
        provider="TikTok",
        script_urls=("analytics.tiktok.com",),
        inline_markers=(
            "TiktokAnalyticsObject",
            "analytics.tiktok.com/i18n/pixel",
            "ttq.load(",
            "ttq.page(",
            "ttq.track(",
        ),
        cookies=("_ttp", "_tt_enable_cookie", "ttcsid*"),
        # not verified: TikTok's base-code page is not in the stored corpora (only its
        # cookie article, ads.tiktok.com/help/article/how-to-use-cookies-with-tiktok-pixel,
        # which confirms first-party cookies but names none in the stored copy). Snippet
        # shape cross-checked against the copy quoted in nuxt/scripts issue #166.
        source="",
    ),
    # The X pixel shares platform.twitter.com with the X widgets (oct.js, the old
    # single-event tag), so its specific path comes first.
    Tracker(
        name="X (Twitter) Pixel / conversion tracking",
        category="marketing",
        provider="X",
        script_urls=("static.ads-twitter.com", "platform.twitter.com/oct.js"),
        inline_markers=("twq(", "static.ads-twitter.com/uwt.js", "twttr.conversion"),
        pixel_urls=("analytics.twitter.com", "t.co/i/adsct"),
        cookies=("_twclid",),
        # Partly verified: X's page describes the pixel (base code on every page, event
        # code, first-party cookies) but its stored copy does not show the snippet text;
        # the uwt.js / twq('config', ...) shape was cross-checked against published copies.
        source=(
            "https://business.x.com/en/help/campaign-measurement-and-analytics/"
            "conversion-tracking-for-websites"
        ),
    ),
    # ---------------------------------------------------------------- analytics
    Tracker(
        name="Google Analytics 4 (gtag.js)",
        category="analytics",
        provider="Google Analytics",
        # After Google Ads' AW-/DC-/GT- loader patterns: this one matches any other id.
        script_urls=(
            "googletagmanager.com/gtag/js",
            "google-analytics.com",
            "analytics.google.com",
        ),
        # Specific G- forms, not a bare "gtag(": the bootstrap alone is harmless without
        # the loader, and a bare "gtag(" would also hold back an Ads-only snippet until
        # analytics consent. `GoogleAnalyticsObject` and `_gaq.push` are the legacy
        # analytics.js and ga.js loaders.
        inline_markers=(
            "gtag('config', 'G-",
            "gtag('config','G-",
            'gtag("config", "G-',
            'gtag("config","G-',
            "'send_to': 'G-",
            '"send_to": "G-',
            "GoogleAnalyticsObject",
            "_gaq.push",
        ),
        pixel_urls=("google-analytics.com", "analytics.google.com"),
        cookies=("_ga", "_ga_*", "_gid", "_gat*", "_dc_gtm_*", "__utm*", "AMP_TOKEN"),
        source="https://developers.google.com/analytics/devguides/collection/gtagjs",
    ),
    Tracker(
        name="Hotjar (Contentsquare) tracking code",
        category="analytics",
        provider="Hotjar",
        script_urls=("hotjar.com", "static.contentsquare.com/c/contentsquare-"),
        inline_markers=(
            "_hjSettings",
            "static.hotjar.com/c/hotjar-",
            "static.contentsquare.com/c/contentsquare-",
        ),
        cookies=("_hj*",),
        # Verified against Hotjar's own snippet in its @hotjar/browser package: the
        # (function(h,o,t,j,a,r){... h._hjSettings={hjid,hjsv} ...}) loader of
        # static.hotjar.com/c/hotjar-<id>.js?sv=<v>, and its newer rebranded form loading
        # static.contentsquare.com/c/contentsquare-<id>.js. Hotjar's help-centre install
        # article itself is not in the stored corpora. Snippet is in src/utils.ts there.
        source="https://github.com/hotjar/hotjar-js",
    ),
    Tracker(
        name="Microsoft Clarity",
        category="analytics",
        provider="Microsoft Clarity",
        script_urls=("clarity.ms",),
        inline_markers=("clarity.ms/tag/", "window.clarity("),
        cookies=("_clck", "_clsk"),
        # Verified against the snippet Microsoft's own Clarity plugin injects
        # (www.clarity.ms/tag/<project id>). The learn.microsoft.com setup page is not in
        # the stored corpora; its cookie-consent page confirms the tag goes in <head> and
        # sets cookies on load. _clck/_clsk were not checked against Microsoft's table.
        # The snippet is in clarity.php there.
        source="https://github.com/microsoft/clarity-joomla-plugin",
    ),
    # Matomo is mostly self-hosted, so its matomo.js/matomo.php may be on any host and
    # the inline `_paq` markers do most of the work; the URL patterns cover Matomo Cloud
    # (matomo.cloud; innocraft.cloud is its older domain, not verified). `_mtm` is the
    # Matomo Tag Manager container loader.
    Tracker(
        name="Matomo (JavaScript tracker, Tag Manager)",
        category="analytics",
        provider="Matomo",
        script_urls=("matomo.cloud", "innocraft.cloud"),
        inline_markers=("_paq.push", "var _paq", "_mtm.push", "var _mtm"),
        pixel_urls=("matomo.cloud", "innocraft.cloud"),
        cookies=("_pk_*",),
        source="https://developer.matomo.org/guides/tracking-javascript-guide",
    ),
    # ---------------------------------------------------------------- media
    # Embedded posts and timelines are content the reader chose to look at, like a
    # YouTube video, so they share the "media" category and a click-to-load placeholder.
    # Like YouTube, X may use what its widgets see for ad personalisation; the media
    # category's description has to say that embeds let their provider track.
    Tracker(
        name="X (Twitter) embedded posts and widgets",
        category="media",
        provider="X",
        script_urls=("platform.twitter.com", "platform.x.com"),
        inline_markers=(
            "twitter-wjs",
            "platform.twitter.com/widgets.js",
            "platform.x.com/widgets.js",
            "twttr.widgets",
        ),
        iframe_urls=("platform.twitter.com", "platform.x.com", "syndication.twitter.com"),
        source="https://docs.x.com/x-for-websites/javascript-api/guides/set-up-x-for-websites",
    ),
    # youtube-nocookie.com ("privacy-enhanced mode") still stores data once the video is
    # played, so it is media too.
    Tracker(
        name="YouTube embedded player",
        category="media",
        provider="YouTube",
        script_urls=("youtube.com/iframe_api", "youtube.com/player_api"),
        inline_markers=("youtube.com/iframe_api", "youtube.com/player_api", "YT.Player("),
        iframe_urls=("youtube.com/embed", "youtube-nocookie.com/embed"),
        source="https://developers.google.com/youtube/player_parameters",
    ),
    Tracker(
        name="Vimeo embedded player",
        category="media",
        provider="Vimeo",
        script_urls=("player.vimeo.com/api/player.js",),
        inline_markers=("Vimeo.Player(",),
        iframe_urls=("player.vimeo.com",),
        # Vimeo's own player.js README (iframe and player.js shapes); the Vimeo help-centre
        # embed page is not in the stored corpora.
        source="https://github.com/vimeo/player.js",
    ),
    Tracker(
        name="Google Maps embeds (Maps Embed API, share-a-map iframes, Maps JavaScript API)",
        category="media",
        provider="Google Maps",
        # The Maps JavaScript API is an embedded map too: it loads from Google and reports
        # the visitor to Google before any interaction.
        script_urls=("maps.googleapis.com/maps/api/js",),
        inline_markers=("maps.googleapis.com/maps/api/js", "google.maps."),
        # /maps/embed/v1/... (Embed API), /maps/embed?pb=... (Share > Embed a map),
        # /maps/d/embed (My Maps), legacy maps.google.com/maps?...&output=embed.
        iframe_urls=("google.com/maps", "maps.google.com"),
        source="https://developers.google.com/maps/documentation/embed",
    ),
)
