// "我的申请": the requester's own requests with their state, approval progress, timeline and
// dispatch orders (car, driver, order state); submit or edit a draft, withdraw, and for a
// returned order confirm (确认) or dispute (异议, with a reason), then rate it 1–5 stars.
// Its attachments (附件) with download links; while it is a draft or under approval, files
// can be added (each with its upload result) and removed.
import { api } from "./api.js";
import {
  EDITABLE_STATES,
  PendingFiles,
  attachmentList,
  deleteAttachment,
  filePicker,
  listAttachments,
  refusalText,
} from "./attachments.js";
import { el } from "./dom.js";
import { t } from "./i18n.js";
import {
  emergencyText,
  eventNote,
  levelsText,
  listText,
  orderStateBadge,
  routeText,
  stateBadge,
  timeRange,
  when,
} from "./trip_format.js";

const REFRESH_MS = 30_000;
// A request in these states has (or had) dispatch orders worth showing.
const WITH_ORDERS = new Set(["dispatching", "dispatched", "in_progress", "completed", "settled", "closed"]);

function button(testid, text, onClick, cls = "btn btn-small") {
  const b = el("button", { type: "button", class: cls, "data-testid": testid, text });
  b.addEventListener("click", onClick);
  return b;
}

export class MyRequests {
  constructor(root, { onEdit }) {
    this.root = root;
    this.onEdit = onEdit;
    this.items = [];
    this.expanded = new Set();
    this.details = new Map(); // request id → {events, orders, attachments}
    this.uploads = new Map(); // request id → PendingFiles (the files being added, their results)
    this.messages = new Map(); // request id → [state, text function]
    this.ratings = new Map(); // order id → stars chosen
    this.refresh();
    setInterval(() => this.refresh(), REFRESH_MS);
  }

  async refresh() {
    try {
      const page = await api("/api/v1/trip-requests?mine=true&limit=50");
      this.items = page.items;
      await Promise.all([...this.expanded].map((id) => this.loadDetails(id)));
      this.error = null;
    } catch (err) {
      this.error = err;
    }
    this.root.dataset.loaded = "true";
    this.render();
  }

  async loadDetails(id) {
    const request = this.items.find((r) => r.id === id);
    if (!request) return;
    const [events, orders, attachments] = await Promise.all([
      api(`/api/v1/trip-requests/${id}/events`),
      WITH_ORDERS.has(request.state) ? api(`/api/v1/dispatch-orders?request_id=${id}`) : [],
      listAttachments(id),
    ]);
    this.details.set(id, { events, orders, attachments });
  }

  async toggle(id) {
    if (this.expanded.has(id)) {
      this.expanded.delete(id);
    } else {
      this.expanded.add(id);
      await this.loadDetails(id).catch(() => null);
    }
    this.render();
  }

  render() {
    this.root.replaceChildren();
    if (this.error) {
      this.root.append(el("div", { class: "list-note", text: t("wf.error", { message: this.error.message }) }));
      return;
    }
    if (!this.items.length) {
      this.root.append(el("div", { class: "list-note", "data-testid": "my-empty", text: t("rq.none") }));
      return;
    }
    for (const request of this.items) this.root.append(this.renderItem(request));
  }

  renderItem(r) {
    const open = this.expanded.has(r.id);
    const head = el(
      "div",
      { class: "req-head" },
      el("span", { class: "req-id num", text: `#${r.id}` }),
      el("span", { class: "trip-type", text: t(`trip.${r.trip_type}`) }),
      el("span", { class: "req-reason", text: r.reason }),
      stateBadge(r.state),
    );
    const lines = el(
      "div",
      { class: "req-lines" },
      el("div", { class: "num", text: timeRange(r.planned_start, r.planned_end) }),
      el("div", { class: "req-route", "data-testid": "request-route", text: routeText(r) }),
    );
    if (["pending_approval", "approved"].includes(r.state) || r.approval_reasons.length) {
      lines.append(el("div", { class: "muted", "data-testid": "request-levels", text: levelsText(r) }));
    }
    const emergency = emergencyText(r);
    if (emergency) lines.append(el("div", { class: "warn-line", text: emergency }));
    for (const warning of r.precheck_warnings) {
      lines.append(el("div", { class: "warn-line", "data-testid": "request-warning", text: t(`warning.${warning}`) }));
    }
    const item = el(
      "article",
      { class: `req-item${open ? " open" : ""}`, "data-testid": "request-item", "data-request-id": String(r.id), "data-state": r.state },
      head,
      lines,
      this.renderActions(r, open),
    );
    const message = this.messages.get(r.id);
    if (message) {
      item.append(el("div", { class: `item-message ${message[0]}`, "data-testid": "request-message", "data-state": message[0], text: message[1]() }));
    }
    if (open) item.append(this.renderDetails(r));
    return item;
  }

