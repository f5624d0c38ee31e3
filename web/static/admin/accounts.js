// Operator accounts (docs/operators.md), an admin's only: the accounts
// listed, one made with a username, password and role, and each disabled
// or enabled again (asked first); accountedit.js changes a role or resets a
// password. Each form says beside itself what it did or what the API
// refused, and the screen reader hears it. The panel follows the signed-in
// role (body's data-role, set by session.js): shown and read for an admin,
// emptied for anyone else and at sign-out.

import { S } from "./state.js";
import { $, setText, emptyRow, announce, cell, timeOf } from "./dom.js";
import { api } from "./api.js";
import { report } from "./errors.js";
import { loadAudit } from "./audit.js";
import { showResult } from "./controls.js";
import { confirmed } from "./confirm.js";
import { openAccount, closeAccount, accountShown, wireAccountEdit } from "./accountedit.js";

export const OPERATORS = "/v1/admin/operators";
// ROLES are the roles an account may have, lowest first: the forms' choices.
const ROLES = ["viewer", "operator", "admin"];
const EVERY = 10000; // another admin may change them meanwhile

// A = what the panel knows: the accounts listed, by username, and who is
// signed in ("" with the admin token, which is no account).
export const A = { accounts: [], me: "" };

let following = false; // the panel is shown and read (an admin is signed in)
let listKey = ""; // what the table shows: a refresh that changes nothing leaves it, and the focus, alone
let timer = 0;

// Where each form says what it did: its message (why the API refused) and
// its result, beside it.
export const SAYS = {
  create: { message: "op-message", result: "op-result" },
  list: { message: "op-list-message", result: "op-list-result" },
  role: { message: "op-role-message", result: "op-role-result" },
  password: { message: "op-password-message", result: "op-password-result" },
};

// said shows and announces what a form did; refused shows why the API (or
// the form) refused, and marks input, if named, as the field at fault.
export function said(where, text) {
  setText($(where.message), "");
  showResult($(where.result), text);
  announce(text);
}

export function refused(where, text, input) {
  $(where.result).hidden = true;
  setText($(where.message), text);
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
}

// isAdmin says whether the signed-in role may manage accounts.
const isAdmin = () => document.body.dataset.role === "admin";

// afterChange reads again what a change touched: the accounts, the audit
// log. Signed out meanwhile (a session that disabled itself), or no admin
// any more (one's own role changed), it reads nothing.
export async function afterChange(fresh) {
  if (!S.token || !isAdmin()) return;
  loadAudit().catch(report);
  await loadAccounts(fresh).catch(report);
}

export async function loadAccounts(fresh) {
  const body = await api("GET", OPERATORS);
  if (!following) return; // not an admin any more
  A.accounts = (body && body.operators) || [];
  render(fresh);
  if (accountShown() && !A.accounts.some((a) => a.username === accountShown())) closeAccount();
}

function button(text, label, data, className) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = className || "btn small";
  b.textContent = text;
  b.setAttribute("aria-label", label);
  Object.assign(b.dataset, data);
  return b;
}

function row(a, fresh) {
  const tr = document.createElement("tr");
  tr.dataset.username = a.username;
  if (a.disabled_at) tr.dataset.disabled = "true";
  if (fresh === a.username) tr.className = "fresh";
  const name = a.username === A.me ? `${a.username} (you)` : a.username;
  const status = a.disabled_at ? document.createElement("span") : "enabled";
  if (a.disabled_at) status.append("disabled ", timeOf(a.disabled_at));
  const actions = document.createElement("td");
  actions.className = "remove";
  actions.append(button("Change…", `Change the role or password of ${a.username}`, { change: a.username }), " ",
    a.disabled_at ? button("Enable", `Enable ${a.username}`, { enable: a.username })
      : button("Disable", `Disable ${a.username}`, { disable: a.username }, "btn danger small"));
  tr.append(cell(name, "value"), cell(a.role), cell(status), cell(timeOf(a.created_at), "when"), actions);
  return tr;
}

// render shows the accounts, the focus kept on the button it was on (by
// its row and place: Disable becomes Enable).
function render(fresh) {
  const key = JSON.stringify([A.accounts, A.me]);
  if (key === listKey && !fresh) return;
  listKey = key;
  const body = $("operators");
  const at = document.activeElement && document.activeElement.closest ? document.activeElement.closest("#operators button") : null;
  const focus = at ? { username: at.closest("tr").dataset.username, index: [...at.closest("tr").querySelectorAll("button")].indexOf(at) } : null;
  const rows = A.accounts.map((a) => row(a, fresh));
  if (!rows.length) rows.push(emptyRow(5, "No accounts yet: only the admin token signs in."));
  body.replaceChildren(...rows);
  const again = focus && rows.find((tr) => tr.dataset.username === focus.username);
  if (again && again.querySelectorAll("button")[focus.index]) again.querySelectorAll("button")[focus.index].focus();
}

