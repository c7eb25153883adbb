// A violation's evidence on a Leaflet map (shared by the inspector's and the unit's pages):
// the zones involved as polygons, the orders' planned routes, the frozen track, the fixes that
// triggered the rule, and a car marker driven by a time slider with play / pause over the
// stored fixes of the evidence window. Leaflet is the global `L` (/vendor/leaflet/leaflet.js).
import { el } from "./dom.js";
import { formatDateTime, formatSpeed } from "./format.js";
import { localName, t } from "./i18n.js";
import { sampleAt } from "./playback_math.js";

const L = window.L;
const PLAY_SECONDS = 20; // the whole window plays in about this long
const ZONE_STYLES = {
  designated_lot: { color: "#1f5fbf", fillColor: "#1f5fbf" },
  service_site: { color: "#0f766e", fillColor: "#0f766e" },
  sensitive_place: { color: "#c62828", fillColor: "#c62828", dashArray: "4 3" },
  forbidden_zone: { color: "#7f1d1d", fillColor: "#c62828", dashArray: "6 3" },
  city_boundary: { color: "#3d4f66", fillColor: "#3d4f66", dashArray: "6 4", fillOpacity: 0.02 },
  permitted_area: { color: "#3d4f66", fillColor: "#3d4f66", dashArray: "6 4", fillOpacity: 0.02 },
  speed_zone: { color: "#d97706", fillColor: "#d97706" },
};

function latLonOf(place) {
  if (Array.isArray(place)) return place.length >= 2 ? [place[1], place[0]] : null;
  if (place && place.lat != null && place.lon != null) return [place.lat, place.lon];
  return null;
}

export class EvidenceMap {
  constructor(element, config) {
    this.element = element;
    const centre = config.map_centre ?? config.centre ?? { lat: 30.58, lon: 114.3, zoom: 10 };
    this.map = L.map(element, { minZoom: 5, maxZoom: 18 }).setView([centre.lat, centre.lon], centre.zoom);
    L.tileLayer(config.tile_url, {
      maxNativeZoom: config.tile_max_native_zoom, maxZoom: 18, attribution: config.tile_attribution,
    }).addTo(this.map);
    L.control.scale({ imperial: false, position: "bottomright" }).addTo(this.map);
    // Past a few levels of upscaling the basemap is a blur: fade it behind the evidence.
    const fadeFrom = config.tile_max_native_zoom + 3;
    const fade = () => this.map.getPane("tilePane").classList.toggle("faded", this.map.getZoom() > fadeFrom);
    this.map.on("zoomend", fade);
    fade();
    this.zones = L.featureGroup().addTo(this.map);
    this.routes = L.featureGroup().addTo(this.map);
    this.track = L.featureGroup().addTo(this.map);
    this.triggers = L.featureGroup().addTo(this.map);
    this.carLayer = L.layerGroup().addTo(this.map);
    this.car = null;
    this.travelled = null;
    this.points = [];
  }

  /** Draws a bundle (format 1); `points`: the playback fixes ({ts_ms, lat, lon, speed_kmh}). */
  show(bundle, points) {
    this.map.invalidateSize(); // the box may have been hidden when the map was made
    for (const layer of [this.zones, this.routes, this.track, this.triggers, this.carLayer]) layer.clearLayers();
    this.car = null;
    this.points = points ?? [];
    for (const zone of bundle.zones ?? []) this.drawZone(zone);
    for (const order of bundle.orders ?? []) this.drawOrder(order);
    const coords = bundle.track?.coordinates ?? [];
    if (coords.length > 1) {
      L.polyline(coords.map((c) => [c[1], c[0]]), { color: "#5b6778", weight: 3, opacity: 0.55 }).addTo(this.track);
    }
    this.travelled = L.polyline([], { color: "#b4232a", weight: 4, opacity: 0.9 }).addTo(this.track);
    for (const p of bundle.points ?? []) {
      L.circleMarker([p.lat, p.lon], { radius: 7, color: "#fff", weight: 2, fillColor: "#d97706", fillOpacity: 1 })
        .bindTooltip(`${formatDateTime(Date.parse(p.ts))} · ${formatSpeed(p.speed_kmh)} km/h`)
        .addTo(this.triggers);
    }
    const reported = bundle.report;
    if (reported?.lat != null && reported?.lon != null) {
      L.marker([reported.lat, reported.lon], { keyboard: false, title: t("vi.report_place") })
        .bindTooltip(t("vi.report_place")).addTo(this.triggers);
    }
    this.element.dataset.triggers = String((bundle.points ?? []).length);
    this.element.dataset.zones = String((bundle.zones ?? []).length);
    this.fit();
  }

  drawZone(zone) {
    const style = { weight: 1.5, fillOpacity: 0.18, ...(ZONE_STYLES[zone.purpose] ?? ZONE_STYLES.speed_zone) };
    const geo = zone.geojson;
    if (!geo) return;
    const name = localName(zone) || zone.name_zh || "";
    let layer;
    if (geo.type === "Point" && zone.radius_m) {
      layer = L.circle([geo.coordinates[1], geo.coordinates[0]], { radius: zone.radius_m, ...style });
    } else {
      layer = L.geoJSON(geo, { style: () => style, pointToLayer: (_, ll) => L.circleMarker(ll, { radius: 5, ...style }) });
    }
    layer.bindTooltip(name).addTo(this.zones);
  }

