// The properties form of one zone (new or existing), floating over the map's right side in
// the console's 围栏 mode. Read-only for dispatchers and inspectors and for zones above an org
// admin's subtree. The shape itself is drawn and edited on the map (zones_draw.js).
import { api } from "./api.js";
import { describeError } from "./api_errors.js";
import { el } from "./dom.js";
import { formatDateTime } from "./format.js";
import { localName, t } from "./i18n.js";
import "./i18n/zones.js";

export const PURPOSES = ["designated_lot", "city_boundary", "permitted_area", "forbidden_zone",
  "sensitive_place", "service_site", "speed_zone"];
export const CATEGORIES = {
  sensitive_place: ["entertainment", "club_hotel", "scenic_area", "golf_resort", "residential"],
  service_site: ["fuel", "repair", "charging", "wash", "inspection"],
};
const DEFAULT_PURPOSE = { polygon: "sensitive_place", circle: "service_site", corridor: "speed_zone" };

function field(labelKey, input, testid) {
  return el("label", { class: "zn-field", "data-testid": testid },
    el("span", { class: "zn-label", text: t(labelKey) }), input);
}

function select(testid, options, value) {
  const node = el("select", { class: "input", "data-testid": testid });
  for (const [v, label] of options) node.append(el("option", { value: v, text: label }));
  node.value = value ?? "";
  return node;
}

function input(testid, type, value, attrs = {}) {
  return el("input", { class: "input", type, "data-testid": testid, value: value ?? "", ...attrs });
}

export class ZoneForm {
  constructor(root, { drawer, cities, groups, onSaved, onDeleted, onClose, onEditShape }) {
    this.root = root;
    this.drawer = drawer;
    this.cities = cities;
    this.groups = groups;
    this.onSaved = onSaved;
    this.onDeleted = onDeleted;
    this.onClose = onClose;
    this.onEditShape = onEditShape;
    this.zone = null;
    this.editable = false;
  }

  get isOpen() {
    return !this.root.classList.contains("hidden");
  }

  /** Opens the form: an existing zone, or a new one of shape `shape`. */
  open(zone, { editable, shape = null, city = null }) {
    this.zone = zone ?? {
      shape, purpose: DEFAULT_PURPOSE[shape], category: null, name_zh: "", name_en: "",
      city_code: city, speed_limit_kmh: shape === "corridor" ? 60 : null,
      time_windows: [], valid_from: null, valid_to: null, applies_to: "all",
      radius_m: null, buffer_m: shape === "corridor" ? 50 : null,
    };
    if (!this.zone.category && CATEGORIES[this.zone.purpose]) {
      this.zone.category = CATEGORIES[this.zone.purpose][0];
    }
    this.editable = editable;
    this.windows = (this.zone.time_windows || []).map((w) => ({ ...w, weekdays: [...w.weekdays] }));
    this.versions = null;
    this.error = null;
    this.render();
    this.root.classList.remove("hidden");
  }

  close() {
    this.root.classList.add("hidden");
    this.zone = null;
  }

  /** The circle's radius or corridor's half-width changed on the map. */
  sizeChanged(metres) {
    const box = this.root.querySelector('[data-testid="zn-size"] input');
    if (box) box.value = String(metres);
  }

