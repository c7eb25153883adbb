// The console's dispatch side (派车) in the sidebar: the requests waiting for a car
// (emergencies first), orders waiting for a rental company's answer, carpool proposals and
// the orders on the road. Refreshed every few seconds and after every action.
import { api } from "./api.js";
import { describeError } from "./api_errors.js";
import { el } from "./dom.js";
import "./i18n/dispatch.js";
import "./i18n/proposal.js";
import { localName, t } from "./i18n.js";
import { cityName, orderStateBadge, stateBadge, timeRange } from "./trip_format.js";

const REFRESH_MS = 8000;

export function countdown(deadlineIso, nowMs) {
  const left = Math.floor((Date.parse(deadlineIso) - nowMs) / 1000);
  if (left <= 0) return t("dq.overdue");
  return `${String(Math.floor(left / 60)).padStart(2, "0")}:${String(left % 60).padStart(2, "0")}`;
}

function crossCity(request) {
  return request.destinations.some((d) => d.city_code !== request.origin.city_code);
}

export class DispatchPanel {
  constructor(root, { onSelectRequest, onSelectOrder, onChangeCar, onChanged, onPropose }) {
    this.root = root;
    this.onPropose = onPropose;
    this.onSelectRequest = onSelectRequest;
    this.onSelectOrder = onSelectOrder;
    this.onChangeCar = onChangeCar;
    this.onChanged = onChanged;
    this.queue = { requests: [], rental_waiting: [], on_the_road: [] };
    this.proposals = [];
    this.selectedId = null;
    this.timer = null;
    this.loaded = false;
  }

  start() {
    this.refresh();
    this.timer = setInterval(() => this.refresh(), REFRESH_MS);
  }

  async refresh() {
    try {
      const [queue, proposals] = await Promise.all([
        api("/api/v1/dispatch/queue"),
        api("/api/v1/dispatch/carpool-proposals"),
      ]);
      this.queue = queue;
      this.proposals = proposals;
      this.loaded = true;
      this.render();
      this.onChanged?.(this.queue);
    } catch (err) {
      this.root.dataset.error = err.code ?? "error";
    }
  }

  request(id) {
    return this.queue.requests.find((r) => r.id === id) ?? null;
  }

  /** Requests still waiting for the dispatcher (not those with a rental company). */
  waiting() {
    return this.queue.requests.filter((r) => r.open_orders.every((o) => o.state === "created"));
  }

  count() {
    return this.waiting().length;
  }

  select(id) {
    this.selectedId = id;
    for (const card of this.root.querySelectorAll("[data-testid=queue-item]")) {
      card.classList.toggle("selected", Number(card.dataset.requestId) === id);
    }
  }

  render() {
    const nowMs = Date.now();
    const waiting = this.waiting();
    this.root.replaceChildren(
      this._toolbar(waiting),
      this._section("dq.waiting", "queue", waiting.map((r) => this._requestCard(r)), "dq.empty"),
      this._section("dq.rental", "rental-waiting",
        this.queue.rental_waiting.map((o) => this._rentalCard(o, nowMs))),
      this._section("dq.carpool", "carpool", this.proposals.map((p) => this._proposalCard(p))),
      this._section("dq.road", "road", this.queue.on_the_road.map((o) => this._roadCard(o))),
      this._section("dq.disputed", "disputed", (this.queue.disputed ?? []).map((o) => this._disputeCard(o))),
    );
    this.root.dataset.state = "loaded";
    this.root.dataset.queueCount = String(waiting.length);
    this.select(this.selectedId);
  }

  /** 智能方案: the optimizer plans the waiting requests (js/proposal_panel.js). */
  _toolbar(waiting) {
    const button = el("button", { type: "button", class: "btn btn-primary btn-small", "data-testid": "propose-button",
      text: t("pp.propose"), disabled: !waiting.length || !this.onPropose });
    button.addEventListener("click", () => this.onPropose());
    return el("div", { class: "dq-toolbar" }, button);
  }

  /** Ticks the countdowns without a refetch. */
  tick(nowMs) {
    for (const node of this.root.querySelectorAll("[data-deadline]")) {
      node.textContent = t("dq.deadline", { t: countdown(node.dataset.deadline, nowMs) });
    }
  }

  _section(titleKey, name, cards, emptyKey = "dq.none") {
    const body = cards.length ? cards : [el("div", { class: "dq-empty", text: t(emptyKey) })];
    return el("section", { class: "dq-section", "data-testid": `dq-${name}` },
      el("h3", { class: "dq-title" }, el("span", { text: t(titleKey) }),
        el("span", { class: "dq-count num", text: String(cards.length) })),
      ...body);
  }

