// What the shopper page says aloud (its live regions) and the alert that
// tells an error in the shopper's words (errors.js), its code in small print.
import { el, S, t } from "./state.js";
import { setText } from "./format.js";

let sayTimer = 0, saidAt = 0;
export function say(text) {
  saidAt = Date.now();
  el.announce.textContent = text;
}
// shout announces what cannot wait (an error, a hold about to lapse)
// through a role=alert region that is always in the page: one shown only
// with its text is not reliably read out.
export function shout(text) {
  el.announceAlert.textContent = text;
}
// Position changes are announced politely, at most every few seconds.
export function announcePosition() {
  if (sayTimer) return;
  sayTimer = setTimeout(() => {
    sayTimer = 0;
    if (S.phase === "waiting") say(t("say.position", { position: S.position, ahead: S.ahead }));
  }, Math.max(0, saidAt + 8000 - Date.now()));
}

// showError tells the shopper what went wrong in words meant for them
// (errors.js), and keeps the code, for support, in small print and in
// the alert's data-code. The server's message, written for developers,
// is not shown.
export function showError(code) {
  const text = FoyerErrors.friendly(code);
  el.alert.dataset.code = code;
  setText(el.error, text);
  el.errorCode.hidden = false;
  setText(el.errorCode, t("alert.code", { code: String(code) }));
  el.alert.hidden = false;
  shout(text);
}
export function clearError() {
  el.alert.hidden = true;
  delete el.alert.dataset.code;
  el.error.replaceChildren();
  el.errorCode.hidden = true;
}
