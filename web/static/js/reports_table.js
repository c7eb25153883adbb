// The figures table of the reports page: the columns each grouping shows, how each value is
// written, and sorting by any column (click a heading; again to reverse). The totals row
// stays at the foot.
import { el } from "./dom.js";
import { formatNumber } from "./format.js";
import { localName, t } from "./i18n.js";

const num = (digits) => (v) => formatNumber(v, digits);
const pct = (v) => (v == null ? "—" : `${formatNumber(v * 100, 1)}%`);
const text = (v) => v ?? "—";

// key: field of a figures row; label: i18n key; fmt: how to write it; kind: text sorts as text
const COLUMNS = {
  name: { label: (by) => `rp.col.name.${by}`, kind: "text" },
  city_code: { label: () => "rp.col.city", kind: "text", fmt: (v, cityName) => cityName(v) },
  energy_type: { label: () => "rp.col.energy", kind: "text", fmt: (v) => (v ? t(`energy.${v}`) : "—") },
  car_level: { label: () => "rp.col.level", kind: "text", fmt: (v) => (v ? t(`level.${v}`) : "—") },
  vehicles: { label: () => "rp.col.vehicles", fmt: num(0) },
  trips: { label: () => "rp.col.trips", fmt: num(0) },
  gnss_km: { label: () => "rp.col.gnss_km", fmt: num(0) },
  billed_km: { label: () => "rp.col.billed_km", fmt: num(0) },
  service_h: { label: () => "rp.col.service_h", fmt: num(1) },
  utilisation: { label: () => "rp.col.utilisation", fmt: pct },
  fuel_l_per_100km: { label: () => "rp.col.fuel", fmt: num(1) },
  kwh_per_100km: { label: () => "rp.col.kwh", fmt: num(1) },
  cost_cny: { label: () => "rp.col.cost", fmt: num(0) },
  cost_per_km: { label: () => "rp.col.cost_per_km", fmt: num(2) },
  rental_cny: { label: () => "rp.col.rental", fmt: num(0) },
  nev_share: { label: () => "rp.col.nev", fmt: pct },
  approved_requests: { label: () => "rp.col.approved", fmt: num(0) },
  fulfilment_rate: { label: () => "rp.col.fulfilment", fmt: pct },
  response_median_min: { label: () => "rp.col.response", fmt: num(0) },
};

const SHOWN = {
  city: ["name", "vehicles", "trips", "gnss_km", "billed_km", "service_h", "utilisation",
    "fuel_l_per_100km", "kwh_per_100km", "cost_cny", "cost_per_km", "rental_cny", "nev_share",
    "approved_requests", "fulfilment_rate", "response_median_min"],
  unit: ["name", "city_code", "vehicles", "trips", "billed_km", "service_h", "utilisation",
    "cost_cny", "cost_per_km", "rental_cny", "approved_requests", "fulfilment_rate",
    "response_median_min"],
  vehicle: ["name", "city_code", "energy_type", "car_level", "trips", "gnss_km", "billed_km",
    "service_h", "utilisation", "fuel_l_per_100km", "kwh_per_100km", "cost_cny", "cost_per_km"],
  company: ["name", "vehicles", "trips", "gnss_km", "billed_km", "service_h", "utilisation",
    "rental_cny", "cost_per_km", "response_median_min"],
};

function value(row, key) {
  return key === "name" ? localName(row) || row.key : row[key];
}

function compare(a, b, key, dir) {
  const x = value(a, key);
  const y = value(b, key);
  if (x == null && y == null) return 0;
  if (x == null) return 1; // blanks last, whichever the direction
  if (y == null) return -1;
  const order = typeof x === "string" ? x.localeCompare(y, "zh-CN") : x - y;
  return dir === "asc" ? order : -order;
}

export class FiguresTable {
  constructor(table, onSort) {
    this.table = table;
    this.sort = { key: null, dir: "desc" };
    this.onSort = onSort;
  }

  render(data, cityName) {
    const keys = SHOWN[data.by];
    const fmt = (key, v) => (COLUMNS[key].fmt ?? text)(v, cityName);
    const head = el("tr");
    for (const key of keys) {
      const sorted = this.sort.key === key;
      const th = el("th", {
        class: `${COLUMNS[key].kind === "text" ? "" : "num"} sortable${sorted ? ` sorted ${this.sort.dir}` : ""}`,
        "data-testid": `col-${key}`,
        "aria-sort": sorted ? (this.sort.dir === "asc" ? "ascending" : "descending") : "none",
        text: t(COLUMNS[key].label(data.by)),
      });
      th.addEventListener("click", () => {
        const dir = sorted && this.sort.dir === "desc" ? "asc" : sorted ? "desc"
          : COLUMNS[key].kind === "text" ? "asc" : "desc";
        this.sort = { key, dir };
        this.onSort();
      });
      head.append(th);
    }
    this.table.tHead.replaceChildren(head);
    const rows = [...data.rows];
    if (this.sort.key && keys.includes(this.sort.key)) {
      rows.sort((a, b) => compare(a, b, this.sort.key, this.sort.dir));
    }
    this.table.tBodies[0].replaceChildren(...rows.map((row) => el("tr", { "data-testid": "figure-row", "data-key": row.key },
      ...keys.map((key) => el("td", {
        class: COLUMNS[key].kind === "text" ? "" : "num",
        text: key === "name" ? value(row, key) : fmt(key, row[key]),
      })))));
    const foot = this.table.tFoot;
    foot.replaceChildren();
    if (data.totals) {
      foot.append(el("tr", { "data-testid": "figure-total" }, ...keys.map((key) => el("td", {
        class: COLUMNS[key].kind === "text" ? "" : "num",
        text: key === "name" ? t("rp.total") : COLUMNS[key].kind === "text" ? "" : fmt(key, data.totals[key]),
      }))));
    }
    this.table.dataset.loaded = "true";
    this.table.dataset.by = data.by;
  }
}
