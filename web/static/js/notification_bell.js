// The bell in the top bar: the user's notifications (newest first), rendered from their kind
// and data in the reader's language; opening the list marks them read.
import { api } from "./api.js";
import { el } from "./dom.js";
import { onLangChange, t } from "./i18n.js";
import { when } from "./trip_format.js";

const REFRESH_MS = 30_000;

function notificationText(item) {
  const d = item.data ?? {};
  const params = {
    reason: d.reason ?? "",
    level: d.level ?? "",
    levels: d.approval_levels ?? "",
    start: when(d.planned_start),
    note: d.rejection_reason ?? item.text ?? "",
    plate: d.plate ?? "",
    driver: d.driver_name ?? "",
    text: item.text ?? "",
    kind: item.kind,
  };
  const key = `notif.${item.kind}`;
  const text = t(key, params);
  return text === key ? t("notif.other", params) : text;
}

const SVG = "http://www.w3.org/2000/svg";

function bellIcon() {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "bell-icon");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute(
    "d",
    "M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 " +
      "1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2z",
  );
  svg.append(path);
  return svg;
}

export class NotificationBell {
  constructor(root) {
    this.root = root;
    this.items = [];
    this.button = el("button", {
      type: "button",
      class: "btn btn-top bell",
      "data-testid": "notif-bell",
      "aria-haspopup": "true",
    });
    this.count = el("span", { class: "bell-count hidden", "data-testid": "notif-count" });
    this.panel = el("div", { class: "bell-panel hidden", "data-testid": "notif-list", role: "list" });
    this.button.append(bellIcon(), this.count);
    root.replaceChildren(this.button, this.panel);
    this.button.addEventListener("click", () => this.toggle());
    document.addEventListener("click", (e) => {
      if (!root.contains(e.target)) this.panel.classList.add("hidden");
    });
    onLangChange(() => this.render());
    this.refresh();
    setInterval(() => this.refresh(), REFRESH_MS);
  }

  async refresh() {
    try {
      this.items = await api("/api/v1/notifications?limit=30");
    } catch {
      return; // the bell is secondary: the page works without it
    }
    this.render();
  }

  render() {
    const unread = this.items.filter((n) => !n.read_at).length;
    this.count.textContent = String(unread);
    this.count.classList.toggle("hidden", unread === 0);
    this.button.title = t("notif.title");
    this.panel.replaceChildren(el("div", { class: "bell-head", text: t("notif.title") }));
    if (!this.items.length) {
      this.panel.append(el("div", { class: "bell-empty", text: t("notif.none") }));
      return;
    }
    for (const item of this.items) {
      this.panel.append(
        el(
          "div",
          {
            class: `bell-item${item.read_at ? "" : " unread"}`,
            role: "listitem",
            "data-testid": "notif-item",
            "data-kind": item.kind,
          },
          el("div", { text: notificationText(item) }),
          el("div", { class: "muted small", text: when(item.created_at) }),
        ),
      );
    }
  }

  async toggle() {
    const opening = this.panel.classList.contains("hidden");
    this.panel.classList.toggle("hidden", !opening);
    if (!opening) return;
    const ids = this.items.filter((n) => !n.read_at).map((n) => n.id);
    if (!ids.length) return;
    await api("/api/v1/notifications/read", { method: "POST", body: { ids } }).catch(() => null);
    const now = new Date().toISOString();
    for (const item of this.items) item.read_at ??= now;
    this.count.classList.add("hidden");
  }
}
