// Track playback (轨迹回放): a time range, the vehicle's simplified track with its trips and
// stops, and a car that moves along it — played at 1×…300× or scrubbed with the slider.
import { api } from "./api.js";
import {
  formatDateTime, formatNumber, formatSpeed, localDayStartMs, toLocalInput,
} from "./format.js";
import { applyI18n, t } from "./i18n.js";
import { segmentAt, sampleAt, skipForward } from "./playback_math.js";
import { PlaybackLayer } from "./playback_layer.js";

export const SPEEDS = [1, 10, 60, 300];
const DEFAULT_SPEED = 60;
const MAX_POINTS = 5000;
const DAY_MS = 24 * 3600 * 1000;
const MINUTE_MS = 60 * 1000;

const TEMPLATE = `
  <div class="pb-row pb-head">
    <span class="pb-title"><span data-i18n="playback.title"></span>
      <strong class="pb-plate" data-testid="playback-plate"></strong></span>
    <span class="pb-status" data-testid="playback-status" data-state="idle"></span>
    <button type="button" class="icon-btn" data-action="close" data-testid="playback-close"
            data-i18n-title="playback.close">×</button>
  </div>
  <div class="pb-row pb-range">
    <div class="segs" role="group">
      <button type="button" class="seg" data-preset="today" data-testid="playback-preset-today"
              data-i18n="playback.today"></button>
      <button type="button" class="seg" data-preset="yesterday"
              data-testid="playback-preset-yesterday" data-i18n="playback.yesterday"></button>
      <button type="button" class="seg" data-preset="last24h" data-testid="playback-preset-last24h"
              data-i18n="playback.last24h"></button>
    </div>
    <input class="input pb-time" type="datetime-local" step="60" data-testid="playback-from"
           data-i18n-title="playback.from">
    <span class="muted">–</span>
    <input class="input pb-time" type="datetime-local" step="60" data-testid="playback-to"
           data-i18n-title="playback.to">
    <button type="button" class="btn btn-primary" data-action="load" data-testid="playback-load"
            data-i18n="playback.load"></button>
    <span class="pb-spacer"></span>
    <span class="muted" data-i18n="playback.speed"></span>
    <div class="segs pb-speeds" role="group">
      ${SPEEDS.map((x) => `<button type="button" class="seg" data-speed="${x}"
         data-testid="playback-speed-${x}">${x}×</button>`).join("")}
    </div>
    <label class="pb-skip"><input type="checkbox" data-testid="playback-skip" checked>
      <span data-i18n="playback.skip_stops"></span></label>
  </div>
  <div class="pb-row pb-controls">
    <button type="button" class="btn pb-play" data-action="toggle" data-testid="playback-play"
            disabled><span class="pb-play-icon" aria-hidden="true"></span><span class="pb-play-text"></span></button>
    <input class="pb-slider" type="range" min="0" max="0" step="1" value="0" disabled
           data-testid="playback-slider" aria-label="time">
    <span class="pb-readout num">
      <span data-testid="playback-time">—</span>
      <span class="pb-speed-now" data-testid="playback-speed-now">—</span>
      <span class="pb-phase" data-testid="playback-phase"></span>
    </span>
  </div>`;

