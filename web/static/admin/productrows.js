// An event's products as rows of a form (docs/products.md): 2 to 20, each
// with its SKU, name, price (the list price with a discount), stock, limit,
// image and description, or, where the form creates the event, a product
// picked from the catalog. Used by the New sale form and the plan's edit;
// the admin API's problems with a row are shown beside that row's field,
// in the API's own words.

import { setText } from "./dom.js";
import { minorDigits, formatPrice } from "./format.js";
import { productBySKU } from "./catalog.js";

export const MIN_PRODUCTS = 2;
export const MAX_PRODUCTS = 20; // waitingroom.MaxProducts

// A row's inputs: key, label, and what makes the input.
const INPUTS = [
  ["sku", "SKU", { autocomplete: "off", spellcheck: "false" }],
  ["name", "Name", { autocomplete: "off" }],
  ["price", "Price", { type: "number", inputmode: "decimal", min: "0", step: "0.01" }],
  ["discount", "Off", { type: "number", inputmode: "decimal", min: "0", step: "any" }],
  ["stock", "Stock", { type: "number", inputmode: "numeric", min: "1", step: "1" }],
  ["limit", "Per-shopper limit", { type: "number", inputmode: "numeric", min: "1", step: "1", value: "1" }],
  ["image", "Image URL", { type: "url", autocomplete: "off", spellcheck: "false", placeholder: "https://" }],
];

// FIELD_INPUT is the input that shows each field the API names in a
// product's problem ("products[1].sku ..."); a problem naming none (the
// catalog's) goes beside the catalog pick, or the SKU.
const FIELD_INPUT = {
  sku: "sku", name: "name", price_cents: "price", list_price_cents: "price", discount: "discount",
  discount_percent: "discount", discount_amount_cents: "discount", stock: "stock",
  per_shopper_limit: "limit", image_url: "image", description: "description",
};

// PRODUCT_PROBLEM is one problem of a product in an invalid_sale message:
// its index, the field it names (if any) and the rest, up to the next "; ".
const PRODUCT_PROBLEM = /products\[(\d+)\](?:\.([a-z_]+))?:?\s*([^;]*)/g;

let rowsMade = 0; // ids stay unique as rows come and go