async function create(e) {
  e.preventDefault();
  const btn = $("op-create");
  if (btn.getAttribute("aria-disabled") === "true") return;
  const inputs = { username: $("op-username"), password: $("op-password") };
  for (const input of Object.values(inputs)) input.removeAttribute("aria-invalid");
  const username = inputs.username.value.trim();
  const password = inputs.password.value;
  const role = $("op-role").value;
  if (!username || !password) {
    refused(SAYS.create, "Enter the new account's username and password.", username ? inputs.password : inputs.username);
    return;
  }
  btn.setAttribute("aria-disabled", "true");
  setText(btn, "Creating…");
  let made = null;
  try {
    made = await api("POST", OPERATORS, { username, password, role });
    inputs.username.value = "";
    inputs.password.value = "";
    said(SAYS.create, `Account ${made.username} made, ${made.role}.`);
  } catch (err) {
    if (err.handled) return; // signed out
    // The API says what is wrong: the username's, or the password's.
    const input = err.code === "operator_exists" || /username/.test(err.message) ? inputs.username
      : /password/.test(err.message) ? inputs.password : null;
    refused(SAYS.create, err.message || err.code, input);
  } finally {
    btn.removeAttribute("aria-disabled");
    setText(btn, "Create account");
  }
  await afterChange(made ? made.username : "");
}

// lastAdmin says whether a is the only enabled admin account.
const lastAdmin = (a) => a.role === "admin" && !a.disabled_at &&
  !A.accounts.some((x) => x.username !== a.username && x.role === "admin" && !x.disabled_at);

// askToDisable and askToEnable say what follows, one's own account and
// the last admin's above all: the API refuses neither.
function askToDisable(a) {
  const text = [a.username === A.me
    ? `Disable your own account, ${a.username}? You are signed out at once, and cannot sign in with it until another admin enables it.`
    : `Disable ${a.username}? Their sessions end at once, and they cannot sign in until an admin enables the account.`];
  if (lastAdmin(a)) text.push("No other admin account is enabled: only the admin token could manage accounts then.");
  return { title: "Disable the account?", ok: "Disable account", text: text.join(" ") };
}

function askToEnable(a) {
  return { title: "Enable the account?", ok: "Enable account",
    text: `Enable ${a.username} again? It signs in with its password, as ${a.role}: reset the password first if anyone else may know it.` };
}

// switchAccount disables or enables the account of the button pressed,
// once the admin confirms.
async function switchAccount(b) {
  const disable = !!b.dataset.disable;
  const a = A.accounts.find((x) => x.username === (b.dataset.disable || b.dataset.enable));
  if (!a || b.getAttribute("aria-disabled") === "true") return;
  if (!await confirmed(b, disable ? askToDisable(a) : askToEnable(a))) return;
  b.setAttribute("aria-disabled", "true");
  try {
    await api("POST", `${OPERATORS}/${encodeURIComponent(a.username)}/${disable ? "disable" : "enable"}`);
    said(SAYS.list, disable ? `${a.username} is disabled: its sessions have ended.` : `${a.username} is enabled again.`);
  } catch (err) {
    if (err.handled) return; // signed out: one's own account, disabled
    refused(SAYS.list, err.message || err.code);
  } finally {
    b.removeAttribute("aria-disabled");
  }
  await afterChange();
}

function onList(e) {
  const b = e.target.closest("button");
  if (!b) return;
  if (b.dataset.change) openAccount(b.dataset.change);
  else if (b.dataset.disable || b.dataset.enable) switchAccount(b);
}

// start reads the accounts, and who is signed in, for an admin just
// signed in; stop forgets them.
function start() {
  following = true;
  api("GET", "/v1/admin/me").then((me) => { A.me = me.username || ""; render(); }).catch(report);
  loadAccounts().catch(report);
  timer = setInterval(() => loadAccounts().catch(report), EVERY);
}

function stop() {
  following = false;
  clearInterval(timer);
  A.accounts = [];
  A.me = "";
  listKey = "";
  $("operators").replaceChildren();
  closeAccount();
  for (const where of Object.values(SAYS)) {
    setText($(where.message), "");
    $(where.result).hidden = true;
  }
  for (const id of ["op-username", "op-password"]) {
    $(id).value = "";
    $(id).removeAttribute("aria-invalid");
  }
  $("op-role").value = ROLES[0];
}

// followRole shows the panel to an admin alone, from the role the top bar
// shows: signing in, out, or one's own role changed.
function followRole() {
  const admin = isAdmin();
  if (admin === following) return;
  if (admin) start(); else stop();
}

export function wireAccounts() {
  for (const select of [$("op-role"), $("op-edit-role")]) select.replaceChildren(...ROLES.map((r) => new Option(r, r)));
  $("op-form").addEventListener("submit", create);
  $("operators").addEventListener("click", onList);
  wireAccountEdit();
  new MutationObserver(followRole).observe(document.body, { attributes: true, attributeFilter: ["data-role"] });
  followRole();
}
