// One card per order on the driver's page: when, where from and to, who rides, whom to call,
// the car, the one next step as a big button, navigation, and location sharing when wanted.
import { el } from "./dom.js";
import { localName, t } from "./i18n.js";
import { amapLink, contactPhone, geoLink, hhmm, km, localDay, money, monthDay } from "./driver_format.js";

// The driver's steps in workflow order: the first one allowed is the card's big button.
export const STEPS = ["driver_accept", "depart", "arrive_pickup", "start_service", "end_service", "return"];
export const ON_THE_ROAD = new Set(["departed", "at_pickup", "in_service", "service_ended"]);
const FINISHED = new Set(["returned", "disputed", "confirmed", "rated", "settled"]);

export function nextStep(order) {
  return STEPS.find((step) => order.allowed_events.includes(step)) ?? null;
}

/** Where the car is heading now: the pickup until it is reached, then the first destination. */
export function currentTarget(order) {
  if (["assigned", "accepted", "departed"].includes(order.state)) return order.origin;
  if (["at_pickup", "in_service"].includes(order.state)) return order.destinations[0] ?? null;
  return null;
}

function cityTag(place, homeCity) {
  if (!place.city_code || place.city_code === homeCity) return null;
  return el("span", { class: "d-city", text: localName({ name_zh: place.city_name_zh, name_en: place.city_name_en }) });
}

function stop(place, kind, homeCity) {
  return el(
    "li",
    { class: `d-stop d-stop-${kind}`, "data-testid": `stop-${kind}` },
    el("span", { class: "d-stop-kind", text: t(kind === "pickup" ? "drv.pickup" : "drv.dropoff") }),
    el("span", { class: "d-stop-name", text: place.name }),
    cityTag(place, homeCity),
  );
}

function route(order) {
  const home = order.origin.city_code;
  return el(
    "ol",
    { class: "d-route", "data-testid": "route" },
    ...(order.pickups ?? [order.origin]).map((p) => stop(p, "pickup", home)),
    ...order.destinations.map((d) => stop(d, "dropoff", home)),
  );
}

function requestBlock(request) {
  const phone = contactPhone(request);
  const names = request.passengers.length ? request.passengers.join("、") : "—";
  const flags = [
    t(request.round_trip ? "drv.round_trip" : "drv.one_way"),
    request.round_trip && request.driver_waits ? t("drv.driver_waits") : null,
  ].filter(Boolean);
  return el(
    "div",
    { class: "d-request", "data-testid": "request", "data-request-id": request.id },
    el("div", { class: "d-row" },
      el("span", { class: "d-label", text: t("drv.passengers") }),
      el("span", { class: "d-value", "data-testid": "passengers", text: t("drv.passenger_line", { names, n: request.passenger_count }) })),
    el("div", { class: "d-row" },
      el("span", { class: "d-label", text: t("drv.reason") }),
      el("span", { class: "d-value", "data-testid": "reason", text: request.reason })),
    el("div", { class: "d-row" },
      el("span", { class: "d-label", text: t("drv.unit") }),
      el("span", { class: "d-value", text: localName({ name_zh: request.unit_name_zh, name_en: request.unit_name_en }) })),
    el("div", { class: "d-row d-contact" },
      el("span", { class: "d-label", text: t("drv.contact") }),
      el("span", { class: "d-value" },
        el("span", { text: request.applicant_name }),
        phone ? el("span", { class: "d-phone num", text: phone }) : null),
      phone ? el("a", { class: "d-call", href: `tel:${phone}`, "data-testid": "call", text: t("drv.call") }) : null),
    el("div", { class: "d-flags" }, ...flags.map((f) => el("span", { class: "d-flag", text: f }))),
  );
}

function carLine(order) {
  const level = t(`level.${order.car_level}`);
  const company = order.rental_company_name_zh
    ? localName({ name_zh: order.rental_company_name_zh, name_en: order.rental_company_name_en })
    : null;
  return el(
    "div",
    { class: "d-car", "data-testid": "car" },
    // New-energy plates are green in China (GA 36-2018), the others blue.
    el("span", { class: `d-plate${order.energy_type === "fuel" ? "" : " nev"}`, "data-testid": "plate", text: order.plate }),
    el("span", { class: "d-car-info", text: [level, t("drv.seats", { n: order.seats }), order.brand_model, company].filter(Boolean).join(" · ") }),
  );
}

