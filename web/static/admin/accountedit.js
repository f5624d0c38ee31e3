// One operator account changed (docs/operators.md): its role, or its
// password reset, which ends its sessions. Opened from the accounts' list
// (accounts.js) below it. Changing one's own role below admin, or one's
// own password, is asked first: the API refuses neither, and the first
// takes this panel away, the second signs the admin out.

import { $, setText } from "./dom.js";
import { api } from "./api.js";
import { report } from "./errors.js";
import { confirmed } from "./confirm.js";
import { showWho } from "./session.js";
import { A, OPERATORS, SAYS, said, refused, afterChange } from "./accounts.js";

let shown = ""; // the account the box is open for

export const accountShown = () => shown;

const accountPath = (username, rest) => `${OPERATORS}/${encodeURIComponent(username)}/${rest}`;

function quiet() {
  for (const where of [SAYS.role, SAYS.password]) {
    setText($(where.message), "");
    $(where.result).hidden = true;
  }
  for (const id of ["op-edit-role", "op-new-password"]) $(id).removeAttribute("aria-invalid");
}

// openAccount opens the box for username, its role chosen, and takes the
// focus there.
export function openAccount(username) {
  const a = A.accounts.find((x) => x.username === username);
  if (!a) return;
  shown = username;
  quiet();
  setText($("op-edit-title"), `Change ${username}${username === A.me ? " (you)" : ""}`);
  $("op-edit-role").value = a.role;
  $("op-new-password").value = "";
  $("op-edit").hidden = false;
  $("op-edit-title").focus();
}

export function closeAccount() {
  shown = "";
  $("op-edit").hidden = true;
  $("op-new-password").value = "";
  quiet();
}

// busy runs one change at a time from button.
async function busy(button, run) {
  if (button.getAttribute("aria-disabled") === "true") return;
  button.setAttribute("aria-disabled", "true");
  try {
    await run();
  } finally {
    button.removeAttribute("aria-disabled");
  }
}

async function changeRole(e) {
  e.preventDefault();
  const a = A.accounts.find((x) => x.username === shown);
  const role = $("op-edit-role").value;
  if (!a) return;
  quiet();
  if (role === a.role) {
    said(SAYS.role, `${a.username} is ${role} already: nothing changed.`);
    return;
  }
  const self = a.username === A.me;
  if (self && role !== "admin" && !await confirmed($("op-role-set"), {
    title: "Give up your admin role?", ok: "Change my role",
    text: `You are signed in as ${a.username}. As ${role}, you lose this panel and the admin's controls at once; only another admin, or the admin token, can give them back.`,
  })) return;
  await busy($("op-role-set"), async () => {
    try {
      const changed = await api("PUT", accountPath(a.username, "role"), { role });
      said(SAYS.role, `${changed.username} is ${changed.role} now, from its next request.`);
      // One's own role: the page shows what the new one may use.
      if (self) showWho(await api("GET", "/v1/admin/me"));
    } catch (err) {
      if (!err.handled) refused(SAYS.role, err.message || err.code, $("op-edit-role"));
    }
  });
  await afterChange();
}

async function resetPassword(e) {
  e.preventDefault();
  const a = A.accounts.find((x) => x.username === shown);
  const input = $("op-new-password");
  if (!a) return;
  quiet();
  if (!input.value) {
    refused(SAYS.password, "Enter the new password.", input);
    return;
  }
  if (a.username === A.me && !await confirmed($("op-password-set"), {
    title: "Reset your own password?", ok: "Reset my password",
    text: `Your sessions end at once, this one too: you sign in again as ${a.username} with the new password.`,
  })) return;
  await busy($("op-password-set"), async () => {
    try {
      await api("PUT", accountPath(a.username, "password"), { password: input.value });
      input.value = "";
      said(SAYS.password, `The password of ${a.username} is reset: its sessions have ended. Tell them the new one yourself.`);
    } catch (err) {
      if (!err.handled) refused(SAYS.password, err.message || err.code, input);
    }
  });
  await afterChange();
}

export function wireAccountEdit() {
  $("op-role-form").addEventListener("submit", (e) => changeRole(e).catch(report));
  $("op-password-form").addEventListener("submit", (e) => resetPassword(e).catch(report));
  $("op-edit-close").addEventListener("click", () => {
    const back = [...$("operators").querySelectorAll("button[data-change]")].find((b) => b.dataset.change === shown);
    closeAccount();
    (back || $("op-username")).focus();
  });
}
