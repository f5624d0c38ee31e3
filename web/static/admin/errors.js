// The dashboard's errors: the admin API's error shape, and the alert box
// that shows one above everything.

import { $, announce } from "./dom.js";

export class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status || 0;
    this.handled = false;
  }
}

export function showError(code, message) {
  // A refused token sends the operator back to the sign-in form, which says
  // so itself: told in the alert too, the one error showed twice.
  if (code === "unauthorized") {
    clearError();
    return;
  }
  const box = $("error");
  box.replaceChildren();
  const c = document.createElement("code");
  c.textContent = code;
  box.append(c, " — ");
  const msg = String(message || "something went wrong");
  // An invalid sale lists every problem, separated by semicolons: one per line.
  const colon = msg.indexOf(": ");
  const rest = colon >= 0 ? msg.slice(colon + 2) : msg;
  if (rest.includes("; ")) {
    box.append(`${msg.slice(0, colon + 1)} `);
    const ul = document.createElement("ul");
    for (const p of rest.split("; ")) {
      const li = document.createElement("li");
      li.textContent = p;
      ul.append(li);
    }
    box.append(ul);
  } else {
    box.append(msg);
  }
  $("alert").hidden = false;
}

export function clearError() {
  $("alert").hidden = true;
  $("error").replaceChildren();
}

// report shows a failed request, unless it was already dealt with (401).
export function report(err, what) {
  if (!err || err.handled) return;
  const code = err.code || "error";
  const message = err.message || String(err);
  showError(code, message);
  if (what) announce(`${what} failed: ${code}. ${message}`);
}
