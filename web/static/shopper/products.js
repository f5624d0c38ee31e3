// An event's products on the shopper page (docs/products.md): while the
// shopper waits, what the event sells, each with its price (the discount
// struck through, price.js), its units left live from the stock pushes,
// and "sold out" per product; once admitted, the choice of one and of a
// quantity up to its limit, which the checkout names. A product that sells
// out under the shopper, or a quantity past its limit, is told in the
// page's words beside the choice while the hold stands. A single-product
// sale shows none of this.
import { S, t } from "./state.js";
import { count, setText } from "./format.js";
import { shout } from "./speak.js";

const $ = (id) => document.getElementById(id);
const el = {
  card: $("products-card"), list: $("products"), choice: $("choice"), choiceList: $("choice-list"),
  quantityField: $("quantity-field"), quantity: $("quantity"), quantityHint: $("quantity-hint"),
  notice: $("choice-notice"),
};

// isEvent reports whether the sale holds several products.
export const isEvent = (sale) => !!sale && Array.isArray(sale.products) && sale.products.length > 0;

// chosen is the product the shopper picked, while it is the sale's.
export const chosen = () => (S.choice && isEvent(S.sale) ? S.sale.products.find((p) => p.sku === S.choice.sku) || null : null);

// maxQuantity is the most of p one checkout may ask for: its limit, what
// is left of it, and the sale's own limit per order.
export function maxQuantity(p) {
  const perOrder = S.sale && S.sale.per_shopper_limit > 0 ? S.sale.per_shopper_limit : p.per_shopper_limit;
  return Math.max(1, Math.min(p.per_shopper_limit, perOrder, Math.max(p.left, 1)));
}

// choiceToBuy is what the checkout names: the product and quantity, or
// null when none is chosen, or the one chosen is sold out.
export function choiceToBuy() {
  const p = chosen();
  if (!p || p.left <= 0) return null;
  return { product: p, quantity: Math.min(S.choice.quantity || 1, maxQuantity(p)) };
}

// productsLeft takes a stock push's products ({sku, left}); the product
// chosen, sold out meanwhile, is told while the shopper can choose again.
export function productsLeft(left) {
  if (!isEvent(S.sale) || !Array.isArray(left)) return;
  for (const { sku, left: n } of left) {
    const p = S.sale.products.find((x) => x.sku === sku);
    if (p) p.left = n;
  }
  const p = chosen();
  if (p && p.left <= 0 && S.phase === "admitted") soldOut(p);
}

function soldOut(p) {
  if (S.choiceNotice && S.choiceNotice.key === "choice.soldOut" && S.choiceNotice.params.sku === p.sku) return;
  S.choiceNotice = { key: "choice.soldOut", params: { name: p.name, sku: p.sku } };
  shout(t(S.choiceNotice.key, S.choiceNotice.params));
}

// refused handles a checkout's refusal that leaves the hold standing and
// the choice to the shopper; it reports whether it did.
export function refused(code) {
  const p = chosen();
  if (!p) return false;
  if (code === "product_sold_out") {
    p.left = 0; // the push will say so too; the choice must not wait for it
    soldOut(p);
    return true;
  }
  if (code === "over_product_limit") {
    S.choiceNotice = { key: "choice.overLimit", params: { name: p.name, limit: p.per_shopper_limit } };
    shout(t(S.choiceNotice.key, S.choiceNotice.params));
    return true;
  }
  return false;
}

// bought keeps what the order is of, for its receipt.
export function bought(choice) {
  S.bought = { name: choice.product.name, price_cents: choice.product.price_cents, quantity: choice.quantity };
}

// orderBought keeps what an event's order is of from its push (sku and
// quantity) when the page has no checkout of its own in memory: a page
// reloaded after its checkout, whose receipt would name the event.
export function orderBought(m) {
  if (S.bought || !m.sku || !isEvent(S.sale)) return;
  const p = S.sale.products.find((x) => x.sku === m.sku);
  if (p) S.bought = { name: p.name, price_cents: p.price_cents, quantity: m.quantity || 1 };
}

// focusChoice moves the keyboard to the choice: the first product left.
export function focusChoice() {
  const first = el.choiceList.querySelector("input:not(:disabled)");
  if (first) first.focus();
}

let shownKey = ""; // what the lists were built for: the products, the language

