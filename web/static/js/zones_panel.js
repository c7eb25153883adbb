// The console's 围栏 (zones) mode: the zones list with filters and search, the zones on the
// map (click one to highlight it and open its properties), drawing new polygons, circles and
// corridors, editing a shape's corners, GeoJSON import (a file) and export (a download).
// Admins and org admins edit; dispatchers and inspectors read.
import { api } from "./api.js";
import { describeError } from "./api_errors.js";
import { el } from "./dom.js";
import { localName, t } from "./i18n.js";
import "./i18n/zones.js";
import { ZoneDrawer } from "./zones_draw.js";
import { CATEGORIES, PURPOSES, ZoneForm } from "./zones_form.js";

const L = window.L;
const EDITOR_ROLES = ["admin", "org_admin"];
const COLOURS = {
  city_boundary: "#3d4f66", permitted_area: "#2e7d32", forbidden_zone: "#6a1b9a",
  designated_lot: "#1f5fbf", sensitive_place: "#c62828", service_site: "#00897b",
  speed_zone: "#ef6c00",
};
const MAX_ROWS = 500;

function styleOf(zone, selected) {
  const colour = COLOURS[zone.purpose] ?? "#555";
  const faint = zone.purpose === "city_boundary" || zone.purpose === "permitted_area";
  return {
    color: selected ? "#ff8f00" : colour,
    weight: selected ? 3.5 : 1.4,
    dashArray: faint && !selected ? "6 4" : null,
    fillColor: selected ? "#ffb300" : colour,
    fillOpacity: selected ? 0.3 : faint ? 0.02 : 0.18,
  };
}

export class ZonesPanel {
  constructor(pane, fleetMap, me, { onOpen } = {}) {
    this.pane = pane;
    this.fleetMap = fleetMap;
    this.map = fleetMap.map;
    this.onOpen = onOpen ?? (() => {});
    this.canEdit = me.roles.some((r) => EDITOR_ROLES.includes(r));
    this.filters = { purpose: "", city: "", q: "" };
    this.zones = [];
    this.cities = new Map();
    this.groups = [];
    this.selectedId = null;
    this.active = false;
    this.loaded = false;
    this.hiddenOverlays = [];
    this.layer = L.featureGroup();
    this.renderer = L.canvas({ pane: "geofences" });
    this.drawer = new ZoneDrawer(this.map, {
      onDrawn: (shape) => this._drawn(shape),
      onCancel: () => this._hint(null),
      onChange: (shape) => {
        const size = shape.shape === "circle" ? shape.radius_m : shape.buffer_m;
        if (size != null) this.form.sizeChanged(size);
      },
    });
    const formRoot = el("section", { class: "details zn-form hidden", "data-testid": "zn-form-panel" });
    document.querySelector(".map-wrap").append(formRoot);
    this.form = new ZoneForm(formRoot, {
      drawer: this.drawer, cities: this.cities, groups: this.groups,
      onSaved: (zone) => this._saved(zone),
      onDeleted: (zone) => this._deleted(zone),
      onClose: () => this.closeForm(),
      onEditShape: (zone) => this._editShape(zone),
    });
    this._build();
  }

  // -- the sidebar -----------------------------------------------------------------------

