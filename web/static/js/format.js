// Formatting of ages, times and measures for the console (locale-aware through i18n).
import { currentLang, t } from "./i18n.js";

export function formatAge(tsMs, nowMs) {
  if (tsMs == null) return t("age.never");
  const s = Math.max(0, Math.floor((nowMs - tsMs) / 1000));
  if (s < 60) return t("age.s", { n: s });
  if (s < 3600) return t("age.m", { n: Math.floor(s / 60) });
  if (s < 86400) return t("age.h", { n: Math.floor(s / 3600) });
  return t("age.d", { n: Math.floor(s / 86400) });
}

const pad = (n) => String(n).padStart(2, "0");

/** Local wall-clock time in Asia/Shanghai (the platform's zone, whatever the browser's). */
export function formatDateTime(tsMs) {
  if (tsMs == null) return "—";
  const d = new Date(tsMs + 8 * 3600 * 1000);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
  );
}

export function formatClock(nowMs) {
  return formatDateTime(nowMs).slice(0, 19);
}

export function formatNumber(value, digits = 0) {
  if (value == null || Number.isNaN(value)) return "—";
  return Number(value).toLocaleString(currentLang() === "en" ? "en-GB" : "zh-CN", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

export function formatSpeed(speedKmh) {
  return speedKmh == null ? "—" : formatNumber(speedKmh, 0);
}

const COMPASS_ZH = ["北", "东北", "东", "东南", "南", "西南", "西", "西北"];
const COMPASS_EN = ["N", "NE", "E", "SE", "S", "SW", "W", "NW"];

export function formatHeading(deg) {
  if (deg == null) return "—";
  const names = currentLang() === "en" ? COMPASS_EN : COMPASS_ZH;
  return `${names[Math.round((((deg % 360) + 360) % 360) / 45) % 8]} ${deg}°`;
}

const SHANGHAI_OFFSET_MS = 8 * 3600 * 1000; // Asia/Shanghai has no daylight saving
const DAY_MS = 24 * 3600 * 1000;

/** HH:MM in Asia/Shanghai. */
export function formatTime(tsMs) {
  return tsMs == null ? "—" : formatDateTime(tsMs).slice(11, 16);
}

/** The value of a datetime-local input ("YYYY-MM-DDTHH:MM") for an instant, Asia/Shanghai. */
export function toLocalInput(tsMs) {
  return formatDateTime(tsMs).slice(0, 16).replace(" ", "T");
}

/** Midnight (Asia/Shanghai) of the day holding tsMs, as epoch ms. */
export function localDayStartMs(tsMs) {
  return Math.floor((tsMs + SHANGHAI_OFFSET_MS) / DAY_MS) * DAY_MS - SHANGHAI_OFFSET_MS;
}

/** "1 小时 5 分" / "1 h 5 min": a duration for people, to the minute past one minute. */
export function formatDuration(seconds) {
  if (seconds == null) return "—";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return t("duration.s", { s });
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? t("duration.hm", { h, m }) : t("duration.m", { m });
}
