// The reports page (统计报表): a month's figures by city, unit, vehicle or rental company
// (GET /api/v1/reports/figures), the headline numbers, the L/100 km and kWh/100 km ranking,
// and the rental companies' statements with CSV and XLSX downloads. The month and the
// grouping live in the address (?month=2026-11&by=city), so a reload or a shared link shows
// the same report.
import "./i18n/reports.js";
import { api } from "./api.js";
import { el } from "./dom.js";
import { formatDateTime, formatNumber } from "./format.js";
import { localName, onLangChange, t } from "./i18n.js";
import { startPage } from "./page_shell.js";
import { FiguresTable } from "./reports_table.js";

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);
const GROUPINGS = ["city", "unit", "vehicle", "company"];
const MONTH_RE = /^\d{4}-(0[1-9]|1[0-2])$/;

const state = { month: "", by: "city", figures: null, statement: null, cities: new Map(), loads: 0 };
const table = new FiguresTable($("figures-table"), () => renderFigures());
const cityName = (code) => {
  const city = state.cities.get(code);
  return city ? localName(city) : code ?? "—";
};

/** The month before the current one (Asia/Shanghai): the last month that is complete. */
function lastMonth() {
  const now = new Date(Date.now() + 8 * 3600 * 1000);
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
}

function shiftMonth(month, delta) {
  const [y, m] = month.split("-").map(Number);
  const d = new Date(Date.UTC(y, m - 1 + delta, 1));
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
}

function remember() {
  const url = new URL(window.location.href);
  url.searchParams.set("month", state.month);
  url.searchParams.set("by", state.by);
  window.history.replaceState(null, "", url);
}

// --- headline numbers -----------------------------------------------------------------------
function kpi(key, text, testid) {
  return el("div", { class: "rp-kpi", "data-testid": testid },
    el("span", { class: "rp-kpi-label", text: t(key) }), el("strong", { class: "num", text }));
}

function renderKpis() {
  const box = $("kpis");
  const total = state.figures?.totals;
  if (!total) {
    box.replaceChildren();
    return;
  }
  const pct = (v) => (v == null ? "—" : `${formatNumber(v * 100, 1)}%`);
  box.replaceChildren(
    kpi("rp.kpi.trips", formatNumber(total.trips), "kpi-trips"),
    kpi("rp.kpi.km", t("rp.unit.km", { n: formatNumber(total.gnss_km) }), "kpi-km"),
    kpi("rp.kpi.hours", t("rp.unit.h", { n: formatNumber(total.service_h) }), "kpi-hours"),
    kpi("rp.kpi.util", pct(total.utilisation), "kpi-util"),
    kpi("rp.kpi.cost", t("rp.unit.cny", { n: formatNumber(total.cost_cny) }), "kpi-cost"),
    kpi("rp.kpi.rental", t("rp.unit.cny", { n: formatNumber(total.rental_cny) }), "kpi-rental"),
    kpi("rp.kpi.fulfil", pct(total.fulfilment_rate), "kpi-fulfil"),
    kpi("rp.kpi.nev", pct(total.nev_share), "kpi-nev"),
    kpi("rp.kpi.response", total.response_median_min == null ? "—"
      : t("rp.unit.min", { n: formatNumber(total.response_median_min) }), "kpi-response"),
  );
}

// --- figures and ranking ----------------------------------------------------------------------
function renderFigures() {
  const data = state.figures;
  const message = $("figures-message");
  const tableEl = $("figures-table");
  for (const tab of document.querySelectorAll(".rp-tab")) {
    tab.setAttribute("aria-selected", String(tab.dataset.by === state.by));
  }
  if (!data) return;
  $("period").textContent = `${t("rp.working_days", {
    month: data.month, days: data.working_days, hours: data.available_h_per_vehicle,
  })} · ${t("rp.computed", { at: formatDateTime(Date.parse(data.computed_at)).slice(0, 16) })}`;
  const empty = !data.totals || data.totals.trips === 0;
  message.textContent = empty ? t("rp.empty") : "";
  message.classList.toggle("hidden", !empty);
  tableEl.classList.toggle("hidden", empty && data.rows.every((r) => !r.vehicles));
  table.render(data, cityName);
  renderKpis();
  renderRanking(data.ranking);
}

