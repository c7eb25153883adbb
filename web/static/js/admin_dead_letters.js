// Admin page: dead letters (messages ingest could not use) — counts per reason over a period,
// and the newest letters with their raw payload, as text when it is UTF-8, else Base64.
import { api } from "./api.js";
import { el } from "./dom.js";
import { formatDateTime, formatNumber } from "./format.js";
import { applyI18n, onLangChange, t, toggleLang } from "./i18n.js";

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);
const PERIODS_H = [1, 24, 24 * 7, 24 * 30];
const PAGE = 50;

const view = { hours: 24, reason: "", page: null, items: [], nextBeforeId: null };

function reasonLabel(reason) {
  const key = `reason.${reason}`;
  const label = t(key);
  return label === key ? reason : label;
}

function periodLabel(hours) {
  return hours < 48 ? t("admin.hours", { h: hours }) : t("admin.days", { d: hours / 24 });
}

function fillSelects() {
  const hours = $("dl-hours");
  hours.replaceChildren(...PERIODS_H.map((h) => el("option", { value: String(h), text: periodLabel(h) })));
  hours.value = String(view.hours);
  const reasons = [...new Set([...(view.page?.counts ?? []).map((c) => c.reason), view.reason])]
    .filter(Boolean)
    .sort();
  const reason = $("dl-reason");
  reason.replaceChildren(
    el("option", { value: "", text: t("admin.all_reasons") }),
    ...reasons.map((r) => el("option", { value: r, text: `${reasonLabel(r)} (${r})` })),
  );
  reason.value = view.reason;
}

function renderCounts() {
  const body = $("dl-counts").querySelector("tbody");
  const counts = view.page?.counts ?? [];
  body.replaceChildren(
    ...counts.map((c) => {
      const row = el(
        "tr",
        {
          class: `clickable${c.reason === view.reason ? " active" : ""}`,
          "data-testid": "dl-count-row",
          "data-reason": c.reason,
          "data-kind": c.kind,
        },
        el("td", {}, el("span", { text: reasonLabel(c.reason) }), el("code", { class: "code", text: c.reason })),
        el("td", {}, el("span", { class: `kind kind-${c.kind}`, text: t(`admin.kind.${c.kind}`) })),
        el("td", { class: "right num", "data-testid": "dl-count", text: formatNumber(c.count) }),
        el("td", { class: "num muted", text: formatDateTime(Date.parse(c.last_at)) }),
      );
      row.addEventListener("click", () => selectReason(c.reason));
      return row;
    }),
  );
  if (!counts.length) {
    body.append(el("tr", {}, el("td", { class: "muted empty", colSpan: 4, text: t("admin.none") })));
  }
  $("dl-total").textContent = formatNumber(view.page?.total ?? 0);
}

function payloadCell(item) {
  const cell = el("td", { class: "payload" });
  if (item.payload_text != null) {
    cell.append(el("pre", { "data-testid": "dl-payload", "data-encoding": "text", text: item.payload_text }));
  } else {
    cell.append(
      el("span", { class: "muted small", text: t("admin.payload_binary") }),
      el("pre", { "data-testid": "dl-payload", "data-encoding": "base64", text: item.payload_base64 }),
    );
  }
  return cell;
}

function renderItems() {
  const body = $("dl-items").querySelector("tbody");
  body.replaceChildren(
    ...view.items.map((item) =>
      el(
        "tr",
        { "data-testid": "dl-item", "data-id": String(item.id), "data-reason": item.reason },
        el("td", { class: "num nowrap", text: formatDateTime(Date.parse(item.received_at)) }),
        el("td", {}, el("span", { text: reasonLabel(item.reason) }), el("code", { class: "code", text: item.reason })),
        el("td", {}, el("code", { text: item.device_uid ?? "—" }), el("div", { class: "muted small", text: item.topic })),
        el("td", { class: "detail", text: item.detail || "—" }),
        payloadCell(item),
      ),
    ),
  );
  $("dl-message").textContent = view.items.length ? "" : t("admin.none");
  $("dl-more").classList.toggle("hidden", view.nextBeforeId == null);
}

async function load({ more = false } = {}) {
  const query = new URLSearchParams({ hours: String(view.hours), limit: String(PAGE) });
  if (view.reason) query.set("reason", view.reason);
  if (more && view.nextBeforeId != null) query.set("before_id", String(view.nextBeforeId));
  const page = await api(`/api/v1/admin/dead-letters?${query}`);
  view.page = page;
  view.items = more ? [...view.items, ...page.items] : page.items;
  view.nextBeforeId = page.next_before_id;
  render();
  document.body.dataset.loaded = "true";
}

function selectReason(reason) {
  view.reason = view.reason === reason ? "" : reason;
  load();
}

function render() {
  fillSelects();
  renderCounts();
  renderItems();
}

async function boot() {
  applyI18n();
  $("lang-toggle").addEventListener("click", toggleLang);
  $("logout").addEventListener("click", async () => {
    await api("/api/v1/auth/logout", { method: "POST", redirectOn401: false }).catch(() => null);
    window.location.assign("/login");
  });
  $("dl-hours").addEventListener("change", (e) => { view.hours = Number(e.target.value); load(); });
  $("dl-reason").addEventListener("change", (e) => { view.reason = e.target.value; load(); });
  $("dl-more").addEventListener("click", () => load({ more: true }));
  onLangChange(render);
  const me = await api("/api/v1/auth/me");
  $("user-name").textContent = me.display_name;
  try {
    await load();
  } catch (err) {
    $("dl-message").textContent = err.status === 403 ? t("admin.forbidden") : err.message;
  }
}

// Hooks for tests: what the page shows, without string eval (the CSP forbids it).
window.__admin = {
  counts: () => Object.fromEntries((view.page?.counts ?? []).map((c) => [c.reason, c.count])),
  itemCount: () => view.items.length,
  reason: () => view.reason,
};

boot();