// productRows makes the rows' editor in box. prefix names its ids;
// currency() is the event's currency; withCatalog offers the catalog's
// products (at creation only: catalog_sku is not for edits); onChange
// runs when rows are added or removed.
export function productRows(box, { prefix, currency, withCatalog, onChange }) {
  const list = document.createElement("div");
  list.className = "prows";
  const add = document.createElement("button");
  add.type = "button";
  add.className = "btn small";
  add.id = `${prefix}-add-product`;
  add.textContent = "Add product";
  const hint = document.createElement("p");
  hint.className = "hint small-hint";
  hint.id = `${prefix}-products-hint`;
  box.replaceChildren(list, add, hint);
  let catalog = [];

  const rows = () => [...list.children];
  function renumber() {
    const all = rows();
    all.forEach((row, i) => {
      setText(row.querySelector("legend"), `Product ${i + 1}`);
      const remove = row.querySelector("button.remove");
      remove.disabled = all.length <= MIN_PRODUCTS;
      remove.setAttribute("aria-label", `Remove product ${i + 1}`);
    });
    add.disabled = all.length >= MAX_PRODUCTS;
    setText(hint, `${all.length} products: an event holds ${MIN_PRODUCTS} to ${MAX_PRODUCTS}. Its stock is their sum.`);
  }

  function addRow(product) {
    if (rows().length >= MAX_PRODUCTS) return null;
    const row = makeRow(prefix, ++rowsMade, withCatalog);
    list.append(row);
    row.querySelector("button.remove").addEventListener("click", () => {
      if (rows().length <= MIN_PRODUCTS) return;
      const next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      renumber();
      if (next) next.querySelector("input").focus();
      onChange && onChange();
    });
    const kind = row.querySelector("select.kind");
    kind.addEventListener("change", () => showDiscount(row, currency()));
    const pick = row.querySelector("select.pick");
    if (pick) {
      fillPick(pick, catalog);
      pick.addEventListener("change", () => showPicked(row, currency()));
    }
    if (product) fillRow(row, product, currency());
    showDiscount(row, currency());
    renumber();
    onChange && onChange();
    return row;
  }

  add.addEventListener("click", () => {
    const row = addRow();
    if (row) row.querySelector("input, select").focus();
  });

  return {
    // reset shows these products, or MIN_PRODUCTS empty rows.
    reset(products) {
      list.replaceChildren();
      const want = products && products.length ? products : Array(MIN_PRODUCTS).fill(null);
      for (const p of want) addRow(p);
      this.clearProblems();
    },
    // catalog offers these products in each row's pick.
    catalog(products) {
      catalog = products;
      for (const pick of list.querySelectorAll("select.pick")) {
        fillPick(pick, catalog);
        showPicked(pick.closest("fieldset"), currency());
      }
    },
    // read is the products as the admin API takes them, in the rows' order.
    read() {
      return rows().map((row) => readRow(row, currency()));
    },
    // refreshUnits shows the discount's unit in the event's currency.
    refreshUnits() {
      for (const row of rows()) showDiscount(row, currency());
    },
    clearProblems() {
      for (const row of rows()) {
        for (const err of row.querySelectorAll(".field-error")) setText(err, "");
        for (const input of row.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
      }
    },
    // showProblems puts each product's problem in message beside its row's
    // field, and returns the first input so marked (or null: none was a row's).
    showProblems(message) {
      this.clearProblems();
      const all = rows();
      let first = null;
      for (const [, index, field, rest] of String(message).matchAll(PRODUCT_PROBLEM)) {
        const row = all[Number(index)];
        if (!row) continue;
        const key = FIELD_INPUT[field] || (row.querySelector("select.pick") ? "pick" : "sku");
        const input = row.querySelector(`[data-key="${key}"]`);
        const err = row.querySelector(`[data-error-for="${key}"]`);
        const said = field ? `${field} ${rest}`.trim() : rest.trim();
        setText(err, err.textContent ? `${err.textContent} ${said}` : said);
        input.setAttribute("aria-invalid", "true");
        if (!first) first = input.disabled ? row.querySelector("select.pick") || input : input;
      }
      return first;
    },
  };
}

// makeRow builds one product's fieldset.
function makeRow(prefix, n, withCatalog) {
  const row = document.createElement("fieldset");
  row.className = "prow";
  const legend = document.createElement("legend");
  row.append(legend);
  const id = (key) => `${prefix}-p${n}-${key}`;
  const field = (key, label, control) => {
    const div = document.createElement("div");
    div.className = "field";
    const l = document.createElement("label");
    l.htmlFor = id(key);
    l.textContent = label;
    control.id = id(key);
    control.dataset.key = key;
    const err = document.createElement("p");
    err.className = "field-error";
    err.id = id(`${key}-error`);
    err.dataset.errorFor = key;
    control.setAttribute("aria-describedby", err.id);
    div.append(l, control, err);
    return div;
  };
  const input = (attrs) => {
    const i = document.createElement("input");
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "value") i.value = v;
      else i.setAttribute(k, v);
    }
    return i;
  };
  if (withCatalog) {
    const pick = document.createElement("select");
    pick.className = "pick";
    row.append(field("pick", "From the catalog", pick));
  }
  const made = Object.fromEntries(INPUTS.map(([key, label, attrs]) => [key, field(key, label, input(attrs))]));
  const kind = document.createElement("select");
  kind.className = "kind";
  for (const [v, text] of [["", "None"], ["percent", "Percent off"], ["amount", "Amount off"]]) {
    const o = document.createElement("option");
    o.value = v;
    o.textContent = text;
    kind.append(o);
  }
  const description = document.createElement("textarea");
  description.rows = 2;
  description.maxLength = 2000;
  const pair = (a, b) => {
    const div = document.createElement("div");
    div.className = "row2";
    div.append(a, b);
    return div;
  };
  made.discount.classList.add("off");
  made.discount.hidden = true;
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "btn small remove";
  remove.textContent = "Remove";
  row.append(pair(made.sku, made.name), pair(made.price, field("kind", "Discount", kind)), made.discount,
    pair(made.stock, made.limit), made.image, field("description", "Description", description), remove);
  return row;
}

