// An event's products in the sale's detail (docs/products.md): each one's
// stock, left and sold, live from the pushes (or the admin sale's JSON
// without them), and which product "Add stock" adds to.

import { $, setNum } from "./dom.js";
import { formatPrice } from "./format.js";

let shownKey = ""; // the sale and SKUs the table's rows were built for

// isEvent reports whether the plan holds several products.
export const isEvent = (p) => !!(p && Array.isArray(p.products) && p.products.length);

// productNames is an event's products in a few words, for the sales list.
export function productNames(p) {
  if (!isEvent(p)) return "";
  return `${p.products.length} products: ${p.products.map((x) => x.name || x.sku).join(", ")}`;
}

// renderEventProducts shows the selected sale's products with their live
// counts, v.products ({sku, stock, left, sold}), or hides the table for a
// single-product sale.
export function renderEventProducts(p, v) {
  const box = $("detail-products");
  box.hidden = !isEvent(p);
  if (box.hidden) return;
  const body = $("detail-product-rows");
  const key = `${p.id}:${p.products.map((x) => x.sku).join(",")}`;
  if (key !== shownKey) {
    shownKey = key;
    body.replaceChildren(...p.products.map((x) => {
      const tr = document.createElement("tr");
      tr.dataset.sku = x.sku;
      const cells = [x.sku, x.name, formatPrice(x.price_cents, p.currency), "", "", "", String(x.per_shopper_limit)];
      cells.forEach((text, i) => {
        const td = document.createElement("td");
        td.textContent = text;
        if (i >= 2) td.className = "n";
        if (i === 3) td.dataset.figure = "stock";
        if (i === 4) td.dataset.figure = "left";
        if (i === 5) td.dataset.figure = "sold";
        tr.append(td);
      });
      return tr;
    }));
  }
  const live = new Map(((v && v.products) || []).map((x) => [x.sku, x]));
  for (const tr of body.children) {
    const x = live.get(tr.dataset.sku);
    const plan = p.products.find((y) => y.sku === tr.dataset.sku);
    setNum(tr.querySelector('[data-figure="stock"]'), x ? x.stock : plan && plan.stock);
    const left = tr.querySelector('[data-figure="left"]');
    setNum(left, x ? x.left : undefined);
    left.dataset.out = x && x.left === 0 ? "true" : "false";
    setNum(tr.querySelector('[data-figure="sold"]'), x ? x.sold : undefined);
  }
}

// showStockProducts offers an event's products to "Add stock", which must
// name one; a single-product sale's stock form asks nothing more.
export function showStockProducts(p) {
  const field = $("stock-product-field");
  field.hidden = !isEvent(p);
  const pick = $("stock-product");
  if (field.hidden) {
    pick.replaceChildren();
    return;
  }
  pick.replaceChildren(...p.products.map((x) => {
    const o = document.createElement("option");
    o.value = x.sku;
    o.textContent = `${x.name} (${x.sku})`;
    return o;
  }));
}

// stockAdded counts n more units of the product sku in the plan.
export function stockAdded(p, sku, n) {
  const x = isEvent(p) ? p.products.find((y) => y.sku === sku) : null;
  if (x) x.stock += n;
}
