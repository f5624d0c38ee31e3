// Foyer shopper page: paying for a pending order with Stripe
// (docs/payments.md, "The shopper page's payment step"): the order comes
// pending_payment with its PaymentIntent's client secret; the shopper pays
// it here with Stripe's Payment Element, and the outcome (paid, cancelled)
// comes back as an order push once Stripe's webhook reached Foyer. Plain
// script, after i18n/i18n.js; it sets one global, FoyerPayment, whose
// create gives the page (shopper/messages.js) the payment it draws:
//
//   const payment = FoyerPayment.create({ mount, say, changed });
//   payment.offer(order.payment, reservationId, redirectStatus); payment.current(); payment.settled(reservationId)
"use strict";

(() => {
  const t = FoyerI18n.t;
  // STRIPE_JS is where Stripe.js comes from: Stripe asks that it be loaded
  // from js.stripe.com, never bundled or served by us, and the page's
  // Content-Security-Policy lets it in when Stripe takes the money.
  const STRIPE_JS = "https://js.stripe.com/v3/";
  // CONFIRMING_KEY remembers, in this tab, the payment it sent (or came back
  // from a redirect that went through) until its outcome is told: a reload
  // meanwhile says it is being confirmed rather than offer the form for a
  // payment Stripe already has. It holds the PaymentIntent's id and the
  // reservation's, never the client secret.
  const CONFIRMING_KEY = "foyer.confirming";

  let stripeLoad = null; // Stripe.js loading, or loaded: asked for once, and again only after it failed

  // loadStripeJS adds Stripe.js's script to the page, once.
  function loadStripeJS() {
    if (window.Stripe) return Promise.resolve(window.Stripe);
    if (!stripeLoad) {
      stripeLoad = new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = STRIPE_JS;
        script.onload = () => (window.Stripe ? resolve(window.Stripe) : reject(new Error("Stripe.js defined nothing")));
        script.onerror = () => {
          script.remove(); // a retry adds it afresh, which asks the network again
          reject(new Error("Stripe.js could not load"));
        };
        document.head.append(script);
      });
      stripeLoad.catch(() => { stripeLoad = null; });
    }
    return stripeLoad;
  }

  // intentOf is the PaymentIntent's id in its client secret ("pi_…_secret_…").
  const intentOf = (secret) => String(secret).split("_secret_")[0];

  // rememberConfirming notes that this tab sent the payment of reservation's
  // order; confirmingHere tells whether it did; forgetConfirming, once the
  // order is settled.
  function rememberConfirming(reservation, secret) {
    try {
      sessionStorage.setItem(CONFIRMING_KEY, JSON.stringify({ reservation, intent: intentOf(secret) }));
    } catch { /* this page's life only */ }
  }
  function confirmingNote() {
    try { return JSON.parse(sessionStorage.getItem(CONFIRMING_KEY) || "null"); } catch { return null; }
  }
  function confirmingHere(reservation, secret) {
    const c = confirmingNote();
    return !!c && c.reservation === reservation && c.intent === intentOf(secret);
  }
  function forgetConfirming(reservation) {
    const c = confirmingNote();
    if (!reservation || !c || c.reservation === reservation) {
      try { sessionStorage.removeItem(CONFIRMING_KEY); } catch { /* nothing kept */ }
    }
  }

  // create makes the page's payment: mount is the element Stripe's form
  // goes in, say announces a text, changed asks the page to draw again.
  function create({ mount, say, changed }) {
    // current: the payment of a pending order, while the page has one:
    // {key, secret, state, message, reservation}; state is loading | failed |
    // ready | paying | confirming. The secret pays this one order: memory
    // only (CONFIRMING_KEY keeps the PaymentIntent's id, not the secret).
    let current = null;
    let stripeParts = null; // {pay, elements, element, stripe}: the Payment Element mounted for current

    // offer sets up paying for the pending order of a reservation; back is
    // the redirect_status the page was opened with, coming back from a
    // payment's redirect ("" otherwise). The same payment told again (a
    // reconnect, another tab's resume) leaves it as it is: the form filled
    // in, or the payment being confirmed.
    function offer(payment, reservation, back) {
      if (current && current.secret === payment.client_secret) return;
      end();
      // Back from a redirect that went through, or reloaded after this tab
      // sent the payment: Stripe has it, and the webhook brings its outcome.
      // Another redirect status is a payment not made.
      const sent = back === "succeeded" || back === "processing" || (!back && confirmingHere(reservation, payment.client_secret));
      if (sent) {
        current = { key: payment.publishable_key, secret: payment.client_secret, state: "confirming", message: "", reservation };
        rememberConfirming(reservation, payment.client_secret);
        return;
      }
      forgetConfirming(reservation);
      current = { key: payment.publishable_key, secret: payment.client_secret, state: "loading", reservation,
        message: back ? t("pay.notCompleted") : "" };
      mountPayment(current);
    }

    // mountPayment loads Stripe.js and mounts the Payment Element for pay.
    async function mountPayment(pay) {
      pay.state = "loading";
      let StripeJS;
      try {
        StripeJS = await loadStripeJS();
      } catch {
        paymentFailed(pay, t("pay.cannotLoad"));
        return;
      }
      if (current !== pay) return; // settled, or another payment, meanwhile
      try {
        const stripe = StripeJS(pay.key);
        // Stripe's form speaks the page's language too.
        const elements = stripe.elements({ clientSecret: pay.secret, locale: FoyerI18n.lang() });
        const element = elements.create("payment");
        stripeParts = { pay, stripe, elements, element };
        element.on("ready", () => {
          if (current !== pay || pay.state !== "loading") return;
          pay.state = "ready";
          changed();
        });
        element.on("loaderror", (e) => {
          paymentFailed(pay, e && e.error && e.error.message ? t("pay.loadErrorBecause", { reason: e.error.message }) : t("pay.loadError"));
        });
        element.mount(mount);
      } catch (err) {
        paymentFailed(pay, t("pay.loadErrorBecause", { reason: err.message }));
      }
    }

    function paymentFailed(pay, message) {
      if (current !== pay) return;
      dropStripeParts();
      pay.state = "failed";
      pay.message = message;
      say(message);
      changed();
    }

    function retry() {
      const pay = current;
      if (!pay || pay.state !== "failed") return;
      pay.message = "";
      mountPayment(pay);
      changed();
    }

    // payNow confirms the payment with what the shopper entered. Stripe
    // shows a 3-D Secure check itself, and leaves the page only for a
    // payment method that must (then it comes back to this page's URL).
    async function payNow(e) {
      e.preventDefault();
      const pay = current, parts = stripeParts;
      if (!pay || pay.state !== "ready" || !parts || parts.pay !== pay) return;
      pay.state = "paying";
      pay.message = "";
      changed();
      let result;
      try {
        result = await parts.stripe.confirmPayment({
          elements: parts.elements, redirect: "if_required", confirmParams: { return_url: location.href },
        });
      } catch {
        result = { error: { message: t("pay.unreachable") } };
      }
      if (current !== pay) return; // the outcome came meanwhile
      if (result.error) {
        // A declined card does not end the order: another may be tried.
        pay.state = "ready";
        pay.message = result.error.message || t("pay.failed");
        say(pay.message);
      } else {
        pay.state = "confirming";
        rememberConfirming(pay.reservation, pay.secret);
        say(t("say.paymentSent"));
      }
      changed();
    }

    function dropStripeParts() {
      if (!stripeParts) return;
      try { stripeParts.element.destroy(); } catch { /* gone with its frame */ }
      stripeParts = null;
      mount.replaceChildren();
    }

    // end forgets the payment (and its secret).
    function end() {
      dropStripeParts();
      current = null;
    }

    // settled: the order of reservation is paid, cancelled or refunded:
    // nothing is left to pay or to confirm.
    function settled(reservation) {
      end();
      forgetConfirming(reservation);
    }

    return { current: () => current, offer, settled, retry, payNow };
  }

  globalThis.FoyerPayment = Object.freeze({ create });
})();
