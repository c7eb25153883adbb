// How an order reads on the rental company's page: one card per order with the trip, the
// terms, the countdown to the answer deadline, and (once held) the car, driver and contact.
import { el } from "./dom.js";
import { formatDateTime, formatNumber } from "./format.js";
import { currentLang, t } from "./i18n.js";

/** "2026-12-15 09:00" in Asia/Shanghai. */
export function when(iso) {
  return iso ? formatDateTime(Date.parse(iso)).slice(0, 16) : "—";
}

/** "12-15 09:00 – 15:00" (the end's date only when it differs). */
export function timeRange(startIso, endIso) {
  const start = when(startIso);
  const end = when(endIso);
  const endText = end.slice(0, 10) === start.slice(0, 10) ? end.slice(11) : end.slice(5);
  return `${start.slice(5)} – ${endText}`;
}

function money(value) {
  const n = Number(value);
  return formatNumber(n, Number.isInteger(n) ? 0 : 2);
}

function placeText(place) {
  const city = currentLang() === "en" ? place.city_name_en : place.city_name_zh;
  return [city || place.city_code, place.name].filter(Boolean).join(" · ");
}

function routeText(request) {
  return [request.origin, ...request.destinations].map(placeText).join(" → ");
}

function tripKind(request) {
  const parts = [t(request.round_trip ? "rt.round_trip" : "rt.one_way")];
  if (request.round_trip && request.driver_waits) parts.push(t("rt.waits"));
  return parts.join(" · ");
}

function unitName(request) {
  return currentLang() === "en" ? request.unit_name_en : request.unit_name_zh;
}

/** "09:41" / "1:02:05": time left, never negative. */
export function countdownText(remainingMs) {
  const s = Math.max(0, Math.ceil(remainingMs / 1000));
  const pad = (n) => String(n).padStart(2, "0");
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}

function fact(label, value, testid) {
  return el(
    "div",
    { class: "rt-fact" },
    el("dt", { text: t(label) }),
    el("dd", { text: value, "data-testid": testid }),
  );
}

function planText(plan) {
  const main = t("rt.plan_text", {
    base: money(plan.base_price_cny),
    hours: money(plan.included_hours),
    km: plan.included_km,
    ot: money(plan.overtime_cny_per_h),
    okm: money(plan.over_km_cny_per_km),
  });
  const extra = t("rt.plan_extra", {
    night: money(plan.night_surcharge_cny),
    town: money(plan.out_of_town_cny_per_day),
  });
  return `${t(`level.${plan.car_level}`)} · ${main} · ${extra}`;
}

function requestFacts(request, several) {
  const rows = [];
  if (several) rows.push(el("div", { class: "rt-sub", text: `#${request.request_id}` }));
  rows.push(fact("rt.route", `${routeText(request)} · ${tripKind(request)}`, "order-route"));
  const unit = several
    ? `${unitName(request)} · ${t("rt.passengers_n", { n: request.passenger_count })}`
    : unitName(request);
  rows.push(fact("rt.unit", unit, "order-unit"));
  if (request.applicant_name) {
    const contact = [request.applicant_name, request.contact_phone].filter(Boolean).join(" ");
    rows.push(fact("rt.contact", contact, "order-contact"));
  }
  return rows;
}

function countdown(order) {
  return el(
    "div",
    {
      class: "rt-countdown",
      "data-testid": "countdown",
      "data-deadline": order.rental_deadline,
      title: t("rt.deadline_at", { at: when(order.rental_deadline) }),
    },
    el("span", { class: "rt-countdown-label", text: t("rt.left") }),
    el("strong", { class: "rt-countdown-value num", "data-testid": "countdown-value" }),
  );
}

/** Sets every countdown on the page for the server's `nowMs`; expired cards lose their buttons. */
export function updateCountdowns(root, nowMs) {
  for (const box of root.querySelectorAll("[data-testid=countdown]")) {
    const left = Date.parse(box.dataset.deadline) - nowMs;
    const card = box.closest("[data-testid=order-card]");
    const expired = left <= 0;
    box.querySelector(".rt-countdown-value").textContent = expired
      ? t("rt.expired")
      : countdownText(left);
    box.querySelector(".rt-countdown-label").classList.toggle("hidden", expired);
    box.classList.toggle("urgent", !expired && left < 120_000);
    box.dataset.remainingS = String(Math.max(0, Math.ceil(left / 1000)));
    card?.classList.toggle("expired", expired);
    for (const button of card?.querySelectorAll(".rt-answer") ?? []) button.disabled = expired;
    card?.querySelector(".rt-expired-note")?.classList.toggle("hidden", !expired);
  }
}