function renderRanking(ranking) {
  for (const kind of ["fuel", "electric"]) {
    const list = $(`ranking-${kind}`);
    const rows = ranking?.[kind] ?? [];
    if (!rows.length) {
      list.replaceChildren(el("li", { class: "muted", text: t("rp.ranking.none") }));
      continue;
    }
    list.replaceChildren(...rows.slice(0, 10).map((r) => el("li", { "data-testid": `rank-${kind}` },
      el("span", { class: "rp-rank-no num", text: String(r.rank) }),
      el("span", { class: "rp-plate", text: r.plate }),
      el("span", { class: "muted", text: t(`level.${r.car_level}`) }),
      el("strong", { class: "num", text: formatNumber(r.per_100km, 1) }))));
    if (rows.length > 10) {
      list.append(el("li", { class: "muted small rp-rank-more", text: t("rp.ranking.more", { n: rows.length }) }));
    }
  }
}

// --- statements -------------------------------------------------------------------------------
function downloads(path, params, testid) {
  const links = ["csv", "xlsx"].map((format) => {
    const query = new URLSearchParams({ ...params, format });
    return el("a", {
      class: "btn btn-small", href: `${path}?${query}`, download: "",
      "data-testid": `${testid}-${format}`, text: format.toUpperCase(),
    });
  });
  return el("span", { class: "rp-downloads" }, ...links);
}

function renderStatements() {
  const body = $("statement-rows");
  const st = state.statement;
  const path = "/api/v1/reports/statements/rental";
  if (!st) return;
  const rows = st.companies.map((c) => el("tr", { "data-testid": "statement-row", "data-company": c.company.id },
    el("td", { text: localName(c.company) }),
    el("td", { class: "num", text: formatNumber(c.totals.orders) }),
    el("td", { class: "num", "data-testid": "statement-total", text: formatNumber(c.totals.fee_cny, 2) }),
    el("td", {}, downloads(path, { month: st.month, company_id: c.company.id }, `download-${c.company.id}`))));
  if (st.companies.length > 1) {
    rows.push(el("tr", { class: "rp-total-row" },
      el("td", { text: t("rp.st.all") }),
      el("td", { class: "num", text: formatNumber(st.companies.reduce((n, c) => n + c.totals.orders, 0)) }),
      el("td", { class: "num", text: formatNumber(st.fee_cny, 2) }),
      el("td", {}, downloads(path, { month: st.month }, "download-all"))));
  }
  body.replaceChildren(...(rows.length ? rows
    : [el("tr", {}, el("td", { colspan: 4, class: "muted", text: t("rp.st.none") }))]));
  $("units-downloads").replaceChildren(
    downloads("/api/v1/reports/statements/units", { month: st.month }, "download-units"));
}

// --- loading ----------------------------------------------------------------------------------
async function load() {
  const load = ++state.loads;
  const { month, by } = state;
  remember();
  $("month").value = month;
  $("figures-message").textContent = t("rp.loading");
  $("figures-message").classList.remove("hidden");
  $("figures-table").dataset.loaded = "false";
  try {
    const [figures, statement] = await Promise.all([
      api(`/api/v1/reports/figures?month=${month}&by=${by}`),
      api(`/api/v1/reports/statements/rental?month=${month}`),
    ]);
    if (load !== state.loads) return; // a newer choice is on its way
    state.figures = figures;
    state.statement = statement;
    renderFigures();
    renderStatements();
  } catch (err) {
    if (load !== state.loads) return;
    $("figures-message").textContent = t("rp.error", { message: err.message });
  }
}

function choose(changes) {
  Object.assign(state, changes);
  if (changes.by) state.figures = null;
  load();
}

async function main() {
  await startPage();
  const params = new URLSearchParams(window.location.search);
  state.month = MONTH_RE.test(params.get("month") ?? "") ? params.get("month") : lastMonth();
  state.by = GROUPINGS.includes(params.get("by")) ? params.get("by") : "city";
  $("month").addEventListener("change", (e) => {
    if (MONTH_RE.test(e.target.value)) choose({ month: e.target.value });
  });
  $("month-prev").addEventListener("click", () => choose({ month: shiftMonth(state.month, -1) }));
  $("month-next").addEventListener("click", () => choose({ month: shiftMonth(state.month, 1) }));
  for (const tab of document.querySelectorAll(".rp-tab")) {
    tab.addEventListener("click", () => choose({ by: tab.dataset.by }));
  }
  onLangChange(() => {
    renderFigures();
    renderStatements();
  });
  try {
    const cities = await api("/api/v1/places/cities");
    state.cities = new Map(cities.map((c) => [c.code, c]));
  } catch {
    state.cities = new Map(); // the codes stand in
  }
  await load();
}

main();