  drawOrder(order) {
    const stops = [order.origin, ...(order.destinations ?? [])].map(latLonOf).filter(Boolean);
    if (!stops.length) return;
    if (stops.length > 1) {
      L.polyline(stops, { color: "#1f5fbf", weight: 2, dashArray: "6 5" })
        .bindTooltip(`#${order.id}`).addTo(this.routes);
    }
    stops.forEach((ll, i) => {
      const icon = L.divIcon({ className: `stop-pin${i === 0 ? " origin" : ""}`, html: `<span>${i === 0 ? t("vi.pin_origin") : i}</span>`, iconSize: [26, 26], iconAnchor: [13, 13] });
      L.marker(ll, { icon, keyboard: false, interactive: false }).addTo(this.routes);
    });
  }

  fit() {
    const bounds = L.latLngBounds([]);
    for (const layer of [this.track, this.triggers, this.zones, this.routes]) {
      const b = layer.getBounds?.();
      if (b && b.isValid()) bounds.extend(b);
    }
    for (const p of this.points) bounds.extend([p.lat, p.lon]);
    if (bounds.isValid()) this.map.fitBounds(bounds.pad(0.15), { maxZoom: 15 });
  }

  /** Puts the car where it was at tsMs; the track up to then is drawn in red. */
  setTime(tsMs) {
    const at = sampleAt(this.points, tsMs);
    if (!at) return null;
    if (!this.car) {
      this.car = L.circleMarker([at.lat, at.lon], { radius: 8, color: "#fff", weight: 3, fillColor: "#b4232a", fillOpacity: 1 })
        .addTo(this.carLayer);
    } else {
      this.car.setLatLng([at.lat, at.lon]);
    }
    const done = this.points.slice(0, at.index + 1).map((p) => [p.lat, p.lon]);
    done.push([at.lat, at.lon]);
    this.travelled.setLatLngs(done);
    this.element.dataset.markerLat = at.lat.toFixed(6);
    this.element.dataset.markerLon = at.lon.toFixed(6);
    return at;
  }

  destroy() {
    this.map.remove();
  }
}

/** The slider, play / pause and the time and speed under the map. */
export class EvidencePlayer {
  constructor(root, evidenceMap) {
    this.root = root;
    this.map = evidenceMap;
    this.timer = null;
    this.slider = el("input", { type: "range", class: "ev-slider", "data-testid": "evidence-slider", min: "0", max: "0", step: "1000", value: "0", "aria-label": t("vi.evidence") });
    this.play = el("button", { type: "button", class: "btn btn-small", "data-testid": "evidence-play", text: t("vi.play") });
    this.clock = el("span", { class: "ev-clock num", "data-testid": "evidence-time" });
    this.speed = el("span", { class: "ev-speed num muted", "data-testid": "evidence-speed" });
    this.note = el("span", { class: "ev-note muted small", "data-testid": "evidence-note" });
    root.replaceChildren(el("div", { class: "ev-controls" }, this.play, this.slider, this.clock, this.speed), this.note);
    this.slider.addEventListener("input", () => {
      this.stop();
      this.seek(Number(this.slider.value));
    });
    this.play.addEventListener("click", () => (this.timer ? this.stop() : this.start()));
  }

  /** The texts again, in the current language. */
  relabel() {
    this.play.textContent = t(this.timer ? "vi.pause" : "vi.play");
    this.slider.setAttribute("aria-label", t("vi.evidence"));
    if (this.playback?.source === "evidence") this.note.textContent = t("vi.playback_source.evidence");
  }

  load(playback) {
    this.playback = playback;
    this.stop();
    const points = playback?.points ?? [];
    this.note.textContent = playback?.source === "evidence" ? t("vi.playback_source.evidence") : "";
    this.root.classList.toggle("hidden", points.length < 2);
    if (points.length < 2) return;
    this.from = points[0].ts_ms;
    this.to = points[points.length - 1].ts_ms;
    this.slider.min = String(this.from);
    this.slider.max = String(this.to);
    this.seek(this.from);
  }

  seek(tsMs) {
    this.slider.value = String(tsMs);
    const at = this.map.setTime(tsMs);
    this.root.dataset.time = String(tsMs);
    this.clock.textContent = formatDateTime(tsMs);
    this.speed.textContent = at?.speed_kmh == null ? "" : `${formatSpeed(at.speed_kmh)} km/h`;
  }

  start() {
    if (Number(this.slider.value) >= this.to) this.seek(this.from);
    const stepMs = ((this.to - this.from) / PLAY_SECONDS) / 10;
    this.play.textContent = t("vi.pause");
    this.root.dataset.playing = "true";
    this.timer = setInterval(() => {
      const next = Math.min(this.to, Number(this.slider.value) + stepMs);
      this.seek(next);
      if (next >= this.to) this.stop();
    }, 100);
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.play.textContent = t("vi.play");
    this.root.dataset.playing = "false";
  }
}
