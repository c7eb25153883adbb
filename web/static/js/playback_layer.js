// What track playback draws on the map: the route, the part already played, trip start and
// end pins, stop pins (with their duration in a popup) and the car itself.
import { escapeHtml } from "./dom.js";
import { formatDuration, formatNumber, formatTime } from "./format.js";
import { t } from "./i18n.js";

const L = window.L;

// A trip's end, the stop there and the next trip's start share a place: the stop's pin sits on
// it, a start's up and to the right, an end's up and to the left, so that all three show.
const PIN_ANCHORS = { stop: [11, 11], start: [-3, 25], end: [25, 25] };
const POPUP_ANCHORS = { stop: [0, -10], start: [14, -24], end: [-14, -24] };

function pinIcon(kind, text) {
  return L.divIcon({
    className: `pb-pin pb-pin-${kind}`,
    html: `<span>${escapeHtml(text)}</span>`,
    iconSize: [22, 22],
    iconAnchor: PIN_ANCHORS[kind],
    popupAnchor: POPUP_ANCHORS[kind],
  });
}

function tripPopup(trip, which) {
  const title = t(which === "start" ? "playback.trip_start" : "playback.trip_end");
  const km = formatNumber(trip.dist_m / 1000, 1);
  const info = trip.open
    ? t("playback.trip_open_info", { from: formatTime(trip.start_ms), km })
    : t("playback.trip_info", {
        from: formatTime(trip.start_ms),
        to: formatTime(trip.end_ms),
        km,
        duration: formatDuration(trip.duration_s),
      });
  return `<strong>${escapeHtml(title)}</strong><br>${escapeHtml(info)}`;
}

function stopPopup(stop) {
  const title = stop.open
    ? t("playback.stop_open", { duration: formatDuration(stop.duration_s) })
    : t("playback.stop", { duration: formatDuration(stop.duration_s) });
  const span = t("playback.stop_info", {
    from: formatTime(stop.start_ms),
    to: stop.open ? "…" : formatTime(stop.end_ms),
  });
  return `<strong>${escapeHtml(title)}</strong><br>${escapeHtml(span)}`;
}

export class PlaybackLayer {
  constructor(map, renderer) {
    this.map = map;
    this.renderer = renderer;
    if (!map.getPane("playback")) map.createPane("playback").style.zIndex = "640";
    this.group = L.layerGroup().addTo(map);
    this.route = null;
    this.played = null;
    this.car = null;
    this.latlngs = [];
    this.tripPins = 0;
    this.stopPins = 0;
  }

  draw(track) {
    this.clear();
    const latlngs = track.points.map((p) => [p.lat, p.lon]);
    this.latlngs = latlngs;
    if (!latlngs.length) return;
    const line = { renderer: this.renderer, pane: "track", interactive: false };
    this.route = L.polyline(latlngs, { ...line, color: "#7aa5e6", weight: 5, opacity: 0.9 });
    this.played = L.polyline([], { ...line, color: "#1f4e9c", weight: 5, opacity: 0.95 });
    this.route.addTo(this.group);
    this.played.addTo(this.group);
    for (const trip of track.trips) {
      if (!trip.clipped_start && trip.start_lat != null) {
        this._pin("start", [trip.start_lat, trip.start_lon], tripPopup(trip, "start"));
        this.tripPins += 1;
      }
      if (!trip.open && !trip.clipped_end && trip.end_lat != null) {
        this._pin("end", [trip.end_lat, trip.end_lon], tripPopup(trip, "end"));
        this.tripPins += 1;
      }
    }
    for (const stop of track.stops) {
      if (stop.lat == null) continue;
      this._pin("stop", [stop.lat, stop.lon], stopPopup(stop));
      this.stopPins += 1;
    }
    this.car = L.marker(latlngs[0], {
      pane: "playback",
      interactive: false,
      keyboard: false,
      icon: L.divIcon({
        className: "pb-car",
        html: '<span class="pb-car-arrow"></span>',
        iconSize: [26, 26],
        iconAnchor: [13, 13],
      }),
    }).addTo(this.group);
  }

  _pin(kind, latlng, popupHtml) {
    const text = t(`playback.pin_${kind}`);
    L.marker(latlng, { pane: "playback", icon: pinIcon(kind, text), keyboard: false })
      .bindPopup(popupHtml, {
        className: "pb-popup",
        // Clear of the details panel (right) and the playback bar (bottom).
        autoPanPaddingTopLeft: [20, 20],
        autoPanPaddingBottomRight: [390, 190],
      })
      .addTo(this.group);
  }

  /** Shows the route beside the details panel and above the playback bar. */
  fit() {
    if (this.latlngs.length < 2) {
      if (this.latlngs.length) this.map.setView(this.latlngs[0], 14);
      return;
    }
    this.map.fitBounds(L.latLngBounds(this.latlngs), {
      paddingTopLeft: [50, 60],
      paddingBottomRight: [390, 190],
      maxZoom: 15,
    });
  }

  /** Moves the car to a sample (from playback_math.sampleAt) and extends the played line. */
  moveTo(sample) {
    if (!this.car || !sample) return;
    const here = [sample.lat, sample.lon];
    this.car.setLatLng(here);
    const arrow = this.car.getElement()?.querySelector(".pb-car-arrow");
    if (arrow) arrow.style.transform = `rotate(${Math.round(sample.heading_deg)}deg)`;
    this.played.setLatLngs([...this.latlngs.slice(0, sample.index + 1), here]);
  }

  carLatLng() {
    if (!this.car) return null;
    const latlng = this.car.getLatLng();
    return [latlng.lat, latlng.lng];
  }

  /** Page coordinates of the car (for tests). */
  carPoint() {
    if (!this.car) return null;
    const box = this.map.getContainer().getBoundingClientRect();
    const p = this.map.latLngToContainerPoint(this.car.getLatLng());
    return { x: box.left + p.x, y: box.top + p.y };
  }

  clear() {
    this.group.clearLayers();
    this.route = null;
    this.played = null;
    this.car = null;
    this.latlngs = [];
    this.tripPins = 0;
    this.stopPins = 0;
  }
}
