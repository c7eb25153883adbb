// A small drawing and editing tool for zones, written on Leaflet's own API (no plugin: none
// ships as a Python wheel, and an npm build would break the Python-only install).
//   polygon   click corners; double-click, or click the first corner, to finish
//   circle    click the centre, click again for the radius
//   corridor  click the route's points; double-click to finish; its half-width in metres
// Editing: drag corner handles (or the centre and the radius handle); click a mid-edge handle
// to add a corner; right-click a corner to remove it. Shapes are kept as Leaflet [lat, lng];
// toFields() gives the API's GeoJSON ([lon, lat]).
const L = window.L;

const STYLE = { color: "#b4232a", weight: 2, fillColor: "#b4232a", fillOpacity: 0.12 };
const EARTH_CIRCUMFERENCE_M = 40075016.686;

function handle(latlng, kind, index, draggable) {
  const marker = L.marker(latlng, {
    draggable,
    keyboard: false,
    zIndexOffset: kind === "mid" ? 900 : 1000,
    icon: L.divIcon({ className: `zn-handle zn-${kind}`, iconSize: kind === "mid" ? [10, 10] : [14, 14] }),
  });
  marker.on("add", () => {
    const node = marker.getElement();
    node.dataset.testid = `zn-${kind}-${index}`;
    node.dataset.index = String(index);
  });
  return marker;
}

export class ZoneDrawer {
  constructor(map, { onChange, onDrawn, onCancel } = {}) {
    this.map = map;
    this.onChange = onChange ?? (() => {});
    this.onDrawn = onDrawn ?? (() => {});
    this.onCancel = onCancel ?? (() => {});
    this.layer = L.layerGroup().addTo(map);
    this.shape = null; // {shape, ring | centre + radius_m | line + buffer_m}
    this.drawing = false;
    this.editing = false;
    this._events = [];
    this._keys = (e) => this._onKey(e);
    this._zoom = () => this._redraw();
    map.on("zoomend", this._zoom);
  }

  // -- drawing ---------------------------------------------------------------------------

  start(kind, bufferM = 50) {
    this.stop();
    this.drawing = true;
    this.shape = kind === "circle" ? { shape: "circle", centre: null, radius_m: 0 }
      : kind === "corridor" ? { shape: "corridor", line: [], buffer_m: bufferM }
        : { shape: "polygon", ring: [] };
    this.map.doubleClickZoom.disable();
    this.map.getContainer().classList.add("zn-drawing");
    this._on("click", (e) => this._click(e.latlng));
    this._on("dblclick", () => this.finish());
    this._on("mousemove", (e) => this._move(e.latlng));
    document.addEventListener("keydown", this._keys);
    this._redraw();
  }

  _on(name, fn) {
    this.map.on(name, fn);
    this._events.push([name, fn]);
  }

  _points() {
    return this.shape.shape === "polygon" ? this.shape.ring : this.shape.line;
  }

  _click(latlng) {
    const s = this.shape;
    if (s.shape === "circle") {
      if (!s.centre) s.centre = latlng;
      else {
        s.radius_m = Math.max(10, Math.round(s.centre.distanceTo(latlng)));
        this.finish();
        return;
      }
    } else {
      const points = this._points();
      const px = (a) => this.map.latLngToContainerPoint(a);
      if (s.shape === "polygon" && points.length >= 3 && px(points[0]).distanceTo(px(latlng)) < 8) {
        this.finish();
        return;
      }
      // The second click of a double-click lands where the first did: one corner, not two.
      const last = points[points.length - 1];
      if (last && px(last).distanceTo(px(latlng)) < 4) return;
      points.push(latlng);
    }
    this._redraw();
  }

  /** The mouse moved while drawing: only the rubber band follows (handles stay put). */
  _move(latlng) {
    this.cursor = latlng;
    const s = this.shape;
    if (s.shape === "circle") {
      if (!s.centre) return;
      s.radius_m = Math.round(s.centre.distanceTo(latlng));
      this.layer.eachLayer((layer) => { if (layer instanceof L.Circle) layer.setRadius(s.radius_m || 1); });
      this.onChange(s, true);
      return;
    }
    const points = this._points();
    if (!points.length) return;
    const band = [points[points.length - 1], latlng];
    if (s.shape === "polygon" && points.length >= 2) band.push(points[0]);
    if (!this._rubber) {
      this._rubber = L.polyline(band, { color: STYLE.color, weight: 1.5, dashArray: "4 4",
        interactive: false, renderer: L.svg({ padding: 0.2 }) });
    } else this._rubber.setLatLngs(band);
    if (!this.layer.hasLayer(this._rubber)) this._rubber.addTo(this.layer);
  }

