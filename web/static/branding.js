// Foyer shopper page: a sale's branding (docs/branding.md). It reads the
// sale's branding from GET /v1/sales/:sale/branding and dresses the page in
// it: the shop's colours as CSS custom properties, the shop's logo (a link
// back to the shop) and the product's image with the sale's name as alt
// text, the headline and description under the sale's name, and the text
// shown while waiting. Plain script, no build step, self-contained; it sets
// one global, window.foyerBranding, which the page (shopper/) asks for the sale's link
// back to the shop and its sold-out text. A sale without a branding, or a
// branding that cannot be read, leaves Foyer's own look.
"use strict";

(() => {
  const saleId = new URLSearchParams(location.search).get("sale") || "";
  let current = null; // the branding once read; null before, or without one

  // https only: the server refuses others, and the page checks again
  // rather than trust what it is handed.
  const safeURL = (u) => (typeof u === "string" && /^https:\/\/[^\s"'<>\\]+$/.test(u) ? u : "");
  const colour = (c) => (typeof c === "string" && /^#[0-9a-f]{6}$/.test(c) ? c : "");
  const text = (t) => (typeof t === "string" ? t : "");
  const i18n = globalThis.FoyerI18n;
  // shopLinkText is the logo's alt text when it links back to the shop, in
  // the page's language (the same message as the page's other shop links).
  const shopLinkText = () => (i18n ? i18n.t("link.shop") : "Back to the shop");

  // image makes an <img> that hides itself (and what holds it) if it
  // cannot load, so a shopper never sees a broken picture.
  function image(src, alt, cls, hideOnError) {
    const img = document.createElement("img");
    img.className = cls;
    img.alt = alt;
    img.decoding = "async";
    img.referrerPolicy = "no-referrer";
    img.addEventListener("error", () => { (hideOnError || img).hidden = true; });
    img.src = src;
    return img;
  }

  // style sets the few rules the branding's elements need through the CSS
  // object model, which the page's Content-Security-Policy allows (it
  // refuses inline styles).
  function style(el, rules) {
    for (const [k, v] of Object.entries(rules)) el.style.setProperty(k, v);
    return el;
  }

  function paragraph(id, cls, value) {
    const p = document.createElement("p");
    p.id = id;
    p.className = cls;
    p.textContent = value;
    return p;
  }

  function apply(b) {
    const root = document.documentElement.style;
    const accent = colour(b.accent_color), background = colour(b.background_color);
    // The server checked both against the page's text (WCAG AA, 4.5:1);
    // the hover shade is the accent itself, which passed the same check.
    if (accent) { root.setProperty("--accent", accent); root.setProperty("--accent-dark", accent); }
    if (background) root.setProperty("--bg", background);

    const name = text(b.sale_name) || "the sale";
    const shop = safeURL(b.shop_url);
    const logo = safeURL(b.logo_url);
    const line = document.querySelector(".brandline");
    if (logo && line) {
      let holder;
      if (shop) {
        holder = document.createElement("a");
        holder.href = shop;
        holder.className = "brand-logo-link";
        const img = image(logo, shopLinkText(), "brand-logo", holder);
        holder.appendChild(img);
        if (i18n) i18n.onChange(() => { img.alt = shopLinkText(); });
      } else {
        // Without a link the logo only decorates: the page's heading names
        // the sale, and an alt text could only guess at the shop's name.
        holder = image(logo, "", "brand-logo", null);
      }
      style(holder.tagName === "A" ? holder.firstChild : holder, { "max-height": "2.5rem", "max-width": "10rem", display: "block" });
      line.insertBefore(holder, line.firstChild);
      const foyer = line.querySelector(".brand");
      if (foyer) foyer.hidden = true;
    }

    // Under the sale's name and price, before the state: what is sold, then how it stands.
    const heading = document.getElementById("price") || document.getElementById("sale-name");
    const intro = document.createElement("div");
    intro.id = "brand-intro";
    if (text(b.headline)) intro.appendChild(style(paragraph("brand-headline", "brand-headline", b.headline), { "font-weight": "600", "font-size": "1.1rem" }));
    if (text(b.description)) intro.appendChild(style(paragraph("brand-description", "brand-description", b.description), { "margin-top": ".2rem" }));
    const product = safeURL(b.product_image_url);
    if (product) {
      intro.appendChild(style(image(product, name, "brand-product", null), {
        display: "block", width: "100%", "max-height": "16rem", "object-fit": "contain", "margin-top": ".6rem",
        "border-radius": "8px",
      }));
    }
    if (heading && intro.childElementCount) heading.after(intro);

    const queue = document.getElementById("queue");
    if (queue && text(b.waiting_text)) {
      // Under "You are in the queue": the shop's word to those waiting.
      const where = document.getElementById("position");
      const p = style(paragraph("brand-waiting", "hint", b.waiting_text), { "margin-bottom": ".4rem" });
      if (where && where.parentNode === queue) where.after(p);
      else queue.insertBefore(p, queue.firstChild);
    }

    if (shop) {
      // For a page that reads the meta after this: the sale's shop is the shop.
      const meta = document.querySelector('meta[name="foyer-shop-url"]');
      if (meta) meta.content = shop;
    }
  }

  async function load() {
    if (!saleId) return null;
    try {
      const res = await fetch("/v1/sales/" + encodeURIComponent(saleId) + "/branding", { credentials: "omit" });
      if (!res.ok) return null; // an unknown sale: the page tells the shopper so
      const b = await res.json();
      current = b;
      apply(b);
      return b;
    } catch {
      return null; // Foyer's own look: the queue matters more than the colours
    }
  }

  const ready = load().then((b) => {
    document.dispatchEvent(new CustomEvent("foyer:branding", { detail: b }));
    return b;
  });

  // window.foyerBranding is what the page (shopper/) asks of the branding; each answers
  // "" before it is read or when the sale has none, so the page keeps its own.
  window.foyerBranding = Object.freeze({
    ready, // a promise of the branding (null without one); the document also hears "foyer:branding"
    shopURL: () => (current ? safeURL(current.shop_url) : ""), // the sale's link back to the shop, over FOYER_SHOP_URL
    soldOutText: () => (current ? text(current.sold_out_text) : ""), // shown once the sale is sold out
    waitingText: () => (current ? text(current.waiting_text) : ""), // shown in the queue (this script shows it already)
  });
})();
