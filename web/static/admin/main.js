// Foyer operators' dashboard. The admin REST API does the actions; the
// numbers come pushed every second over the foyer.admin.v1 WebSocket. Plain
// ES modules, one per panel, no build step; charts by the vendored uPlot
// (vendor/), a classic script the page loads first.
//
// The modules only declare at their top level; this one wires them once
// all are loaded, so panels may import each other both ways.

import { S } from "./state.js";
import { wireLive } from "./live.js";
import { wireSession, liveRefused, resume } from "./session.js";
import { wireSales, renderSales, reloadSalesSoon, followLiveSale } from "./sales.js";
import { renderDetail, tick } from "./detail.js";
import { renderSystem } from "./system.js";
import { record, drawCharts } from "./charts.js";
import { wireControls } from "./controls.js";
import { wireMessages } from "./messages.js";
import { wirePlanEdit } from "./saleedit.js";
import { wireFlags, refreshFlags } from "./flags.js";
import { wireNewSale } from "./newsale.js";
import { wireCatalog } from "./catalog.js";
import { wireAudit } from "./audit.js";
import { wireBlocklist } from "./blocklist.js";
import { wireOrders } from "./orders.js";
import { wireShopKeys } from "./shopkeys.js";
import { wireInvitations } from "./invitations.js";
import { wireBranding } from "./branding.js";
import { wireWebhooks } from "./webhooks.js";
import { wireAccounts } from "./accounts.js";
import { renderWarnings } from "./warnings.js";

// onStats takes one push of the live feed: every sale's numbers, the
// nodes, the pipeline and the setup warnings.
function onStats(m) {
  const at = typeof m.at === "number" ? m.at : Date.now();
  S.offset = at - Date.now();
  const now = Date.now();
  let unknown = false;
  for (const sale of m.sales || []) {
    if (!sale || !sale.id) continue;
    S.view.set(sale.id, { ...sale, _src: "live", _at: now });
    record(sale, at);
    if (!S.byId.has(sale.id)) unknown = true;
  }
  if (m.nodes) S.nodes = m.nodes;
  if (m.pipeline) S.pipeline = m.pipeline;
  renderWarnings(m.warnings || []);
  if (unknown) reloadSalesSoon();
  followLiveSale();
  renderSales();
  renderDetail();
  renderSystem();
  drawCharts();
  refreshFlags();
}

wireSession();
wireSales();
wireControls();
wireMessages();
wirePlanEdit();
wireFlags();
wireCatalog();
wireNewSale();
wireAudit();
wireBlocklist();
wireOrders();
wireShopKeys();
wireInvitations();
wireBranding();
wireWebhooks();
wireAccounts();
wireLive({ stats: onStats, refused: liveRefused, tick });
resume();