  _requestCard(request) {
    const emergency = request.trip_type === "emergency";
    const tags = el("div", { class: "dq-tags" });
    if (emergency) tags.append(el("span", { class: "tag tag-danger", text: t("dq.emergency") }));
    if (crossCity(request)) tags.append(el("span", { class: "tag tag-warn", text: t("dq.cross_city") }));
    if (request.carpool_allowed) tags.append(el("span", { class: "tag", text: t("dq.carpool_ok") }));
    for (const order of request.open_orders) {
      const merged = order.request_ids?.length > 1
        ? ` · ${t("dq.carpool_tag", { ids: order.request_ids.map((i) => `#${i}`).join("+"), n: order.passenger_count })}`
        : "";
      tags.append(el("span", { class: "tag tag-info", text: t("dq.order_open", { id: order.id }) + merged }));
    }
    const card = el("button", {
      type: "button",
      class: `dq-card${emergency ? " emergency" : ""}`,
      "data-testid": "queue-item",
      "data-request-id": String(request.id),
    },
    el("div", { class: "dq-line" },
      el("strong", { class: "num", text: timeRange(request.planned_start, request.planned_end) }),
      stateBadge(request.state)),
    el("div", { class: "dq-route", text: this._route(request) }),
    el("div", { class: "dq-meta" },
      el("span", { text: localName({ name_zh: request.org_name_zh, name_en: request.org_name_en }) }),
      el("span", { text: t("dq.passengers", { n: request.passenger_count }) }),
      el("span", { text: request.car_level_wanted ? t(`level.${request.car_level_wanted}`) : t("dq.any_level") })),
    tags);
    card.addEventListener("click", () => this.onSelectRequest(request));
    return card;
  }

  _route(request) {
    const stops = [request.origin, ...request.destinations];
    return stops.map((p) => `${cityName(p.city_code)}·${p.name}`).join(" → ");
  }

  _rentalCard(order, nowMs) {
    const request = this.request(order.request_id);
    const card = el("div", { class: "dq-card static", "data-testid": "rental-waiting-item",
      "data-order-id": String(order.id) },
    el("div", { class: "dq-line" },
      el("strong", { text: t("dq.order_open", { id: order.id }) }),
      el("span", { class: "countdown num", "data-deadline": order.rental_deadline,
        text: t("dq.deadline", { t: countdown(order.rental_deadline, nowMs) }) })),
    request ? el("div", { class: "dq-route", text: this._route(request) }) : null);
    const cancel = this._cancelButton(card, order);
    if (cancel) card.append(el("div", { class: "dq-line" }, el("span"), cancel));
    return card;
  }

  _proposalCard(proposal) {
    const [a, b] = proposal.request_ids.map((id) => this.request(id));
    const detour = Math.max(...Object.values(proposal.detour_min));
    const merge = el("button", { type: "button", class: "btn btn-primary btn-small",
      "data-testid": "merge-button", text: t("dq.merge") });
    merge.addEventListener("click", async () => {
      merge.disabled = true;
      try {
        const order = await api("/api/v1/dispatch-orders", {
          method: "POST", body: { request_ids: proposal.request_ids },
        });
        await this.refresh();
        const lead = this.request(order.request_ids[0]);
        if (lead) this.onSelectRequest(lead);
      } catch (err) {
        merge.disabled = false;
        merge.title = describeError(err);
        await this.refresh();
      }
    });
    return el("div", { class: "dq-card static", "data-testid": "carpool-proposal",
      "data-request-ids": proposal.request_ids.join(",") },
    el("div", { class: "dq-line" },
      el("strong", { text: proposal.request_ids.map((id) => `#${id}`).join(" + ") }),
      el("span", { text: t("dq.passengers", { n: proposal.passengers }) })),
    a && b ? el("div", { class: "dq-route", text: `${this._route(a)}｜${this._route(b)}` }) : null,
    el("div", { class: "dq-line" },
      el("span", { class: "muted", text: `${t("dq.saved_km", { km: proposal.saved_km })} · ${t("dq.detour", { min: detour })}` }),
      merge));
  }

  /** An order event from a card; a refusal is shown on the card, the queue refreshed. */
  async _event(card, order, body) {
    try {
      await api(`/api/v1/dispatch-orders/${order.id}/events`, {
        method: "POST", body: { version: order.version, ...body },
      });
      await this.refresh();
    } catch (err) {
      card.querySelector(".dq-error")?.remove();
      card.append(el("div", { class: "dq-error", "data-testid": "card-error", text: describeError(err) }));
    }
  }

