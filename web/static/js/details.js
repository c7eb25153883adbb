// The details panel of the selected vehicle: identity, live state, today's trips and its
// recent track, with the way into track playback.
import { api } from "./api.js";
import { escapeHtml } from "./dom.js";
import {
  formatAge, formatDateTime, formatDuration, formatHeading, formatNumber, formatSpeed, formatTime,
} from "./format.js";
import { localName, t } from "./i18n.js";

const TRACK_HOURS = [1, 4, 24];

function row(labelKey, value, testid) {
  return `<dt>${escapeHtml(t(labelKey))}</dt><dd data-testid="${testid}">${value}</dd>`;
}

export class DetailsPanel {
  constructor(root, { onClose, onTrack, onPlayback }) {
    this.root = root;
    this.onClose = onClose;
    this.onTrack = onTrack;
    this.onPlayback = onPlayback;
    this.today = null;
    this.todayState = "idle";
    this.detail = null;
    this.item = null;
    this.trackHours = 1;
    this.track = null;
    this.trackState = "idle";
    this.requestSeq = 0;
    root.addEventListener("click", (event) => {
      if (event.target.closest("[data-action=close]")) this.onClose();
      const hours = event.target.closest("[data-hours]");
      if (hours) this.loadTrack(Number(hours.dataset.hours));
      if (event.target.closest("[data-action=playback]") && this.item) this.onPlayback(this.item);
      const trip = event.target.closest("[data-trip-start]");
      if (trip && this.item) {
        const fromMs = Number(trip.dataset.tripStart);
        const toMs = Number(trip.dataset.tripEnd);
        // A minute either side, so the trip's ends are inside the range.
        this.onPlayback(this.item, { fromMs: fromMs - 60_000, toMs: toMs + 60_000 });
      }
    });
  }

  get vehicleId() {
    return this.item?.id ?? null;
  }

  async show(item) {
    const seq = ++this.requestSeq;
    this.item = item;
    this.detail = null;
    this.track = null;
    this.trackHours = 1;
    this.today = null;
    this.todayState = "loading";
    this.root.classList.remove("hidden");
    this.render();
    this.loadToday(seq);
    try {
      const detail = await api(`/api/v1/vehicles/${item.id}`);
      if (seq !== this.requestSeq) return;
      this.detail = detail;
      this.render();
    } catch (err) {
      if (seq !== this.requestSeq) return;
      this.root.querySelector(".details-static").textContent = t("details.error", { message: err.message });
    }
    await this.loadTrack(1);
  }

  async loadToday(seq = this.requestSeq) {
    const item = this.item;
    if (!item) return;
    try {
      const today = await api(`/api/v1/vehicles/${item.id}/today`);
      if (seq !== this.requestSeq) return;
      this.today = today;
      this.todayState = "loaded";
    } catch (err) {
      if (seq !== this.requestSeq) return;
      this.todayState = "error";
      this.todayError = err.message;
    }
    this.renderToday();
  }

  hide() {
    this.requestSeq += 1;
    this.item = null;
    this.detail = null;
    this.root.classList.add("hidden");
    this.root.innerHTML = "";
  }

  async loadTrack(hours) {
    const item = this.item;
    if (!item) return;
    this.trackHours = hours;
    if (item.position_withheld) {
      this.trackState = "withheld";
      this.onTrack([]);
      this.renderTrack();
      return;
    }
    const seq = this.requestSeq;
    this.trackState = "loading";
    this.renderTrack();
    const from = new Date(Date.now() - hours * 3600 * 1000).toISOString();
    try {
      const track = await api(`/api/v1/vehicles/${item.id}/track?from=${encodeURIComponent(from)}`);
      if (seq !== this.requestSeq || hours !== this.trackHours) return;
      this.track = track;
      this.trackState = "loaded";
      this.onTrack(track.points);
    } catch (err) {
      if (seq !== this.requestSeq) return;
      this.trackState = "error";
      this.trackError = err.message;
    }
    this.renderTrack();
  }

  /** Live refresh of the selected vehicle (a new fix or status). */
  update(item, nowMs) {
    if (!this.item || item.id !== this.item.id) return;
    this.item = item;
    if (this.track && item.state?.lat != null) {
      this.track.points.push(item.state);
    }
    this.renderLive(nowMs);
  }

