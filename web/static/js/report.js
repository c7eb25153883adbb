// The public report page (监督举报, no login): plate, time, place (typed, or clicked on the
// map), what happened, an optional contact. The form carries a signed token fetched when the
// page opens (the server wants it 3 s to 2 h old and used once) and a field people never see
// (bots fill it). The answer is only "received".
import "./i18n/report.js";
import { ApiError, api } from "./api.js";
import { applyI18n, onLangChange, t, toggleLang } from "./i18n.js";

const L = window.L;
const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);
const pad = (n) => String(n).padStart(2, "0");

let token = null;
let picked = null;
let marker = null;
let map = null;

async function renewToken() {
  token = (await api("/api/v1/public/report-token", { redirectOn401: false })).token;
}

/** Now in Asia/Shanghai as a datetime-local value. */
function nowLocal() {
  const d = new Date(Date.now() + 8 * 3600 * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

function showPicked() {
  const label = $("report-picked");
  label.textContent = picked ? t("rp.picked", { lat: picked.lat.toFixed(5), lon: picked.lon.toFixed(5) }) : t("rp.map_hint");
  $("report-map-clear").classList.toggle("hidden", !picked);
}

function pick(lat, lon) {
  picked = { lat, lon };
  if (marker) marker.setLatLng([lat, lon]);
  else marker = L.marker([lat, lon], { keyboard: false }).addTo(map);
  showPicked();
}

async function setupMap() {
  const config = await api("/api/v1/public/map-config", { redirectOn401: false });
  const c = config.centre;
  // Past a few levels of upscaling the basemap is a blur: open no closer, fade it beyond.
  const sharp = config.tile_max_native_zoom + 3;
  map = L.map($("report-map"), { minZoom: 5, maxZoom: 18 }).setView([c.lat, c.lon], Math.min(c.zoom, sharp));
  map.on("zoomend", () => map.getPane("tilePane").classList.toggle("faded", map.getZoom() > sharp));
  L.tileLayer(config.tile_url, { maxNativeZoom: config.tile_max_native_zoom, maxZoom: 18, attribution: config.tile_attribution }).addTo(map);
  L.control.scale({ imperial: false, position: "bottomright" }).addTo(map);
  map.on("click", (e) => pick(e.latlng.lat, e.latlng.lng));
}

function showError(text) {
  const box = $("report-error");
  box.textContent = text;
  box.classList.toggle("hidden", !text);
}

function errorText(err) {
  const key = `rp.err.${err.code}`;
  const text = t(key);
  return text === key ? t("rp.err.other", { message: err.message }) : text;
}

async function submit(event) {
  event.preventDefault();
  const form = $("report-form");
  const data = new FormData(form);
  const place = String(data.get("place") ?? "").trim();
  if (!place && !picked) {
    showError(t("rp.err.where"));
    return;
  }
  const body = {
    token,
    plate: String(data.get("plate") ?? "").trim(),
    seen_at: `${data.get("seen_at")}:00+08:00`,
    place,
    description: String(data.get("description") ?? "").trim(),
    contact: String(data.get("contact") ?? "").trim(),
    website: String(data.get("website") ?? ""),
  };
  if (picked) Object.assign(body, { lat: picked.lat, lon: picked.lon });
  const button = $("report-submit");
  button.disabled = true;
  button.textContent = t("rp.sending");
  try {
    await api("/api/v1/public/reports", { method: "POST", body, redirectOn401: false });
    form.classList.add("hidden");
    $("report-done").classList.remove("hidden");
    showError("");
  } catch (err) {
    showError(errorText(err instanceof ApiError ? err : new ApiError(0, "other", String(err))));
    if (["form_used", "form_expired", "bad_form_token"].includes(err.code)) await renewToken().catch(() => null);
  } finally {
    button.disabled = false;
    button.textContent = t("rp.submit");
  }
}

async function again() {
  const form = $("report-form");
  form.reset();
  $("report-seen-at").value = nowLocal();
  picked = null;
  if (marker) marker.remove();
  marker = null;
  showPicked();
  await renewToken();
  $("report-done").classList.add("hidden");
  form.classList.remove("hidden");
}

async function main() {
  applyI18n();
  $("lang-toggle").addEventListener("click", toggleLang);
  onLangChange(showPicked);
  $("report-seen-at").value = nowLocal();
  $("report-seen-at").max = nowLocal();
  $("report-form").addEventListener("submit", submit);
  $("report-again").addEventListener("click", again);
  $("report-map-clear").addEventListener("click", () => {
    picked = null;
    if (marker) marker.remove();
    marker = null;
    showPicked();
  });
  await Promise.all([renewToken(), setupMap()]);
  document.body.dataset.ready = "true";
}

main();
