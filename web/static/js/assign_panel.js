// The assignment panel over the map: for the selected request (or its open order), the cars
// that can go, best first, each with its suggested driver, and the rental companies covering
// the trip. One click on 派车 opens the order if it has none and assigns car and driver.
import { api } from "./api.js";
import { describeError } from "./api_errors.js";
import { el } from "./dom.js";
import { countdown } from "./dispatch_panel.js";
import "./i18n/dispatch.js";
import { localName, t } from "./i18n.js";
import { cityName, timeRange } from "./trip_format.js";

const CHARTERS = ["trip", "half_day", "full_day", "multi_day"];

export class AssignPanel {
  constructor(root, { onClose, onCandidates, onDone }) {
    this.root = root;
    this.onClose = onClose;
    this.onCandidates = onCandidates;
    this.onDone = onDone;
    this.request = null;
    this.offer = null;
    this.busy = false;
  }

  get isOpen() {
    return this.request != null;
  }

  hide() {
    this.request = null;
    this.title = null;
    this.offer = null;
    this.root.classList.add("hidden");
    this.root.replaceChildren();
  }

  _title() {
    if (this.title) return this.title;
    const open = this._openOrder();
    if (open?.request_ids?.length > 1) {
      return t("ap.carpool_title", { id: open.id, ids: open.request_ids.map((i) => `#${i}`).join(" + "),
        n: open.passenger_count });
    }
    return t("ap.request", { id: this.request.id });
  }

  /** The order's window (a merged order spans its requests'), else the request's. */
  _window() {
    const open = this._openOrder();
    if (open?.planned_start) return timeRange(open.planned_start, open.planned_end);
    return timeRange(this.request.planned_start, this.request.planned_end);
  }

  /** The order still waiting for a car (created or with a rental company), if any. */
  _openOrder() {
    return this.request?.open_orders?.[0] ?? null;
  }

  /** Another car for an order that holds one: 改派 before it leaves (`assign`), 换车 on the
   *  road after a breakdown (`change_car`). */
  showOrder(order, error = null) {
    this.event = ["assigned"].includes(order.state) ? "assign" : "change_car";
    this.title = t(this.event === "assign" ? "ap.reassign" : "ap.change_car", { id: order.id, plate: order.plate });
    return this._load({
      id: order.request_id, planned_start: order.planned_start, planned_end: order.planned_end,
      origin: order.origin, destinations: order.destinations,
      open_orders: [{ id: order.id, state: order.state, version: order.version }],
      order,
    }, error);
  }

  /** Shows the request's offer; `error` is the refusal of a last attempt, kept on top. */
  show(request, error = null) {
    this.event = "assign";
    this.title = null;
    return this._load(request, error);
  }

  async _load(request, error) {
    this.request = request;
    this.root.classList.remove("hidden");
    this.root.dataset.state = "loading";
    this._render(error);
    const order = this._openOrder();
    const query = order ? `order_id=${order.id}` : `request_id=${request.id}`;
    try {
      const offer = await api(`/api/v1/dispatch/candidates?${query}`);
      if (this.request !== request) return; // another one was picked meanwhile
      this.offer = offer;
      this._render(error);
      this.root.dataset.state = error ? "error" : "loaded";
      this.onCandidates?.(offer);
    } catch (err) {
      this._render(describeError(err));
      this.root.dataset.state = "error";
    }
  }

  relabel() {
    if (this.isOpen) this._render(null);
  }

  _render(error) {
    const request = this.request;
    const close = el("button", { type: "button", class: "icon-btn", "aria-label": t("ap.close"),
      "data-testid": "assign-close", text: "×" });
    close.addEventListener("click", () => this.onClose());
    const head = el("div", { class: "details-head" },
      el("div", {},
        el("div", { class: "details-plate", "data-testid": "assign-title", text: this._title() }),
        el("div", { class: "ap-sub", text: this._window() }),
        el("div", { class: "ap-sub", text: [request.origin, ...request.destinations]
          .map((p) => `${cityName(p.city_code)}·${p.name}`).join(" → ") })),
      close);
    const body = el("div", { class: "details-body" });
    if (error) body.append(el("div", { class: "ap-error", "data-testid": "assign-error", text: error }));
    if (this.offer) body.append(...this._offerNodes());
    this.root.replaceChildren(head, body);
  }

