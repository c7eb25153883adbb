// The inspector's page (监督检查): filters, counts by rule and outcome, the list, exports of
// the filtered list (CSV, XLSX), and the chosen violation in detail with its evidence played
// back on the map and the decision.
import "./i18n/violations.js";
import { api } from "./api.js";
import { el } from "./dom.js";
import { localName, onLangChange, t } from "./i18n.js";
import { NotificationBell } from "./notification_bell.js";
import { startPage } from "./page_shell.js";
import { cities, loadCities } from "./trip_format.js";
import { ViolationDetail } from "./violation_detail.js";
import { RULES, SEVERITIES, STATES, ruleLabel } from "./violation_format.js";
import { ViolationList } from "./violation_list.js";

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);
const form = () => $("filters");

function fillSelect(select, anyKey, values, label) {
  const current = select.value;
  select.replaceChildren(el("option", { value: "", text: t(anyKey) }));
  for (const value of values) select.append(el("option", { value, text: label(value) }));
  select.value = current;
}

function fillFilters() {
  fillSelect($("filter-rule"), "vi.any_rule", RULES, ruleLabel);
  fillSelect($("filter-severity"), "vi.any_severity", SEVERITIES, (s) => t(`sev.${s}`));
  fillSelect($("filter-state"), "vi.any_state", STATES, (s) => t(`vstate.${s}`));
  fillSelect($("filter-city"), "vi.any_city", [...cities.keys()], (code) => localName(cities.get(code)));
}

/** The filters as query parameters (empty ones left out). */
function query() {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form())) {
    if (String(value).trim()) params.set(name, String(value).trim());
  }
  return params;
}

function exportLinks(params) {
  for (const format of ["csv", "xlsx"]) {
    const p = new URLSearchParams(params);
    p.set("format", format);
    $(`export-${format}`).href = `/api/v1/violations/export?${p}`;
  }
}

function renderCounts(counts) {
  $("count-total").textContent = t("vi.total", { n: counts.total });
  const table = el("table", { class: "vi-count-table" });
  const head = el("tr", {}, el("th", { text: t("vi.col.rule") }), el("th", { class: "num", text: "Σ" }));
  const shown = STATES.filter((s) => counts.by_state[s]);
  for (const s of shown) head.append(el("th", { class: "num", text: t(`vstate.${s}`) }));
  table.append(el("thead", {}, head));
  const body = el("tbody");
  for (const rule of counts.by_rule) {
    const row = el("tr", { "data-testid": "count-row", "data-rule": rule.rule_id, title: t("vi.apply") },
      el("td", { text: ruleLabel(rule.rule_id) }), el("td", { class: "num", text: String(rule.total) }));
    for (const s of shown) row.append(el("td", { class: "num", text: String(rule.by_state[s] ?? "") }));
    row.addEventListener("click", () => {
      $("filter-rule").value = rule.rule_id;
      refresh();
    });
    body.append(row);
  }
  table.append(body);
  $("counts").replaceChildren(counts.by_rule.length ? table : el("div", { class: "list-note", text: t("vi.none") }));
}

let list;
let detail;

async function refresh() {
  const params = query();
  exportLinks(params);
  const counts = api(`/api/v1/violations/counts?${params}`).then(renderCounts).catch(() => null);
  await Promise.all([list.reload(params), counts]);
}

async function select(id) {
  window.history.replaceState(null, "", `#${id}`);
  try {
    await detail.show(id);
  } catch (err) {
    detail.clear();
  }
}

async function main() {
  await startPage();
  const [config] = await Promise.all([api("/api/v1/config"), loadCities(api)]);
  new NotificationBell($("notif-root"));
  fillFilters();
  list = new ViolationList($("violation-list"), $("list-more"), { onSelect: select });
  detail = new ViolationDetail($("violation-detail"), config, {
    onChanged: (fresh) => {
      list.update(fresh);
      api(`/api/v1/violations/counts?${query()}`).then(renderCounts).catch(() => null);
    },
  });
  form().addEventListener("submit", (event) => {
    event.preventDefault();
    refresh();
  });
  $("filter-reset").addEventListener("click", () => {
    form().reset();
    refresh();
  });
  onLangChange(() => {
    fillFilters();
    list.render();
    detail.render();
    refresh();
  });
  await refresh();
  const wanted = Number(window.location.hash.slice(1));
  if (wanted) list.select(wanted);
  document.body.dataset.ready = "true";
}

main();
