/* asgi-consent: records a choice without a reload and wakes what the visitor granted.
   Without this file every control still works: they are plain HTML forms.

   Our state comes from two places only: our own <script> element (written by the server:
   data-granted, data-consent-mode) and the consent endpoint's answers. Page content is
   never read for state: a page's own data-granted attribute changes nothing. */
(() => {
  "use strict";
  const me = document.currentScript;
  if (!me) { return; }
  // A second copy (htmx hx-boost, Turbo Drive: a new body with our script in it) hands its
  // element to the copy already running. Asked by event, not by a window property: page
  // markup can clobber window names (<div id="asgiConsent">), it cannot answer an event.
  const hello = new CustomEvent("asgi-consent:script", { detail: me, cancelable: true });
  if (!document.dispatchEvent(hello)) { return; }

  const SVG = "http://www.w3.org/2000/svg";
  const XLINK = "http://www.w3.org/1999/xlink";
  const PREFIX = "data-consent-";
  // What the server renames to data-consent-<name>. Only these come back to life, so our
  // control attributes (data-consent-type, -hidden, -placeholder, -form...) never do.
  const RESTORABLE = new Set([
    "src", "srcset", "href", "xlink:href", "poster", "data", "background", "style", "srcdoc",
    "ping", "imagesrcset", "imagesizes", "attributionsrc", "http-equiv", "content", "action",
    "formaction", "manifest", "lowsrc", "longdesc", "codebase", "archive", "classid", "cite",
    "data-src",
  ]);
  const HANDLER = /^on[a-z]+$/;
  // Set last, so everything they depend on (imagesrcset, handlers...) is in place first.
  const FETCHES = new Set(["src", "href", "xlink:href", "data"]);
  const RUNNABLE = /^$|^module$|javascript|ecmascript|jscript|livescript/;
  const MARKED = "[data-consent], [data-category]";

  const words = (value) => (value || "").split(/[\t\n\f\r ]+/).filter(Boolean);
  const ownState = (script) =>
    script.hasAttribute("data-granted") ? words(script.getAttribute("data-granted")) : null;

  // cacheable_html: the page is the same for everyone; consent-cache.js, first in <head>,
  // read the choice from the cookie. Asked by event: no page markup can answer it.
  // A choice read there with the banner answered (not only an embed's grant) makes the
  // cached page the page of a decided visitor: see adoptCachedChoice.
  let cachedDecided = false;
  let cachedId = null;  // the consent id in the cookie, shown as the server shows it
  const cachedChoice = () => {
    const asked = new CustomEvent("asgi-consent:cached-choice", { detail: {} });
    document.dispatchEvent(asked);
    const found = Array.isArray(asked.detail.granted) ? asked.detail.granted : null;
    cachedDecided = found !== null && asked.detail.decided === true;
    cachedId = typeof asked.detail.id === "string" ? asked.detail.id : null;
    return found;
  };
  const stateOf = (script) => {
    cachedDecided = false;
    return ownState(script) ?? cachedChoice();
  };

  let granted = stateOf(me);  // null until a choice is known
  // Google Consent Mode: "signal:category" pairs, from the server's one table of them.
  const consentSignals = words(me.getAttribute("data-consent-mode"))
    .map((pair) => pair.split(":"))
    .filter((pair) => pair.length === 2);
  const consentMode = consentSignals.length > 0;
  let banner = null;
  let settings = null;
  let lastFocus = null;

  // -- waking inert markup --------------------------------------------------------------

  const restoredName = (attribute) => {
    if (!attribute.startsWith(PREFIX)) { return null; }
    const name = attribute.slice(PREFIX.length);
    return RESTORABLE.has(name) || HANDLER.test(name) ? name : null;
  };

  const setAttribute = (el, name, value, namespace = null) => {
    try {
      if (name === "xlink:href") { el.setAttributeNS(XLINK, name, value); }
      else if (namespace) { el.setAttributeNS(namespace, name, value); }
      else { el.setAttribute(name, value); }
    } catch {
      // A name the HTML parser accepts but the DOM refuses: that attribute stays behind.
    }
  };

  const needed = (el) =>
    words(el.getAttribute(el.hasAttribute("data-consent") ? "data-consent" : "data-category"));

  const allowed = (el) => {
    const categories = needed(el);
    // An empty list grants nothing: fail closed.
    return granted !== null && categories.length > 0 &&
      categories.every((category) => granted.includes(category));
  };

  const typeIs = (el, type) => (el.getAttribute("type") || "").trim().toLowerCase() === type;

  const isInert = (el) => {
    if (el.localName === "script" || el.localName === "style") { return typeIs(el, "text/plain"); }
    if (el.hasAttribute("data-consent-hidden")) { return true; }
    return [...el.attributes].some(({ name }) => restoredName(name) !== null);
  };

  const typeOf = (old) => {
    const own = old.getAttribute("data-consent-type");
    if (own !== null && own.trim().toLowerCase() !== "text/plain") { return own; }
    // Written inert for vanilla-cookieconsent: its data-type holds the real type.
    return old.hasAttribute("data-category") ? old.getAttribute("data-type") : null;
  };

  // A held-back script or style is created afresh: a browser runs a script element once,
  // and only on insertion. The nonce is the element's own: never ours, which would let
  // injected markup past the page's Content-Security-Policy.
  const recreate = (old) => {
    const doc = old.ownerDocument;  // ours, or a srcdoc document's
    const fresh = old.namespaceURI === SVG
      ? doc.createElementNS(SVG, old.localName) : doc.createElement(old.localName);
    const renamed = [];
    for (const { name, value, namespaceURI } of old.attributes) {
      const original = restoredName(name);
      if (original) { renamed.push([original, value]); }
      else if (name !== "type" && name !== "nonce" && !name.startsWith(PREFIX)) {
        setAttribute(fresh, name, value, namespaceURI);
      }
    }
    for (const [name, value] of renamed) { setAttribute(fresh, name, value); }
    const vanillaSrc = fresh.getAttribute("data-src");  // vanilla-cookieconsent
    if (old.localName === "script" && vanillaSrc !== null && !fresh.hasAttribute("src")) {
      fresh.setAttribute("src", vanillaSrc);
    }
    const type = typeOf(old);
    if (type) { fresh.setAttribute("type", type); }
    if (old.nonce) { fresh.nonce = old.nonce; }
    // A held style keeps its CSS in data-consent-css (its @import would be fetched).
    const stashed = old.getAttribute("data-consent-css");
    fresh.textContent = stashed !== null && !old.textContent ? stashed : old.textContent;
    return fresh;
  };

  const external = (script) =>
    script.hasAttribute("src") || (script.namespaceURI === SVG &&
      (script.hasAttribute("href") || script.hasAttributeNS(XLINK, "href")));

  const woken = new WeakSet();  // queued, restored or created by us: never twice

  // Scripts run one after another in the order they were found; an external script that
  // is not async is awaited, so inline code after it finds what it defines.
  const queue = [];
  let waiting = false;
  const runQueue = () => {
    while (!waiting && queue.length) {
      const old = queue.shift();
      if (!old.isConnected) { continue; }  // swapped out meanwhile
      const fresh = recreate(old);
      woken.add(fresh);
      // A script the browser will not fetch fires neither load nor error: do not wait.
      const type = (fresh.getAttribute("type") || "").trim().toLowerCase();
      waiting = external(fresh) && !old.hasAttribute("async") &&
        !old.hasAttribute("nomodule") && RUNNABLE.test(type);
      if (waiting) {
        if (fresh.namespaceURI !== SVG) { fresh.async = false; }
        let done = false;
        const next = () => {
          if (done) { return; }
          done = true;
          waiting = false;
          runQueue();
        };
        fresh.addEventListener("load", next, { once: true });
        fresh.addEventListener("error", next, { once: true });
      }
      old.replaceWith(fresh);
    }
  };

  const restore = (el) => {
    const rank = ([name]) => (HANDLER.test(name) ? 0 : FETCHES.has(name) ? 2 : 1);
    const renamed = [...el.attributes]
      .map(({ name, value }) => [restoredName(name), value, name])
      .filter(([original]) => original !== null)
      .sort((a, b) => rank(a) - rank(b));
    for (const [original, value, name] of renamed) {
      el.removeAttribute(name);
      setAttribute(el, original, value);
    }
    if (el.hasAttribute("data-consent-hidden")) {
      el.removeAttribute("data-consent-hidden");
      el.removeAttribute("hidden");
      const box = el.previousElementSibling;
      if (box && box.hasAttribute("data-consent-placeholder")) { box.remove(); }
    }
  };

  const inDocumentOrder = (a, b) =>
    a === b ? 0 : a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1;

  const wake = (roots) => {
    if (granted === null) { return; }
    const found = new Set();
    for (const root of roots) {
      if (root.matches(MARKED)) { found.add(root); }
      for (const el of root.querySelectorAll(MARKED)) { found.add(el); }
    }
    const ready = [...found]
      .filter((el) => el.isConnected && !woken.has(el) && isInert(el) && allowed(el))
      .sort(inDocumentOrder);
    const media = new Set();
    for (const el of ready) {
      woken.add(el);
      if (el.localName === "script") { queue.push(el); continue; }
      if (el.localName === "style") { el.replaceWith(recreate(el)); continue; }
      restore(el);
      // A <source> changed after its media element chose one is not looked at again.
      const parent = el.parentElement;
      if (el.localName === "source" && parent && typeof parent.load === "function") {
        media.add(parent);
      }
    }
    for (const parent of media) { parent.load(); }
    runQueue();
  };

  // Markup swapped in later (htmx, Turbo, Unpoly, any script) wakes by the same rules.
  // Records arrive batched per microtask, so a whole fragment is seen at once.
  const observer = new MutationObserver((records) => {
    const roots = [];
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeType === Node.ELEMENT_NODE) { roots.push(node); }
      }
    }
    if (roots.length) { wake(roots); }
  });

  const wakeAll = () => {
    if (granted === null) { observer.disconnect(); return; }
    wake([document.documentElement]);
    observer.observe(document, { childList: true, subtree: true });
  };

  // -- a choice made in the page --------------------------------------------------------

  const send = async (form, submitter) => {
    const data = new URLSearchParams(new FormData(form));
    let action = form.getAttribute("action");
    if (submitter) {
      if (submitter.name) { data.append(submitter.name, submitter.value); }
      action = submitter.getAttribute("formaction") || action;
    }
    const response = await fetch(action, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      body: data,
    });
    if (!response.ok) { throw new Error(`consent endpoint answered ${response.status}`); }
    return response.json();
  };

  const updateConsentMode = (categories) => {
    window.dataLayer = window.dataLayer || [];
    const update = {};
    for (const [signal, category] of consentSignals) {
      update[signal] = categories.includes(category) ? "granted" : "denied";
    }
    // gtag() pushes its arguments object, not an array; Google's tag reads only that shape.
    (function gtag() { window.dataLayer.push(arguments); })("consent", "update", update);
  };

  // A grant from an embed placeholder answers no question: the banner stays and keeps
  // asking; its switches show what is granted now.
  const grantOnly = (state, before) => {
    const now = state.categories || [];
    if (state.decided || !banner || !now.some((category) => category !== "necessary")) {
      return false;
    }
    if (before.some((category) => !now.includes(category))) { return false; }
    granted = [...now];
    for (const box of banner.querySelectorAll("input[name=category]")) {
      if (now.includes(box.value)) { box.checked = true; }
    }
    return true;
  };

  // To this document, and to the guard the server gave each srcdoc document (its own
  // realm, same-origin: what that guard holds waits for the grant, and wakes here too).
  const announceGrant = (categories) => {
    document.dispatchEvent(new CustomEvent("asgi-consent:grant", { detail: [...categories] }));
    for (const frame of document.querySelectorAll("iframe[srcdoc]")) {
      let inner = null;
      try { inner = frame.contentWindow && frame.contentWindow.document; } catch { /* sandbox */ }
      if (!inner || !inner.documentElement) { continue; }
      inner.dispatchEvent(new CustomEvent("asgi-consent:grant", { detail: [...categories] }));
      wake([inner.documentElement]);
    }
  };

  const apply = (state, before) => {
    if (grantOnly(state, before)) {
      // The run-time guard hears of the grant first, or it would hold what wakes here.
      announceGrant(granted);
      if (consentMode) { updateConsentMode(granted); }
      wakeAll();
      if (lastFocus && lastFocus.isConnected) { lastFocus.focus(); }
      const { settings_html: _, ...detail } = state;
      document.dispatchEvent(new CustomEvent("asgi-consent:change", { detail }));
      return;
    }
    if (banner) { banner.remove(); banner = null; }
    if (settings) { settings.remove(); settings = null; }
    const now = state.categories || [];
    // Withdrawn: the banner must come back. A category taken back cannot be stopped in a
    // running page. Both: start afresh.
    if (!state.decided || before.some((category) => !now.includes(category))) {
      window.location.reload();
      return;
    }
    granted = [...now];
    // The run-time guard (and Microsoft's signals) hear of the choice before anything wakes.
    announceGrant(now);
    if (state.settings_html && document.body) {
      document.body.insertAdjacentHTML("beforeend", state.settings_html);
      settings = document.body.lastElementChild;
    }
    reserveSpace(null);
    if (consentMode) { updateConsentMode(now); }
    wakeAll();
    if (lastFocus && lastFocus.isConnected && lastFocus !== document.body) {
      lastFocus.focus();
    } else {
      settings?.querySelector("[data-consent-open]")?.focus();
    }
    const { settings_html: _, ...detail } = state;
    document.dispatchEvent(new CustomEvent("asgi-consent:change", { detail }));
  };

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.hasAttribute("data-consent-form") || form.hasAttribute("data-consent-native")) {
      return;
    }
    event.preventDefault();
    const submitter = event.submitter || null;
    const before = granted || [];
    // From a placeholder, focus goes on to the embed it wakes.
    const box = form.closest("[data-consent-placeholder]");
    if (box) { lastFocus = box.nextElementSibling; }
    send(form, submitter).then((state) => apply(state, before), () => {
      // The endpoint could not be reached by fetch: fall back to the plain form post.
      form.setAttribute("data-consent-native", "");
      form.requestSubmit(submitter);
    });
  });

  // -- the banner and the settings control ----------------------------------------------

  // While the bar covers the bottom of the page, keep focused page controls out from under
  // it (WCAG 2.4.11), at its current height: it changes with the width and when the
  // preferences open.
  let barSize = null;
  const reserveSpace = (bar) => {
    const root = document.documentElement;
    barSize?.disconnect();
    barSize = null;
    root.style.scrollPaddingBottom = "";
    if (!bar) { return; }
    const fit = () => {
      const shown = bar.isConnected && !bar.hidden;
      root.style.scrollPaddingBottom = shown ? `${bar.offsetHeight}px` : "";
    };
    barSize = new ResizeObserver(fit);
    barSize.observe(bar);
    fit();
  };

  // The preferences: a modal <dialog> (focus kept inside, Escape closes it, the page
  // behind inert). Without showModal the links lead to the preferences page.
  const wrapped = new WeakSet();
  const openPreferences = (trigger) => {
    const dialog = (banner || settings)?.querySelector("dialog.asgi-consent__dialog");
    if (!dialog || typeof dialog.showModal !== "function") { return false; }
    lastFocus = trigger || document.activeElement;
    if (banner?.hidden) {
      banner.hidden = false;
      if (banner.getAttribute("aria-modal") !== "true") { reserveSpace(banner); }
    }
    if (!dialog.open) {
      if (!wrapped.has(dialog)) {
        wrapped.add(dialog);
        dialog.addEventListener("keydown", (event) => {
          if (event.key === "Tab") { wrapTab(dialog, event); }
        });
      }
      dialog.showModal();
      dialog.addEventListener("close", () => {
        if (lastFocus && lastFocus.isConnected) { lastFocus.focus(); }
      }, { once: true });
    }
    dialog.querySelector(".asgi-consent__switch:not([disabled])")?.focus();
    return true;
  };

  document.addEventListener("click", (event) => {
    const trigger = event.target.closest?.("[data-consent-open]");
    if (trigger && openPreferences(trigger)) { event.preventDefault(); return; }
    const close = event.target.closest?.("[data-consent-close]");
    if (close) { close.closest("dialog.asgi-consent__dialog")?.close(); }
  });

  const focusables = (root) =>
    [...root.querySelectorAll(
      "a[href], button, input:not([disabled]), summary, [tabindex]:not([tabindex='-1'])",
    )].filter((el) => (el.checkVisibility ? el.checkVisibility() : el.offsetParent !== null));
  // (offsetParent stays set inside a closed <details>; checkVisibility knows better.)

  // Tab and Shift+Tab wrap around inside `dialog` instead of leaving it.
  const wrapTab = (dialog, event) => {
    const items = focusables(dialog);
    if (!items.length) { return; }
    const at = items.indexOf(document.activeElement);  // -1 on the heading
    if (event.shiftKey && at <= 0) {
      items[items.length - 1].focus();
      event.preventDefault();
    } else if (!event.shiftKey && (at < 0 || at === items.length - 1)) {
      items[0].focus();
      event.preventDefault();
    }
  };

  // The modal position: focus moves in, stays in, and Escape closes it with no choice.
  const trapFocus = (dialog) => (event) => {
    if (event.target.closest?.("dialog")) { return; }  // the preferences keep their own
    if (event.key === "Escape") {
      dialog.hidden = true;
      lastFocus?.focus?.();
      return;
    }
    if (event.key === "Tab") { wrapTab(dialog, event); }
  };

  const showBanner = (bar) => {
    if (bar.getAttribute("aria-modal") !== "true") {
      reserveSpace(bar);
      return;
    }
    lastFocus = document.activeElement;
    const heading = bar.querySelector("#asgi-consent-title");
    if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
    bar.addEventListener("keydown", trapFocus(bar));
  };

  // Our markup is written right before our script; page content may reuse its ids.
  const near = (script, id) => {
    for (let el = script.previousElementSibling; el; el = el.previousElementSibling) {
      if (el.id === id) { return el; }
    }
    return document.getElementById(id);
  };

  // A cached page with a choice in the cookie becomes the page made for that choice: the
  // banner (hidden by consent-cache.css since the first paint) goes, and the settings
  // control comes out of the <template> the server wrote beside it.
  const adoptCachedChoice = (script) => {
    banner.remove();
    banner = null;
    let kept = script.previousElementSibling;
    while (kept && !(kept.localName === "template" && kept.hasAttribute("data-consent-cached"))) {
      kept = kept.previousElementSibling;
    }
    if (!kept) { return; }
    const control = kept.content.firstElementChild;
    kept.replaceWith(kept.content);
    settings = control;
    for (const box of control.querySelectorAll("input[name=category]:not([disabled])")) {
      box.checked = granted.includes(box.value);
    }
    const body = control.querySelector(".asgi-consent__body");
    if (cachedId && body && !body.querySelector(".asgi-consent__id")) {
      // As the server writes it on a page made for one visitor (slots.py), as text.
      const shown = document.createElement("p");
      const code = document.createElement("code");
      shown.className = "asgi-consent__id";
      code.textContent = cachedId;
      shown.append("ID: ", code);
      body.append(shown);
    }
  };

  const start = (script) => {
    const found = near(script, "asgi-consent");
    banner = found && found.hasAttribute("data-consent-banner") ? found : null;
    settings = near(script, "asgi-consent-settings");
    if (banner && cachedDecided) { adoptCachedChoice(script); }
    else if (banner && granted !== null) {
      // An embed's grant, banner still asking (the server ticks these itself on a page
      // made for one visitor; a cached page is made for nobody).
      for (const box of banner.querySelectorAll("input[name=category]:not([disabled])")) {
        if (granted.includes(box.value)) { box.checked = true; }
      }
    }
    reserveSpace(null);
    if (banner) { showBanner(banner); }
    // A returning visitor: wake what the granted categories allow, now and when swapped in.
    wakeAll();
  };

  document.addEventListener("asgi-consent:script", (event) => {
    const script = event.detail;
    if (!(script instanceof Element) || !script.isConnected) { return; }
    event.preventDefault();
    granted = stateOf(script);
    start(script);
  });

  window.asgiConsent = Object.freeze({
    granted: () => (granted ? [...granted] : []),
    open: () => openPreferences(null),
  });
  start(me);
})();
