// The selected sale's controls: pause, resume, stop, outflow rate, stock and
// proof of work (messages.js has the messages, saleedit.js the plan), and
// what they all share: one action at a time per button, its result shown
// beside the form that made it, a confirmation before what cannot be undone.

import { S, STATE_LABEL, saleName, salePath } from "./state.js";
import { $, setText, announce } from "./dom.js";
import { count, rate } from "./format.js";
import { api } from "./api.js";
import { showError, clearError, report } from "./errors.js";
import { loadSaleView, renderSales } from "./sales.js";
import { renderDetail } from "./detail.js";
import { loadAudit } from "./audit.js";
import { showSaleMessages } from "./messages.js";
import { isEvent, stockAdded } from "./eventproducts.js";
import { confirmed } from "./confirm.js";

const busy = new Set();

// act runs one action on the selected sale: one at a time per button, the
// result announced, the audit log and the sale's state fetched afterwards.
export async function act(button, what, run, done) {
  const id = S.selected;
  if (!id || busy.has(button.id)) return;
  busy.add(button.id);
  button.setAttribute("aria-disabled", "true");
  $("detail").setAttribute("aria-busy", "true");
  try {
    const result = await run(id);
    clearError();
    const said = done(result);
    announce(said);
    flash(said, button.form || button.closest(".ctl-group"));
    return result;
  } catch (e) {
    report(e, what);
    return undefined;
  } finally {
    busy.delete(button.id);
    button.removeAttribute("aria-disabled");
    $("detail").setAttribute("aria-busy", "false");
    if (S.token) {
      loadAudit().catch(report);
      loadSaleView(id).catch(() => {});
    }
  }
}

// showResult shows a result in node for a while, for sighted users (the
// aria-live region speaks it).
const resultTimers = new WeakMap();
export function showResult(node, text) {
  setText(node, text);
  node.hidden = false;
  clearTimeout(resultTimers.get(node));
  resultTimers.set(node, setTimeout(() => { node.hidden = true; }, 8000));
}

// flash shows the last action's result right after where, the form or
// group of buttons that made it: on a phone, a result at the top of the
// controls is a screen away from the button pressed.
export function flash(text, where) {
  const node = $("action-result");
  if (where && where.nextElementSibling !== node) where.after(node);
  showResult(node, text);
}

function stateAfter(id, r) {
  if (r && r.state) {
    const v = S.view.get(id);
    if (v) v.state = r.state;
    renderSales();
    renderDetail();
  }
}

function needValue(input, what) {
  if (input.value.trim() === "" || !Number.isFinite(Number(input.value))) {
    input.setAttribute("aria-invalid", "true");
    showError("invalid_input", `${what} needs a number.`);
    announce(`${what} needs a number.`);
    input.focus();
    return null;
  }
  input.removeAttribute("aria-invalid");
  return Number(input.value);
}

// showSaleInputs fills the controls for a sale just selected: its own
// settings, nothing typed for the one before.
export function showSaleInputs(p) {
  $("action-result").hidden = true;
  $("rate").value = p.outflow_per_second != null ? String(p.outflow_per_second) : "";
  $("stock-add-n").value = "";
  $("pow").value = String(p.pow_difficulty || 0);
  showSaleMessages(p);
}

// confirmAction asks before what cannot be undone (confirm.js), then runs
// if the operator confirms while the same sale is selected.
export function confirmAction(button, ask, then) {
  if (!S.selected) return;
  const id = S.selected;
  confirmed(button, ask).then((ok) => {
    if (!ok) return;
    if (S.selected !== id) {
      announce(`${ask.ok}: cancelled.`);
      return;
    }
    then(id);
  });
}

function confirmStop(e) {
  const button = e.currentTarget;
  const id = S.selected;
  confirmAction(button, {
    title: "Stop the sale?", ok: "Stop sale",
    text: `Stop “${saleName(id)}” now? The sale ends for everyone waiting and cannot be restarted.`,
  }, () => act(button, "Stop", (sid) => api("POST", salePath(sid, "stop")),
    (r) => { stateAfter(id, r); return `${saleName(id)} is stopped: ${STATE_LABEL[r.state] || r.state}.`; }));
}

export function wireControls() {
  $("pause").addEventListener("click", (e) => act(e.currentTarget, "Pause",
    (id) => api("POST", salePath(id, "pause")),
    (r) => { stateAfter(S.selected, r); return `${saleName(S.selected)} is now ${STATE_LABEL[r.state] || r.state}.`; }));

  $("resume").addEventListener("click", (e) => act(e.currentTarget, "Resume",
    (id) => api("POST", salePath(id, "resume")),
    (r) => { stateAfter(S.selected, r); return `${saleName(S.selected)} is now ${STATE_LABEL[r.state] || r.state}.`; }));

  $("stop").addEventListener("click", confirmStop);

  $("rate-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const n = needValue($("rate"), "The outflow");
    if (n === null) return;
    act($("rate-set"), "Set outflow",
      (id) => api("PUT", salePath(id, "rate"), { outflow_per_second: n }),
      () => {
        const p = S.byId.get(S.selected);
        if (p) p.outflow_per_second = n;
        renderDetail();
        return `Outflow of ${saleName(S.selected)} set to ${rate(n)} shoppers per second.`;
      });
  });

  $("stock-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const n = needValue($("stock-add-n"), "Stock to add");
    if (n === null) return;
    // An event's stock is its products': the operator says which one.
    const event = isEvent(S.byId.get(S.selected));
    const product = event ? $("stock-product").value : "";
    act($("stock-add"), "Add stock",
      (id) => api("POST", salePath(id, "stock"), event ? { add: n, product } : { add: n }),
      (r) => {
        $("stock-add-n").value = "";
        const p = S.byId.get(S.selected);
        if (p) p.stock += n;
        stockAdded(p, product, n);
        stateAfter(S.selected, r);
        renderDetail();
        return event ? `Added ${count(n)} units of ${product} to ${saleName(S.selected)}.`
          : `Added ${count(n)} units to ${saleName(S.selected)}.`;
      });
  });

  $("pow-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const n = needValue($("pow"), "The difficulty");
    if (n === null) return;
    act($("pow-set"), "Set proof of work",
      (id) => api("PUT", salePath(id, "pow"), { difficulty: n }),
      () => {
        const p = S.byId.get(S.selected);
        if (p) p.pow_difficulty = n;
        renderDetail();
        return n ? `Joining ${saleName(S.selected)} now takes proof of work of difficulty ${n}.`
          : `Proof of work for ${saleName(S.selected)} is off.`;
      });
  });
}
