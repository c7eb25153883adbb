// The proposal panel (方案) over the map: the optimizer's plan for the queue — per car its
// route (numbered stops, times), cost and km, the dispatch orders it makes (a shared ride is
// one order), the requests left out with their reasons — accepted all at once or car by car,
// a car pinned to a request and proposed again, or rejected. While the background re-plan
// runs, the panel polls and shows a better revision when one arrives.
import { api } from "./api.js";
import { describeError } from "./api_errors.js";
import { el } from "./dom.js";
import "./i18n/proposal.js";
import { currentLang, t } from "./i18n.js";
import { routeColour } from "./proposal_layer.js";
import { cityName, timeRange, when } from "./trip_format.js";

const POLL_MS = 1500;
const REPLAN_S = 5;

export class ProposalPanel {
  constructor(root, layer, { onOpen, onClose, onAccepted }) {
    this.root = root;
    this.layer = layer;
    this.onOpen = onOpen;
    this.onClose = onClose;
    this.onAccepted = onAccepted;
    this.proposal = null;
    this.selected = new Set();
    this.note = null; // a line on top: improved, accepted, refused…
    this.result = null; // the last accept's outcome
    this.newIds = [];
    this.busy = false;
    this.timer = null;
  }

  get isOpen() {
    return !this.root.classList.contains("hidden");
  }

  /** Asks for a proposal (body: request_ids, base_proposal_id, pins) and shows it. */
  async propose(body = {}) {
    if (this.busy) return;
    this.busy = true;
    this.onOpen?.();
    this.root.classList.remove("hidden");
    this.root.dataset.state = "loading";
    if (!this.proposal) this.root.replaceChildren(this._head(t("pp.proposing")));
    try {
      const proposal = await api("/api/v1/dispatch/proposals", {
        method: "POST", body: { replan_s: REPLAN_S, ...body },
      });
      this.selected.clear();
      this.result = null;
      this.note = null;
      this._show(proposal);
    } catch (err) {
      this.root.dataset.state = "error";
      this.root.append(el("div", { class: "ap-error", "data-testid": "proposal-error", text: describeError(err) }));
    } finally {
      this.busy = false;
    }
  }

  hide() {
    clearTimeout(this.timer);
    this.proposal = null;
    this.root.classList.add("hidden");
    this.root.replaceChildren();
    this.layer.clear();
  }

  relabel() {
    if (this.proposal) this.render();
  }

  /** The queue changed: offer to insert the requests the proposal has not seen. */
  noticeQueue(waiting) {
    if (!this.proposal || this.proposal.state !== "open") return;
    const known = new Set(this.proposal.request_ids);
    const fresh = waiting.map((r) => r.id).filter((id) => !known.has(id));
    if (fresh.join() !== this.newIds.join()) {
      this.newIds = fresh;
      this.render();
    }
  }

  _show(proposal) {
    const improved = this.proposal && this.proposal.id === proposal.id && proposal.revision > this.proposal.revision;
    this.proposal = proposal;
    this.newIds = [];
    if (improved) this.note = { kind: "info", text: t("pp.improved", { n: proposal.revision }) };
    this.layer.show(proposal);
    this.render();
    this.root.dataset.state = "loaded";
    this.root.dataset.revision = String(proposal.revision);
    clearTimeout(this.timer);
    if (proposal.replanning && proposal.state === "open") {
      this.timer = setTimeout(() => this._poll(proposal.id), POLL_MS);
    }
  }

  async _poll(id) {
    if (this.proposal?.id !== id) return;
    try {
      const fresh = await api(`/api/v1/dispatch/proposals/${id}`);
      if (this.proposal?.id !== id) return;
      if (fresh.revision !== this.proposal.revision) this._show(fresh);
      else {
        // only the subtitle changes: a full render would close a pin list being chosen from
        this.proposal.replanning = fresh.replanning;
        const sub = this.root.querySelector("[data-testid=proposal-sub]");
        if (sub) sub.textContent = this._subtitle();
        if (fresh.replanning) this.timer = setTimeout(() => this._poll(id), POLL_MS);
      }
    } catch {
      this.timer = setTimeout(() => this._poll(id), POLL_MS * 2);
    }
  }

  _head(subtitle) {
    const close = el("button", { type: "button", class: "icon-btn", "aria-label": t("pp.close"),
      "data-testid": "proposal-close", text: "×" });
    close.addEventListener("click", () => this.onClose());
    return el("div", { class: "details-head" },
      el("div", {},
        el("div", { class: "details-plate", "data-testid": "proposal-title", text: t("pp.title") }),
        el("div", { class: "ap-sub", "data-testid": "proposal-sub", text: subtitle })),
      close);
  }

