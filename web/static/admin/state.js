// The dashboard's one store: what it has read from the admin API and the
// live feed, shared by every panel. Only main.js's wiring and the panels
// write it; each panel renders from it.

export const TOKEN_KEY = "foyer.admin";
export const SELECTED_KEY = "foyer.admin.sale";
export const STALE_MS = 5000; // no push for this long: the live numbers are not live any more

export const STATE_LABEL = {
  scheduled: "scheduled", prequeue: "prequeue", open: "open", paused: "paused", sold_out: "sold out", ended: "ended",
};

export const S = {
  token: "",
  gen: 0, // bumped at sign-out: answers to an earlier session's requests are dropped
  plans: [], // GET /v1/admin/sales, newest start first
  byId: new Map(), // id -> plan
  view: new Map(), // id -> latest known live numbers (push shape), with _src "live"|"rest" and _at (local ms)
  history: new Map(), // id -> rolling window for the charts
  selected: "",
  // autoSelected: the dashboard chose the selected sale (defaultSale), not
  // the operator: it follows the live sale until the operator picks one.
  autoSelected: false,
  nodes: null,
  pipeline: null,
  conn: "offline", // connecting | live | reconnecting | offline
  offset: 0, // server clock minus local clock, ms (from the pushes)
  audit: [],
  auditMax: 0, // newest audit id seen, to highlight what is new
  blocks: [], // GET /v1/admin/blocklist, newest first
  shopKeys: [], // GET /v1/admin/shop-keys, live ones first (the secrets are never kept)
  flags: null, // GET /v1/admin/sales/:sale/flags of the selected sale, with its id as sale
};

export const serverNow = () => Date.now() + S.offset;

export const saleName = (id) => { const p = S.byId.get(id); return p ? p.name || id : id; };

// salePath is the admin API path of one sale's sub-resource.
export const salePath = (id, rest) => `/v1/admin/sales/${encodeURIComponent(id)}/${rest}`;
