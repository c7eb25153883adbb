// The vehicle list: one row per vehicle, updated in place (never re-rendered wholesale),
// so that a few thousand rows and a message every second stay cheap.
import { el } from "./dom.js";
import { formatAge, formatSpeed } from "./format.js";
import { localName, t } from "./i18n.js";

export class VehicleList {
  constructor(root, countEl, { onSelect }) {
    this.root = root;
    this.countEl = countEl;
    this.rows = new Map();
    this.selectedId = null;
    this.message = root.querySelector("[data-testid=list-message]");
    root.addEventListener("click", (event) => {
      const row = event.target.closest(".row");
      if (row) onSelect(Number(row.dataset.vehicleId));
    });
  }

  showMessage(key) {
    this.message.dataset.i18n = key;
    this.message.textContent = t(key);
    this.message.classList.remove("hidden");
  }

  setItems(items, nowMs) {
    for (const row of this.rows.values()) row.node.remove();
    this.rows.clear();
    const fragment = document.createDocumentFragment();
    for (const item of items) {
      const row = this._build(item);
      this.rows.set(item.id, row);
      this._fill(row, item, nowMs);
      fragment.append(row.node);
    }
    this.root.append(fragment);
    this.select(this.selectedId, false);
  }

  _build(item) {
    const cells = {
      dot: el("span", { class: "dot" }),
      plate: el("span", { class: "plate", "data-testid": "row-plate" }),
      city: el("span", { class: "city" }),
      source: el("span", { class: "source" }),
      speed: el("span", { class: "speed num", "data-testid": "row-speed" }),
      age: el("span", { class: "age", "data-testid": "row-age" }),
    };
    const node = el(
      "div",
      { class: "row", role: "option", "data-testid": "vehicle-row", "data-vehicle-id": item.id },
      cells.dot, cells.plate, cells.city, cells.source, cells.speed, cells.age,
    );
    return { node, cells, item };
  }

  _fill(row, item, nowMs) {
    const { cells } = row;
    row.item = item;
    row.node.dataset.status = item.status;
    row.node.dataset.withheld = String(Boolean(item.position_withheld));
    row.node.dataset.fixMs = String(item.state?.ts_ms ?? 0);
    cells.dot.className = `dot ${item.status}`;
    cells.dot.title = t(`status.${item.status}`);
    cells.plate.textContent = item.plate;
    if (item.position_withheld) {
      cells.plate.append(el("span", { class: "lock", text: "密", title: t("details.withheld") }));
    }
    cells.city.textContent = localName(item.city);
    cells.source.textContent = t(`source.${item.source}`);
    const speed = item.state?.speed_kmh;
    cells.speed.textContent = formatSpeed(speed);
    cells.age.textContent = formatAge(item.state?.ts_ms, nowMs);
  }

  update(items, nowMs) {
    for (const item of items) {
      const row = this.rows.get(item.id);
      if (row) this._fill(row, item, nowMs);
    }
  }

  relabel(nowMs) {
    for (const row of this.rows.values()) this._fill(row, row.item, nowMs);
  }

  /** Shows the rows that match; returns how many do. */
  filter(matches) {
    let shown = 0;
    for (const row of this.rows.values()) {
      const visible = matches(row.item);
      row.node.classList.toggle("hidden", !visible);
      if (visible) shown += 1;
    }
    if (this.rows.size === 0) this.showMessage("list.empty");
    else if (shown === 0) this.showMessage("list.empty");
    else this.message.classList.add("hidden");
    this.countEl.textContent = t("list.count", { shown, total: this.rows.size });
    return shown;
  }

  tickAges(nowMs) {
    for (const row of this.rows.values()) {
      if (!row.node.classList.contains("hidden")) {
        row.cells.age.textContent = formatAge(row.item.state?.ts_ms, nowMs);
      }
    }
  }

  select(id, scroll = true) {
    this.rows.get(this.selectedId)?.node.setAttribute("aria-selected", "false");
    this.selectedId = id;
    const row = this.rows.get(id);
    if (!row) return;
    row.node.setAttribute("aria-selected", "true");
    if (scroll) row.node.scrollIntoView({ block: "nearest" });
  }
}
