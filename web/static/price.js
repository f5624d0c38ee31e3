// Foyer shopper page: a sale's price, and with a discount the list price
// struck through beside it. Plain script, no build step; it sets one
// global, foyerPrice. The page (shopper/render.js) calls foyerPrice.render where it shows the
// price. It speaks the page's language through FoyerI18n (i18n/i18n.js)
// when the catalogs have the key price.wasNow ("Was {was}, now {now}"),
// English until then.
"use strict";

(() => {
  const i18n = () => globalThis.FoyerI18n;

  // pageLocale is the page's locale, as the page (shopper/format.js) formats with.
  const pageLocale = () => (i18n() ? i18n().locale() : undefined);

  // wasNow is the one sentence a screen reader hears for a discount.
  function wasNow(was, now) {
    if (i18n() && i18n().has("price.wasNow")) return i18n().t("price.wasNow", { was, now });
    return `Was ${was}, now ${now}`;
  }

  // format writes cents of currency in locale (the page's when not
  // given), with the currency's own minor unit (2 for EUR, 0 for JPY).
  function format(cents, currency, locale = pageLocale()) {
    try {
      const fmt = new Intl.NumberFormat(locale, { style: "currency", currency });
      return fmt.format(cents / 10 ** fmt.resolvedOptions().maximumFractionDigits);
    } catch {
      return `${(cents / 100).toFixed(2)} ${currency || ""}`.trim();
    }
  }

  // span makes a span with text, hidden from screen readers when quiet.
  function span(text, className, quiet) {
    const s = document.createElement(className === "was" ? "s" : "span");
    s.className = className;
    s.textContent = text;
    if (quiet) s.setAttribute("aria-hidden", "true");
    return s;
  }

  // render shows sale's price in el: the price alone, or, when the sale
  // has a list price above it, the list price struck through (<s>) and the
  // sale price. A screen reader hears one sentence, "Was €80.00, now
  // €60.00", since <s> itself is not announced; locale defaults to the
  // page's. No sale empties el. It
  // leaves el alone when what it would show is already there, so calling
  // it on every render costs nothing.
  function render(el, sale, locale) {
    if (!el) return;
    locale = locale || pageLocale();
    const discounted = !!sale && sale.list_price_cents > sale.price_cents;
    const now = sale ? format(sale.price_cents, sale.currency, locale) : "";
    const was = discounted ? format(sale.list_price_cents, sale.currency, locale) : "";
    const spoken = discounted ? wasNow(was, now) : "";
    const key = `${spoken}|${now}`;
    if (el.dataset.price === key) return;
    el.dataset.price = key;
    if (!discounted) {
      el.textContent = now;
      return;
    }
    el.replaceChildren(
      span(spoken, "visually-hidden", false),
      span(was, "was", true),
      document.createTextNode(" "),
      span(now, "now", true),
    );
  }

  globalThis.foyerPrice = Object.freeze({ render, format });
})();
