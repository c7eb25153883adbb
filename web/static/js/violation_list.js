// The list of violations on the review pages: one row each (day, rule, plate, unit, state,
// and on the unit's page the deadline), selected by a click; pages of 50 with "load more".
import { api } from "./api.js";
import { el } from "./dom.js";
import { t } from "./i18n.js";
import { message, ruleLabel, severityBadge, stateBadge, unitName } from "./violation_format.js";

const PAGE = 50;

export class ViolationList {
  constructor(root, moreButton, { onSelect, showDue = false }) {
    this.root = root;
    this.more = moreButton;
    this.onSelect = onSelect;
    this.showDue = showDue;
    this.items = [];
    this.next = null;
    this.query = new URLSearchParams();
    this.selected = null;
    moreButton.addEventListener("click", () => this.load(false));
  }

  async reload(query) {
    this.query = query;
    await this.load(true);
  }

  async load(fresh) {
    const params = new URLSearchParams(this.query);
    params.set("limit", String(PAGE));
    if (!fresh && this.next) params.set("before", this.next);
    if (fresh) this.root.replaceChildren(el("div", { class: "list-note", text: t("vi.loading") }));
    try {
      const page = await api(`/api/v1/violations?${params}`);
      this.items = fresh ? page.items : [...this.items, ...page.items];
      this.next = page.next_before;
    } catch (err) {
      this.root.replaceChildren(el("div", { class: "list-note", text: t("vi.error", { message: err.message }) }));
      return;
    }
    this.root.dataset.loaded = "true";
    this.render();
  }

  render() {
    this.root.replaceChildren();
    for (const v of this.items) this.root.append(this.row(v));
    if (!this.items.length) this.root.append(el("div", { class: "list-note", "data-testid": "list-empty", text: t("vi.none") }));
    this.more.parentElement.classList.toggle("hidden", !this.next);
  }

  row(v) {
    const due = this.showDue && v.explanation_due
      ? el("span", { class: `vi-due${v.state === "overdue" ? " late" : ""}`, "data-testid": "violation-due",
        text: v.state === "overdue" ? t("ex.overdue", { date: v.explanation_due }) : t("ex.due", { date: v.explanation_due }) })
      : null;
    const item = el(
      "button",
      { type: "button", class: "vi-item", role: "option", "data-testid": "violation-item", "data-violation-id": String(v.id),
        "data-rule": v.rule_id, "aria-selected": String(v.id === this.selected) },
      el("span", { class: "line" },
        el("span", { class: "num muted", text: v.local_day }),
        el("strong", { text: ruleLabel(v.rule_id) }),
        severityBadge(v.severity),
        el("span", { class: "grow" }),
        stateBadge(v.state)),
      el("span", { class: "line" },
        el("span", { class: "plate", text: v.plate ?? "—" }),
        el("span", { class: "grow muted", text: unitName(v) }),
        due),
      el("span", { class: "line muted small vi-msg", text: message(v) }),
    );
    item.addEventListener("click", () => this.select(v.id));
    return item;
  }

  select(id) {
    this.selected = id;
    for (const node of this.root.querySelectorAll(".vi-item")) {
      node.setAttribute("aria-selected", String(Number(node.dataset.violationId) === id));
    }
    this.onSelect(id);
  }

  /** After a move: the row shows the new state without reloading the list. */
  update(v) {
    const i = this.items.findIndex((x) => x.id === v.id);
    if (i >= 0) {
      this.items[i] = { ...this.items[i], ...v };
      this.render();
    }
  }
}
