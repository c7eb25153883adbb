// The driver's page (驾驶员, /driver): a phone-first, installable page. Today's (or
// tomorrow's) orders as cards with the one next step, the reminders and new orders he must
// acknowledge, and the phone's position for a car without a terminal. Works from the service
// worker's cache when offline (the last orders loaded), and without a service worker at all.
import "./i18n/driver.js";
import { api } from "./api.js";
import { applyI18n, onLangChange, t } from "./i18n.js";
import { startPage } from "./page_shell.js";
import { orderCard } from "./driver_cards.js";
import { dayLabel, hhmmss, localDay, nextDay } from "./driver_format.js";
import { LocationSharing } from "./driver_location.js";
import { Notices } from "./driver_notices.js";
import { openSheet } from "./driver_sheet.js";

const ORDERS_EVERY_MS = 30_000;
const NOTICES_EVERY_MS = 15_000;
const SHEET_STEPS = new Set(["depart", "return", "request_reassignment"]);
const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);

const state = { tab: "today", day: localDay(), orders: [], loaded: false, error: null, loadedAt: null };
const share = new LocationSharing({ onChange: render, onOrderGone: () => load() });
const notices = new Notices($("notices"), { onOrdersChanged: () => load(), onView: view });

function describeError(err) {
  if (err.status === 0) return t("drv.error.network");
  const known = { stale_version: "drv.error.stale_version", illegal_transition: "drv.error.illegal_transition" };
  if (known[err.code]) {
    load();
    return t(known[err.code]);
  }
  return t("drv.error.other", { message: err.message });
}

function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.classList.remove("hidden");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => box.classList.add("hidden"), 3500);
}

async function send(order, event, extra = {}) {
  await api(`/api/v1/driver/orders/${order.id}/events`, {
    method: "POST", body: { event, version: order.version, ...extra },
  });
  toast(t("drv.sent", { action: t(`drv.action.${event}`) }));
  await load();
}

async function step(order, event) {
  if (SHEET_STEPS.has(event)) {
    await openSheet(order, event, (body) => send(order, event, body), describeError);
    return;
  }
  const button = document.querySelector(`[data-order-id="${order.id}"] [data-testid=step]`);
  if (button) {
    button.disabled = true;
    button.textContent = t("drv.busy");
  }
  try {
    await send(order, event);
  } catch (err) {
    toast(describeError(err));
    render();
  }
}

function render() {
  const list = $("order-list");
  list.setAttribute("aria-busy", String(!state.loaded));
  $("day-label").textContent = dayLabel(state.day);
  for (const tab of document.querySelectorAll(".d-day")) {
    tab.setAttribute("aria-selected", String(tab.dataset.day === state.tab));
  }
  if (!state.loaded) {
    list.replaceChildren(emptyNote(state.error ? t("drv.load_failed", { message: state.error }) : t("drv.loading")));
    return;
  }
  const cards = state.orders.map((o) => orderCard(o, state.day, { step }, share));
  list.replaceChildren(...(cards.length ? cards : [emptyNote(t("drv.empty"), t("drv.empty_hint"))]));
  $("updated").textContent = state.loadedAt ? t("drv.updated", { time: hhmmss(state.loadedAt) }) : "";
}

function emptyNote(text, hint) {
  const p = document.createElement("div");
  p.className = "d-empty";
  p.dataset.testid = "empty";
  p.textContent = text;
  if (hint) {
    const small = document.createElement("small");
    small.textContent = hint;
    p.append(small);
  }
  return p;
}

async function load() {
  // 以后: what he holds after tomorrow
  const day = state.tab === "today" ? localDay() : nextDay(localDay());
  try {
    const later = state.tab === "later" ? "&later=true" : "";
    const page = await api(`/api/v1/driver/orders?day=${day}${later}`);
    Object.assign(state, { day: page.day, orders: page.orders, loaded: true, error: null, loadedAt: Date.now() });
    share.sync(page.orders);
  } catch (err) {
    state.error = err.message;
    state.day = day;
  }
  document.body.dataset.loaded = String(state.loaded);
  render();
}

function pollNotices() {
  // Offline there is nothing to ask (the service worker keeps no notifications).
  if (navigator.onLine) notices.poll().catch(() => null);
}

async function view(orderId, plannedStart) {
  const day = plannedStart ? localDay(new Date(plannedStart)) : state.day;
  const tomorrow = nextDay(localDay());
  const tab = day === tomorrow ? "tomorrow" : day > tomorrow ? "later" : "today";
  if (tab !== state.tab) {
    state.tab = tab;
    await load();
  }
  document.querySelector(`[data-order-id="${orderId}"]`)?.scrollIntoView({ behavior: "smooth", block: "start" });
}

function showConnectivity() {
  $("offline-banner").classList.toggle("hidden", navigator.onLine);
}

function registerServiceWorker() {
  // The page works without it (first visit, private mode, an old browser): it only adds the
  // offline start and the cached orders.
  if (!("serviceWorker" in navigator)) {
    document.body.dataset.sw = "unsupported";
    return;
  }
  navigator.serviceWorker.register("/driver/sw.js", { scope: "/driver" })
    .then(() => { document.body.dataset.sw = "registered"; })
    .catch(() => { document.body.dataset.sw = "failed"; });
}

function forgetCachedData() {
  // Someone else may use the phone next: the orders cached for offline use go with the session.
  if ("caches" in window) caches.keys().then((keys) => keys.filter((k) => k.startsWith("driver-api")).forEach((k) => caches.delete(k)));
  localStorage.removeItem("fleet.driver.share");
}

async function main() {
  applyI18n();
  render();
  $("logout").addEventListener("click", forgetCachedData);
  for (const tab of document.querySelectorAll(".d-day")) {
    tab.addEventListener("click", () => {
      if (state.tab === tab.dataset.day) return;
      state.tab = tab.dataset.day;
      state.loaded = false;
      render();
      load();
    });
  }
  $("refresh").addEventListener("click", () => { load(); pollNotices(); });
  window.addEventListener("online", () => { showConnectivity(); load(); pollNotices(); });
  window.addEventListener("offline", showConnectivity);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      load();
      pollNotices();
    }
  });
  onLangChange(() => { render(); notices.render(); });
  showConnectivity();
  registerServiceWorker();
  await startPage();
  pollNotices();
  await load();
  setInterval(load, ORDERS_EVERY_MS);
  setInterval(pollNotices, NOTICES_EVERY_MS);
}

// Hooks for the browser test.
window.__driver = {
  state: () => ({ loaded: state.loaded, day: state.day, orders: state.orders.map((o) => ({ id: o.id, state: o.state })) }),
  refresh: () => Promise.all([load(), notices.poll()]),
};

main();
