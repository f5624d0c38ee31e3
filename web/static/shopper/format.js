// How the shopper page says durations, times, clocks, prices and counts, in
// the shopper's language and on the server's clock.
import { t } from "./state.js";
import { serverNow } from "./connection.js";

// duration says a number of seconds the way a person would, in the
// shopper's language: seconds, minutes, or hours and minutes.
export function duration(s) {
  const parts = s < 60 ? { seconds: Math.max(1, s) } : s < 3600 ? { minutes: Math.round(s / 60) }
    : { hours: Math.floor(s / 3600), minutes: Math.round((s % 3600) / 60) };
  if (typeof Intl.DurationFormat === "function") return new Intl.DurationFormat(FoyerI18n.locale(), { style: "short" }).format(parts);
  const unit = (n, u) => new Intl.NumberFormat(FoyerI18n.locale(), { style: "unit", unit: u, unitDisplay: "short" }).format(n);
  return Object.entries(parts).map(([u, n]) => unit(n, u.slice(0, -1))).join(" ");
}

// FAR is how far ahead a moment is told with its day, not only its time.
const FAR = 12 * 3600 * 1000;

// timeOf says when a moment is, in the shopper's own time zone, and names
// the zone: a shopper abroad should not have to guess. One more than
// half a day away is told with its day.
export function timeOf(iso) {
  if (!iso) return t("time.unknown");
  const at = new Date(iso);
  const opts = { hour: "2-digit", minute: "2-digit", timeZoneName: "short" };
  if (Math.abs(at - serverNow()) > FAR) Object.assign(opts, { weekday: "short", day: "numeric", month: "short" });
  return new Intl.DateTimeFormat(FoyerI18n.locale(), opts).format(at);
}

export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function pad(n) { return String(n).padStart(2, "0"); }

// clock formats a duration as HH:MM:SS (MM:SS when short is set and under an hour).
export function clock(ms, short) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const d = Math.floor(total / 86400), h = Math.floor(total / 3600) % 24;
  const m = Math.floor(total / 60) % 60, s = total % 60;
  if (short && total < 3600) return `${pad(m)}:${pad(s)}`;
  const days = d ? new Intl.NumberFormat(FoyerI18n.locale(), { style: "unit", unit: "day", unitDisplay: "narrow" }).format(d) + " " : "";
  return `${days}${pad(h)}:${pad(m)}:${pad(s)}`;
}

export function formatPrice(cents, currency) {
  try {
    const fmt = new Intl.NumberFormat(FoyerI18n.locale(), { style: "currency", currency });
    const digits = fmt.resolvedOptions().maximumFractionDigits; // minor units: 2 for EUR, 0 for JPY
    return fmt.format(cents / 10 ** digits);
  } catch {
    return `${(cents / 100).toFixed(2)} ${currency || ""}`.trim();
  }
}

export const count = (n) => new Intl.NumberFormat(FoyerI18n.locale()).format(n);
export const percent = (n) => new Intl.NumberFormat(FoyerI18n.locale(), { style: "percent" }).format(n / 100);
