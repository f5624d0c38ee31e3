// Small DOM helpers every panel uses: writes that leave an unchanged node
// alone, and the screen-reader announcements.

import { count, formatWhen } from "./format.js";

export const $ = (id) => document.getElementById(id);

export function setText(node, text) {
  if (node && node.textContent !== text) node.textContent = text;
}

export function setNum(node, n) {
  setText(node, count(n));
  if (node) node.dataset.value = typeof n === "number" ? String(n) : "";
}

// emptyRow is a table's one row when it has nothing to show.
export function emptyRow(columns, text) {
  const tr = document.createElement("tr");
  const td = document.createElement("td");
  td.colSpan = columns;
  td.className = "hint";
  td.textContent = text;
  tr.append(td);
  return tr;
}

// cell is a table cell holding text or a node.
export function cell(content, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  if (content instanceof Node) td.append(content); else td.textContent = content;
  return td;
}

// timeOf is a moment as the operator reads it, the exact one on hover.
export function timeOf(iso) {
  const t = document.createElement("time");
  t.dateTime = iso;
  t.title = iso;
  t.textContent = formatWhen(iso);
  return t;
}

// announce tells screen-reader users what an action did.
let announceTimer = 0;
export function announce(text) {
  const node = $("announce");
  clearTimeout(announceTimer);
  node.textContent = "";
  // A fresh text node each time, so the same words are announced again.
  announceTimer = setTimeout(() => { node.textContent = text; }, 50);
}
