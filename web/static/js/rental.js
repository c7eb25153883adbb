// The rental company's page (租赁接单): orders sent to the company with a live countdown to
// the answer deadline, accept with a car and a driver or reject with a reason, the orders it
// holds (accepted, in service) and its history. Polls every few seconds; new notifications
// (a new order, a cancellation) show at the top until dismissed.
import "./i18n/rental.js";
import { api } from "./api.js";
import { el } from "./dom.js";
import { formatClock } from "./format.js";
import { localName, onLangChange, t } from "./i18n.js";
import { startPage } from "./page_shell.js";
import { AnswerDialogs, errorText } from "./rental_answer.js";
import { declinedRow, orderCard, updateCountdowns, when } from "./rental_cards.js";

const POLL_MS = 4000;
const TOAST_MS = 6000;
const NOTICE_KINDS = new Set(["rental_order", "order_cancelled"]);
const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);

const state = {
  tab: "waiting",
  page: null, // the last /api/v1/rental/orders answer for the tab
  skewMs: 0, // server clock − browser clock
  company: null,
  cities: new Map(),
  notices: [],
  loads: 0,
  shownKey: "",
};

const serverNow = () => Date.now() + state.skewMs;

async function loadOrders() {
  const list = $("orders");
  const tab = state.tab;
  try {
    const page = await api(`/api/v1/rental/orders?state=${tab}&limit=100`);
    if (tab !== state.tab) return; // the tab changed meanwhile
    state.skewMs = Date.parse(page.now) - Date.now();
    const key = JSON.stringify([page.items, page.counts, page.declined]);
    state.page = page;
    state.loads += 1;
    if (key !== state.shownKey || list.dataset.state !== "loaded") renderOrders(); // no churn
    state.shownKey = key;
    list.dataset.state = "loaded";
  } catch (err) {
    list.dataset.state = "error";
    list.replaceChildren(el("div", { class: "rt-empty rt-error", text: t("rt.load_error", { message: errorText(err) }) }));
  }
}

function renderOrders() {
  const page = state.page;
  if (!page) return;
  for (const [tab, n] of Object.entries(page.counts)) {
    const badge = $(`count-${tab}`);
    badge.textContent = String(n);
    badge.classList.toggle("zero", n === 0);
  }
  const list = $("orders");
  list.dataset.tab = state.tab;
  list.replaceChildren(
    ...(page.items.length
      ? page.items.map((order) => orderCard(order, (o, kind) => dialogs.open(o, kind)))
      : [el("div", { class: "rt-empty muted", "data-testid": "orders-empty", text: t(`rt.empty.${state.tab}`) })]),
  );
  const declined = $("declined");
  declined.classList.toggle("hidden", state.tab !== "history" || !page.declined.length);
  declined.replaceChildren(
    el("h3", { text: t("rt.declined_title") }),
    ...page.declined.map(declinedRow),
  );
  updateCountdowns(list, serverNow());
}

function selectTab(tab) {
  state.tab = tab;
  state.page = null;
  for (const button of document.querySelectorAll(".rt-tab")) {
    button.setAttribute("aria-selected", String(button.dataset.tab === tab));
  }
  $("orders").dataset.state = "loading";
  loadOrders();
}

async function loadNotices() {
  try {
    const items = await api("/api/v1/notifications?unread=true&limit=20");
    state.notices = items.filter((n) => NOTICE_KINDS.has(n.kind));
  } catch {
    return; // notices are secondary: the list itself shows the orders
  }
  renderNotices();
}

function noticeText(item) {
  const d = item.data ?? {};
  const params = { id: d.order_id ?? "", start: when(d.planned_start), deadline: when(d.deadline) };
  const key = `rt.notice.${item.kind}`;
  const text = t(key, params);
  return text === key ? t("rt.notice.other", { kind: item.kind }) : text;
}

function renderNotices() {
  const box = $("notices");
  box.classList.toggle("hidden", state.notices.length === 0);
  if (!state.notices.length) return box.replaceChildren();
  const dismiss = el("button", { type: "button", class: "btn btn-small", "data-testid": "notices-dismiss", text: t("rt.notice.dismiss") });
  dismiss.addEventListener("click", dismissNotices);
  box.replaceChildren(
    el(
      "ul",
      { class: "rt-notice-list" },
      ...state.notices.slice(0, 5).map((n) =>
        el("li", { "data-testid": "notice", "data-kind": n.kind, text: noticeText(n) }),
      ),
    ),
    dismiss,
  );
}

async function dismissNotices() {
  const ids = state.notices.map((n) => n.id);
  state.notices = [];
  renderNotices();
  await api("/api/v1/notifications/read", { method: "POST", body: { ids } }).catch(() => null);
}

let toastTimer = null;
function toast(message) {
  const box = $("toast");
  box.textContent = message;
  box.classList.remove("hidden");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => box.classList.add("hidden"), TOAST_MS);
}

function renderCompany() {
  const c = state.company;
  if (!c) return;
  $("company-name").textContent = localName(c);
  const cities = c.service_city_codes.map((code) => localName(state.cities.get(code)) || code);
  const facts = t("rt.company_facts", {
    no: c.contract_no,
    from: c.contract_start,
    to: c.contract_end,
    cities: cities.join(t("rt.list_sep")),
    minutes: Math.round(c.accept_timeout_s / 60),
  });
  $("company-facts").textContent = c.in_force ? facts : `${facts} · ${t("rt.contract_lapsed")}`;
}

const dialogs = new AnswerDialogs({
  latest: (id) => state.page?.items.find((o) => o.id === id),
  done: (message) => {
    toast(message);
    loadOrders();
  },
  refresh: () => loadOrders(),
});

function tick() {
  $("clock").textContent = formatClock(serverNow());
  updateCountdowns($("orders"), serverNow());
}

async function main() {
  await startPage();
  for (const button of document.querySelectorAll(".rt-tab")) {
    button.addEventListener("click", () => selectTab(button.dataset.tab));
  }
  const [company, cities] = await Promise.all([
    api("/api/v1/rental/company"),
    api("/api/v1/places/cities").catch(() => []),
  ]);
  state.company = company;
  for (const city of cities) state.cities.set(city.code, city);
  renderCompany();
  await Promise.all([loadOrders(), loadNotices()]);
  document.body.dataset.loaded = "true";
  onLangChange(() => {
    $("toast").classList.add("hidden"); // written in the other language
    renderCompany();
    renderOrders();
    renderNotices();
  });
  setInterval(tick, 1000);
  setInterval(() => {
    loadOrders();
    loadNotices();
  }, POLL_MS);
  tick();
}

// Hooks for the browser tests (read-only).
window.__rental = {
  tab: () => state.tab,
  loads: () => state.loads,
  orderIds: () => (state.page?.items ?? []).map((o) => o.id),
  skewMs: () => state.skewMs,
};

main();
