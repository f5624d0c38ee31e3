// How the dashboard writes numbers, money and moments: in the operator's
// locale, with "–" for what is not known.

const nf = new Intl.NumberFormat();
export const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
export const count = (n) => (typeof n === "number" && Number.isFinite(n) ? nf.format(n) : "–");
export const rate = (x) => (typeof x === "number" && Number.isFinite(x) ? x.toFixed(x >= 100 ? 0 : 1) : "–");

export function minorDigits(currency) {
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
  } catch {
    return 2;
  }
}

export function formatPrice(cents, currency) {
  try {
    const fmt = new Intl.NumberFormat(undefined, { style: "currency", currency });
    return fmt.format(cents / 10 ** fmt.resolvedOptions().maximumFractionDigits);
  } catch {
    return `${(cents / 100).toFixed(2)} ${currency || ""}`.trim();
  }
}

export function formatWhen(iso, withSeconds) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "–";
  const today = new Date().toDateString() === d.toDateString();
  const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", ...(withSeconds ? { second: "2-digit" } : {}) });
  return today ? time : `${d.toLocaleDateString([], { month: "short", day: "numeric" })} ${time}`;
}

const pad = (n) => String(n).padStart(2, "0");

// localInput formats a moment for a datetime-local input, in local time.
export function localInput(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// rfc3339 turns a datetime-local value (local time) into RFC 3339 in UTC.
export function rfc3339(d) {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}
