// The System card: the order pipeline's backlogs and the gateway nodes.

import { S } from "./state.js";
import { $, setNum } from "./dom.js";
import { count } from "./format.js";
import { api } from "./api.js";

// loadPipeline reads the pipeline over REST, for when there is no live feed.
export async function loadPipeline() {
  const body = await api("GET", "/v1/admin/pipeline");
  if (body && S.conn !== "live") {
    S.pipeline = body;
    renderSystem();
  }
}

export function renderSystem() {
  const pl = S.pipeline;
  setNum($("pipe-orders"), pl ? pl.orders_backlog : undefined);
  setNum($("pipe-payments"), pl ? pl.payments_backlog : undefined);
  const poison = $("poison");
  setNum(poison, pl ? pl.poison_messages : undefined);
  poison.dataset.bad = pl && pl.poison_messages > 0 ? "true" : "false";
  poison.title = pl && pl.poison_messages > 0 ? "Messages the order workers could not process: look at the dead-letter stream" : "";

  const list = $("nodes");
  if (!S.nodes) return;
  if (!S.nodes.length) {
    const li = document.createElement("li");
    li.className = "hint";
    li.textContent = "No gateway nodes reported.";
    list.replaceChildren(li);
    return;
  }
  const nodes = [...S.nodes].sort((a, b) => String(a.id).localeCompare(b.id));
  const most = Math.max(1, ...nodes.map((n) => n.connections || 0));
  const sum = nodes.reduce((a, n) => a + (n.connections || 0), 0);
  const items = nodes.map((n) => {
    const li = document.createElement("li");
    li.className = "node";
    const id = document.createElement("span");
    id.className = "node-id";
    id.textContent = n.id;
    id.title = n.id;
    const bar = document.createElement("span");
    bar.className = "node-bar";
    bar.setAttribute("aria-hidden", "true");
    const fill = document.createElement("span");
    fill.style.width = `${((n.connections || 0) / most) * 100}%`;
    bar.append(fill);
    const c = document.createElement("span");
    c.className = "node-num";
    c.textContent = count(n.connections || 0);
    c.setAttribute("aria-label", `${count(n.connections || 0)} connections`);
    li.append(id, bar, c);
    return li;
  });
  const totalLi = document.createElement("li");
  totalLi.className = "node-total";
  totalLi.textContent = `${count(sum)} connections on ${nodes.length} node${nodes.length === 1 ? "" : "s"}`;
  list.replaceChildren(...items, totalLi);
}
