// Shared by the requester and approver pages: how a trip request reads (state badge, time
// range, route with cities, approval progress, warnings), in the current language.
import "./i18n/trip_workflow.js";
import { el } from "./dom.js";
import { formatDateTime } from "./format.js";
import { localName, t } from "./i18n.js";

/** code → {code, name_zh, name_en} of the nine cities, filled once by loadCities(). */
export const cities = new Map();

export async function loadCities(api) {
  for (const city of await api("/api/v1/places/cities")) cities.set(city.code, city);
}

export function cityName(code) {
  return cities.has(code) ? localName(cities.get(code)) : code ?? "";
}

/** "2026-11-24 09:00" in Asia/Shanghai. */
export function when(iso) {
  return iso ? formatDateTime(Date.parse(iso)).slice(0, 16) : "—";
}

/** "11-24 09:00 – 17:00" (the end's date only when it differs). */
export function timeRange(startIso, endIso) {
  const start = when(startIso);
  const end = when(endIso);
  return `${start} – ${end.slice(0, 10) === start.slice(0, 10) ? end.slice(11) : end}`;
}

export function placeText(place) {
  return `${cityName(place.city_code)} · ${place.name}`;
}

/** The route as one line: origin → destinations (→ origin again for a round trip). */
export function routeText(request) {
  const stops = [request.origin, ...request.destinations].map(placeText);
  if (request.round_trip) stops.push(t("wf.round_trip"));
  return stops.join(" → ");
}

export function stateBadge(state, testid = "request-state") {
  return el("span", {
    class: `badge state-${state}`,
    "data-testid": testid,
    "data-state": state,
    text: t(`rstate.${state}`),
  });
}

export function orderStateBadge(state) {
  return el("span", {
    class: `badge ostate-${state}`,
    "data-testid": "order-state",
    "data-state": state,
    text: t(`ostate.${state}`),
  });
}

/** A list in the reader's language: "夜间、节假日" / "night, holiday". */
export function listText(items) {
  return items.join(t("wf.list_sep"));
}

export function reasonsText(reasons) {
  return listText(reasons.map((r) => t(`areason.${r}`)));
}

const CHAIN_CAPPED = "chain_capped";

/** Why the request has the levels it has: the extra ones, and a cap for want of approvers. */
export function reasonsLine(reasons) {
  const extra = reasons.filter((r) => r !== CHAIN_CAPPED);
  const parts = extra.length ? [t("wf.extra_levels", { reasons: reasonsText(extra) })] : [];
  if (reasons.includes(CHAIN_CAPPED)) parts.push(t(`areason.${CHAIN_CAPPED}`));
  return parts.join(" · ");
}

/** "审批 1/2 级" and, when there are extra (or capped) levels, why. */
export function levelsText(request) {
  const text = t("wf.levels", { done: request.approved_levels, total: request.approval_levels });
  if (!request.approval_reasons?.length) return text;
  return `${text} · ${reasonsLine(request.approval_reasons)}`;
}

/** The emergency post-approval line, or null for an ordinary request. */
export function emergencyText(request, nowMs = Date.now()) {
  if (request.trip_type !== "emergency" || !request.emergency_deadline) return null;
  if (request.emergency_approved === true) return t("wf.emergency_approved");
  if (request.emergency_approved === false) return t("wf.emergency_rejected");
  const at = when(request.emergency_deadline);
  return Date.parse(request.emergency_deadline) < nowMs
    ? t("wf.emergency_overdue", { at })
    : t("wf.emergency_deadline", { at });
}

/** The API's error in one line for the person (message plus the code for support). */
export function errorText(err) {
  return err?.message ?? String(err);
}

const EXTRA_APPROVAL = "extra approval: ";

/** "who · note" of a timeline event, the system's notes in the reader's language. */
export function eventNote(e) {
  let note = e.note ?? "";
  if (e.event === "submit" && note.startsWith(EXTRA_APPROVAL)) {
    note = reasonsLine(note.slice(EXTRA_APPROVAL.length).split(", "));
  } else if (e.event === "checked" && note) {
    note = listText(note.split(", ").map((w) => t(`warning.${w}_short`)));
  }
  return [e.actor, note].filter(Boolean).join(" · ");
}
