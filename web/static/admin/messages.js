// The selected sale's messages to everyone waiting: the one shown now, sent
// now or at a time, cleared, and those scheduled, each cancellable
// (docs/admin-api.md, "Messages").

import { S, saleName, salePath } from "./state.js";
import { $, setText, announce } from "./dom.js";
import { formatWhen, rfc3339 } from "./format.js";
import { api } from "./api.js";
import { showError, report } from "./errors.js";
import { act } from "./controls.js";

let loadedFor = ""; // the sale whose messages the form shows

function updateMessageCount() {
  setText($("message-count"), `${$("message").value.length} / 500`);
}

// showSaleMessages empties the form for a sale just selected and reads its messages.
export function showSaleMessages(p) {
  $("message").value = "";
  $("message-at").value = "";
  updateMessageCount();
  loadedFor = p.id;
  renderMessages(null);
  loadMessages(p.id).catch(report);
}

async function loadMessages(id) {
  const body = await api("GET", salePath(id, "messages"));
  if (id === loadedFor) renderMessages(body);
}

function renderMessages(body) {
  const now = body ? body.message || "" : "";
  setText($("message-now"), body === null ? "Reading the message shown…" : now ? `Shown now: “${now}”` : "No message is shown.");
  $("message-clear").hidden = body !== null && !now;
  const items = ((body && body.scheduled) || []).map((m) => {
    const li = document.createElement("li");
    const text = document.createElement("span");
    const when = document.createElement("time");
    when.dateTime = m.at;
    when.textContent = formatWhen(m.at);
    text.append(when, m.text);
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "btn small";
    cancel.id = `cancel-${m.id}`;
    cancel.textContent = "Cancel";
    cancel.setAttribute("aria-label", `Cancel the message at ${formatWhen(m.at)}: ${m.text}`);
    cancel.addEventListener("click", () => act(cancel, "Cancel message",
      (id) => api("DELETE", salePath(id, `messages/${encodeURIComponent(m.id)}`)),
      () => { loadMessages(S.selected).catch(report); return `The message at ${formatWhen(m.at)} is cancelled.`; }));
    li.append(text, cancel);
    return li;
  });
  $("scheduled").replaceChildren(...items);
}

export function wireMessages() {
  $("message").addEventListener("input", updateMessageCount);
  $("message").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      $("message-form").requestSubmit();
    }
  });

  $("message-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("message").value.trim();
    const atValue = $("message-at").value;
    if (!text) {
      $("message").setAttribute("aria-invalid", "true");
      showError("invalid_input", "Write a message first (1 to 500 characters). To take the one shown away, use Clear message.");
      announce("Write a message first.");
      $("message").focus();
      return;
    }
    $("message").removeAttribute("aria-invalid");
    const at = atValue ? new Date(atValue) : null;
    act($("message-send"), at ? "Schedule message" : "Send message",
      (id) => api("POST", salePath(id, "messages"), at ? { text, at: rfc3339(at) } : { text }),
      () => {
        $("message").value = "";
        $("message-at").value = "";
        updateMessageCount();
        loadMessages(S.selected).catch(report);
        return at ? `Message scheduled for ${formatWhen(rfc3339(at))} in ${saleName(S.selected)}.`
          : `Message sent to everyone waiting for ${saleName(S.selected)}.`;
      });
  });

  $("message-clear").addEventListener("click", (e) => act(e.currentTarget, "Clear message",
    (id) => api("DELETE", salePath(id, "messages")),
    () => { loadMessages(S.selected).catch(report); return `The message of ${saleName(S.selected)} is cleared.`; }));
}