  _offerNodes() {
    const offer = this.offer;
    const usable = offer.cars.filter((c) => c.reason == null);
    const refused = offer.cars.filter((c) => c.reason != null);
    const nodes = [];
    const waiting = this._openOrder();
    if (waiting?.state === "sent_to_rental") {
      const company = offer.companies.find((c) => c.id === waiting.rental_company_id);
      nodes.push(el("div", { class: "ap-note", "data-testid": "assign-waiting-company",
        text: t("ap.waiting_company", { company: company ? localName(company) : "",
          t: countdown(waiting.rental_deadline, Date.now()) }) }));
      return nodes;
    }
    nodes.push(el("h4", { class: "ap-title", text: t("ap.cars") }));
    if (!usable.length) nodes.push(el("div", { class: "ap-note", text: t("ap.no_cars") }));
    for (const car of usable) nodes.push(this._carRow(car, offer.drivers));
    if (refused.length) {
      const list = el("details", { class: "ap-refused", "data-testid": "refused-cars" },
        el("summary", { text: t("ap.unusable", { n: refused.length }) }));
      for (const car of refused) {
        list.append(el("div", { class: "ap-car refused", "data-testid": "refused-car",
          "data-vehicle-id": String(car.vehicle_id) },
        el("span", { class: "plate", text: car.plate }),
        el("span", { class: "muted", text: `${t(`level.${car.car_level}`)}·${car.seats}` }),
        el("span", { class: "why", "data-reason": car.reason, text: t(`why.${car.reason}`) })));
      }
      nodes.push(list);
    }
    if (this.event !== "assign" || this.request.order) return nodes; // a company takes only new orders
    nodes.push(el("h4", { class: "ap-title", text: t("ap.rental") }));
    if (!offer.companies.length) nodes.push(el("div", { class: "ap-note", text: t("ap.no_company") }));
    for (const company of offer.companies) nodes.push(this._companyRow(company));
    return nodes;
  }

  _carRow(car, drivers) {
    const select = el("select", { class: "input ap-driver", "data-testid": "driver-select",
      "aria-label": t("ap.driver") });
    const ordered = [...drivers].sort((a, b) =>
      (b.id === car.driver_id) - (a.id === car.driver_id) || a.orders_that_day - b.orders_that_day);
    for (const d of ordered) select.append(el("option", { value: String(d.id), text: d.name }));
    if (!drivers.length) select.append(el("option", { value: "", text: t("ap.no_driver") }));
    const distance = car.dist_m == null ? "—"
      : t("ap.km_min", { km: (car.dist_m / 1000).toFixed(1), min: Math.round(car.eta_min) })
        + (car.from_depot ? ` (${t("ap.from_depot")})` : "");
    const button = el("button", { type: "button", class: "btn btn-primary btn-small",
      "data-testid": "assign-car", text: t("ap.assign"), disabled: !drivers.length });
    button.addEventListener("click", () => this._assign(car, Number(select.value), button));
    return el("div", { class: "ap-car", "data-testid": "candidate-car", "data-vehicle-id": String(car.vehicle_id) },
      el("div", { class: "ap-car-line" },
        el("i", { class: `dot ${car.status}` }),
        el("span", { class: "plate", text: car.plate }),
        el("span", { class: "tag", text: t(`ap.tier${car.tier}`) }),
        el("span", { class: "muted", text: `${t(`level.${car.car_level}`)}·${car.seats}` }),
        el("span", { class: "ap-dist num", text: distance })),
      el("div", { class: "ap-car-line" }, select, button));
  }

  _companyRow(company) {
    const charter = el("select", { class: "input", "data-testid": "charter-select" });
    for (const type of CHARTERS) {
      const price = company.prices[type];
      charter.append(el("option", { value: type,
        text: price == null ? t(`charter.${type}`) : `${t(`charter.${type}`)} ¥${Number(price).toFixed(0)}` }));
    }
    const send = el("button", { type: "button", class: "btn btn-small", "data-testid": "send-rental",
      text: t("ap.send") });
    send.addEventListener("click", () => this._sendToCompany(company, charter.value, send));
    return el("div", { class: "ap-company", "data-testid": "rental-company", "data-company-id": String(company.id) },
      el("span", { class: "ap-company-name", text: localName(company) }), charter, send);
  }

  /** The order to act on: the open one, or a new one for the request (its first click). */
  async _order() {
    const open = this._openOrder();
    if (open) return open;
    return api("/api/v1/dispatch-orders", { method: "POST", body: { request_id: this.request.id } });
  }

  async _act(button, action) {
    if (this.busy) return;
    this.busy = true;
    button.disabled = true;
    button.textContent = t("ap.assigning");
    try {
      const order = await this._order();
      const done = await action(order);
      this.onDone(done);
    } catch (err) {
      this.onDone(null, describeError(err)); // the queue may have changed (an order opened)
    } finally {
      this.busy = false;
    }
  }

  _assign(car, driverId, button) {
    return this._act(button, (order) => api(`/api/v1/dispatch-orders/${order.id}/events`, {
      method: "POST",
      body: { event: this.event, version: order.version, vehicle_id: car.vehicle_id, driver_id: driverId },
    }));
  }

  _sendToCompany(company, charterType, button) {
    return this._act(button, (order) => api(`/api/v1/dispatch-orders/${order.id}/events`, {
      method: "POST",
      body: { event: "send_to_rental", version: order.version, rental_company_id: company.id,
        charter_type: charterType, service_mode: "with_driver" },
    }));
  }
}