  _subtitle() {
    const p = this.proposal;
    const state = p.state === "open" ? "" : ` · ${t(`pp.state.${p.state}`)}`;
    const solver = t(`pp.solver.${p.solver.includes("solve") ? "solve" : "insertion"}`);
    return `${t("pp.revision", { n: p.revision })} · ${solver}${state}`
      + (p.replanning && p.state === "open" ? ` · ${t("pp.replanning")}` : "");
  }

  render() {
    const p = this.proposal;
    const sub = this._subtitle();
    const body = el("div", { class: "details-body" });
    if (this.note) body.append(el("div", { class: `pp-note ${this.note.kind}`, "data-testid": "proposal-note", text: this.note.text }));
    if (this.result) body.append(this._outcome(this.result));
    if (this.newIds.length && p.state === "open") body.append(this._newRequests());
    body.append(this._totals(p), ...this._routes(p), this._unserved(p));
    this.root.replaceChildren(this._head(sub), body, this._actions(p));
  }

  _totals(p) {
    const x = p.totals;
    const cell = (key, value, testid) => el("div", { class: "pp-total" },
      el("span", { class: "muted", text: t(key) }),
      el("strong", { class: "num", "data-testid": testid, text: value }));
    return el("div", { class: "pp-totals", "data-testid": "proposal-totals" },
      cell("pp.cost", t("pp.cny", { v: x.cost_cny.toFixed(2) }), "total-cost"),
      cell("pp.km", t("pp.km_v", { v: x.km.toFixed(1) }), "total-km"),
      cell("pp.vehicles", String(x.vehicles), "total-vehicles"),
      cell("pp.shared", String(x.shared_rides), "total-shared"),
      cell("pp.unserved", String(x.unserved), "total-unserved"));
  }

  _routes(p) {
    const nodes = [el("h4", { class: "ap-title", text: t("pp.routes") })];
    if (!p.routes.length) nodes.push(el("div", { class: "ap-note", text: t("pp.no_routes") }));
    p.routes.forEach((route, index) => nodes.push(this._route(route, index, p.state === "open" || p.state === "partly_accepted")));
    return nodes;
  }

  _route(route, index, open) {
    const pick = el("input", { type: "checkbox", "data-testid": "route-select", "aria-label": t("pp.select_route"),
      checked: this.selected.has(route.vehicle_id), disabled: route.accepted || !open });
    pick.addEventListener("change", () => {
      if (pick.checked) this.selected.add(route.vehicle_id);
      else this.selected.delete(route.vehicle_id);
      this.render();
    });
    const card = el("div", { class: `pp-route${route.accepted ? " accepted" : ""}`, "data-testid": "proposal-route",
      "data-vehicle-id": String(route.vehicle_id) },
    el("div", { class: "pp-route-line" }, pick,
      el("i", { class: "pp-swatch", style: `background:${routeColour(index)}` }),
      el("span", { class: "plate", text: route.plate }),
      el("span", { class: "muted", text: `${t(`level.${route.car_level}`)}·${route.seats}` }),
      route.accepted ? el("span", { class: "tag tag-info", text: t("pp.route_accepted") }) : null,
      el("span", { class: "pp-figures num", text: `${t("pp.cny", { v: route.cost_cny.toFixed(2) })} · ${t("pp.km_v", { v: route.km.toFixed(1) })}` })),
    el("div", { class: "muted", text: `${cityName(route.city_code)} · ${timeRange(route.start, route.end)}` }));
    for (const order of route.orders) {
      card.append(el("div", { class: "pp-order", "data-testid": "proposal-order", "data-request-ids": order.request_ids.join(",") },
        el("span", { text: t("pp.order", { ids: order.request_ids.map((i) => `#${i}`).join(" + ") }) }),
        order.shared ? el("span", { class: "tag tag-info", "data-testid": "shared-tag", text: t("pp.shared_tag") }) : null,
        this._pinned(order, route) ? el("span", { class: "tag tag-warn", "data-testid": "pinned-tag",
          text: t("pp.pinned", { plate: route.plate }) }) : null,
        open && !route.accepted ? this._pinButton(order.request_ids[0]) : null));
    }
    const stops = el("ol", { class: "pp-stops" });
    for (const stop of route.stops) {
      stops.append(el("li", { text: `${when(stop.start).slice(11)} ${t(`pp.stop.${stop.kind}`)} #${stop.request_id} ${stop.name}` }));
    }
    card.append(stops);
    card.addEventListener("mouseenter", () => this.layer.highlight(route.vehicle_id));
    card.addEventListener("mouseleave", () => this.layer.highlight(null));
    return card;
  }

  _pinned(order, route) {
    return this.proposal.pins.some((pin) => pin.vehicle_id === route.vehicle_id
      && order.request_ids.includes(pin.request_id));
  }

