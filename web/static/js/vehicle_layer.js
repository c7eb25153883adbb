// Vehicle markers: one canvas circleMarker per located vehicle, coloured by status, grouped
// by Leaflet.markercluster where they crowd (a depot's lot holds dozens of cars on one spot).
// A cluster shows its count inside a ring split by the statuses of its cars.
import { STATUSES, STATUS_COLOURS } from "./status.js";

const L = window.L;

function markerStyle(status) {
  return {
    radius: 6,
    color: "#ffffff",
    weight: 1.5,
    fillColor: STATUS_COLOURS[status] ?? STATUS_COLOURS.no_data,
    fillOpacity: 0.95,
  };
}

// The selected car is marked by a DOM halo above everything (clusters included), so it
// stays in sight even when its own marker is folded into a cluster.
function haloIcon(status) {
  const colour = STATUS_COLOURS[status] ?? STATUS_COLOURS.no_data;
  return L.divIcon({
    html: `<span class="pulse"></span><span class="core" style="background:${colour}"></span>`,
    className: "selected-vehicle",
    iconSize: L.point(26, 26),
  });
}

function clusterIcon(cluster) {
  const children = cluster.getAllChildMarkers();
  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0]));
  for (const marker of children) counts[marker.status] += 1;
  let from = 0;
  const stops = [];
  for (const status of STATUSES) {
    if (!counts[status]) continue;
    const to = from + (counts[status] / children.length) * 360;
    stops.push(`${STATUS_COLOURS[status]} ${from.toFixed(1)}deg ${to.toFixed(1)}deg`);
    from = to;
  }
  const size = children.length < 10 ? 30 : children.length < 100 ? 36 : 42;
  return L.divIcon({
    html: `<div class="ring" style="background: conic-gradient(${stops.join(", ")})"><span>${children.length}</span></div>`,
    className: "vehicle-cluster",
    iconSize: L.point(size, size),
  });
}

export class VehicleLayer {
  constructor(map, renderer, { onSelect }) {
    this.map = map;
    this.renderer = renderer;
    this.onSelect = onSelect;
    this.markers = new Map();
    this.selectedId = null;
    this.halo = null;
    this.dirty = new Set();
    this.cluster = L.markerClusterGroup({
      // Tighter as one zooms in; from street level every car stands alone (a lot's cars are
      // metres apart: they touch, but each answers its own click and tooltip).
      maxClusterRadius: (zoom) => (zoom >= 15 ? 12 : zoom >= 13 ? 20 : 40),
      disableClusteringAtZoom: 17,
      showCoverageOnHover: false,
      chunkedLoading: true,
      iconCreateFunction: clusterIcon,
    }).addTo(map);
  }

  _create(item, state) {
    const marker = L.circleMarker([state.lat, state.lon], {
      ...markerStyle(item.status),
      renderer: this.renderer,
      pane: "vehicles",
    });
    marker.vehicleId = item.id;
    marker.status = item.status;
    marker.bindTooltip(item.plate, { direction: "top", offset: [0, -6], className: "plate-tip" });
    marker.on("click", () => this.onSelect(item.id));
    return marker;
  }

  /** Shows, moves or hides the marker of one vehicle (call commit() after a batch). */
  upsert(item, visible) {
    const state = item.state;
    const located = visible && state && state.lat != null && state.lon != null;
    let marker = this.markers.get(item.id);
    if (!located) {
      if (marker) this._remove(item.id, marker);
      return;
    }
    if (!marker) {
      marker = this._create(item, state);
      this.markers.set(item.id, marker);
      this.cluster.addLayer(marker);
    } else {
      marker.setLatLng([state.lat, state.lon]);
    }
    if (marker.status !== item.status) {
      marker.status = item.status;
      marker.setStyle(markerStyle(item.status));
      this.dirty.add(marker);
    }
    if (item.id === this.selectedId) this._placeHalo(marker);
  }

  _placeHalo(marker) {
    if (!this.halo) {
      this.halo = L.marker(marker.getLatLng(), {
        icon: haloIcon(marker.status),
        pane: "selected",
        interactive: false,
        keyboard: false,
      }).addTo(this.map);
      this.halo.status = marker.status;
      return;
    }
    this.halo.setLatLng(marker.getLatLng());
    if (this.halo.status !== marker.status) {
      this.halo.status = marker.status;
      this.halo.setIcon(haloIcon(marker.status));
    }
  }

  _remove(id, marker) {
    this.cluster.removeLayer(marker);
    this.markers.delete(id);
    this.dirty.delete(marker);
    if (id === this.selectedId) this._dropHalo();
  }

  _dropHalo() {
    this.halo?.remove();
    this.halo = null;
  }

  /** Re-draws the cluster rings whose cars changed status. */
  commit() {
    if (this.dirty.size) {
      this.cluster.refreshClusters([...this.dirty]);
      this.dirty.clear();
    }
  }

  clear() {
    this.cluster.clearLayers();
    this.markers.clear();
    this.dirty.clear();
    this._dropHalo();
  }

  select(id) {
    this._dropHalo();
    this.selectedId = id;
    const marker = this.markers.get(id);
    if (!marker) return null;
    this._placeHalo(marker);
    return marker;
  }

  latLngOf(id) {
    return this.markers.get(id)?.getLatLng() ?? null;
  }

  /** Whether a marker is drawn by itself (not folded into a cluster, and in view). */
  isShown(marker) {
    return this.map.hasLayer(marker);
  }

  /** Zooms in on a vehicle until its own marker is drawn; resolves true when it is.
   *  (markercluster's zoomToShowLayer waits for an L.Marker icon a circleMarker never has.) */
  reveal(id) {
    const marker = this.markers.get(id);
    if (!marker) return Promise.resolve(false);
    for (let zoom = this.map.getZoom(); zoom <= this.map.getMaxZoom(); zoom += 1) {
      this.map.setView(marker.getLatLng(), zoom, { animate: false });
      if (this.isShown(marker)) return Promise.resolve(true);
    }
    return Promise.resolve(false);
  }

  get size() {
    return this.markers.size;
  }
}
