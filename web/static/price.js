// Foyer shopper page: a sale's price, and with a discount the list price
// struck through beside it. Plain script, no build step; it sets one
// global, foyerPrice. app.js calls foyerPrice.render where it shows the
// price.
"use strict";

(() => {
  // format writes cents of currency in locale (the browser's when not
  // given), with the currency's own minor unit (2 for EUR, 0 for JPY).
  function format(cents, currency, locale) {
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
  // €60.00", since <s> itself is not announced. No sale empties el. It
  // leaves el alone when what it would show is already there, so calling
  // it on every render costs nothing.
  function render(el, sale, locale) {
    if (!el) return;
    const discounted = !!sale && sale.list_price_cents > sale.price_cents;
    const now = sale ? format(sale.price_cents, sale.currency, locale) : "";
    const was = discounted ? format(sale.list_price_cents, sale.currency, locale) : "";
    const key = `${was}|${now}`;
    if (el.dataset.price === key) return;
    el.dataset.price = key;
    if (!discounted) {
      el.textContent = now;
      return;
    }
    el.replaceChildren(
      span(`Was ${was}, now ${now}`, "visually-hidden", false),
      span(was, "was", true),
      document.createTextNode(" "),
      span(now, "now", true),
    );
  }

  globalThis.foyerPrice = Object.freeze({ render, format });
})();