  renderActions(r, open) {
    const actions = el("div", { class: "req-actions" });
    actions.append(button("request-toggle", open ? t("rq.hide") : t("rq.progress"), () => this.toggle(r.id)));
    if (r.state === "draft") {
      actions.append(button("request-edit", t("rq.edit"), () => this.onEdit(r)));
      actions.append(button("request-submit", t("rq.submit"), () => this.send(r, "submit"), "btn btn-small btn-primary"));
    }
    if (r.allowed_events.includes("withdraw")) {
      const withdraw = button("request-withdraw", t("rq.withdraw"), () => {
        if (withdraw.dataset.armed === "true") this.send(r, "withdraw");
        else {
          withdraw.dataset.armed = "true";
          withdraw.textContent = t("rq.withdraw_confirm");
          withdraw.classList.add("danger");
        }
      });
      actions.append(withdraw);
    }
    return actions;
  }

  renderDetails(r) {
    const box = el("div", { class: "req-details", "data-testid": "request-details" });
    const details = this.details.get(r.id);
    if (!details) {
      box.append(el("div", { class: "muted", text: t("wf.loading") }));
      return box;
    }
    const facts = el("dl", { class: "facts" });
    const fact = (key, value) => facts.append(el("dt", { text: t(key) }), el("dd", { text: value }));
    fact("wf.passenger_names", [listText(r.passengers), t("wf.passengers", { n: r.passenger_count })].filter(Boolean).join(" · "));
    fact("wf.car_level", r.car_level_wanted ? t(`level.${r.car_level_wanted}`) : t("wf.any_level"));
    const flags = [r.round_trip ? t("wf.round_trip") : t("wf.one_way")];
    if (r.round_trip && r.driver_waits) flags.push(t("wf.driver_waits"));
    if (r.carpool_allowed) flags.push(t("wf.carpool"));
    fact("rq.options", flags.join(" · "));
    if (r.contact_phone) fact("wf.phone", r.contact_phone);
    box.append(facts);
    box.append(this.renderAttachments(r, details.attachments));

    box.append(el("h3", { text: t("rq.timeline") }));
    const timeline = el("ol", { class: "timeline", "data-testid": "request-timeline" });
    for (const e of details.events) {
      timeline.append(
        el(
          "li",
          { "data-testid": "timeline-event", "data-event": e.event },
          el("span", { class: "num muted", text: when(e.at) }),
          el("strong", { text: t(`revent.${e.event}`) }),
          el("span", { text: eventNote(e) }),
        ),
      );
    }
    if (!details.events.length) timeline.append(el("li", { class: "muted", text: t("rq.no_events") }));
    box.append(timeline);

    if (details.orders.length) {
      box.append(el("h3", { text: t("rq.orders") }));
      const orders = el("div", { class: "orders", "data-testid": "request-orders" });
      for (const order of details.orders) orders.append(this.renderOrder(r, order));
      box.append(orders);
    }
    return box;
  }

  renderAttachments(r, attachments) {
    const editable = EDITABLE_STATES.has(r.state);
    const box = el(
      "div",
      { class: "req-attachments", "data-testid": "request-attachments" },
      el("h3", { text: `${t("att.title")}${attachments.length ? ` (${attachments.length})` : ""}` }),
      attachmentList(attachments, { onDelete: editable ? (a) => this.removeAttachment(r, a) : null }),
    );
    if (editable) {
      let pending = this.uploads.get(r.id);
      if (!pending) this.uploads.set(r.id, (pending = new PendingFiles(null)));
      pending.listBox = el("ul", { class: "file-list", "data-testid": "attachment-results" });
      pending.render();
      box.append(
        el(
          "div",
          { class: "file-row" },
          filePicker("attachment-add", "att.add", (files) => this.addAttachments(r, files, attachments.length)),
          el("span", { class: "muted small", text: t("att.hint") }),
        ),
        pending.listBox,
      );
    }
    return box;
  }

  async addAttachments(r, files, liveCount) {
    const pending = this.uploads.get(r.id);
    pending.clearFinished();
    pending.add(files, liveCount);
    await pending.upload(r.id);
    await this.loadDetails(r.id).catch(() => null);
    this.render();
  }

  async removeAttachment(r, attachment) {
    try {
      await deleteAttachment(r.id, attachment.id);
      this.uploads.get(r.id)?.clearFinished(); // an "uploaded" line would now mislead
      this.messages.set(r.id, ["ok", () => t("att.deleted", { name: attachment.filename })]);
    } catch (err) {
      const text = () => (err.code === "request_not_editable" ? refusalText(err) : err.message);
      this.messages.set(r.id, ["error", text]);
    }
    await this.loadDetails(r.id).catch(() => null);
    this.render();
  }

