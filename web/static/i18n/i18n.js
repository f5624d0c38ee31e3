// Foyer shopper page: the language it speaks (docs/languages.md). Every
// text the page shows comes from a catalog per language, each in its own
// file beside this one that calls FoyerI18n.catalog once; this file picks
// the language and says a message in it. Plain script, no build step; it
// sets one global, FoyerI18n.
//
// The language is, first that names a catalog: ?lang= in the link, the
// shopper's own choice from the page's switch (kept in localStorage), then
// the browser's languages in their order; English when none does. A key
// missing from a catalog is said in English rather than not at all.
"use strict";

(() => {
  const FALLBACK = "en";
  const CHOICE_KEY = "foyer.lang"; // localStorage: the language picked with the switch

  const catalogs = new Map(); // code -> {name, messages}, in the order the files load
  let current = ""; // the language in use; chosen at the first need
  const listeners = []; // told after the language changed, to redraw what is live

  // catalog adds a language: its code ("de"), its name in itself
  // ("Deutsch", for the switch) and its messages by key. A message is a
  // string with {name} placeholders, or, where a count changes the words,
  // an object of Intl.PluralRules forms ("one", "other", ...) chosen by
  // the placeholder n.
  function catalog(code, name, messages) {
    catalogs.set(code, { name, messages });
  }

  // supported finds the catalog a language tag ("de-AT") asks for: the
  // tag itself, else its language without the region; "" for none.
  function supported(tag) {
    if (!tag) return "";
    const lower = String(tag).toLowerCase();
    if (catalogs.has(lower)) return lower;
    const base = lower.split("-")[0];
    return catalogs.has(base) ? base : "";
  }

  const browserLanguages = () => (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language]);

  function storedChoice() {
    try { return localStorage.getItem(CHOICE_KEY) || ""; } catch { return ""; }
  }

  function choose() {
    const fromLink = new URLSearchParams(location.search).get("lang");
    for (const tag of [fromLink, storedChoice(), ...browserLanguages()]) {
      const code = supported(tag);
      if (code) return code;
    }
    return FALLBACK;
  }

  function lang() {
    if (!current) current = choose();
    return current;
  }

  // locale is what Intl formats with: the browser's own tag when it is of
  // the page's language (en-GB writes dates as the British do), else the
  // language alone.
  function locale() {
    const code = lang();
    const own = browserLanguages().find((tag) => supported(tag) === code);
    try {
      return own ? Intl.getCanonicalLocales(own)[0] : code;
    } catch {
      return code;
    }
  }

  // has tells whether English, which every catalog follows, has a key.
  function has(key) {
    const en = catalogs.get(FALLBACK);
    return !!en && Object.hasOwn(en.messages, key);
  }

  // lookup is a key's message and the language it is in: the page's,
  // else English's.
  function lookup(key) {
    for (const code of [lang(), FALLBACK]) {
      const c = catalogs.get(code);
      if (c && Object.hasOwn(c.messages, key)) return { message: c.messages[key], code };
    }
    return { message: key, code: FALLBACK };
  }

  // formatValue writes a number as the page's locale does (1.234 in
  // German); anything else as it is.
  const formatValue = (v) => (typeof v === "number" ? new Intl.NumberFormat(locale()).format(v) : String(v));

  // t says the message of key in the page's language, its {placeholders}
  // filled from params. A placeholder params does not name is left as it
  // is: apply fills those with elements.
  function t(key, params) {
    const { message, code } = lookup(key);
    let text = message;
    if (typeof message === "object") {
      const n = params && typeof params.n === "number" ? params.n : 0;
      const form = new Intl.PluralRules(code === lang() ? locale() : code).select(n);
      text = message[form] ?? message.other;
    }
    return String(text).replace(/\{(\w+)\}/g, (whole, name) => (params && Object.hasOwn(params, name) ? formatValue(params[name]) : whole));
  }

  // fill sets an element's text to a message. Its children marked
  // data-slot="name" stand where the message says {name}, so a live part
  // (a countdown, a link) keeps its place in any word order.
  function fill(node, text) {
    const slots = [...node.children].filter((c) => c.dataset.slot);
    if (!slots.length) {
      if (node.textContent !== text) node.textContent = text;
      return;
    }
    const byName = Object.fromEntries(slots.map((s) => [s.dataset.slot, s]));
    const parts = text.split(/\{(\w+)\}/).map((part, i) => (i % 2 ? byName[part] || `{${part}}` : part));
    node.replaceChildren(...parts.filter((p) => p !== ""));
  }

  // apply writes the page's fixed texts in its language: the text of each
  // element with data-i18n="key", the aria-label of each with
  // data-i18n-label="key", and <html lang>.
  function apply(root = document) {
    document.documentElement.lang = lang();
    for (const node of root.querySelectorAll("[data-i18n]")) fill(node, t(node.dataset.i18n));
    for (const node of root.querySelectorAll("[data-i18n-label]")) node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  }

  // use switches the page to a language, at once; remember keeps it for
  // the shopper's next visits.
  function use(code, remember) {
    const next = supported(code);
    if (!next) return;
    current = next;
    if (remember) {
      try { localStorage.setItem(CHOICE_KEY, next); } catch { /* this visit only */ }
    }
    apply();
    for (const fn of listeners) fn(next);
  }

  // onChange registers fn to redraw what the page says live after the
  // language changed.
  function onChange(fn) {
    listeners.push(fn);
  }

  // start writes the page in its language and fills the switch, a
  // <select>, with each language in its own name. A choice made there is
  // kept, and replaces any ?lang= of the link, which would otherwise win
  // again at the next reload.
  function start(select) {
    apply();
    if (!select) return;
    select.replaceChildren(...[...catalogs].map(([code, c]) => {
      const option = new Option(c.name, code, false, code === lang());
      option.lang = code;
      return option;
    }));
    select.value = lang();
    const label = select.closest("label");
    if (label) label.hidden = false; // without script, a switch that does nothing stays out of sight
    select.addEventListener("change", () => {
      const q = new URLSearchParams(location.search);
      if (q.has("lang")) {
        q.delete("lang");
        const rest = q.toString();
        history.replaceState(history.state, "", `${location.pathname}${rest ? `?${rest}` : ""}${location.hash}`);
      }
      use(select.value, true);
    });
  }

  globalThis.FoyerI18n = Object.freeze({ catalog, t, has, lang, locale, apply, use, onChange, start });
})();