function heldFacts(order) {
  const rows = [];
  if (order.plate) {
    const car = `${order.plate} · ${t(`level.${order.vehicle_car_level}`)} · ${t("rt.seats_n", { n: order.vehicle_seats })}`;
    rows.push(fact("rt.vehicle", car, "order-vehicle"));
  }
  if (order.driver_name) {
    rows.push(
      fact("rt.driver", [order.driver_name, order.driver_phone].filter(Boolean).join(" "), "order-driver"),
    );
  }
  if (order.fee_cny != null) rows.push(fact("rt.fee", `¥${money(order.fee_cny)}`, "order-fee"));
  return rows;
}

/** One order as a card; `onAnswer(order, "accept" | "reject")` for the waiting ones. */
export function orderCard(order, onAnswer) {
  const waiting = order.state === "sent_to_rental";
  const head = el(
    "header",
    { class: "rt-card-head" },
    el("strong", { class: "rt-card-title", text: t("rt.order", { id: order.id }) }),
    el("span", {
      class: `rt-badge state-${order.state}`,
      "data-testid": "order-state",
      text: t(`rt.ostate.${order.state}`),
    }),
  );
  if (waiting && order.rental_deadline) head.append(countdown(order));
  const several = order.requests.length > 1;
  const terms = [
    t(`rt.charter.${order.charter_type}`),
    t(`rt.mode.${order.service_mode}`),
  ].join(" · ");
  const facts = el(
    "dl",
    { class: "rt-facts" },
    fact("rt.when", timeRange(order.planned_start, order.planned_end), "order-when"),
    ...order.requests.flatMap((r) => requestFacts(r, several)),
    // a carpooled order: what follows is the whole order's, not the last request's
    several ? el("div", { class: "rt-sub", text: t("rt.whole_order") }) : null,
    fact("rt.passengers", t("rt.passengers_n", { n: order.passenger_count }), "order-passengers"),
    fact(
      "rt.level_wanted",
      order.car_level_wanted ? t(`level.${order.car_level_wanted}`) : t("rt.any_level"),
      "order-level",
    ),
    order.charter_type ? fact("rt.charter", terms, "order-terms") : null,
    order.price_plan ? fact("rt.plan", planText(order.price_plan), "order-plan") : null,
    ...heldFacts(order),
  );
  const card = el(
    "article",
    {
      class: `rt-card state-${order.state}`,
      "data-testid": "order-card",
      "data-order-id": String(order.id),
      "data-state": order.state,
    },
    head,
    facts,
  );
  if (waiting) {
    card.append(
      el("div", { class: "rt-expired-note hidden", text: t("rt.expired_note") }),
      el(
        "footer",
        { class: "rt-card-foot" },
        el("span", { class: "muted small", text: t("rt.deadline_at", { at: when(order.rental_deadline) }) }),
        answerButton("reject", order, onAnswer),
        answerButton("accept", order, onAnswer),
      ),
    );
  }
  return card;
}

function answerButton(kind, order, onAnswer) {
  const button = el("button", {
    type: "button",
    class: `btn rt-answer ${kind === "accept" ? "btn-primary" : "btn-danger-outline"}`,
    "data-testid": `${kind}-button`,
    text: t(`rt.${kind}`),
  });
  button.addEventListener("click", () => onAnswer(order, kind));
  return button;
}

/** A line of the company's record of orders let go (rejected or not answered in time). */
export function declinedRow(item) {
  return el(
    "div",
    { class: "rt-declined-row", "data-testid": "declined-row", "data-order-id": String(item.order_id) },
    el("span", { class: "num", text: t("rt.order", { id: item.order_id }) }),
    el("span", {
      class: `rt-badge ${item.event}`,
      "data-testid": "declined-event",
      text: t(`rt.declined.${item.event}`),
    }),
    el("span", { class: "muted", text: timeRange(item.planned_start, item.planned_end) }),
    el("span", { class: "rt-declined-note", "data-testid": "declined-note", text: item.note }),
    el("span", { class: "muted small", text: when(item.at) }),
  );
}