  renderOrder(r, order) {
    const car = order.plate
      ? [order.plate, order.car_level ? t(`level.${order.car_level}`) : null].filter(Boolean).join(" · ")
      : order.rental_company_name_zh ?? t("rq.no_car_yet");
    const driver = order.driver_name
      ? [order.driver_name, order.driver_phone].filter(Boolean).join(" ")
      : "—";
    const box = el(
      "div",
      { class: "order", "data-testid": "order-item", "data-order-id": String(order.id), "data-state": order.state },
      el(
        "div",
        { class: "order-head" },
        el("span", { class: "plate", "data-testid": "order-plate", text: car }),
        orderStateBadge(order.state),
      ),
      el("div", { class: "muted", "data-testid": "order-driver", text: t("wf.labelled", { label: t("rq.driver"), value: driver }) }),
    );
    if (order.dispute_reason) box.append(el("div", { class: "warn-line", text: t("wf.labelled", { label: t("rq.dispute"), value: order.dispute_reason }) }));
    if (order.rating) {
      box.append(el("div", { class: "stars-read", "data-testid": "order-rating", "data-rating": String(order.rating), text: "★".repeat(order.rating) + "☆".repeat(5 - order.rating) }));
      if (order.feedback) box.append(el("div", { class: "muted", text: order.feedback }));
    }
    if (order.allowed_events.includes("confirm")) box.append(this.renderConfirm(r, order));
    if (order.allowed_events.includes("rate") && !order.rating) box.append(this.renderRating(r, order));
    return box;
  }

  renderConfirm(r, order) {
    const reason = el("input", {
      class: "input hidden",
      maxLength: 500,
      placeholder: t("rq.dispute_hint"),
      "data-testid": "order-dispute-reason",
    });
    const send = button("order-dispute-submit", t("rq.dispute_send"), async () => {
      if (!reason.value.trim()) {
        reason.focus();
        reason.classList.add("invalid");
        return;
      }
      await this.orderEvent(r, order, { event: "dispute", note: reason.value.trim() });
    });
    send.classList.add("hidden");
    const dispute = button("order-dispute", t("rq.dispute"), () => {
      reason.classList.remove("hidden");
      send.classList.remove("hidden");
      dispute.classList.add("hidden");
      reason.focus();
    });
    return el(
      "div",
      { class: "order-actions" },
      button("order-confirm", t("rq.confirm"), () => this.orderEvent(r, order, { event: "confirm" }), "btn btn-small btn-primary"),
      dispute,
      reason,
      send,
    );
  }

  renderRating(r, order) {
    const chosen = this.ratings.get(order.id) ?? 0;
    const stars = el("div", { class: "stars", role: "radiogroup", "aria-label": t("rq.rate") });
    for (let value = 1; value <= 5; value += 1) {
      const star = el("button", {
        type: "button",
        class: `star${value <= chosen ? " on" : ""}`,
        role: "radio",
        "aria-checked": String(value === chosen),
        "aria-label": String(value),
        "data-testid": "rating-star",
        "data-value": String(value),
        text: value <= chosen ? "★" : "☆",
      });
      star.addEventListener("click", () => {
        this.ratings.set(order.id, value);
        this.render();
      });
      stars.append(star);
    }
    const feedback = el("input", {
      class: "input",
      maxLength: 500,
      placeholder: t("rq.feedback_hint"),
      "data-testid": "order-feedback",
    });
    const send = button("order-rate-submit", t("rq.rate_send"), () => {
      const rating = this.ratings.get(order.id);
      if (!rating) return;
      this.orderEvent(r, order, { event: "rate", rating, feedback: feedback.value.trim() });
    }, "btn btn-small btn-primary");
    send.disabled = !chosen;
    return el("div", { class: "order-actions rating" }, el("span", { text: t("rq.rate") }), stars, feedback, send);
  }

  async orderEvent(r, order, body) {
    try {
      await api(`/api/v1/dispatch-orders/${order.id}/events`, {
        method: "POST",
        body: { version: order.version, ...body },
      });
      this.messages.delete(r.id);
    } catch (err) {
      this.messages.set(r.id, err.code === "stale_version" ? ["error", () => t("wf.stale")] : ["error", () => err.message]);
    }
    await this.refresh();
  }

  async send(r, event) {
    try {
      const after = await api(`/api/v1/trip-requests/${r.id}/events`, {
        method: "POST",
        body: { event, version: r.version },
      });
      if (event === "submit") {
        const levels = after.approval_levels;
        this.messages.set(r.id, ["ok", () => (after.state === "pending_approval"
          ? t("rq.submitted", { id: r.id, levels })
          : t("rq.submitted_emergency", { id: r.id }))]);
      } else {
        this.messages.delete(r.id);
      }
    } catch (err) {
      let text = () => err.message;
      if (err.code === "stale_version") text = () => t("wf.stale");
      if (err.code === "car_level_not_allowed") {
        text = () => t("rq.refused_car_level", {
          allowed: listText((err.details?.allowed_car_levels ?? []).map((l) => t(`level.${l}`))),
        });
      }
      this.messages.set(r.id, ["error", text]);
    }
    await this.refresh();
  }
}
