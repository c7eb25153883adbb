// The map of the request form: click to place the active stop (origin or a destination),
// numbered markers for the stops, the nine city boundaries as the service area.
// Leaflet is the global `L` (loaded from /vendor/leaflet/leaflet.js before this module).

const L = window.L;
const BOUNDARY_STYLE = { color: "#3d4f66", weight: 1.2, dashArray: "6 4", fill: false, interactive: false };

export class PlacePicker {
  constructor(element, config, { onClick }) {
    const centre = config.map_centre;
    // Past a few levels of upscaling the basemap is a blur: open and fit no closer than that.
    this.sharpZoom = config.tile_max_native_zoom + 3;
    const zoom = Math.min(centre.zoom, config.tile_max_native_zoom + 2);
    this.map = L.map(element, { minZoom: 5, maxZoom: 18 }).setView([centre.lat, centre.lon], zoom);
    L.tileLayer(config.tile_url, {
      maxNativeZoom: config.tile_max_native_zoom,
      maxZoom: 18,
      attribution: config.tile_attribution,
    }).addTo(this.map);
    L.control.scale({ imperial: false, position: "bottomright" }).addTo(this.map);
    this.boundaries = L.layerGroup().addTo(this.map);
    this.markers = L.layerGroup().addTo(this.map);
    this.line = null;
    this.map.on("click", (e) => onClick(e.latlng.lat, e.latlng.lng));
    this.moving = false;
    this.map.on("movestart zoomstart", () => {
      this.moving = true;
    });
    this.map.on("moveend zoomend", () => {
      this.moving = false;
    });
  }

  setBoundaries(featureCollection) {
    this.boundaries.clearLayers();
    L.geoJSON(featureCollection, { style: () => BOUNDARY_STYLE, interactive: false }).addTo(this.boundaries);
  }

  /** stops: [{lat, lon, label, active}] in route order (points without lat are skipped). */
  showStops(stops) {
    this.markers.clearLayers();
    const placed = stops.filter((s) => s.lat != null);
    for (const stop of placed) {
      const icon = L.divIcon({
        className: `stop-pin${stop.active ? " active" : ""}${stop.origin ? " origin" : ""}`,
        html: `<span>${stop.label}</span>`,
        iconSize: [26, 26],
        iconAnchor: [13, 13],
      });
      L.marker([stop.lat, stop.lon], { icon, keyboard: false, interactive: false }).addTo(this.markers);
    }
    if (placed.length > 1) {
      L.polyline(
        placed.map((s) => [s.lat, s.lon]),
        { color: "#1f5fbf", weight: 2, dashArray: "5 5", interactive: false },
      ).addTo(this.markers);
    }
  }

  flyTo(lat, lon) {
    this.map.panTo([lat, lon]);
  }

  /** Show every placed stop (no closer than the basemap stays sharp). */
  fit(stops) {
    const placed = stops.filter((s) => s.lat != null);
    if (placed.length === 1) this.map.setView([placed[0].lat, placed[0].lon], Math.min(this.sharpZoom, 12));
    if (placed.length > 1) {
      this.map.fitBounds(L.latLngBounds(placed.map((s) => [s.lat, s.lon])), {
        padding: [30, 30],
        maxZoom: Math.min(this.sharpZoom, 13),
      });
    }
  }

  /** Zoom and whether the view is still moving (the page tests wait for it to settle). */
  view() {
    return { zoom: this.map.getZoom(), moving: this.moving };
  }

  /** The container pixel of a point (the page tests click there). */
  pointOf(lat, lon) {
    const p = this.map.latLngToContainerPoint([lat, lon]);
    return { x: p.x, y: p.y };
  }

  invalidate() {
    this.map.invalidateSize();
  }
}
