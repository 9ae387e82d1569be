/* asgi-consent: records a choice without a reload and starts what was accepted.
   Without this file every control still works: they are plain HTML forms. */
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || window.__asgiConsent) { return; }
  var consentMode = me.getAttribute("data-consent-mode") === "on";
  var lastFocus = null;

  var current = null;  // the categories after a choice made in this page

  function granted() {
    if (current) { return current.slice(); }
    var holder = document.querySelector("[data-granted]");
    var list = holder ? holder.getAttribute("data-granted") : "";
    return list ? list.split(" ") : [];
  }

  function send(form, submitter) {
    var data = new URLSearchParams(new FormData(form));
    var action = form.getAttribute("action");
    if (submitter) {
      if (submitter.name) { data.append(submitter.name, submitter.value); }
      if (submitter.getAttribute("formaction")) { action = submitter.getAttribute("formaction"); }
    }
    return fetch(action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
      body: data
    }).then(function (response) {
      if (!response.ok) { throw new Error("consent endpoint answered " + response.status); }
      return response.json();
    });
  }

  function apply(state, before) {
    var banner = document.getElementById("asgi-consent");
    if (banner && banner.hasAttribute("data-consent-banner")) { banner.remove(); }
    var settings = document.getElementById("asgi-consent-settings");
    if (settings) { settings.remove(); }
    var now = state.categories || [];
    // Withdrawn: the banner must come back. A category taken back cannot be stopped
    // in a running page. Both: start afresh.
    if (!state.decided) { window.location.reload(); return; }
    for (var i = 0; i < before.length; i++) {
      if (now.indexOf(before[i]) < 0) { window.location.reload(); return; }
    }
    current = now.slice();
    if (state.settings_html) { document.body.insertAdjacentHTML("beforeend", state.settings_html); }
    reserveSpace(null);
    if (consentMode) { updateConsentMode(now); }
    activate(now);
    if (lastFocus && document.contains(lastFocus) && lastFocus !== document.body) {
      lastFocus.focus();
    } else {
      var summary = document.querySelector("#asgi-consent-settings summary");
      if (summary) { summary.focus(); }
    }
    document.dispatchEvent(new CustomEvent("asgi-consent:change", { detail: state }));
  }

  // While the bar covers the bottom of the page, keep focused page controls out from
  // under it (WCAG 2.4.11).
  function reserveSpace(bar) {
    var root = document.documentElement;
    root.style.scrollPaddingBottom = bar ? bar.offsetHeight + "px" : "";
  }

  function updateConsentMode(categories) {
    window.dataLayer = window.dataLayer || [];
    var gtag = function () { window.dataLayer.push(arguments); };
    var has = function (c) { return categories.indexOf(c) >= 0 ? "granted" : "denied"; };
    gtag("consent", "update", {
      analytics_storage: has("analytics"),
      ad_storage: has("marketing"),
      ad_user_data: has("marketing"),
      ad_personalization: has("marketing")
    });
  }

  function categoryOf(el) {
    return el.getAttribute("data-consent") || el.getAttribute("data-category") || "";
  }

  // Re-create inert scripts in document order. An external script that was not
  // async is awaited before the next one, so inline code that needs it finds it.
  function runScripts(scripts, index) {
    for (; index < scripts.length; index++) {
      var old = scripts[index];
      if (!old.parentNode) { continue; }  // replaced meanwhile
      var fresh = document.createElement("script");
      for (var a = 0; a < old.attributes.length; a++) {
        var attr = old.attributes[a];
        if (attr.name !== "type" && attr.name !== "data-consent-type" &&
          attr.name !== "data-consent-queued") {
          fresh.setAttribute(attr.name, attr.value);
        }
      }
      var type = old.getAttribute("data-consent-type") || old.getAttribute("data-type");
      if (type) { fresh.setAttribute("type", type); }
      if (old.nonce) { fresh.nonce = old.nonce; }
      var src = old.getAttribute("src") || old.getAttribute("data-src");
      if (src && !fresh.getAttribute("src")) { fresh.setAttribute("src", src); }
      if (!src) { fresh.text = old.text; }
      var waits = src && !old.hasAttribute("async");
      if (waits) {
        fresh.async = false;
        var next = index + 1;
        var go = function () { runScripts(scripts, next); };
        fresh.addEventListener("load", go, { once: true });
        fresh.addEventListener("error", go, { once: true });
      }
      old.parentNode.replaceChild(fresh, old);
      if (waits) { return; }
    }
  }

  function activate(categories) {
    var allowed = function (el) { return categories.indexOf(categoryOf(el)) >= 0; };
    // A script already queued by an earlier choice still loading keeps its place in
    // that earlier queue: a second queue must not run the inline code after it early.
    var scripts = Array.prototype.filter.call(
      document.querySelectorAll('script[type="text/plain"][data-consent]:not([data-consent-queued]), ' +
        'script[type="text/plain"][data-category]:not([data-consent-queued])'),
      allowed);
    scripts.forEach(function (s) { s.setAttribute("data-consent-queued", ""); });
    runScripts(scripts, 0);
    document.querySelectorAll("[data-consent-src], [data-consent-srcset], [data-consent-href]").forEach(function (el) {
      if (!allowed(el)) { return; }
      [["data-consent-src", "src"], ["data-consent-srcset", "srcset"], ["data-consent-href", "href"]].forEach(function (pair) {
        if (el.hasAttribute(pair[0])) {
          el.setAttribute(pair[1], el.getAttribute(pair[0]));
          el.removeAttribute(pair[0]);
        }
      });
      if (el.hasAttribute("data-consent-hidden")) {
        el.removeAttribute("hidden");
        el.removeAttribute("data-consent-hidden");
        var box = el.previousElementSibling;
        if (box && box.classList.contains("asgi-consent-placeholder")) { box.remove(); }
      }
    });
    document.querySelectorAll(".asgi-consent-placeholder").forEach(function (box) {
      if (categories.indexOf(box.getAttribute("data-consent-placeholder")) >= 0) { box.remove(); }
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-consent-form")) { return; }
    if (form.hasAttribute("data-consent-native")) { return; }
    event.preventDefault();
    var submitter = event.submitter || null;
    var before = granted();
    send(form, submitter).then(function (state) { apply(state, before); }, function () {
      // The endpoint could not be reached by fetch: fall back to the plain form post.
      form.setAttribute("data-consent-native", "");
      if (form.requestSubmit) { form.requestSubmit(submitter); } else { form.submit(); }
    });
  });

  function openPreferences(trigger) {
    var panel = document.querySelector("#asgi-consent .asgi-consent__preferences") ||
      document.querySelector("#asgi-consent-settings details");
    if (!panel) { return false; }
    lastFocus = trigger || document.activeElement;
    var hiddenBanner = document.getElementById("asgi-consent");
    if (hiddenBanner && hiddenBanner.hidden) { hiddenBanner.hidden = false; }
    panel.open = true;
    var inner = document.querySelector("#asgi-consent-settings details");
    if (inner) { inner.open = true; }
    var first = panel.querySelector("input:not([disabled]), button");
    if (first) { first.focus(); }
    return true;
  }

  document.addEventListener("click", function (event) {
    var trigger = event.target.closest && event.target.closest("[data-consent-open]");
    if (trigger && openPreferences(trigger)) { event.preventDefault(); }
  });

  // The modal position: focus moves in, stays in, and Escape closes it with no choice.
  var banner = document.getElementById("asgi-consent");
  function focusables(root) {
    return Array.prototype.filter.call(
      root.querySelectorAll("a[href], button, input:not([disabled]), summary, [tabindex]:not([tabindex='-1'])"),
      function (el) {
        // offsetParent stays set inside a closed <details>; checkVisibility knows better
        return el.checkVisibility ? el.checkVisibility() : el.offsetParent !== null;
      });
  }
  if (banner && banner.hasAttribute("data-consent-banner")) {
    var modal = banner.getAttribute("aria-modal") === "true";
    if (modal) {
      lastFocus = document.activeElement;
      var heading = document.getElementById("asgi-consent-title");
      if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
    } else {
      reserveSpace(banner);
    }
    banner.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && modal) {
        banner.hidden = true;
        reserveSpace(null);
        if (lastFocus && lastFocus.focus) { lastFocus.focus(); }
        return;
      }
      if (event.key !== "Tab" || !modal) { return; }
      var items = focusables(banner);
      if (!items.length) { return; }
      var at = items.indexOf(document.activeElement);  // -1 on the heading
      if (event.shiftKey && at <= 0) { items[items.length - 1].focus(); event.preventDefault(); }
      else if (!event.shiftKey && (at < 0 || at === items.length - 1)) {
        items[0].focus();
        event.preventDefault();
      }
    });
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var open = document.querySelector("#asgi-consent-settings > details[open]");
    if (open) { open.open = false; open.querySelector("summary").focus(); }
  });

  // A returning visitor: the server left granted categories as written; inert markup
  // written for other consent tools (type="text/plain" data-category) wakes up here.
  if (me.hasAttribute("data-granted")) { activate(granted()); }

  window.__asgiConsent = { granted: granted, activate: activate, open: openPreferences };
})();