function navigation(order) {
  const target = currentTarget(order);
  if (!target) return null;
  return el(
    "div",
    { class: "d-nav" },
    el("a", { class: "d-btn d-btn-nav", href: amapLink(target), target: "_blank", rel: "noopener", "data-testid": "navigate", text: t("drv.navigate_to", { name: target.name }) }),
    el("a", { class: "d-other-map", href: geoLink(target), "data-testid": "navigate-other", text: t("drv.other_map") }),
  );
}

function finished(order) {
  const driven = order.odometer_end_km != null && order.odometer_start_km != null
    ? order.odometer_end_km - order.odometer_start_km : null;
  const costs = ["tolls_cny", "parking_cny", "fuel_cny"].reduce((sum, k) => sum + Number(order[k] || 0), 0);
  return el(
    "div",
    { class: "d-finished", "data-testid": "finished" },
    el("strong", { text: t("drv.done") }),
    driven != null ? el("span", { class: "num", text: t("drv.done_km", { km: km(driven) }) }) : null,
    el("span", { class: "num", text: t("drv.done_costs", { cny: money(costs) }) }),
  );
}

function sharePanel(order, share) {
  if (!order.shares_phone_location || !ON_THE_ROAD.has(order.state)) return null;
  const status = share.statusFor(order.id);
  const on = status.state === "on" || status.state === "starting";
  return el(
    "div",
    { class: "d-share", "data-testid": "share", "data-state": status.state },
    el("div", { class: "d-share-head" },
      el("span", { class: "d-share-dot" }),
      el("span", { class: "d-share-title", text: t("drv.share") }),
      el("button", { type: "button", class: `d-switch${on ? " on" : ""}`, role: "switch", "aria-checked": String(on), "data-testid": "share-toggle", "aria-label": t("drv.share"), onclick: () => share.toggle(order) })),
    el("p", { class: "d-share-status", "data-testid": "share-status", text: status.text || t("drv.share_hint") }),
  );
}

/** The card of one order; `handlers.step(order, event)` runs a step. */
export function orderCard(order, day, handlers, share) {
  const step = nextStep(order);
  const earlier = localDay(new Date(order.planned_start)) < day;
  const card = el(
    "article",
    { class: `d-card state-${order.state}`, "data-testid": "order-card", "data-order-id": order.id, "data-state": order.state },
    el("header", { class: "d-card-head" },
      el("span", { class: "d-time num", "data-testid": "time", text: `${hhmm(order.planned_start)}–${hhmm(order.planned_end)}` }),
      el("span", { class: "d-state", "data-testid": "state", text: t(`drv.state.${order.state}`) })),
    el("div", { class: "d-card-sub" },
      el("span", { class: "num", text: t("drv.order_no", { id: order.id }) }),
      earlier ? el("span", { class: "d-earlier", text: t("drv.earlier_day", { date: monthDay(order.planned_start) }) }) : null),
    route(order),
    ...order.requests.map(requestBlock),
    carLine(order),
    sharePanel(order, share),
    FINISHED.has(order.state) ? finished(order) : null,
  );
  const actions = el("div", { class: "d-actions" });
  if (step) {
    actions.append(el("button", {
      type: "button", class: `d-btn d-btn-primary d-step-${step}`, "data-testid": "step", "data-step": step,
      text: t(`drv.action.${step}`), onclick: () => handlers.step(order, step),
    }));
  }
  const nav = navigation(order);
  if (nav) actions.append(nav);
  if (order.allowed_events.includes("request_reassignment")) {
    actions.append(el("button", {
      type: "button", class: "d-link", "data-testid": "reassign",
      text: t("drv.action.request_reassignment"), onclick: () => handlers.step(order, "request_reassignment"),
    }));
  }
  if (actions.childElementCount) card.append(actions);
  return card;
}