// renderProducts draws the event's products: the list while the shopper
// is not holding (unless hidden), the choice while it holds one for
// Foyer's checkout (holding); nothing for a single sale.
export function renderProducts(sale, holding, hidden) {
  const event = isEvent(sale);
  el.card.hidden = !event || holding || hidden;
  el.choice.hidden = !event || !holding;
  if (!event) return;
  const key = `${sale.products.map((p) => p.sku).join("\n")}|${FoyerI18n.locale()}`;
  if (key !== shownKey) {
    shownKey = key;
    el.list.replaceChildren(...sale.products.map((p) => item(p, false)));
    el.choiceList.replaceChildren(...sale.products.map((p, i) => item(p, true, i)));
  }
  for (const list of [el.list, el.choiceList]) {
    for (const li of list.children) update(li, sale.products.find((p) => p.sku === li.dataset.sku), sale.currency);
  }
  const p = holding ? chosen() : null;
  const max = p ? maxQuantity(p) : 1;
  el.quantityField.hidden = !p || p.left <= 0;
  if (p) {
    if (el.quantity.options.length !== max) {
      el.quantity.replaceChildren(...Array.from({ length: max }, (_, i) => new Option(count(i + 1), String(i + 1))));
    }
    el.quantity.disabled = max <= 1 || S.phase === "buying";
    el.quantity.value = String(Math.min(S.choice.quantity || 1, max));
    setText(el.quantityHint, t("choice.limit", { n: p.per_shopper_limit }));
  }
  el.notice.hidden = !(holding && S.choiceNotice);
  setText(el.notice, holding && S.choiceNotice ? t(S.choiceNotice.key, S.choiceNotice.params) : "");
}

// item builds one product's entry: a radio and its label in the choice,
// text in the list.
function item(p, choosing, i) {
  const li = document.createElement("li");
  li.className = "product";
  li.dataset.sku = p.sku;
  const body = document.createElement(choosing ? "label" : "div");
  body.className = "product-body";
  if (choosing) {
    const radio = document.createElement("input");
    radio.type = "radio";
    radio.name = "product";
    radio.value = p.sku;
    radio.id = `choice-${i}`;
    body.htmlFor = radio.id;
    li.append(radio);
  }
  if (p.image_url) {
    const img = document.createElement("img");
    img.className = "product-image";
    img.src = p.image_url;
    img.alt = ""; // its name is beside it
    img.width = 64;
    img.height = 64;
    img.loading = "lazy";
    // An image the page may not load (a host outside FOYER_IMAGE_HOSTS,
    // which the page's policy names) or that is gone leaves no broken box.
    img.addEventListener("error", () => img.remove(), { once: true });
    body.append(img);
  }
  const text = document.createElement("span");
  text.className = "product-text";
  const name = document.createElement("span");
  name.className = "product-name";
  name.textContent = p.name;
  const price = document.createElement("span");
  price.className = "product-price";
  const left = document.createElement("span");
  left.className = "product-left";
  text.append(name, price, left);
  body.append(text);
  li.append(body);
  if (p.description) {
    const d = document.createElement("p");
    d.className = "product-description";
    d.textContent = p.description; // newlines kept by the style
    li.append(d);
  }
  return li;
}

// update shows a product's live figures: its price, what is left or sold
// out, and in the choice whether it can be picked.
function update(li, p, currency) {
  if (!p) return;
  foyerPrice.render(li.querySelector(".product-price"), { price_cents: p.price_cents, list_price_cents: p.list_price_cents, currency },
    FoyerI18n.locale());
  const out = p.left <= 0;
  li.dataset.soldOut = out ? "true" : "false";
  const left = li.querySelector(".product-left");
  setText(left, out ? t("products.soldOut") : t("products.left", { n: p.left }));
  left.dataset.value = String(p.left);
  const radio = li.querySelector("input");
  if (radio) {
    radio.disabled = out || S.phase === "buying"; // the checkout under way is of the choice made
    radio.checked = !!S.choice && S.choice.sku === p.sku;
  }
}

// wireProducts lets the shopper choose: a product, then a quantity.
export function wireProducts(render) {
  el.choiceList.addEventListener("change", (e) => {
    if (!e.target.matches("input[type=radio]")) return;
    S.choice = { sku: e.target.value, quantity: 1 };
    S.choiceNotice = null;
    render();
  });
  el.quantity.addEventListener("change", () => {
    if (S.choice) S.choice.quantity = Number(el.quantity.value) || 1;
    S.choiceNotice = null;
    render();
  });
}
