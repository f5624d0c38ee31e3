// Foyer shopper page: what each error code means to a shopper. The
// server's messages are written for developers ("sale_not_found — read
// status of sale …"); a shopper is told what happened and what to do, in
// plain words, and the code stays in small print for support. Plain
// script, no build step, after i18n/i18n.js; it sets one global,
// FoyerErrors.
"use strict";

(() => {
  // friendly is the shopper's sentence for an error code, in the page's
  // language: each code a shopper can meet (docs/protocol.md, "Error
  // codes") has its message "error.<code>" in the catalogs
  // (web/static/i18n/). A code only a shop or an operator meets, or one
  // newer than this page, gets a plain "try again", never the developer's
  // message.
  function friendly(code) {
    const key = `error.${code}`;
    if (FoyerI18n.has(key)) return FoyerI18n.t(key);
    if (/^http_5/.test(code)) return FoyerI18n.t("error.internal");
    return FoyerI18n.t("error.unknown");
  }

  globalThis.FoyerErrors = Object.freeze({ friendly });
})();