  _build() {
    const purpose = el("select", { class: "input", "data-testid": "zn-filter-purpose", "aria-label": "purpose" });
    purpose.addEventListener("change", () => { this.filters.purpose = purpose.value; this.load(); });
    const city = el("select", { class: "input", "data-testid": "zn-filter-city", "aria-label": "city" });
    city.addEventListener("change", () => { this.filters.city = city.value; this.load(); });
    const search = el("input", { class: "input search", type: "search", "data-testid": "zn-search",
      placeholder: t("zn.search"), autocomplete: "off" });
    let timer = null;
    search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => { this.filters.q = search.value.trim(); this.load(); }, 250);
    });
    this.controls = { purpose, city, search };
    const tools = el("div", { class: "zn-tools" });
    if (this.canEdit) {
      for (const kind of ["polygon", "circle", "corridor"]) {
        tools.append(el("button", { type: "button", class: "btn btn-small", "data-testid": `zn-draw-${kind}`,
          "data-kind": kind, text: `＋${t(`zn.draw_${kind}`)}`, onclick: () => this.startDrawing(kind) }));
      }
      this.fileInput = el("input", { type: "file", class: "hidden", "data-testid": "zn-import-file",
        accept: ".geojson,.json,application/geo+json,application/json" });
      this.fileInput.addEventListener("change", () => this._import());
      tools.append(this.fileInput, el("button", { type: "button", class: "btn btn-small", "data-testid": "zn-import",
        text: t("zn.import"), onclick: () => this.fileInput.click() }));
    }
    tools.append(el("button", { type: "button", class: "btn btn-small", "data-testid": "zn-export",
      text: t("zn.export"), onclick: () => this.exportFile() }));
    this.hint = el("div", { class: "zn-hint hidden", "data-testid": "zn-hint" });
    this.notice = el("div", { class: "zn-notice hidden", "data-testid": "zn-notice" });
    this.list = el("div", { class: "list zn-list", "data-testid": "zn-list", role: "listbox" });
    this.count = el("span", { class: "num", "data-testid": "zn-count" });
    const readOnly = this.canEdit ? [] : [el("div", { class: "zn-readonly muted", text: t("zn.read_only") })];
    this.pane.replaceChildren(
      el("div", { class: "filters zn-filters" }, purpose, city, search),
      tools, ...readOnly, this.hint, this.notice, this.list,
      el("div", { class: "list-foot" }, this.count));
    this._fillFilters();
  }

  _fillFilters() {
    const { purpose, city, search } = this.controls;
    purpose.replaceChildren(el("option", { value: "", text: t("zn.all_purposes") }),
      ...PURPOSES.map((p) => el("option", { value: p, text: t(`zn.purpose.${p}`) })));
    purpose.value = this.filters.purpose;
    city.replaceChildren(el("option", { value: "", text: t("zn.all_cities") }),
      ...[...this.cities.values()].map((c) => el("option", { value: c.code, text: localName(c) })));
    city.value = this.filters.city;
    search.placeholder = t("zn.search");
  }

  _query() {
    const params = new URLSearchParams();
    if (this.filters.purpose) params.set("purpose", this.filters.purpose);
    if (this.filters.city) params.set("city", this.filters.city);
    if (this.filters.q) params.set("q", this.filters.q);
    return params.toString();
  }

  async load() {
    this.list.replaceChildren(el("div", { class: "list-message", text: t("zn.loading") }));
    try {
      const query = this._query();
      this.zones = await api(`/api/v1/geofences${query ? `?${query}` : ""}`);
      this.loaded = true;
    } catch (err) {
      this.zones = [];
      this.list.replaceChildren(el("div", { class: "list-message", text: describeError(err) }));
      return;
    }
    this.renderList();
    this.drawZones();
  }

  renderList() {
    this.list.replaceChildren();
    if (!this.zones.length) this.list.append(el("div", { class: "list-message", text: t("zn.empty") }));
    for (const zone of this.zones.slice(0, MAX_ROWS)) {
      const row = el("div", { class: "zn-row", role: "option", "data-testid": `zn-row-${zone.id}`,
        "data-code": zone.code, "aria-selected": String(zone.id === this.selectedId) },
      el("i", { class: "zn-swatch", style: `background:${COLOURS[zone.purpose] ?? "#555"}` }),
      el("span", { class: "zn-name", text: localName(zone) }),
      el("span", { class: "zn-purpose", text: zone.category && CATEGORIES[zone.purpose]
        ? t(`zn.category.${zone.category}`) : t(`zn.purpose.${zone.purpose}`) }),
      el("span", { class: "zn-city muted", text: localName(this.cities.get(zone.city_code)) }));
      row.addEventListener("click", () => this.select(zone.id, true));
      this.list.append(row);
    }
    this.count.textContent = t("zn.count", { n: this.zones.length });
  }

  // -- the map ---------------------------------------------------------------------------

  drawZones() {
    this.layer.clearLayers();
    this.shapes = new Map();
    for (const zone of this.zones) {
      if (zone.id === this.editingId) continue; // the drawer shows it
      const shape = L.geoJSON(zone.geojson, {
        style: () => ({ ...styleOf(zone, zone.id === this.selectedId), renderer: this.renderer,
          pane: "geofences" }),
      });
      shape.bindTooltip(() => localName(zone), { sticky: true });
      shape.on("click", () => { if (!this.drawer.drawing) this.select(zone.id, false); });
      shape.addTo(this.layer);
      this.shapes.set(zone.id, shape);
    }
  }

  select(id, fly) {
    if (this.drawer.drawing) return;
    const zone = this.zones.find((z) => z.id === id);
    if (!zone) return;
    this.onOpen();
    this._stopEditing();
    this.selectedId = id;
    for (const row of this.list.children) row.setAttribute?.("aria-selected", String(row.dataset.testid === `zn-row-${id}`));
    this.drawZones();
    const shape = this.shapes.get(id);
    if (shape) {
      shape.bringToFront();
      if (fly) {
        this.flying = true;
        this.map.once("moveend", () => { this.flying = false; });
        this.map.flyToBounds(shape.getBounds(), { paddingBottomRight: [380, 40],
          paddingTopLeft: [40, 40], maxZoom: 16, duration: 0.6 });
      }
    }
    this.drawer.hold(ZoneDrawer.fromZone(zone)); // what a save of the properties sends
    this.form.open(zone, { editable: this.canEdit && zone.editable });
  }

  startDrawing(kind) {
    this.closeForm();
    this.onOpen();
    this.drawer.start(kind);
    this._hint(`zn.hint_${kind}`, true);
  }

  _drawn() {
    this._hint("zn.hint_edit");
    this.form.open(null, { editable: true, shape: this.drawer.shape.shape, city: this.filters.city || null });
  }

  _editShape(zone) {
    const shape = ZoneDrawer.fromZone(zone);
    if (!shape) return;
    this.editingId = zone.id;
    this.drawZones();
    this.drawer.edit(shape, true);
    this._hint("zn.hint_edit");
  }

  _stopEditing() {
    this.editingId = null;
    this.drawer.stop();
    this._hint(null);
  }

  closeForm() {
    this.form.close();
    this._stopEditing();
    this.selectedId = null;
    if (this.loaded) { this.renderList(); this.drawZones(); }
  }

  _hint(key, withButtons = false) {
    this.hint.classList.toggle("hidden", !key);
    if (!key) return;
    this.hint.replaceChildren(el("span", { text: t(key) }));
    if (withButtons) {
      this.hint.append(
        el("button", { type: "button", class: "btn btn-small", "data-testid": "zn-finish", text: t("zn.finish"),
          onclick: () => this.drawer.finish() }),
        el("button", { type: "button", class: "btn btn-small", "data-testid": "zn-cancel", text: t("zn.cancel"),
          onclick: () => this.drawer.cancel() }));
    }
  }

  async _saved(zone) {
    this._say(t("zn.saved", { name: localName(zone), version: zone.version }));
    this.form.close();
    this._stopEditing();
    await this.load();
    this.select(zone.id, false);
    this._refreshLayers();
  }

  async _deleted(zone) {
    this._say(t("zn.deleted", { name: localName(zone) }));
    this.closeForm();
    await this.load();
    this._refreshLayers();
  }

  _refreshLayers() {
    api("/api/v1/map/layers").then((layers) => this.fleetMap.setGeofences(layers)).catch(() => null);
  }

  _say(text, lines = []) {
    this.notice.replaceChildren(el("div", { text }), ...lines.map((line) => el("div", { class: "zn-problem", text: line })));
    this.notice.classList.remove("hidden");
    this.notice.classList.toggle("zn-bad", lines.length > 0);
  }

  // -- import and export -----------------------------------------------------------------

  async _import() {
    const file = this.fileInput.files[0];
    this.fileInput.value = "";
    if (!file) return;
    let collection;
    try {
      collection = JSON.parse(await file.text());
    } catch {
      this._say(t("zn.bad_file"), [" "]);
      return;
    }
    try {
      const result = await api("/api/v1/geofences/import", { method: "POST", body: collection });
      this._say(t("zn.imported", result));
      await this.load();
      this._refreshLayers();
    } catch (err) {
      const features = err.details?.features;
      if (!features) { this._say(describeError(err), [" "]); return; }
      this._say(t("zn.import_failed"), features.map((f) => t("zn.import_feature", {
        n: f.index + 1, code: f.code ? `（${f.code}）` : "",
        problems: f.problems.map((p) => p.message).join("；") })));
    }
  }

  exportFile() {
    const query = this._query();
    const link = el("a", { href: `/api/v1/geofences/export${query ? `?${query}` : ""}`, download: "" });
    document.body.append(link);
    link.click();
    link.remove();
  }

  // -- the mode --------------------------------------------------------------------------

  async setActive(on) {
    if (on === this.active) return;
    this.active = on;
    if (on) {
      // The console's own zone layers would draw every zone twice: off while this mode is on.
      this.hiddenOverlays = Object.values(this.fleetMap.overlays).filter((g) => this.map.hasLayer(g));
      for (const group of this.hiddenOverlays) group.remove();
      this.layer.addTo(this.map);
      if (!this.cities.size) await this._loadReference();
      await this.load();
    } else {
      this.drawer.cancel();
      this.closeForm();
      this.notice.classList.add("hidden");
      this.layer.remove();
      for (const group of this.hiddenOverlays) group.addTo(this.map);
      this.hiddenOverlays = [];
    }
  }

  async _loadReference() {
    const [cities, groups] = await Promise.all([
      api("/api/v1/places/cities").catch(() => []),
      api("/api/v1/vehicle-groups").catch(() => []),
    ]);
    for (const city of cities) this.cities.set(city.code, city);
    this.groups.splice(0, this.groups.length, ...groups);
    this._fillFilters();
  }

  relabel() {
    this._build();
    if (this.loaded) this.renderList();
    if (this.form.isOpen) { this.form._capture(); this.form.render(); }
  }

  snapshot() {
    return {
      active: this.active, count: this.zones.length, selectedId: this.selectedId,
      flying: Boolean(this.flying), zoom: this.map.getZoom(),
      drawing: this.drawer.drawing, editing: this.drawer.editing, shape: this.drawer.toFields(),
    };
  }
}