  render() {
    const z = this.zone;
    const title = z.id ? localName(z) : t("zn.new_title");
    const head = el("div", { class: "details-head" },
      el("div", {},
        el("div", { class: "zn-title", "data-testid": "zn-form-title", text: title }),
        el("div", { class: "details-sub" },
          el("span", { class: "chip", text: t(`zn.shape.${z.shape}`) }),
          z.id ? el("span", { class: "chip num", "data-testid": "zn-form-version",
            text: t("zn.version", { v: z.version }) }) : null,
          z.id && !z.active ? el("span", { class: "chip", text: t("zn.inactive") }) : null)),
      el("button", { type: "button", class: "icon-btn", "aria-label": t("zn.close"),
        "data-testid": "zn-form-close", text: "×", onclick: () => this.onClose() }));
    const body = el("div", { class: "details-body zn-form-body" });
    const form = el("form", { class: "zn-grid", "data-testid": "zn-form" });
    form.addEventListener("submit", (e) => { e.preventDefault(); this.save(); });
    this.inputs = {};
    const add = (key, labelKey, node, testid) => { this.inputs[key] = node; form.append(field(labelKey, node, testid)); };

    add("name_zh", "zn.name_zh", input("zn-name-zh", "text", z.name_zh, { maxLength: 100, required: true }), "zn-f-name-zh");
    add("name_en", "zn.name_en", input("zn-name-en", "text", z.name_en, { maxLength: 100 }), "zn-f-name-en");
    form.append(field("zn.code", el("span", { class: "zn-static num", text: z.code || t("zn.code_auto") }), "zn-f-code"));
    add("purpose", "zn.purpose", select("zn-purpose", PURPOSES.map((p) => [p, t(`zn.purpose.${p}`)]), z.purpose), "zn-f-purpose");
    this.inputs.purpose.addEventListener("change", () => this._purposeChanged());
    const categories = CATEGORIES[z.purpose];
    const categoryOptions = categories ? categories.map((c) => [c, t(`zn.category.${c}`)])
      : [["", t("zn.category.none")], ...(z.category ? [[z.category, z.category]] : [])];
    add("category", "zn.category", select("zn-category", categoryOptions, z.category ?? ""), "zn-f-category");
    const cityOptions = [["", "—"], ...[...this.cities.values()].map((c) => [c.code, localName(c)])];
    add("city_code", "zn.city", select("zn-city", cityOptions, z.city_code ?? ""), "zn-f-city");
    if (z.purpose === "speed_zone") {
      add("speed_limit_kmh", "zn.speed_limit", input("zn-speed", "number", z.speed_limit_kmh, { min: 5, max: 150, step: 1 }), "zn-f-speed");
    }
    if (z.shape === "circle" || z.shape === "corridor") {
      const key = z.shape === "circle" ? "radius_m" : "buffer_m";
      const current = this.drawer.shape?.[key] ?? z[key];
      const size = input("zn-size-input", "number", current, z.shape === "circle"
        ? { min: 10, max: 50000, step: 1 } : { min: 10, max: 5000, step: 1 });
      size.addEventListener("input", () => this.drawer.setSize(Number(size.value)));
      add(key, `zn.${key}`, size, "zn-size");
    }
    add("applies_to", "zn.applies_to", select("zn-applies", ["all", "group", "vehicle"].map((a) => [a, t(`zn.applies.${a}`)]), z.applies_to), "zn-f-applies");
    this.inputs.applies_to.addEventListener("change", () => { this._capture(); this.render(); });
    if (z.applies_to === "group") {
      add("vehicle_group_id", "zn.group", select("zn-group", this.groups.map((g) => [String(g.id), localName(g)]), String(z.vehicle_group_id ?? "")), "zn-f-group");
    } else if (z.applies_to === "vehicle") {
      add("vehicle_id", "zn.vehicle_id", input("zn-vehicle", "number", z.vehicle_id, { min: 1 }), "zn-f-vehicle");
    }
    form.append(this._windowsEditor());
    add("valid_from", "zn.valid_from", input("zn-valid-from", "date", z.valid_from), "zn-f-from");
    add("valid_to", "zn.valid_to", input("zn-valid-to", "date", z.valid_to), "zn-f-to");
    if (!this.editable) {
      for (const node of form.querySelectorAll("input, select, button")) node.disabled = true;
    }
    body.append(form);
    body.append(el("div", { class: "zn-error", "data-testid": "zn-form-error", text: this.error ?? "" }));
    if (this.versions) body.append(this._versionsList());
    this.root.replaceChildren(head, body, this._actions());
  }

  _windowsEditor() {
    const box = el("div", { class: "zn-windows", "data-testid": "zn-windows" },
      el("span", { class: "zn-label", text: t("zn.windows") }));
    if (!this.windows.length) box.append(el("div", { class: "muted", text: t("zn.windows_always") }));
    this.windows.forEach((w, i) => {
      const days = el("div", { class: "zn-days" });
      for (let d = 1; d <= 7; d += 1) {
        const box2 = el("input", { type: "checkbox", checked: w.weekdays.includes(d), "data-testid": `zn-w${i}-d${d}` });
        box2.addEventListener("change", () => {
          w.weekdays = box2.checked ? [...w.weekdays, d].sort() : w.weekdays.filter((x) => x !== d);
        });
        days.append(el("label", { class: "zn-day" }, box2, el("span", { text: t(`zn.weekday.${d}`) })));
      }
      const from = input(`zn-w${i}-from`, "time", w.from);
      const to = input(`zn-w${i}-to`, "time", w.to);
      from.addEventListener("change", () => { w.from = from.value; });
      to.addEventListener("change", () => { w.to = to.value; });
      const remove = el("button", { type: "button", class: "btn btn-small", text: t("zn.remove"),
        onclick: () => { this._capture(); this.windows.splice(i, 1); this.render(); } });
      box.append(el("div", { class: "zn-window" }, days, el("div", { class: "zn-times" }, from, el("span", { text: "–" }), to, remove)));
    });
    box.append(el("button", { type: "button", class: "btn btn-small", "data-testid": "zn-add-window",
      text: t("zn.add_window"), onclick: () => {
        this._capture();
        this.windows.push({ weekdays: [1, 2, 3, 4, 5], from: "20:00", to: "06:00" });
        this.render();
      } }));
    return box;
  }

