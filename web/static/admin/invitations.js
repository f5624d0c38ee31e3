// Invitations: who may join the selected sale when its eligibility is
// invited (docs/integration.md, "Who may join"): the customer list as CSV,
// the groups, and invite codes made in batches and downloaded once.

import { S, salePath } from "./state.js";
import { $, setText, announce } from "./dom.js";
import { count } from "./format.js";
import { api, upload, download } from "./api.js";
import { clearError, report } from "./errors.js";
import { loadAudit } from "./audit.js";

// showInvitations shows the panel for the selected sale: only an invited
// sale has one, read afresh each time a sale is selected or changed here.
export function showInvitations(p) {
  const invited = !!p && p.eligibility === "invited";
  $("invitations").hidden = !invited;
  setText($("inv-result"), "");
  if (!invited) return;
  $("inv-groups").value = "";
  loadInvitations(p.id).catch(report);
}

async function loadInvitations(id) {
  const inv = await api("GET", salePath(id, "invitations"));
  if (!inv || id !== S.selected) return;
  setText($("inv-count"), count(inv.invitees));
  setText($("inv-codes"), `${count(inv.codes)} (${count(inv.codes_used)} used)`);
  setText($("inv-groups-now"), inv.groups.length ? inv.groups.join(", ") : "none");
  if (!$("inv-groups").value) $("inv-groups").value = inv.groups.join(", ");
}

// done says what an action did, here and to screen readers, and reads the
// sale's invitations and the audit log again.
function done(id, said) {
  clearError();
  setText($("inv-result"), said);
  announce(said);
  loadInvitations(id).catch(report);
  loadAudit().catch(report);
}

// busy runs an action with its button disabled, reporting a failure.
async function busy(button, what, action) {
  const id = S.selected;
  if (!id) return;
  button.disabled = true;
  try {
    await action(id);
  } catch (err) {
    report(err, what);
  } finally {
    button.disabled = false;
  }
}

export function wireInvitations() {
  $("inv-upload-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const file = $("inv-file").files[0];
    if (!file) return;
    busy($("inv-upload"), "Upload invitees", async (id) => {
      const r = await upload("PUT", salePath(id, "invitees"), file, "text/csv");
      $("inv-file").value = "";
      const dupes = r.duplicates ? `; ${count(r.duplicates)} repeated rows dropped` : "";
      done(id, `The list now holds ${count(r.invitees)} customers${dupes}.`);
    });
  });
  $("inv-download").addEventListener("click", (e) => busy(e.currentTarget, "Download invitees", (id) =>
    download(salePath(id, "invitees.csv"), `invitees-${id}.csv`, "text/csv")));
  $("inv-groups-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const groups = $("inv-groups").value.split(",").map((g) => g.trim()).filter(Boolean);
    busy($("inv-groups-set"), "Set groups", async (id) => {
      await api("PUT", salePath(id, "groups"), { groups });
      done(id, groups.length ? `Members of ${groups.join(", ")} may join.` : "No group is admitted.");
    });
  });
  $("inv-codes-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const n = Math.trunc(Number($("inv-code-count").value));
    busy($("inv-codes-make"), "Make invite codes", async (id) => {
      await download(salePath(id, "invite-codes"), `invite-codes-${id}.csv`, "text/csv", { count: n });
      done(id, `${count(n)} invite codes made and downloaded: this file is their only copy.`);
    });
  });
}
