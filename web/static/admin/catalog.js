// The shop's catalog: products imported as CSV or JSON, pasted or from a
// file (one bad row refuses the import, and the server names it), listed,
// deleted; and offered to the New sale form's product picker.

import { $, setText, emptyRow, announce } from "./dom.js";
import { formatPrice } from "./format.js";
import { api, upload } from "./api.js";
import { report } from "./errors.js";
import { loadAudit } from "./audit.js";
import { showResult } from "./controls.js";

const MAX_PAGES = 20; // 500 a page: the picker offers at most 10,000 products

let products = []; // every product read, in import order
let listeners = []; // called with products after each load (the New sale picker)

// onProducts calls fn with the products each time they are read.
export function onProducts(fn) {
  listeners.push(fn);
  fn(products);
}

// productBySKU is the product read with that SKU, or undefined.
export const productBySKU = (sku) => products.find((p) => p.sku === sku);

export function resetCatalog() {
  products = [];
  $("products").replaceChildren();
  catalogMessage("");
  for (const fn of listeners) fn(products);
}

// loadProducts reads the whole catalog, page by page.
export async function loadProducts() {
  const all = [];
  let cursor = "";
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await api("GET", `/v1/admin/products?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    all.push(...((page && page.products) || []));
    cursor = page && page.next_cursor;
    if (!cursor) break;
  }
  products = all;
  renderProducts();
  for (const fn of listeners) fn(products);
}

function catalogMessage(text) {
  setText($("cat-message"), text);
  if (text) $("cat-text").setAttribute("aria-invalid", "true");
  else $("cat-text").removeAttribute("aria-invalid");
}

function renderProducts() {
  if (!products.length) {
    $("products").replaceChildren(emptyRow(4, "No products yet: import some above."));
    return;
  }
  $("products").replaceChildren(...products.map((p) => {
    const tr = document.createElement("tr");
    const cells = [p.sku, p.name, formatPrice(p.list_price_cents, p.currency)].map((text) => {
      const td = document.createElement("td");
      td.textContent = text;
      return td;
    });
    const del = document.createElement("button");
    del.type = "button";
    del.className = "link";
    del.dataset.sku = p.sku;
    del.textContent = "Delete";
    del.setAttribute("aria-label", `Delete ${p.sku}`);
    const td = document.createElement("td");
    td.append(del);
    tr.append(...cells, td);
    return tr;
  }));
}

// contentTypeOf tells CSV from JSON by a file's name, or by the text's
// first character: a JSON import is an object.
function contentTypeOf(text, name) {
  if (name) return /\.json$/i.test(name) ? "application/json" : "text/csv";
  return text.trimStart().startsWith("{") ? "application/json" : "text/csv";
}

async function importProducts(e) {
  e.preventDefault();
  const btn = $("cat-import");
  if (btn.getAttribute("aria-disabled") === "true") return;
  const file = $("cat-file").files[0];
  const text = file ? await file.text() : $("cat-text").value;
  if (!text.trim()) {
    catalogMessage("Paste CSV or JSON, or choose a file.");
    $("cat-text").focus();
    return;
  }
  btn.setAttribute("aria-disabled", "true");
  catalogMessage("");
  try {
    const done = await upload("POST", "/v1/admin/products", text, contentTypeOf(text, file && file.name));
    const said = `Imported: ${done.created} new, ${done.updated} updated.`;
    $("cat-form").reset();
    showResult($("cat-result"), said);
    announce(said);
    await loadProducts();
    loadAudit().catch(report);
  } catch (err) {
    if (err.code === "catalog_import_invalid") {
      catalogMessage(String(err.message).replace(/^catalog import invalid: /, "Nothing was imported: "));
      $("cat-text").focus();
    } else {
      report(err, "Import products");
    }
  } finally {
    btn.removeAttribute("aria-disabled");
  }
}

async function deleteProduct(e) {
  const btn = e.target.closest("button[data-sku]");
  if (!btn) return;
  try {
    await api("DELETE", `/v1/admin/products/${encodeURIComponent(btn.dataset.sku)}`);
    announce(`Deleted ${btn.dataset.sku}.`);
    await loadProducts();
    loadAudit().catch(report);
  } catch (err) {
    report(err, "Delete product");
  }
}

export function wireCatalog() {
  $("cat-form").addEventListener("submit", importProducts);
  $("products").addEventListener("click", deleteProduct);
  // The dashboard signs in on its own schedule (session.js): read the
  // catalog when a role is set, forget it when it goes.
  new MutationObserver(() => {
    if (document.body.dataset.role) loadProducts().catch(report);
    else resetCatalog();
  }).observe(document.body, { attributes: true, attributeFilter: ["data-role"] });
}
