// The dashboard's question before what cannot be undone, or locks someone
// out: the page's dialog (#confirm), with a title, a text and the words of
// its button. Focus goes back to the button that asked.

import { $, setText, announce } from "./dom.js";

// confirmed asks in the dialog, ask being {title, text, ok}, and resolves
// true if the operator confirms; a cancel is announced.
export function confirmed(button, ask) {
  const dlg = $("confirm");
  setText($("confirm-title"), ask.title);
  setText($("confirm-text"), ask.text);
  setText($("confirm-ok"), ask.ok);
  return new Promise((resolve) => {
    const onClose = () => {
      dlg.removeEventListener("close", onClose);
      if (button.isConnected) button.focus();
      const ok = dlg.returnValue === "ok";
      if (!ok) announce(`${ask.ok}: cancelled.`);
      resolve(ok);
    };
    dlg.returnValue = "";
    dlg.addEventListener("close", onClose);
    if (typeof dlg.showModal === "function") {
      dlg.showModal();
      $("confirm-cancel").focus();
    } else { // very old browsers
      dlg.returnValue = window.confirm(ask.text) ? "ok" : "";
      onClose();
    }
  });
}