  _onKey(e) {
    if (!this.drawing) return;
    if (e.key === "Escape") {
      e.stopPropagation();
      this.cancel();
    } else if (e.key === "Backspace" && this.shape.shape !== "circle") {
      const target = e.target;
      if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA")) return;
      e.preventDefault();
      this._points().pop();
      this._redraw();
    }
  }

  /** Ends drawing when the shape is complete; then the shape is editable. */
  finish() {
    if (!this.drawing || !this.complete()) return false;
    this._endDrawing();
    this.onDrawn(this.shape);
    this.edit(this.shape);
    return true;
  }

  complete() {
    const s = this.shape;
    if (!s) return false;
    if (s.shape === "circle") return Boolean(s.centre) && s.radius_m >= 10;
    return this._points().length >= (s.shape === "polygon" ? 3 : 2);
  }

  cancel() {
    const was = this.drawing;
    this.stop();
    if (was) this.onCancel();
  }

  _endDrawing() {
    this.drawing = false;
    this.cursor = null;
    for (const [name, fn] of this._events) this.map.off(name, fn);
    this._events = [];
    document.removeEventListener("keydown", this._keys);
    this.map.getContainer().classList.remove("zn-drawing");
    setTimeout(() => this.map.doubleClickZoom.enable(), 300);
  }

  stop() {
    if (this.drawing) this._endDrawing();
    this.editing = false;
    this.hidden = false;
    this.shape = null;
    this.layer.clearLayers();
  }

  // -- editing ---------------------------------------------------------------------------

  /** Shows a shape with drag handles (editable) or without (read-only). */
  edit(shape, editable = true) {
    if (this.drawing) this._endDrawing();
    this.shape = shape;
    this.editing = editable;
    this.hidden = false;
    this._redraw();
  }

  /** Keeps a shape (what a save sends) without drawing it: the zones layer shows it. */
  hold(shape) {
    this.stop();
    this.shape = shape;
    this.hidden = true;
  }

  setSize(metres) {
    if (!this.shape || !(metres > 0)) return;
    if (this.shape.shape === "circle") this.shape.radius_m = metres;
    if (this.shape.shape === "corridor") this.shape.buffer_m = metres;
    this._redraw();
  }

  _metresPerPixel(lat) {
    return (EARTH_CIRCUMFERENCE_M * Math.cos((lat * Math.PI) / 180)) / 2 ** (this.map.getZoom() + 8);
  }

  _redraw() {
    this.layer.clearLayers();
    const s = this.shape;
    if (!s || this.hidden) return;
    const renderer = L.svg({ padding: 0.2 }); // above the canvas layers, hit-testing of its own
    if (s.shape === "circle") {
      if (s.centre) {
        L.circle(s.centre, { ...STYLE, radius: s.radius_m || 1, renderer, interactive: false })
          .addTo(this.layer);
      }
    } else {
      this._rubber = null;
      const points = [...this._points()];
      if (s.shape === "polygon" && points.length >= 3 && !this.drawing) {
        L.polygon(points, { ...STYLE, renderer, interactive: false }).addTo(this.layer);
      } else if (s.shape === "polygon") {
        L.polyline(points, { ...STYLE, dashArray: "5 4", renderer, interactive: false })
          .addTo(this.layer);
      } else if (points.length) {
        const widthPx = (2 * s.buffer_m) / this._metresPerPixel(points[0].lat);
        L.polyline(points, { color: STYLE.color, opacity: 0.18, weight: Math.max(3, widthPx),
          lineCap: "round", lineJoin: "round", renderer, interactive: false }).addTo(this.layer);
        L.polyline(points, { color: STYLE.color, weight: 2, renderer, interactive: false })
          .addTo(this.layer);
      }
    }
    if (this.drawing || this.editing) this._handles();
  }

