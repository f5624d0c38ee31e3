// The selected sale's branding (docs/branding.md): the shop's logo, the
// product's image, the page's colours with a live preview and their
// contrast, the link back to the shop and the page's texts. The server
// checks everything again and says why it refuses; this form only spares a
// round trip for what it can see at once.

import { S, salePath } from "./state.js";
import { $, setText, announce } from "./dom.js";
import { api } from "./api.js";
import { clearError, report } from "./errors.js";
import { loadAudit } from "./audit.js";

// The shopper page's own colours (web/static/style.css), which a branding's
// colours are checked against, as internal/branding checks them.
const PAGE = { text: "#1c1f26", muted: "#555c69", bg: "#f3f4f7", accent: "#1f4fd1", white: "#ffffff" };
const MIN_CONTRAST = 4.5;

const FIELDS = {
  logo_url: "br-logo", product_image_url: "br-image", shop_url: "br-shop", accent_color: "br-accent",
  background_color: "br-background", headline: "br-headline", description: "br-description",
  waiting_text: "br-waiting", sold_out_text: "br-soldout",
};

const isColour = (c) => /^#[0-9a-f]{6}$/.test(c);
let hosts = []; // FOYER_IMAGE_HOSTS, as the server told them

const hostOf = (url) => {
  try {
    return new URL(url).host;
  } catch {
    return "";
  }
};

// luminance and contrast are WCAG 2's, as axe-core computes them.
function luminance(hex) {
  const ch = (i) => {
    const s = parseInt(hex.slice(i, i + 2), 16) / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * ch(1) + 0.7152 * ch(3) + 0.0722 * ch(5);
}
function contrast(a, b) {
  const [x, y] = [luminance(a), luminance(b)];
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}

// checkColours says what the colours give, and what is too low.
function checkColours(accentIn, backgroundIn) {
  const accent = accentIn.trim().toLowerCase(), background = backgroundIn.trim().toLowerCase();
  const bad = [];
  for (const [name, c] of [["accent", accent], ["background", background]]) {
    if (c && !isColour(c)) bad.push(`the ${name} colour must be written #rrggbb`);
  }
  if (bad.length) return { ok: false, said: bad.join("; ") + "." };
  const bg = background || PAGE.bg, ac = accent || PAGE.accent;
  const ratios = [
    ["text on the background", contrast(PAGE.text, bg)],
    ["grey text on the background", contrast(PAGE.muted, bg)],
    ["white button text on the accent", contrast(PAGE.white, ac)],
    ["the accent on the background", contrast(ac, bg)],
  ];
  const low = ratios.filter(([, r]) => r < MIN_CONTRAST);
  const said = ratios.map(([what, r]) => `${what} ${r.toFixed(2)}:1`).join(", ");
  return low.length
    ? { ok: false, said: `Too low for shoppers to read (at least ${MIN_CONTRAST}:1): ${low.map(([w, r]) => `${w} ${r.toFixed(2)}:1`).join(", ")}.` }
    : { ok: true, said: `Readable: ${said}.` };
}

// preview paints the sample with the colours typed, and says the contrast.
function preview() {
  const accent = $("br-accent").value.trim().toLowerCase(), background = $("br-background").value.trim().toLowerCase();
  const box = $("br-preview"), button = $("br-preview-button");
  const bg = isColour(background) ? background : PAGE.bg, ac = isColour(accent) ? accent : PAGE.accent;
  box.style.setProperty("background", bg);
  box.style.setProperty("padding", ".7rem");
  box.style.setProperty("border-radius", ".5rem");
  box.style.setProperty("margin", ".4rem 0");
  $("br-preview-text").style.setProperty("color", PAGE.text);
  $("br-preview-muted").style.setProperty("color", PAGE.muted);
  for (const [k, v] of [["background", ac], ["color", PAGE.white], ["display", "inline-block"], ["padding", ".35rem .8rem"],
    ["border-radius", ".4rem"], ["margin-top", ".4rem"], ["font-weight", "600"]]) button.style.setProperty(k, v);
  // The logo as the page will load it: only an https URL on a listed host
  // (the dashboard's policy lets in the same hosts).
  const logo = $("br-preview-logo"), url = $("br-logo").value.trim();
  const onHost = /^https:\/\/[^\s"'<>\\]+$/.test(url) && hosts.includes(hostOf(url));
  // hidden alone, with no display set here: the dashboard's stylesheet
  // leaves [hidden] to the browser, which an inline display would override.
  logo.hidden = !onHost;
  if (onHost && logo.getAttribute("src") !== url) logo.src = url;
  logo.style.setProperty("max-height", "2.5rem");
  const c = checkColours(accent, background);
  setText($("br-contrast"), c.said);
  for (const id of ["br-accent", "br-background"]) {
    if (c.ok) $(id).removeAttribute("aria-invalid");
    else $(id).setAttribute("aria-invalid", "true");
  }
  return c;
}

function fill(b) {
  for (const [field, id] of Object.entries(FIELDS)) $(id).value = (b && b[field]) || "";
  if (b) hosts = b.image_hosts || [];
  showHosts();
  preview();
}

function showHosts() {
  setText($("br-hosts"), hosts.length ? hosts.join(", ") : "no host (set FOYER_IMAGE_HOSTS)");
}

// edited is whether the operator typed in the form since it was filled:
// a branding read afterwards must not wipe what they typed.
let edited = false;

// showBranding reads the branding of a sale just selected into the form.
export function showBranding(p) {
  $("br-result").hidden = true;
  delete $("branding-form").dataset.loadedFor;
  edited = false;
  fill(null);
  if (p) loadBranding(p.id).catch(report);
}

async function loadBranding(id) {
  const b = await api("GET", salePath(id, "branding"));
  if (!b || id !== S.selected) return;
  hosts = b.image_hosts || [];
  if (!edited) fill(b);
  showHosts();
  preview();
  // Whose branding the form holds now: what is typed from here on stays.
  $("branding-form").dataset.loadedFor = id;
}

export function wireBranding() {
  for (const id of ["br-accent", "br-background", "br-logo"]) $(id).addEventListener("input", preview);
  $("branding-form").addEventListener("input", () => { edited = true; });
  $("br-preview-logo").addEventListener("error", () => { $("br-preview-logo").hidden = true; });
  $("branding-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const id = S.selected;
    if (!id) return;
    const c = preview();
    if (!c.ok) {
      announce(c.said);
      $("br-accent").focus();
      return;
    }
    const body = {};
    for (const [field, input] of Object.entries(FIELDS)) body[field] = $(input).value.trim();
    const button = $("br-save");
    button.disabled = true;
    try {
      const b = await api("PUT", salePath(id, "branding"), body);
      if (id !== S.selected) return;
      clearError();
      edited = false;
      fill(b);
      const said = "The branding is saved: shoppers see it within 5 seconds.";
      setText($("br-result"), said);
      $("br-result").hidden = false;
      announce(said);
      loadAudit().catch(report);
    } catch (err) {
      report(err, "Save branding");
    } finally {
      button.disabled = false;
    }
  });
}