const $in = (row, key) => row.querySelector(`[data-key="${key}"]`);

// fillPick offers the catalog's products in a row's pick, keeping its choice.
function fillPick(pick, products) {
  const picked = pick.value;
  const none = document.createElement("option");
  none.value = "";
  none.textContent = "None: type it below";
  pick.replaceChildren(none, ...products.map((p) => {
    const o = document.createElement("option");
    o.value = p.sku;
    o.textContent = `${p.name} (${p.sku}, ${formatPrice(p.list_price_cents, p.currency)})`;
    return o;
  }));
  pick.value = products.some((p) => p.sku === picked) ? picked : "";
}

// CATALOG_GIVES are the inputs a picked product fills and locks.
const CATALOG_GIVES = ["sku", "name", "price", "image", "description"];

function showPicked(row, currency) {
  const pick = row.querySelector("select.pick");
  const p = pick && pick.value ? productBySKU(pick.value) : null;
  for (const key of CATALOG_GIVES) $in(row, key).disabled = !!p;
  if (!p) return;
  $in(row, "sku").value = p.sku;
  $in(row, "name").value = p.name;
  $in(row, "price").value = String(p.list_price_cents / 10 ** minorDigits(p.currency || currency));
  $in(row, "image").value = p.image_url || "";
  $in(row, "description").value = p.description || "";
}

// showDiscount shows the amount off only with a kind of discount, in its unit.
function showDiscount(row, currency) {
  const kind = $in(row, "kind").value;
  const off = $in(row, "discount");
  off.closest(".field").hidden = !kind;
  setText(off.labels[0], kind === "amount" ? `Off (${currency})` : "Off (%)");
}

// fillRow shows a product of the plan: its list price when it has a discount.
function fillRow(row, p, currency) {
  const unit = 10 ** minorDigits(currency);
  $in(row, "sku").value = p.sku || "";
  $in(row, "name").value = p.name || "";
  const discounted = p.discount_percent || p.discount_amount_cents;
  $in(row, "price").value = String((discounted ? p.list_price_cents : p.price_cents) / unit);
  $in(row, "kind").value = p.discount_percent ? "percent" : p.discount_amount_cents ? "amount" : "";
  $in(row, "discount").value = p.discount_percent ? String(p.discount_percent)
    : p.discount_amount_cents ? String(p.discount_amount_cents / unit) : "";
  $in(row, "stock").value = String(p.stock);
  $in(row, "limit").value = String(p.per_shopper_limit);
  $in(row, "image").value = p.image_url || "";
  $in(row, "description").value = p.description || "";
}

const num = (s) => {
  const n = Number(String(s).trim());
  return String(s).trim() !== "" && Number.isFinite(n) ? n : 0;
};

// readRow is one row as the admin API takes it: a catalog pick with its
// stock and limit, or the product's own fields; a discount sends the price
// as the list price.
function readRow(row, currency) {
  const unit = 10 ** minorDigits(currency);
  const pick = row.querySelector("select.pick");
  const out = pick && pick.value ? { catalog_sku: pick.value } : {
    sku: $in(row, "sku").value.trim(),
    name: $in(row, "name").value.trim(),
    price_cents: Math.round(num($in(row, "price").value) * unit),
  };
  out.stock = Math.trunc(num($in(row, "stock").value));
  out.per_shopper_limit = Math.trunc(num($in(row, "limit").value));
  const kind = $in(row, "kind").value;
  if (kind) {
    const off = num($in(row, "discount").value);
    if (kind === "percent") out.discount_percent = off;
    else out.discount_amount_cents = Math.round(off * unit);
    if (!out.catalog_sku) {
      out.list_price_cents = out.price_cents;
      delete out.price_cents;
    }
  }
  if (!out.catalog_sku) {
    const image = $in(row, "image").value.trim();
    const description = $in(row, "description").value;
    if (image) out.image_url = image;
    if (description.trim()) out.description = description;
  }
  return out;
}
