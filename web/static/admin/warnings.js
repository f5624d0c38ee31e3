// The setup warnings banner.

import { $ } from "./dom.js";

// renderWarnings shows what the node knows is wrong with the setup (a
// Redis that could lose checkouts) in a banner above everything, made on
// first need and hidden when the pushes carry no warning.
export function renderWarnings(warnings) {
  let banner = $("setup-warnings");
  if (!banner && !warnings.length) return;
  if (!banner) {
    banner = document.createElement("p");
    banner.id = "setup-warnings";
    banner.className = "notice";
    banner.setAttribute("role", "alert");
    $("main").prepend(banner);
  }
  banner.textContent = warnings.join(" ");
  banner.hidden = !warnings.length;
}