  render(nowMs = Date.now()) {
    if (!this.item) return;
    const item = this.item;
    const d = this.detail ?? item;
    const status = item.status;
    this.root.innerHTML = `
      <header class="details-head">
        <div>
          <div class="details-plate" data-testid="details-plate">${escapeHtml(item.plate)}</div>
          <div class="details-sub">
            <span class="badge status-${status}" data-testid="details-status">${escapeHtml(t(`status.${status}`))}</span>
            <span class="chip">${escapeHtml(t(`category.${d.use_category}`))}</span>
            <span class="chip">${escapeHtml(t(`source.${d.source}`))}</span>
            <span class="chip">${escapeHtml(localName(d.city))}</span>
          </div>
        </div>
        <button class="icon-btn" type="button" data-action="close" data-testid="details-close"
                title="${escapeHtml(t("details.close"))}" aria-label="${escapeHtml(t("details.close"))}">×</button>
      </header>
      <div class="details-body">
        <dl class="kv details-live"></dl>
        <section class="details-today" data-testid="details-today"></section>
        <dl class="kv details-static">${this.staticRows(d)}</dl>
        <section class="details-track" data-testid="details-track"></section>
      </div>`;
    this.renderLive(nowMs);
    this.renderToday();
    this.renderTrack();
  }

  renderToday() {
    const box = this.root.querySelector(".details-today");
    if (!box) return;
    const withheld = this.item?.position_withheld;
    const playback = `<button type="button" class="btn btn-playback" data-action="playback"
        data-testid="playback-open"${withheld ? " disabled" : ""}
        title="${escapeHtml(withheld ? t("details.withheld") : t("playback.open"))}">
        <span class="pb-play-icon" aria-hidden="true"></span>${escapeHtml(t("playback.open"))}</button>`;
    const head = `<div class="track-head"><span>${escapeHtml(t("details.today"))}</span>${playback}</div>`;
    const today = this.today;
    if (this.todayState !== "loaded" || !today) {
      const text = this.todayState === "error"
        ? t("details.error", { message: this.todayError })
        : t("details.today_loading");
      box.dataset.state = this.todayState;
      box.innerHTML = `${head}<div class="track-summary">${escapeHtml(text)}</div>`;
      return;
    }
    box.dataset.state = "loaded";
    const stats = [
      ["details.today_trips", t("details.today_trips_value", { n: today.trip_count }), "today-trips"],
      ["details.today_distance", `${formatNumber(today.distance_m / 1000, 1)} km`, "today-distance"],
      ["details.today_driving", formatDuration(today.driving_s), "today-driving"],
      ["details.today_stops", formatNumber(today.stops.length), "today-stops"],
    ].map(([key, value, testid]) => `<div class="stat"><span class="stat-value num" data-testid="${testid}">${escapeHtml(value)}</span>
        <span class="stat-label">${escapeHtml(t(key))}</span></div>`).join("");
    const trips = today.trips.map((trip) => {
      const to = trip.open ? t("details.trip_open") : formatTime(trip.end_ms);
      const endMs = trip.open ? trip.start_ms + trip.duration_s * 1000 : trip.end_ms;
      const replay = this.item.position_withheld
        ? ""
        : ` data-trip-start="${trip.start_ms}" data-trip-end="${endMs}" title="${escapeHtml(t("details.trip_replay"))}"`;
      return `<li class="trip${trip.open ? " open" : ""}" data-testid="today-trip"${replay}>
        <span class="num">${escapeHtml(formatTime(trip.start_ms))}–${escapeHtml(to)}</span>
        <span class="num">${escapeHtml(formatNumber(trip.dist_m / 1000, 1))} km</span>
        <span class="num muted">${escapeHtml(formatDuration(trip.duration_s))}</span></li>`;
    }).join("");
    box.innerHTML = today.trips.length || today.stops.length
      ? `${head}<div class="stats">${stats}</div><ol class="today-trips">${trips}</ol>`
      : `${head}<div class="track-summary">${escapeHtml(t("details.today_none"))}</div>`;
  }

