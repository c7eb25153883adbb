// Small helpers of the driver's page: dates in Asia/Shanghai, numbers, the map-app links.
import { currentLang } from "./i18n.js";

const TZ = "Asia/Shanghai";
const ISO_DAY = new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit" });

/** YYYY-MM-DD of a moment, in Beijing time. */
export function localDay(moment = new Date()) {
  return ISO_DAY.format(moment);
}

/** The day after a YYYY-MM-DD day. */
export function nextDay(day) {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + 1, 12)).toISOString().slice(0, 10);
}

export function hhmm(iso) {
  return new Date(iso).toLocaleTimeString("zh-CN", { timeZone: TZ, hour: "2-digit", minute: "2-digit", hour12: false });
}

export function hhmmss(moment) {
  return new Date(moment).toLocaleTimeString("zh-CN", { timeZone: TZ, hour12: false });
}

/** "12月1日 周二" / "Tue 1 Dec" for a YYYY-MM-DD day. */
export function dayLabel(day) {
  const noon = new Date(`${day}T12:00:00+08:00`);
  const locale = currentLang() === "en" ? "en-GB" : "zh-CN";
  return noon.toLocaleDateString(locale, { timeZone: TZ, month: "short", day: "numeric", weekday: "short" });
}

/** "11-30" for a moment. */
export function monthDay(iso) {
  return localDay(new Date(iso)).slice(5);
}

export function km(value) {
  return Number(value).toFixed(1);
}

export function money(value) {
  return Number(value || 0).toFixed(2);
}

/** 高德 (Amap) navigation in the app if installed, else its web page; WGS-84 coordinates. */
export function amapLink(place) {
  const to = `${place.lon},${place.lat},${encodeURIComponent(place.name)}`;
  return `https://uri.amap.com/navigation?to=${to}&mode=car&coordinate=wgs84&callnative=1&src=fleet-driver`;
}

/** The geo: URI any Android map app answers. */
export function geoLink(place) {
  return `geo:${place.lat},${place.lon}?q=${place.lat},${place.lon}(${encodeURIComponent(place.name)})`;
}

/** The number a driver calls for a request: its contact phone, else the applicant's. */
export function contactPhone(request) {
  return (request.contact_phone || request.applicant_phone || "").replace(/\s+/g, "");
}
