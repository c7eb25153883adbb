// What the driver is told (GET /api/v1/notifications?unread=true): a remote reminder (远程提醒)
// from the dispatcher as a banner that stays until he acknowledges it, and new or cancelled
// orders announced the same way. Acknowledging marks it read (POST /api/v1/notifications/read).
import { api } from "./api.js";
import { el } from "./dom.js";
import { t } from "./i18n.js";
import { hhmm, monthDay } from "./driver_format.js";

const KINDS = new Set(["reminder", "order_assigned", "order_cancelled"]);

export class Notices {
  constructor(container, { onOrdersChanged, onView }) {
    this.container = container;
    this.onOrdersChanged = onOrdersChanged;
    this.onView = onView;
    this.items = new Map(); // id -> notification, unread and shown
    this.seen = new Set();
    this.first = true;
  }

  async poll() {
    const unread = await api("/api/v1/notifications?unread=true&limit=50");
    const fresh = unread.filter((n) => KINDS.has(n.kind) && !this.seen.has(n.id));
    for (const n of unread) this.seen.add(n.id);
    const wanted = new Map(unread.filter((n) => KINDS.has(n.kind)).map((n) => [n.id, n]));
    const changed = fresh.length > 0 || [...this.items.keys()].some((id) => !wanted.has(id));
    this.items = wanted;
    if (changed) this.render();
    if (fresh.length && !this.first) {
      if (fresh.some((n) => n.kind !== "reminder")) this.onOrdersChanged();
      navigator.vibrate?.(fresh.some((n) => n.kind === "reminder") ? [300, 120, 300] : 200);
    }
    this.first = false;
  }

  async acknowledge(id) {
    await api("/api/v1/notifications/read", { method: "POST", body: { ids: [id] } });
    this.items.delete(id);
    this.render();
  }

  render() {
    // Oldest first within each group; reminders on top.
    const all = [...this.items.values()].sort((a, b) => a.id - b.id);
    const reminders = all.filter((n) => n.kind === "reminder");
    const others = all.filter((n) => n.kind !== "reminder");
    this.container.replaceChildren(...reminders.map((n) => this.reminder(n)), ...others.map((n) => this.orderNotice(n)));
    this.container.dataset.count = String(all.length);
  }

  ackButton(n) {
    return el("button", {
      type: "button", class: "d-ack", "data-testid": "notice-ack", text: t("drv.ack"),
      onclick: (e) => {
        e.currentTarget.disabled = true;
        this.acknowledge(n.id).catch(() => { e.currentTarget.disabled = false; });
      },
    });
  }

  reminder(n) {
    return el(
      "div",
      { class: "d-notice d-reminder", role: "alert", "data-testid": "reminder", "data-id": n.id, "data-kind": n.kind },
      el("div", { class: "d-notice-head" },
        el("span", { class: "d-bell", "aria-hidden": "true", text: "!" }),
        el("strong", { text: t("drv.reminder") }),
        el("span", { class: "d-notice-time", text: t("drv.reminder_from", { time: hhmm(n.created_at) }) })),
      el("p", { class: "d-reminder-text", "data-testid": "reminder-text", text: n.text }),
      this.ackButton(n),
    );
  }

  orderNotice(n) {
    const data = n.data || {};
    const text = t(`drv.notice.${n.kind}`, {
      id: data.order_id ?? "", plate: data.plate ?? "",
      time: data.planned_start ? `${monthDay(data.planned_start)} ${hhmm(data.planned_start)}` : "",
    });
    const view = n.kind === "order_assigned" && data.order_id
      ? el("button", {
        type: "button", class: "d-notice-view", "data-testid": "notice-view", text: t("drv.notice.view"),
        onclick: () => {
          this.onView(data.order_id, data.planned_start);
          this.acknowledge(n.id).catch(() => null); // seen: no need to tap 我知道了 as well
        },
      })
      : null;
    return el(
      "div",
      { class: `d-notice d-order-notice kind-${n.kind}`, "data-testid": "order-notice", "data-id": n.id, "data-kind": n.kind },
      el("p", { class: "d-notice-text", text }),
      el("div", { class: "d-notice-actions" }, view, this.ackButton(n)),
    );
  }
}