export class Playback {
  constructor(root, map, renderer, { onClose }) {
    this.root = root;
    this.onClose = onClose;
    this.layer = new PlaybackLayer(map, renderer);
    this.item = null;
    this.track = null;
    this.state = "idle";
    this.message = "";
    this.playing = false;
    this.speed = DEFAULT_SPEED;
    this.currentMs = null;
    this.seq = 0;
    this.frameHandle = null;
    root.innerHTML = TEMPLATE;
    this.$ = (testid) => root.querySelector(`[data-testid="${testid}"]`);
    root.addEventListener("click", (event) => this._onClick(event));
    this.$("playback-slider").addEventListener("input", (event) => {
      if (this.track) this.seek(this.startMs + Number(event.target.value) * 1000);
    });
    root.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && event.target.matches(".pb-time")) this.loadInputs();
    });
    this.relabel();
  }

  get isOpen() {
    return this.item != null;
  }

  get points() {
    return this.track?.points ?? [];
  }

  get startMs() {
    return this.points.length ? this.points[0].ts_ms : null;
  }

  get endMs() {
    return this.points.length ? this.points[this.points.length - 1].ts_ms : null;
  }

  _onClick(event) {
    const target = event.target.closest("button");
    if (!target) return;
    if (target.dataset.action === "close") this.onClose();
    else if (target.dataset.action === "load") this.loadInputs();
    else if (target.dataset.action === "toggle") this.toggle();
    else if (target.dataset.preset) this.preset(target.dataset.preset);
    else if (target.dataset.speed) this.setSpeed(Number(target.dataset.speed));
  }

  /** Opens for a vehicle; `range` ({fromMs, toMs}) loads it, else today is loaded. */
  open(item, range = null) {
    this.item = item;
    this.root.classList.remove("hidden");
    this.$("playback-plate").textContent = item.plate;
    if (range) {
      this.setRange(range.fromMs, range.toMs);
      this.loadInputs();
    } else {
      this.preset("today");
    }
  }

  close() {
    this.pause();
    this.seq += 1;
    this.item = null;
    this.track = null;
    this.state = "idle";
    this.layer.clear();
    this.root.classList.add("hidden");
    this._renderTrack();
  }

  setRange(fromMs, toMs) {
    this.$("playback-from").value = toLocalInput(fromMs);
    this.$("playback-to").value = toLocalInput(toMs);
  }

  preset(name) {
    const nowMs = Date.now();
    const today = localDayStartMs(nowMs);
    // "Now" rounded up to the minute, so that the newest fixes are in.
    const nowUp = Math.ceil(nowMs / MINUTE_MS) * MINUTE_MS;
    const ranges = {
      today: [today, nowUp],
      yesterday: [today - DAY_MS, today],
      last24h: [nowUp - DAY_MS, nowUp],
    };
    this.setRange(...ranges[name]);
    for (const seg of this.root.querySelectorAll("[data-preset]")) {
      seg.classList.toggle("active", seg.dataset.preset === name);
    }
    this.loadInputs();
  }

  async loadInputs() {
    const from = this.$("playback-from").value;
    const to = this.$("playback-to").value;
    if (!this.item) return;
    if (!from || !to || to <= from) {
      this._setState("error", t("playback.bad_range"));
      return;
    }
    // datetime-local has no zone: the API reads a time without an offset as Asia/Shanghai.
    await this.load(from, to);
  }

  async load(from, to) {
    const seq = ++this.seq;
    this.pause();
    this._setState("loading");
    const query = new URLSearchParams({ from, to, max_points: String(MAX_POINTS) });
    try {
      const track = await api(`/api/v1/vehicles/${this.item.id}/track?${query}`);
      if (seq !== this.seq) return;
      this.track = track;
      this.layer.draw(track);
      this.layer.fit();
      this.currentMs = this.startMs;
      this._setState(track.points.length ? "loaded" : "empty");
      this._renderTrack();
      if (track.points.length) this.seek(this.startMs);
    } catch (err) {
      if (seq !== this.seq) return;
      this.track = null;
      this.layer.clear();
      this._renderTrack();
      this._setState("error", t("playback.error", { message: err.message }));
    }
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  play() {
    if (!this.points.length || this.playing) return;
    if (this.currentMs >= this.endMs) this.seek(this.startMs);
    this.playing = true;
    this.lastFrameMs = performance.now();
    this.frameHandle = requestAnimationFrame((now) => this._frame(now));
    this._renderControls();
  }

  pause() {
    this.playing = false;
    if (this.frameHandle != null) cancelAnimationFrame(this.frameHandle);
    this.frameHandle = null;
    this._renderControls();
  }

  _frame(now) {
    if (!this.playing) return;
    const elapsedMs = Math.min(now - this.lastFrameMs, 250); // a background tab resumes gently
    this.lastFrameMs = now;
    let next = this.currentMs + elapsedMs * this.speed;
    if (this.$("playback-skip").checked) next = skipForward(this.points, this.track.stops, next);
    if (next >= this.endMs) {
      this.seek(this.endMs);
      this.pause();
      return;
    }
    this.seek(next);
    this.frameHandle = requestAnimationFrame((n) => this._frame(n));
  }

  setSpeed(speed) {
    this.speed = speed;
    this._renderControls();
  }

  seek(tsMs) {
    if (!this.points.length) return;
    const sample = sampleAt(this.points, tsMs);
    this.currentMs = sample.ts_ms;
    this.sample = sample;
    this.layer.moveTo(sample);
    this.$("playback-slider").value = String(Math.round((this.currentMs - this.startMs) / 1000));
    this._renderReadout();
  }

  _setState(state, message = "") {
    this.state = state;
    this.message = message;
    const box = this.$("playback-status");
    box.dataset.state = state;
    if (state === "loading") box.textContent = t("playback.loading");
    else if (state === "empty") box.textContent = t("playback.empty");
    else if (state === "error") box.textContent = message;
    else if (state === "idle") box.textContent = t("playback.idle");
    else {
      const track = this.track;
      box.textContent = t("playback.summary", {
        points: formatNumber(track.point_count),
        trips: formatNumber(track.trips.length),
        stops: formatNumber(track.stops.length),
        km: formatNumber(track.distance_m / 1000, 1),
      });
      const m = formatNumber(track.simplify_tolerance_m, 1);
      const raw = formatNumber(track.raw_point_count);
      let note = "";
      if (track.sample_stride > 1) note = t("playback.sampled", { raw, k: track.sample_stride, m });
      else if (track.simplify_tolerance_m > 0) note = t("playback.simplified", { raw, m });
      if (note) box.textContent += ` · ${note}`;
    }
  }

  _renderTrack() {
    const slider = this.$("playback-slider");
    const has = this.points.length > 0;
    slider.disabled = !has;
    slider.max = has ? String(Math.round((this.endMs - this.startMs) / 1000)) : "0";
    slider.value = "0";
    this.$("playback-play").disabled = !has;
    this._renderControls();
    this._renderReadout();
  }

  _renderControls() {
    const button = this.$("playback-play");
    button.dataset.playing = String(this.playing);
    button.querySelector(".pb-play-text").textContent = t(this.playing ? "playback.pause" : "playback.play");
    for (const seg of this.root.querySelectorAll("[data-speed]")) {
      seg.classList.toggle("active", Number(seg.dataset.speed) === this.speed);
    }
  }

  _renderReadout() {
    const sample = this.points.length ? this.sample : null;
    this.$("playback-time").textContent = sample ? formatDateTime(sample.ts_ms) : "—";
    this.$("playback-speed-now").textContent = sample ? `${formatSpeed(sample.speed_kmh)} km/h` : "—";
    let phase = "";
    if (sample && this.track) {
      const trip = segmentAt(this.track.trips, sample.ts_ms);
      if (trip) phase = t("playback.in_trip", { i: trip.index + 1, n: this.track.trips.length });
      else if (segmentAt(this.track.stops, sample.ts_ms)) phase = t("playback.in_stop");
    }
    const box = this.$("playback-phase");
    box.textContent = phase;
    box.classList.toggle("hidden", !phase);
  }

  relabel() {
    applyI18n(this.root);
    if (this.track) {
      // The pins carry text (起/终/停 and their popups): drawn again in the new language.
      this.layer.draw(this.track);
      if (this.points.length) this.seek(this.currentMs);
    }
    this._renderControls();
    this._renderReadout();
    if (this.state === "loaded" || this.state === "empty" || this.state === "idle") {
      this._setState(this.state);
    }
  }

  /** State for tests and devtools. */
  snapshot() {
    const track = this.track;
    return {
      open: this.isOpen,
      state: this.state,
      message: this.message,
      pointCount: this.points.length,
      rawPointCount: track?.raw_point_count ?? 0,
      toleranceM: track?.simplify_tolerance_m ?? 0,
      tripCount: track?.trips.length ?? 0,
      stopCount: track?.stops.length ?? 0,
      tripMarkerCount: this.layer.tripPins,
      stopMarkerCount: this.layer.stopPins,
      startMs: this.startMs,
      endMs: this.endMs,
      tsMs: this.currentMs,
      markerLatLng: this.layer.carLatLng(),
      markerPoint: this.layer.carPoint(),
      playing: this.playing,
      speed: this.speed,
    };
  }
}