  _unserved(p) {
    const box = el("div", { class: "pp-unserved", "data-testid": "proposal-unserved" },
      el("h4", { class: "ap-title", text: t("pp.unserved_title", { n: p.unserved.length }) }));
    for (const item of p.unserved) {
      const why = currentLang() === "en" || !item.message_zh ? item.message : item.message_zh;
      box.append(el("div", { class: "pp-unserved-item", "data-testid": "unserved-item",
        "data-request-id": String(item.request_id), "data-reason": item.reason },
      el("strong", { text: `#${item.request_id}` }),
      el("span", { class: "why", text: why }),
      p.state === "open" ? this._pinButton(item.request_id) : null));
    }
    return box;
  }

  /** 指定车辆: the cars that may take the request; choosing one proposes again with the pin. */
  _pinButton(requestId) {
    const button = el("button", { type: "button", class: "btn btn-small", "data-testid": "pin-button",
      text: t("pp.pin") });
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const offer = await api(`/api/v1/dispatch/candidates?request_id=${requestId}`);
        const select = el("select", { class: "input pp-pin", "data-testid": "pin-select" },
          el("option", { value: "", text: t("pp.pin_choose") }));
        for (const car of offer.cars.filter((c) => c.reason == null)) {
          select.append(el("option", { value: String(car.vehicle_id), text: `${car.plate} · ${t(`level.${car.car_level}`)}` }));
        }
        select.addEventListener("change", () => {
          if (!select.value) return;
          this.propose({ base_proposal_id: this.proposal.id,
            pins: [{ request_id: requestId, vehicle_id: Number(select.value) }] });
        });
        button.replaceWith(select);
      } catch (err) {
        button.disabled = false;
        button.title = describeError(err);
      }
    });
    return button;
  }

  _newRequests() {
    const insert = el("button", { type: "button", class: "btn btn-primary btn-small", "data-testid": "insert-new",
      text: t("pp.insert_new") });
    insert.addEventListener("click", () => this.propose({ base_proposal_id: this.proposal.id }));
    return el("div", { class: "pp-note info", "data-testid": "new-requests" },
      el("span", { text: t("pp.new_requests", { n: this.newIds.length }) }), insert);
  }

  _actions(p) {
    const open = p.state === "open" || p.state === "partly_accepted";
    const all = el("button", { type: "button", class: "btn btn-primary", "data-testid": "proposal-accept-all",
      text: t("pp.accept_all"), disabled: !open || !p.routes.some((r) => !r.accepted) });
    all.addEventListener("click", () => this._accept(null, all));
    const some = el("button", { type: "button", class: "btn", "data-testid": "proposal-accept-some",
      text: t("pp.accept_some", { n: this.selected.size }), disabled: !open || !this.selected.size });
    some.addEventListener("click", () => this._accept([...this.selected], some));
    const reject = el("button", { type: "button", class: "btn", "data-testid": "proposal-reject",
      text: t("pp.reject"), disabled: !open });
    reject.addEventListener("click", () => this._reject());
    return el("div", { class: "pp-actions" }, all, some, reject);
  }

  async _accept(vehicleIds, button) {
    if (this.busy) return;
    this.busy = true;
    button.disabled = true;
    button.textContent = t("pp.accepting");
    const body = { revision: this.proposal.revision };
    if (vehicleIds) body.vehicle_ids = vehicleIds;
    try {
      const result = await api(`/api/v1/dispatch/proposals/${this.proposal.id}/accept`, { method: "POST", body });
      clearTimeout(this.timer);
      this.selected.clear();
      this.result = result;
      this.note = null;
      this.proposal = result.proposal;
      this.render();
      this.onAccepted?.(result);
    } catch (err) {
      this.note = { kind: "error", text: describeError(err) };
      this.render();
    } finally {
      this.busy = false;
    }
  }

  _outcome(result) {
    const box = el("div", { class: "pp-outcome", "data-testid": "proposal-outcome" },
      el("div", { class: "pp-note info", text: t("pp.accepted", { n: result.orders.length }) }));
    if (result.refused.length) {
      box.append(el("div", { class: "pp-note error", text: t("pp.refused", { n: result.refused.length }) }));
      for (const item of result.refused) {
        box.append(el("div", { class: "muted", "data-testid": "refused-order",
          text: t("pp.refused_line", { plate: item.plate ?? item.vehicle_id, message: describeError(item) }) }));
      }
    }
    return box;
  }

  async _reject() {
    try {
      this.proposal = await api(`/api/v1/dispatch/proposals/${this.proposal.id}/reject`, { method: "POST" });
      clearTimeout(this.timer);
      this.note = { kind: "info", text: t("pp.rejected") };
      this.render();
    } catch (err) {
      this.note = { kind: "error", text: describeError(err) };
      this.render();
    }
  }

  snapshot() {
    return this.proposal ? { id: this.proposal.id, revision: this.proposal.revision, state: this.proposal.state,
      ...this.layer.snapshot() } : null;
  }
}