  staticRows(d) {
    const device = d.device_uid
      ? `${escapeHtml(d.device_uid)} <span class="muted">${escapeHtml(t(`device.${d.device_status ?? "unknown"}`))}</span>`
      : "—";
    const rows = [
      row("details.category", escapeHtml(t(`category.${d.use_category}`)), "details-category"),
      row("details.source", escapeHtml(t(`source.${d.source}`)), "details-source"),
      row("details.level", escapeHtml(t(`level.${d.car_level}`)), "details-level"),
      row("details.seats", escapeHtml(t("details.seats_value", { n: d.seats })), "details-seats"),
      row("details.energy", escapeHtml(t(`energy.${d.energy_type}`)), "details-energy"),
      row("details.model", escapeHtml(d.brand_model || "—"), "details-model"),
      row("details.device", device, "details-device"),
    ];
    if (d.owner_org) rows.push(row("details.owner", escapeHtml(localName(d.owner_org)), "details-owner"));
    if (d.depot) rows.push(row("details.depot", escapeHtml(localName(d.depot)), "details-depot"));
    if (d.rental_company) {
      rows.push(row("details.rental", escapeHtml(localName(d.rental_company)), "details-rental"));
    }
    return rows.join("");
  }

  renderLive(nowMs = Date.now()) {
    const box = this.root.querySelector(".details-live");
    if (!box || !this.item) return;
    const item = this.item;
    const s = item.state ?? {};
    const badge = this.root.querySelector("[data-testid=details-status]");
    if (badge) {
      badge.className = `badge status-${item.status}`;
      badge.textContent = t(`status.${item.status}`);
    }
    const acc = s.acc == null ? "—" : t(s.acc ? "details.acc_on" : "details.acc_off");
    const position = item.position_withheld
      ? `<span class="withheld">${escapeHtml(t("details.withheld"))}</span>`
      : s.lat == null
        ? "—"
        : `${s.lat.toFixed(5)}, ${s.lon.toFixed(5)}`;
    const rows = [
      row("details.speed", s.speed_kmh == null ? "—" : `${formatSpeed(s.speed_kmh)} km/h`, "details-speed"),
      row("details.acc", escapeHtml(acc), "details-acc"),
      row("details.heading", escapeHtml(formatHeading(s.heading_deg)), "details-heading"),
      row(
        "details.last_fix",
        s.ts_ms == null
          ? "—"
          : `${formatDateTime(s.ts_ms)} <span class="muted">${escapeHtml(formatAge(s.ts_ms, nowMs))}</span>`,
        "details-last-fix",
      ),
      row("details.position", position, "details-position"),
      row("details.odometer", s.odometer_km == null ? "—" : `${formatNumber(s.odometer_km, 1)} km`, "details-odometer"),
    ];
    if (item.energy_type !== "bev") {
      rows.push(row("details.fuel", s.fuel_l == null ? "—" : `${formatNumber(s.fuel_l, 1)} L`, "details-fuel"));
    }
    if (item.energy_type !== "fuel") {
      rows.push(row("details.soc", s.soc_pct == null ? "—" : `${formatNumber(s.soc_pct, 0)} %`, "details-soc"));
    }
    box.innerHTML = rows.join("");
  }

  renderTrack() {
    const box = this.root.querySelector(".details-track");
    if (!box) return;
    const buttons = TRACK_HOURS.map(
      (h) => `<button type="button" class="seg${h === this.trackHours ? " active" : ""}" data-hours="${h}"
        data-testid="track-${h}h">${escapeHtml(t("details.track_hours", { h }))}</button>`,
    ).join("");
    let summary = "";
    if (this.trackState === "loading") summary = t("details.track_loading");
    else if (this.trackState === "withheld") summary = t("details.withheld");
    else if (this.trackState === "error") summary = t("details.error", { message: this.trackError });
    else if (this.track && this.track.points.length === 0) summary = t("details.track_none");
    else if (this.track) {
      const key = this.track.points.length === 1 ? "details.track_summary_one" : "details.track_summary";
      summary = t(key, {
        points: formatNumber(this.track.points.length),
        km: formatNumber(this.track.distance_m / 1000, 1),
      });
    }
    box.innerHTML = `
      <div class="track-head"><span>${escapeHtml(t("details.track"))}</span><div class="segs">${buttons}</div></div>
      <div class="track-summary" data-testid="track-summary" data-state="${this.trackState}">${escapeHtml(summary)}</div>`;
  }
}
