// The approver's page (用车审批): the requests whose next level I may decide (emergency
// post-approvals included), the ones I decided, and the chosen one in detail.
import "./i18n/approvals.js";
import { api } from "./api.js";
import { el } from "./dom.js";
import { localName, onLangChange, t } from "./i18n.js";
import { ApprovalDetail } from "./approval_detail.js";
import { NotificationBell } from "./notification_bell.js";
import { startPage } from "./page_shell.js";
import { cityName, emergencyText, loadCities, reasonsText, stateBadge, timeRange } from "./trip_format.js";

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);
const REFRESH_MS = 30_000;

let awaiting = [];
let decided = [];
let selectedId = null;
let detail = null;

function routeCities(r) {
  const codes = [r.origin, ...r.destinations].map((p) => p.city_code);
  return codes.map(cityName).join(" → ");
}

function listItem(r, testid, canDecide) {
  const level = Math.min(r.approved_levels + 1, r.approval_levels);
  const chips = el("span", { class: "line" });
  if (canDecide) {
    chips.append(el("span", { class: "chip level", text: t("wf.level_of", { level, total: r.approval_levels }) }));
  }
  if (r.approval_reasons.length) chips.append(el("span", { class: "chip", text: reasonsText(r.approval_reasons) }));
  if (r.trip_type === "emergency" && r.emergency_approved == null) {
    chips.append(el("span", { class: "chip emergency", "data-testid": "chip-emergency", text: emergencyText(r) }));
  }
  for (const w of r.precheck_warnings) {
    chips.append(el("span", { class: "chip", "data-testid": `chip-${w}`, text: t(`warning.${w}_short`) }));
  }
  const item = el(
    "button",
    {
      type: "button",
      class: "ap-item",
      role: "option",
      "data-testid": testid,
      "data-request-id": String(r.id),
      "aria-selected": String(r.id === selectedId),
    },
    el(
      "span",
      { class: "line" },
      el("strong", { text: t(`trip.${r.trip_type}`) }),
      el("span", { class: "grow", text: r.reason }),
      canDecide ? null : stateBadge(r.state),
    ),
    el("span", { class: "line muted" }, el("span", { class: "grow", text: `${localName({ name_zh: r.org_name_zh, name_en: r.org_name_en })} · ${r.applicant_name}` })),
    el("span", { class: "line num", text: timeRange(r.planned_start, r.planned_end) }),
    el("span", { class: "line", text: routeCities(r) }),
    chips.childNodes.length ? chips : null,
  );
  item.addEventListener("click", () => select(r, canDecide));
  return item;
}

function renderLists() {
  const list = $("awaiting-list");
  list.replaceChildren();
  for (const r of awaiting) list.append(listItem(r, "approval-item", true));
  if (!awaiting.length) list.append(el("div", { class: "list-note", "data-testid": "awaiting-empty", text: t("ap.none") }));
  const count = $("awaiting-count");
  count.textContent = String(awaiting.length);
  count.classList.toggle("zero", awaiting.length === 0);
  const done = $("decided-list");
  done.replaceChildren();
  for (const r of decided) done.append(listItem(r, "decided-item", false));
  if (!decided.length) done.append(el("div", { class: "list-note", text: t("ap.none_decided") }));
}

function select(r, canDecide) {
  selectedId = r.id;
  renderLists();
  detail.show(r, canDecide);
  // Stacked on a phone: the detail is below the lists.
  if (window.matchMedia("(max-width: 1000px)").matches) {
    $("approval-detail").scrollIntoView({ behavior: "smooth", block: "start" });
  }
}

async function refresh() {
  try {
    const [mine, history] = await Promise.all([
      api("/api/v1/trip-requests?awaiting_me=true&limit=200"),
      api("/api/v1/trip-requests?decided_by_me=true&limit=50"),
    ]);
    awaiting = mine.items;
    decided = history.items;
  } catch (err) {
    $("awaiting-list").replaceChildren(el("div", { class: "list-note", text: t("wf.error", { message: err.message }) }));
    return;
  }
  $("awaiting-list").dataset.loaded = "true";
  renderLists();
}

async function afterDecision(after) {
  await refresh();
  if (after === null) {
    // reload asked after a stale version: show the fresh request, or nothing if it is gone
    const fresh = awaiting.find((r) => r.id === selectedId);
    if (fresh) detail.show(fresh, true);
    else detail.clear();
  }
}

async function main() {
  await startPage();
  const [config] = await Promise.all([api("/api/v1/config"), loadCities(api)]);
  new NotificationBell($("notif-root"));
  detail = new ApprovalDetail($("approval-detail"), config, { onDecided: afterDecision });
  api("/api/v1/map/layers").then((layers) => {
    detail.boundaries = layers.city_boundaries;
  }).catch(() => null);
  $("ap-refresh").addEventListener("click", refresh);
  onLangChange(() => {
    renderLists();
    detail.render();
  });
  await refresh();
  setInterval(refresh, REFRESH_MS);
  document.body.dataset.ready = "true";
}

main();
