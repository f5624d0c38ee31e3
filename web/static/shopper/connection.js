// The shopper page's connection: @foyer/client (client/foyer.js, the global
// Foyer; clients/js) owns the protocol (session, socket or HTTP fallback,
// reconnecting, clock, keepalive, proof of work, checkout); this turns its
// typed events into the page's state.
import { S, saleId, SESSION_KEY, SILENT_LIMIT, t } from "./state.js";
import { clearError, say, showError } from "./speak.js";
import { handle, resetPlace } from "./messages.js";
import { join } from "./actions.js";
import { render } from "./render.js";

export let client = null; // the Foyer.FoyerClient of this page's sale, once started
export const serverNow = () => (client ? client.serverNow() : Date.now());

function loadSession() {
  try {
    const s = JSON.parse(localStorage.getItem(SESSION_KEY) || "null");
    if (s && s.token && Date.parse(s.expires_at) - 60000 > Date.now()) return s;
  } catch { /* storage unavailable or garbage */ }
  return null;
}
function storeSession(s) {
  try { localStorage.setItem(SESSION_KEY, JSON.stringify(s)); } catch { /* this tab only */ }
}
function dropSession() {
  try { localStorage.removeItem(SESSION_KEY); } catch { /* ignore */ }
}


// powWorkerURL is the library's proof-of-work worker, served beside its
// bundle (web/static/client/, one content-named folder), which the page's
// Content-Security-Policy (worker-src 'self') lets run.
function powWorkerURL() {
  const script = document.getElementById("foyer-client");
  return script ? new URL("pow-worker.js", script.src).href : undefined;
}

// CONN is the pill's word for each state of the library's connection.
const CONN = { idle: "connecting", connecting: "connecting", open: "open", reconnecting: "reconnecting", closed: "gone" };

// MESSAGES are the server's pushes the page draws (handle, below); the
// library answers the rest (time, pong) itself.
const MESSAGES = ["welcome", "prequeue", "position", "stock", "state", "sold_out", "admitted", "expired", "order", "notice"];

export function start() {
  client = new Foyer.FoyerClient({
    baseUrl: location.origin, saleId, session: loadSession() || undefined,
    powWorkerUrl: powWorkerURL(), deadAfterMs: SILENT_LIMIT,
    // A place lost with its session is the shopper's to take again (notice.sessionRenewed).
    rejoinAfterNewSession: false,
  });
  client.on("session", storeSession);
  client.on("connection", (e) => {
    // A reconnect's new attempt is still reconnecting, to the shopper.
    S.conn = e.state === "connecting" && S.conn === "reconnecting" ? "reconnecting" : CONN[e.state] || "connecting";
    render();
  });
  client.on("reconnecting", lost);
  client.on("closed", closed);
  client.on("failure", failed);
  client.on("pow", solving);
  for (const type of MESSAGES) {
    client.on(type, (m) => {
      handle(m);
      render();
    });
  }
  client.start().catch(() => { /* refused for good: told by closed */ });
}

// lost: the connection ended and the library reconnects. A session it had
// to renew (4001) took the place with it.
function lost({ code }) {
  if (S.phase === "joining") S.phase = "idle"; // the server restores a join that went through
  if (code === 4001) {
    dropSession(); // the library makes the next one; a reload meanwhile must not bring this one back
    const hadPlace = S.phase !== "idle";
    resetPlace();
    if (hadPlace) S.notice = { key: "notice.sessionRenewed" };
    else clearError(); // a stale stored session: nothing lost, nothing to say
  }
  render();
}

// closed: the library gave up for good (a close code no retry fixes).
function closed({ code, error }) {
  if (code === 4004) {
    S.fatal = S.endedHere ? "sale_cancelled" : "sale_not_found";
  } else if (code === 4003 || (error && error.code === "blocked")) {
    resetPlace(); // blocked by the operators: a new connection would be refused too
    showError("blocked");
  } else if (error) {
    showError(error.code || `closed_${code}`);
  }
  render();
}

// solving shows how far the library's proof of work before the join got.
function solving(p) {
  if (p.state === "solving") {
    if (p.tried === 0) say(t("say.checking"));
    const pct = Math.min(99, Math.floor((100 * p.tried) / p.expected)); // a solve can take longer than average
    if (pct === S.solving) return;
    S.solving = pct;
  } else {
    S.solving = null;
    if (p.by) S.powBy = p.by === "worker" ? "worker" : "page";
  }
  render();
}

// failed: an error the server answered (a message, a refused request), or
// the proof of work the browser could not do.
function failed(err) {
  const code = String(err.code);
  showError(code);
  if (code === "sale_not_found") S.fatal = "sale_not_found";
  if ((code === "busy" || code === "rate_limited" || code === "unavailable") && S.phase === "joining") {
    // The node asked us to wait: join again then, with jitter.
    S.phase = "idle";
    const wait = (err.retryAfter || 1) * 1000 + Math.random() * 1000;
    S.notice = { key: "notice.busy", params: { seconds: Math.ceil(wait / 1000) } };
    setTimeout(join, wait);
  }
  const queued = S.phase === "waiting" || S.phase === "prequeued" || S.phase === "joining";
  if (code === "not_joined" && queued) S.phase = "idle";
  // An operator's rule took this shopper, flagged as automated, out of the queue.
  if (code === "flagged" && queued) S.phase = "idle";
  if ((code === "sold_out" || code === "sale_ended" || code === "too_early" || code.startsWith("pow_")) && S.phase === "joining") S.phase = "idle";
  render();
}

window.addEventListener("online", () => client && client.reconnectNow());

// FoyerPow tells where the page's last proof of work was solved ("worker",
// or "page" where no worker could run): for support, and the browser tests.
globalThis.FoyerPow = Object.freeze({ solvedBy: () => S.powBy });
