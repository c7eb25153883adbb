// The Leaflet map: basemap, geofence layers, the vehicles (vehicle_layer.js) and the track.
// Leaflet is the global `L` (loaded from /vendor/leaflet/leaflet.js before this module).
import { localName, t } from "./i18n.js";
import { VehicleLayer } from "./vehicle_layer.js";

const L = window.L;
const SELECT_ZOOM = 12;
// Beyond this many levels of upscaling the basemap is a blur: fade it behind the data.
const FADE_AFTER_LEVELS = 3;

const GEOFENCE_STYLES = {
  boundaries: { color: "#3d4f66", weight: 1.4, dashArray: "6 4", fill: true, fillOpacity: 0.02 },
  lots: { color: "#1f5fbf", weight: 1.2, fillColor: "#1f5fbf", fillOpacity: 0.25 },
  zones: { color: "#c62828", weight: 1.2, dashArray: "4 3", fillColor: "#c62828", fillOpacity: 0.15 },
};

export class FleetMap {
  constructor(element, config, { onSelect }) {
    const centre = config.map_centre;
    this.map = L.map(element, { preferCanvas: true, minZoom: 4, maxZoom: 18, zoomControl: false })
      .setView([centre.lat, centre.lon], centre.zoom);
    L.control.zoom({ position: "topleft" }).addTo(this.map);
    L.control.scale({ imperial: false, position: "bottomright" }).addTo(this.map);
    // Past the tile source's last zoom, Leaflet upscales its tiles instead of asking for more.
    L.tileLayer(config.tile_url, {
      maxNativeZoom: config.tile_max_native_zoom,
      maxZoom: 18,
      attribution: config.tile_attribution,
    }).addTo(this.map);
    const fadeFrom = config.tile_max_native_zoom + FADE_AFTER_LEVELS;
    const fade = () => {
      this.map.getPane("tilePane").classList.toggle("faded", this.map.getZoom() > fadeFrom);
    };
    this.map.on("zoomend", fade);
    fade();

    this._pane("geofences", 390);
    this._pane("track", 420);
    this._pane("vehicles", 450);
    this._pane("selected", 650);
    this.vehicles = new VehicleLayer(this.map, L.canvas({ pane: "vehicles", padding: 0.2 }), {
      onSelect,
    });
    this.geofenceRenderer = L.canvas({ pane: "geofences" });
    this.trackRenderer = L.canvas({ pane: "track" });
    this.overlays = {
      boundaries: L.layerGroup().addTo(this.map),
      lots: L.layerGroup().addTo(this.map),
      zones: L.layerGroup().addTo(this.map),
    };
    this.trackLayer = L.layerGroup().addTo(this.map);
    this.layersControl = null;
    this._buildLayersControl();
  }

  _pane(name, zIndex) {
    this.map.createPane(name).style.zIndex = String(zIndex);
  }

  _buildLayersControl() {
    this.layersControl?.remove();
    const named = {
      [t("layers.boundaries")]: this.overlays.boundaries,
      [t("layers.lots")]: this.overlays.lots,
      [t("layers.zones")]: this.overlays.zones,
    };
    this.layersControl = L.control.layers(null, named, { position: "topright" }).addTo(this.map);
  }

  relabel() {
    this._buildLayersControl();
  }

  setGeofences(layers) {
    const groups = { boundaries: "city_boundaries", lots: "lots", zones: "sensitive_zones" };
    for (const [name, key] of Object.entries(groups)) {
      const group = this.overlays[name];
      group.clearLayers();
      const style = { ...GEOFENCE_STYLES[name], renderer: this.geofenceRenderer, pane: "geofences" };
      L.geoJSON(layers[key], {
        style: () => style,
        interactive: name !== "boundaries",
        pointToLayer: (feature, latlng) =>
          L.circle(latlng, { ...style, radius: feature.properties.radius_m || 100 }),
        onEachFeature: (feature, layer) => {
          if (name !== "boundaries") layer.bindTooltip(() => localName(feature.properties));
        },
      }).addTo(group);
    }
  }

  upsert(item, visible) {
    this.vehicles.upsert(item, visible);
  }

  commit() {
    this.vehicles.commit();
  }

  clearVehicles() {
    this.vehicles.clear();
  }

  select(item) {
    const marker = this.vehicles.select(item ? item.id : null);
    if (marker) {
      this.map.flyTo(marker.getLatLng(), Math.max(this.map.getZoom(), SELECT_ZOOM), { duration: 0.8 });
    }
  }

  drawTrack(points) {
    this.trackLayer.clearLayers();
    this.trackLine = null;
    if (!points.length) return;
    const latlngs = points.map((p) => [p.lat, p.lon]);
    this.trackLine = L.polyline(latlngs, {
      color: "#1f5fbf",
      weight: 3.5,
      opacity: 0.85,
      renderer: this.trackRenderer,
      pane: "track",
      interactive: false,
    }).addTo(this.trackLayer);
    // Show the whole track beside the details panel (which covers the map's right side).
    if (latlngs.length > 1) {
      this.map.flyToBounds(L.latLngBounds(latlngs), {
        paddingTopLeft: [40, 40],
        paddingBottomRight: [360, 40],
        maxZoom: 14,
        duration: 0.8,
      });
    }
    L.circleMarker(latlngs[0], {
      radius: 5,
      color: "#1f5fbf",
      weight: 2,
      fillColor: "#ffffff",
      fillOpacity: 1,
      renderer: this.trackRenderer,
      pane: "track",
      interactive: false,
    }).addTo(this.trackLayer);
  }

  /** Extends the drawn track with a live fix of the selected vehicle. */
  extendTrack(state) {
    if (this.trackLine && state.lat != null) this.trackLine.addLatLng([state.lat, state.lon]);
  }

  clearTrack() {
    this.trackLayer.clearLayers();
    this.trackLine = null;
  }

  fitTo(items, maxZoom = 12) {
    const latlngs = [];
    for (const item of items) {
      if (item.state?.lat != null) latlngs.push([item.state.lat, item.state.lon]);
    }
    if (latlngs.length) this.map.fitBounds(L.latLngBounds(latlngs).pad(0.08), { maxZoom });
  }

  markerCount() {
    return this.vehicles.size;
  }

  trackPointCount() {
    return this.trackLine ? this.trackLine.getLatLngs().length : 0;
  }

  /** [lat, lon] where a vehicle's marker is drawn now (for tests). */
  markerLatLng(id) {
    const latlng = this.vehicles.latLngOf(id);
    return latlng ? [latlng.lat, latlng.lng] : null;
  }

  /** Page coordinates of a vehicle's marker (for tests). */
  markerPoint(id) {
    const latlng = this.vehicles.latLngOf(id);
    if (!latlng) return null;
    const box = this.map.getContainer().getBoundingClientRect();
    const p = this.map.latLngToContainerPoint(latlng);
    return { x: box.left + p.x, y: box.top + p.y };
  }

  /** Ids of the individually drawn markers within radiusPx of a page point (for tests). */
  markersNear(x, y, radiusPx) {
    const box = this.map.getContainer().getBoundingClientRect();
    const point = L.point(x - box.left, y - box.top);
    return [...this.vehicles.markers]
      .filter(([, marker]) => this.vehicles.isShown(marker))
      .filter(([, marker]) => this.map.latLngToContainerPoint(marker.getLatLng()).distanceTo(point) <= radiusPx)
      .map(([id]) => id);
  }

  reveal(id) {
    return this.vehicles.reveal(id);
  }
}