  _actions() {
    const bar = el("div", { class: "zn-actions" });
    if (!this.editable) return bar;
    bar.append(el("button", { type: "button", class: "btn btn-primary", "data-testid": "zn-save",
      text: t("zn.save"), onclick: () => this.save() }));
    if (this.zone.id) {
      bar.append(el("button", { type: "button", class: "btn", "data-testid": "zn-edit-shape",
        text: t("zn.edit_shape"), onclick: () => this.onEditShape(this.zone) }));
      bar.append(el("button", { type: "button", class: "btn", "data-testid": "zn-versions",
        text: t("zn.versions"), onclick: () => this.loadVersions() }));
      bar.append(el("button", { type: "button", class: "btn zn-danger", "data-testid": "zn-delete",
        text: t("zn.delete"), onclick: () => this.remove() }));
    }
    return bar;
  }

  _versionsList() {
    const list = el("div", { class: "zn-versions", "data-testid": "zn-versions-list" });
    for (const v of this.versions) {
      list.append(el("div", { class: "zn-version num", text: t("zn.version_line", {
        version: v.version, at: formatDateTime(Date.parse(v.changed_at)),
        who: v.changed_by_name ?? t("zn.system") }) }));
    }
    return list;
  }

  _purposeChanged() {
    this._capture();
    const allowed = CATEGORIES[this.zone.purpose];
    if (allowed && !allowed.includes(this.zone.category)) this.zone.category = allowed[0];
    if (!allowed) this.zone.category = null;
    if (this.zone.purpose === "speed_zone" && !this.zone.speed_limit_kmh) this.zone.speed_limit_kmh = 60;
    this.render();
  }

  /** Copies the inputs into this.zone (before a re-render or a save). */
  _capture() {
    const z = this.zone;
    const value = (key) => this.inputs[key]?.value;
    for (const key of ["name_zh", "name_en", "purpose", "applies_to"]) if (key in this.inputs) z[key] = value(key);
    z.category = value("category") || null;
    z.city_code = value("city_code") || null;
    if ("speed_limit_kmh" in this.inputs) z.speed_limit_kmh = Number(value("speed_limit_kmh")) || null;
    if ("vehicle_group_id" in this.inputs) z.vehicle_group_id = Number(value("vehicle_group_id")) || null;
    if ("vehicle_id" in this.inputs) z.vehicle_id = Number(value("vehicle_id")) || null;
    z.valid_from = value("valid_from") || null;
    z.valid_to = value("valid_to") || null;
    z.time_windows = this.windows.map((w) => ({ weekdays: w.weekdays, from: w.from, to: w.to }));
  }

  body() {
    this._capture();
    const z = this.zone;
    const shape = this.drawer.toFields();
    if (!shape) return null;
    return {
      name_zh: z.name_zh, name_en: z.name_en, purpose: z.purpose, category: z.category,
      city_code: z.city_code, speed_limit_kmh: z.purpose === "speed_zone" ? z.speed_limit_kmh : null,
      time_windows: z.time_windows, valid_from: z.valid_from, valid_to: z.valid_to,
      applies_to: z.applies_to,
      vehicle_group_id: z.applies_to === "group" ? z.vehicle_group_id : null,
      vehicle_id: z.applies_to === "vehicle" ? z.vehicle_id : null,
      org_id: z.org_id ?? null,
      ...shape,
    };
  }

  _showError(text) {
    this.error = text;
    const box = this.root.querySelector('[data-testid="zn-form-error"]');
    if (box) box.textContent = text;
  }

  async save() {
    const body = this.body();
    if (!body) { this._showError(t("zn.no_shape")); return; }
    const button = this.root.querySelector('[data-testid="zn-save"]');
    if (button) { button.disabled = true; button.textContent = t("zn.saving"); }
    try {
      const saved = this.zone.id
        ? await api(`/api/v1/geofences/${this.zone.id}`, { method: "PUT", body: { ...body, version: this.zone.version } })
        : await api("/api/v1/geofences", { method: "POST", body });
      this.onSaved(saved);
    } catch (err) {
      const problems = err.details?.problems?.map((p) => p.message).join("；");
      this._showError(err.code === "stale_version" ? t("zn.stale") : problems || describeError(err));
      if (button) { button.disabled = false; button.textContent = t("zn.save"); }
    }
  }

  async remove() {
    const z = this.zone;
    if (!window.confirm(t("zn.delete_confirm", { name: localName(z) }))) return;
    try {
      await api(`/api/v1/geofences/${z.id}?version=${z.version}`, { method: "DELETE" });
      this.onDeleted(z);
    } catch (err) {
      this._showError(err.code === "stale_version" ? t("zn.stale") : describeError(err));
    }
  }

  async loadVersions() {
    try {
      this._capture();
      this.versions = await api(`/api/v1/geofences/${this.zone.id}/versions`);
      this.render();
    } catch (err) {
      this._showError(describeError(err));
    }
  }
}