  _handles() {
    const s = this.shape;
    const draggable = this.editing;
    if (s.shape === "circle") {
      if (!s.centre || !draggable) return;
      const centre = handle(s.centre, "centre", 0, true).addTo(this.layer);
      const edge = handle(this._edgePoint(), "radius", 0, true).addTo(this.layer);
      centre.on("drag", (e) => { s.centre = e.target.getLatLng(); edge.setLatLng(this._edgePoint()); this._liveCircle(); });
      centre.on("dragend", () => this._changed());
      edge.on("drag", (e) => { s.radius_m = Math.max(10, Math.round(s.centre.distanceTo(e.target.getLatLng()))); this._liveCircle(); });
      edge.on("dragend", () => this._changed());
      return;
    }
    const points = this._points();
    points.forEach((latlng, i) => {
      const marker = handle(latlng, "vertex", i, draggable).addTo(this.layer);
      if (this.drawing && i === 0 && s.shape === "polygon") marker.on("click", () => this.finish());
      if (!draggable) return;
      marker.on("drag", (e) => { points[i] = e.target.getLatLng(); this._liveOutline(); });
      marker.on("dragend", () => this._changed());
      marker.on("contextmenu", () => {
        if (points.length > (s.shape === "polygon" ? 3 : 2)) {
          points.splice(i, 1);
          this._changed();
        }
      });
    });
    if (!draggable) return;
    const edges = s.shape === "polygon" ? points.length : points.length - 1;
    for (let i = 0; i < edges; i += 1) {
      const a = points[i];
      const b = points[(i + 1) % points.length];
      const mid = handle(L.latLng((a.lat + b.lat) / 2, (a.lng + b.lng) / 2), "mid", i, false)
        .addTo(this.layer);
      mid.on("click", () => { points.splice(i + 1, 0, mid.getLatLng()); this._changed(); });
    }
  }

  _edgePoint() {
    const s = this.shape;
    const dLng = s.radius_m / (111320 * Math.cos((s.centre.lat * Math.PI) / 180));
    return L.latLng(s.centre.lat, s.centre.lng + dLng);
  }

  _liveCircle() {
    this.layer.eachLayer((layer) => {
      if (layer instanceof L.Circle) { layer.setLatLng(this.shape.centre); layer.setRadius(this.shape.radius_m); }
    });
    this.onChange(this.shape, true);
  }

  _liveOutline() {
    this.layer.eachLayer((layer) => {
      if (layer instanceof L.Polyline) layer.setLatLngs(this._points());
    });
  }

  _changed() {
    this._redraw();
    this.onChange(this.shape, false);
  }

  // -- conversions -----------------------------------------------------------------------

  /** The API's fields for the current shape (GeoJSON, [lon, lat]). */
  toFields() {
    const s = this.shape;
    if (!s || !this.complete()) return null;
    const lonLat = (p) => [Number(p.lng.toFixed(7)), Number(p.lat.toFixed(7))];
    if (s.shape === "circle") return { shape: "circle", centre: lonLat(s.centre), radius_m: s.radius_m };
    if (s.shape === "corridor") {
      return { shape: "corridor", line: { type: "LineString", coordinates: s.line.map(lonLat) },
        buffer_m: s.buffer_m };
    }
    const ring = s.ring.map(lonLat);
    ring.push(ring[0]);
    return { shape: "polygon", geometry: { type: "Polygon", coordinates: [ring] } };
  }

  /** A shape from a zone as the API reads it (null when it cannot be edited as drawn). */
  static fromZone(zone) {
    const latLng = ([lon, lat]) => L.latLng(lat, lon);
    if (zone.shape === "circle" && zone.centre) {
      return { shape: "circle", centre: latLng(zone.centre), radius_m: zone.radius_m };
    }
    if (zone.shape === "corridor" && zone.line) {
      return { shape: "corridor", line: zone.line.coordinates.map(latLng), buffer_m: zone.buffer_m };
    }
    if (zone.geojson?.type === "Polygon") {
      const ring = zone.geojson.coordinates[0].map(latLng);
      ring.pop(); // the closing point
      return { shape: "polygon", ring };
    }
    return null;
  }

  destroy() {
    this.stop();
    this.map.off("zoomend", this._zoom);
    this.layer.remove();
  }
}