  /** 取消 an order that has not left yet (its car and driver are released). */
  _cancelButton(card, order) {
    if (!["created", "sent_to_rental", "assigned", "accepted"].includes(order.state)) return null;
    const button = el("button", { type: "button", class: "btn btn-small", "data-testid": "cancel-order",
      text: t("dq.cancel") });
    button.addEventListener("click", (event) => {
      event.stopPropagation();
      if (!window.confirm(t("dq.cancel_confirm", { id: order.id }))) return;
      this._event(card, order, { event: "cancel", note: "调度取消 cancelled by the dispatcher" });
    });
    return button;
  }

  _disputeCard(order) {
    const card = el("div", { class: "dq-card static dispute", "data-testid": "disputed-order",
      "data-order-id": String(order.id) });
    const note = el("input", { class: "input", "data-testid": "resolve-note", placeholder: t("dq.resolve_note") });
    const odometer = el("input", { class: "input num", type: "number", step: "0.1",
      "data-testid": "resolve-odometer", value: order.odometer_end_km ?? "", "aria-label": t("dq.odometer_end") });
    const tolls = el("input", { class: "input num", type: "number", step: "0.01",
      "data-testid": "resolve-tolls", value: order.tolls_cny, "aria-label": t("dq.tolls") });
    const submit = el("button", { type: "button", class: "btn btn-primary btn-small",
      "data-testid": "resolve-submit", text: t("dq.resolve_submit") });
    submit.addEventListener("click", () => {
      const body = { event: "resolve_dispute", note: note.value.trim() };
      if (odometer.value !== "" && Number(odometer.value) !== order.odometer_end_km) {
        body.odometer_km = Number(odometer.value);
      }
      if (tolls.value !== "" && Number(tolls.value) !== Number(order.tolls_cny)) body.tolls_cny = tolls.value;
      this._event(card, order, body);
    });
    card.append(
      el("div", { class: "dq-line" }, el("strong", { text: `${order.plate ?? ""} · ${t("dq.order_open", { id: order.id })}` }),
        el("span", { class: "muted num", text: `${order.billed_km ?? "—"} km · ¥${order.fee_cny ?? "—"}` })),
      el("div", { class: "dq-route", text: t("dq.reason", { reason: order.dispute_reason }) }),
      el("div", { class: "dq-resolve" },
        el("label", {}, el("span", { text: t("dq.odometer_end") }), odometer),
        el("label", {}, el("span", { text: t("dq.tolls") }), tolls)),
      el("div", { class: "dq-line" }, note, submit),
    );
    return card;
  }

  /** 改派 while the car has not been accepted, 换车 on the road (a breakdown); none between. */
  _changeButton(order) {
    const key = order.state === "assigned" ? "dq.reassign"
      : ["departed", "at_pickup", "in_service"].includes(order.state) ? "dq.change_car" : null;
    if (!key) return null;
    const button = el("button", { type: "button", class: "btn btn-small", "data-testid": "change-car-button",
      text: t(key) });
    button.addEventListener("click", (event) => {
      event.stopPropagation();
      this.onChangeCar(order);
    });
    return button;
  }

  _roadCard(order) {
    const remind = el("button", { type: "button", class: "btn btn-small", "data-testid": "remind-button",
      text: t("dq.remind") });
    remind.addEventListener("click", async (event) => {
      event.stopPropagation();
      const text = window.prompt(t("dq.remind_prompt"), "");
      if (!text) return;
      try {
        await api("/api/v1/dispatch/reminders", { method: "POST", body: { order_id: order.id, text } });
        remind.textContent = t("dq.reminded");
      } catch (err) {
        remind.title = describeError(err);
      }
    });
    const card = el("div", { class: "dq-card", "data-testid": "road-order", "data-order-id": String(order.id),
      role: "button", tabIndex: 0 },
    el("div", { class: "dq-line" },
      el("strong", { text: order.plate }), orderStateBadge(order.state)),
    el("div", { class: "dq-route", text: `${order.driver_name ?? ""} · ${timeRange(order.planned_start, order.planned_end)}` }),
    el("div", { class: "dq-line" }, el("span", { class: "muted", text: t("dq.order_open", { id: order.id }) }),
      el("span", { class: "dq-actions" }, this._changeButton(order), remind)));
    card.querySelector(".dq-actions").prepend(this._cancelButton(card, order) ?? "");
    card.addEventListener("click", () => this.onSelectOrder(order));
    return card;
  }
}
