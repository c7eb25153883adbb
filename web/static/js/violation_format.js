// How a violation reads on the review pages: rule name, severity and state badges, its
// message in the reader's language, the local day and times.
import "./i18n/violations.js";
import { el } from "./dom.js";
import { formatDuration, formatNumber } from "./format.js";
import { currentLang, localName, t } from "./i18n.js";
import { when } from "./trip_format.js";

export const RULES = ["R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R10", "R13", "R14", "R16", "R17", "PUBLIC"];
export const SEVERITIES = ["alarm", "warn", "info"];
export const STATES = ["open", "awaiting_explanation", "overdue", "under_review", "confirmed", "rectified",
  "closed", "referred", "dismissed", "auto_closed", "retracted"];

export function ruleName(ruleId) {
  const key = `rule.${ruleId}`;
  const text = t(key);
  return text === key ? ruleId : text;
}

export function ruleLabel(ruleId) {
  return ruleId === "PUBLIC" ? ruleName(ruleId) : `${ruleId} ${ruleName(ruleId)}`;
}

export function severityBadge(severity) {
  return el("span", { class: `badge sev sev-${severity}`, "data-testid": "violation-severity", "data-severity": severity, text: t(`sev.${severity}`) });
}

export function stateBadge(state, testid = "violation-state") {
  return el("span", { class: `badge vstate vstate-${state}`, "data-testid": testid, "data-state": state, text: t(`vstate.${state}`) });
}

export function eventName(action) {
  const key = `vev.${action}`;
  const text = t(key);
  return text === key ? action : text;
}

export function message(v) {
  const m = v.message ?? {};
  return (currentLang() === "en" ? m.en || m.zh : m.zh || m.en) || ruleName(v.rule_id);
}

export function unitName(v) {
  return localName({ name_zh: v.org_name_zh, name_en: v.org_name_en });
}

export function cityLabel(v) {
  return localName({ name_zh: v.city_name_zh, name_en: v.city_name_en });
}

/** "2026-11-30 21:10 – 21:36" in Asia/Shanghai. */
export function timeSpan(v) {
  const start = when(v.started_at);
  if (!v.ended_at) return start;
  const end = when(v.ended_at);
  return `${start} – ${end.slice(0, 10) === start.slice(0, 10) ? end.slice(11) : end}`;
}

/** The summary's numbers worth a line: km, duration, top speed. */
export function summaryFacts(summary) {
  const out = [];
  const km = summary.km ?? summary.gnss_km ?? summary.dist_km;
  if (typeof km === "number") out.push(["vi.facts.km", `${formatNumber(km, 1)} km`]);
  if (typeof summary.duration_s === "number") out.push(["vi.facts.duration", formatDuration(summary.duration_s)]);
  if (typeof summary.max_speed_kmh === "number") out.push(["details.speed", `${formatNumber(summary.max_speed_kmh)} km/h`]);
  return out;
}

/** Why a move failed, in the reader's language. */
export function moveError(err) {
  const key = `vi.err.${err.code}`;
  const text = t(key);
  return text === key ? t("vi.err.other", { message: err.message }) : text;
}
