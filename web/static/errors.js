// Foyer shopper page: what each error code means to a shopper. The
// server's messages are written for developers ("sale_not_found — read
// status of sale …"); a shopper is told what happened and what to do, in
// plain words, and the code stays in small print for support. Plain
// script, no build step; it sets one global, FoyerErrors.
"use strict";

(() => {
  // FRIENDLY holds a sentence per code a shopper can meet (docs/protocol.md,
  // "Error codes"). Codes only a shop or an operator meets are left to the
  // fallback.
  const FRIENDLY = {
    no_sale: "This link does not say which sale to wait for. Open the link the shop gave you.",
    sale_not_found: "We could not find this sale. The link may be mistyped or out of date: open the shop’s link again.",
    sale_ended: "This sale has ended.",
    sold_out: "Sorry, it is sold out.",
    too_early: "The queue is not open yet. Come back at the time shown.",
    not_joined: "You are no longer in the queue. You can join again.",
    session_invalid: "Your visit expired. Reload the page to start again.",
    unauthorized: "Your visit expired. Reload the page to start again.",
    blocked: "We cannot let this connection in. If you think this is a mistake, contact the shop.",
    flagged: "Your place was removed because your visit looked automated. If you are a person, contact the shop.",
    not_eligible: "This sale is for invited customers only. Sign in at the shop, or use your invitation link.",
    identity_required: "Sign in at the shop first, then come back through its link.",
    identity_invalid: "Your sign-in could not be checked. Sign in at the shop again, then come back through its link.",
    rate_limited: "Too many tries at once. Wait a moment; the page tries again by itself.",
    too_many_connections: "Too many tabs or devices are open on this sale from your network. Close some, then reload.",
    busy: "It is very busy right now. Wait a moment; the page tries again by itself.",
    unavailable: "We are having trouble reaching our servers. Stay on this page; it tries again by itself.",
    network: "We could not reach the server. Check your connection; the page tries again by itself.",
    token_expired: "Your hold ran out before checkout. You can join the queue again.",
    reservation_expired: "Your hold ran out before checkout. You can join the queue again.",
    reservation_unknown: "Your hold ran out before checkout. You can join the queue again.",
    token_reused: "This hold was already checked out.",
    quantity_over_limit: "You have already bought as many as one customer may.",
    not_enough_stock: "Sorry, there is not enough left.",
    pow_failed: "Your browser could not finish a check we need before you join. Try another browser, or reload.",
    pow_required: "Your browser could not finish a check we need before you join. Try again.",
    pow_invalid: "Your browser could not finish a check we need before you join. Try again.",
    pow_expired: "The check before joining took too long. Try again.",
    pow_replayed: "The check before joining was already used. Try again.",
    internal: "Something went wrong on our side. Try again in a moment.",
  };

  // friendly is the shopper's sentence for an error code; for a code it
  // does not know, a plain "try again", never the developer's message.
  function friendly(code) {
    if (Object.hasOwn(FRIENDLY, code)) return FRIENDLY[code];
    if (/^http_5/.test(code)) return FRIENDLY.internal;
    return "Something went wrong. Try again, or reload the page.";
  }

  globalThis.FoyerErrors = Object.freeze({ friendly });
})();
