// The live console (实时监控): wires the store, the websocket, the list, the map and details.
import { api } from "./api.js";
import { AssignPanel } from "./assign_panel.js";
import { DetailsPanel } from "./details.js";
import { DispatchLayer } from "./dispatch_layer.js";
import { DispatchPanel } from "./dispatch_panel.js";
import { el } from "./dom.js";
import { formatClock } from "./format.js";
import { applyI18n, localName, onLangChange, t, toggleLang } from "./i18n.js";
import { VehicleList } from "./list.js";
import { LiveConnection } from "./live.js";
import { FleetMap } from "./map.js";
import { NotificationBell } from "./notification_bell.js";
import { renderNav } from "./page_shell.js";
import { Playback } from "./playback.js";
import { ProposalLayer } from "./proposal_layer.js";
import { ProposalPanel } from "./proposal_panel.js";
import { STATUSES } from "./status.js";
import { VehicleStore } from "./store.js";
import { cities, loadCities } from "./trip_format.js";
import { ZonesPanel } from "./zones_panel.js";

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);
const SOURCES = ["platform", "entrusted", "unit_retained", "leased"];

const filters = { status: null, city: "", source: "", query: "" };
const store = new VehicleStore();
let fleetMap = null;
let list = null;
let details = null;
let playback = null;
let connection = null;
let firstSnapshot = true;
let me = null;
let config = null;
let dispatchPanel = null; // dispatchers only
let assign = null;
let dispatchLayer = null;
let proposals = null; // 方案: the optimizer's plan for the queue
let mode = "vehicles";
const DISPATCH_ROLES = ["dispatcher", "admin"];
const ZONE_ROLES = ["admin", "org_admin", "dispatcher", "inspector"]; // 围栏: admins edit
let zonesPanel = null;

function normalisePlate(text) {
  return text.replace(/[·\s]/g, "").toUpperCase();
}

function matchesExceptStatus(item) {
  if (filters.city && item.city.code !== filters.city) return false;
  if (filters.source && item.source !== filters.source) return false;
  if (filters.query && !normalisePlate(item.plate).includes(normalisePlate(filters.query))) {
    return false;
  }
  return true;
}

function matches(item) {
  return matchesExceptStatus(item) && (!filters.status || item.status === filters.status);
}

function buildStatusTabs() {
  const box = $("status-tabs");
  box.replaceChildren();
  for (const status of [null, ...STATUSES]) {
    const key = status ?? "all";
    const label = el("span", { class: "label" });
    if (status) label.append(el("i", { class: `dot ${status}` }));
    label.append(el("span", { "data-i18n": `status.${key}`, text: t(`status.${key}`) }));
    const tab = el(
      "button",
      {
        type: "button",
        class: "status-tab",
        "data-status": key,
        "data-testid": `status-tab-${key}`,
        "aria-pressed": String(filters.status === status),
      },
      el("span", { class: "count num", "data-testid": `status-count-${key}`, text: "0" }),
      label,
    );
    tab.addEventListener("click", () => {
      filters.status = filters.status === status ? null : status;
      for (const other of box.children) {
        other.setAttribute("aria-pressed", String(other.dataset.status === (filters.status ?? "all")));
      }
      refilter();
    });
    box.append(tab);
  }
}

function updateCounts() {
  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0]));
  let all = 0;
  for (const item of store.all()) {
    if (!matchesExceptStatus(item)) continue;
    counts[item.status] += 1;
    all += 1;
  }
  $("status-count-all").textContent = String(all);
  for (const status of STATUSES) $(`status-count-${status}`).textContent = String(counts[status]);
}

function fillSelect(select, placeholderKey, options, current) {
  select.replaceChildren(el("option", { value: "", text: t(placeholderKey) }));
  for (const [value, label] of options) select.append(el("option", { value, text: label }));
  select.value = current;
}

function fillFilters() {
  const cities = new Map();
  for (const item of store.all()) cities.set(item.city.code, item.city);
  const cityOptions = [...cities.values()]
    .sort((a, b) => a.code.localeCompare(b.code))
    .map((city) => [city.code, localName(city)]);
  fillSelect($("filter-city"), "filter.city", cityOptions, filters.city);
  fillSelect($("filter-source"), "filter.source", SOURCES.map((s) => [s, t(`source.${s}`)]), filters.source);
}

function refilter() {
  list.filter(matches);
  for (const item of store.all()) fleetMap.upsert(item, matches(item));
  fleetMap.commit();
  updateCounts();
  $("map").dataset.markerCount = String(fleetMap.markerCount());
}

function onSnapshot(items) {
  const nowMs = Date.now();
  store.reset(items, nowMs);
  for (const item of store.all()) cities.set(item.city.code, item.city); // names for the queue
  fleetMap.clearVehicles();
  list.setItems(store.all(), nowMs);
  fillFilters();
  refilter();
  if (firstSnapshot) {
    firstSnapshot = false;
    // Never closer than the configured view: at dawn every car may sit in one depot.
    fleetMap.fitTo(store.all(), config.map_centre.zoom);
  }
  if (details.vehicleId != null) {
    const item = store.get(details.vehicleId);
    if (item) details.update(item, nowMs);
  }
}

store.on("update", ({ items, positions }) => {
  const nowMs = Date.now();
  list.update(items, nowMs);
  let filterChanged = false;
  for (const item of items) {
    const visible = matches(item);
    const row = list.rows.get(item.id);
    if (row && row.node.classList.contains("hidden") === visible) filterChanged = true;
    fleetMap.upsert(item, visible);
    if (item.id === details.vehicleId) {
      details.update(item, nowMs);
      if (positions) fleetMap.extendTrack(item.state);
    }
  }
  fleetMap.commit();
  if (filterChanged) list.filter(matches);
  updateCounts();
  $("map").dataset.markerCount = String(fleetMap.markerCount());
});

function onLiveMessage(message) {
  const nowMs = Date.now();
  if (message.type === "snapshot") onSnapshot(message.items);
  else if (message.type === "positions") store.applyPositions(message.items, nowMs);
  else if (message.type === "status") store.applyStatuses(message.items, nowMs);
}

function onConnectionState(state, { seconds } = {}) {
  const box = $("conn-state");
  box.dataset.state = state;
  const text = box.querySelector(".conn-text");
  const key = `conn.${state}`;
  text.dataset.i18n = key;
  text.textContent = t(key, { s: seconds ?? 0 });
  if (state === "offline" && !store.loaded) list.showMessage("list.forbidden");
}

function openPlayback(item, range = null) {
  fleetMap.clearTrack();
  document.querySelector(".map-wrap").classList.add("playback-on");
  playback.open(item, range);
}

function closePlayback() {
  if (!playback.isOpen) return;
  playback.close();
  document.querySelector(".map-wrap").classList.remove("playback-on");
  if (details.vehicleId != null) details.loadTrack(details.trackHours);
}

function select(id) {
  const item = store.get(id);
  if (!item) return;
  closeAssign();
  closePlayback();
  list.select(id);
  fleetMap.select(item);
  fleetMap.clearTrack();
  details.show(item);
}

function closeDetails() {
  closePlayback();
  details.hide();
  list.select(null);
  fleetMap.select(null);
  fleetMap.clearTrack();
}

function wireControls() {
  $("filter-city").addEventListener("change", (e) => { filters.city = e.target.value; refilter(); });
  $("filter-source").addEventListener("change", (e) => { filters.source = e.target.value; refilter(); });
  $("filter-search").addEventListener("input", (e) => { filters.query = e.target.value.trim(); refilter(); });
  $("lang-toggle").addEventListener("click", toggleLang);
  $("logout").addEventListener("click", async () => {
    await api("/api/v1/auth/logout", { method: "POST", redirectOn401: false }).catch(() => null);
    window.location.assign("/login");
  });
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    if (proposals?.isOpen) proposals.hide();
    else if (assign?.isOpen) closeAssign();
    else if (playback.isOpen) closePlayback();
    else if (details.vehicleId != null) closeDetails();
  });
}

function showUser() {
  $("user-name").textContent = me.display_name;
  renderNav(me);
  $("scope-name").textContent = localName(me.scope_org);
}

// -- the dispatcher's side (派车) ---------------------------------------------------------

function setMode(next) {
  mode = next;
  for (const tab of document.querySelectorAll(".mode-tab")) {
    tab.setAttribute("aria-selected", String(tab.dataset.mode === mode));
  }
  $("vehicles-pane").classList.toggle("hidden", mode !== "vehicles");
  $("dispatch-pane").classList.toggle("hidden", mode !== "dispatch");
  $("zones-pane").classList.toggle("hidden", mode !== "zones");
  zonesPanel?.setActive(mode === "zones");
  if (mode !== "dispatch") {
    closeAssign();
    proposals?.hide();
  } else dispatchPanel.refresh();
}

function startModes() {
  const dispatching = me.roles.some((role) => DISPATCH_ROLES.includes(role));
  const zoning = me.roles.some((role) => ZONE_ROLES.includes(role));
  if (!dispatching && !zoning) return;
  $("mode-tabs").classList.remove("hidden");
  $("mode-dispatch").classList.toggle("hidden", !dispatching);
  $("mode-zones").classList.toggle("hidden", !zoning);
  for (const tab of document.querySelectorAll(".mode-tab")) {
    tab.addEventListener("click", () => setMode(tab.dataset.mode));
  }
  if (zoning) zonesPanel = new ZonesPanel($("zones-pane"), fleetMap, me, { onOpen: closeDetails });
  if (dispatching) startDispatch();
}

function selectRequest(request) {
  closeDetails();
  proposals.hide();
  dispatchPanel.select(request.id);
  dispatchLayer.showRequest(request);
  assign.show(request);
}

function closeAssign() {
  if (!assign?.isOpen) return;
  assign.hide();
  dispatchPanel.select(null);
  dispatchLayer.clearRequest();
}

function toast(text) {
  for (const old of document.querySelectorAll(".map-wrap .toast")) old.remove(); // the newest only
  const node = el("div", { class: "toast", "data-testid": "toast", text });
  document.querySelector(".map-wrap").append(node);
  setTimeout(() => node.remove(), 4000);
}

async function afterAssign(order, error) {
  const requestId = assign.request?.id;
  const changing = assign.request?.order;
  await dispatchPanel.refresh();
  if (error) {
    const road = changing && dispatchPanel.queue.on_the_road.find((o) => o.id === changing.id);
    const fresh = dispatchPanel.request(requestId);
    if (road) assign.showOrder(road, error);
    else if (fresh) assign.show(fresh, error);
    else closeAssign();
    return;
  }
  if (order.state === "sent_to_rental") {
    toast(t("ap.sent", { company: localName({ name_zh: order.rental_company_name_zh,
      name_en: order.rental_company_name_en }) }));
  } else {
    toast(t("ap.assigned", { plate: order.plate, driver: order.driver_name }));
  }
  closeAssign();
}

function onQueue(queue) {
  const count = dispatchPanel.count();
  $("dispatch-count").textContent = String(count);
  $("dispatch-count").dataset.zero = String(count === 0);
  dispatchLayer.showRoad(queue.on_the_road);
  proposals.noticeQueue(dispatchPanel.waiting());
}

function startDispatch() {
  $("notif-root").classList.remove("hidden");
  new NotificationBell($("notif-root")); // rental refusals and timeouts, disputes, reassignments
  dispatchLayer = new DispatchLayer(fleetMap);
  assign = new AssignPanel($("assign-panel"), {
    onClose: closeAssign,
    onCandidates: (offer) => dispatchLayer.showCandidates(offer),
    onDone: afterAssign,
  });
  proposals = new ProposalPanel($("proposal-panel"), new ProposalLayer(fleetMap), {
    onOpen: () => { closeDetails(); closeAssign(); },
    onClose: () => proposals.hide(),
    onAccepted: (result) => {
      toast(t("pp.accepted", { n: result.orders.length }));
      dispatchPanel.refresh();
    },
  });
  dispatchPanel = new DispatchPanel($("dispatch-pane"), {
    onPropose: () => proposals.propose(),
    onSelectRequest: selectRequest,
    onSelectOrder: (order) => { closeAssign(); select(order.vehicle_id); },
    onChangeCar: (order) => {
      closeDetails();
      dispatchPanel.select(null);
      dispatchLayer.showRequest(order);
      assign.showOrder(order);
    },
    onChanged: onQueue,
  });
  // the nine cities' names (a cross-city trip leaves the dispatcher's own), then the queue
  loadCities(api).catch(() => null).finally(() => dispatchPanel.start());
}

onLangChange(() => {
  const nowMs = Date.now();
  buildStatusTabs();
  fillFilters();
  list.relabel(nowMs);
  refilter();
  fleetMap.relabel();
  showUser();
  if (details.vehicleId != null) details.render(nowMs);
  playback.relabel();
  if (dispatchPanel) {
    dispatchPanel.render();
    assign.relabel();
    proposals.relabel();
    dispatchLayer.showRoad(dispatchPanel.queue.on_the_road);
  }
  zonesPanel?.relabel();
  onConnectionState(connection.state);
});

function tick() {
  const nowMs = Date.now();
  $("clock").textContent = formatClock(nowMs);
  store.tick(nowMs);
  list.tickAges(nowMs);
  details.renderLive(nowMs);
  dispatchPanel?.tick(nowMs);
}

async function boot() {
  applyI18n();
  [me, config] = await Promise.all([api("/api/v1/auth/me"), api("/api/v1/config")]);
  showUser();
  buildStatusTabs();
  fleetMap = new FleetMap($("map"), config, { onSelect: select });
  list = new VehicleList($("vehicle-list"), $("list-count"), { onSelect: select });
  details = new DetailsPanel($("details-panel"), {
    onClose: closeDetails,
    // While playback shows a longer track, the recent one stays off the map.
    onTrack: (points) => (playback.isOpen ? null : fleetMap.drawTrack(points)),
    onPlayback: openPlayback,
  });
  playback = new Playback($("playback-panel"), fleetMap.map, fleetMap.trackRenderer, {
    onClose: closePlayback,
  });
  wireControls();
  connection = new LiveConnection({ onMessage: onLiveMessage, onState: onConnectionState });
  connection.connect();
  api("/api/v1/map/layers").then((layers) => fleetMap.setGeofences(layers)).catch(() => null);
  startModes();
  tick();
  setInterval(tick, 1000);
}

// Hooks for tests and for operators poking at the console from devtools.
window.__console = {
  markerCount: () => (fleetMap ? fleetMap.markerCount() : 0),
  vehicleCount: () => store.items.size,
  connectionState: () => connection?.state ?? "connecting",
  select: (id) => select(id),
  vehicle: (id) => store.get(id),
  visibleIds: () => [...store.all()].filter(matches).map((item) => item.id),
  newestFixMs: () => Math.max(0, ...[...store.all()].map((item) => item.state?.ts_ms ?? 0)),
  selectedId: () => details?.vehicleId ?? null,
  fitAll: () => fleetMap?.fitTo([...store.all()].filter(matches)),
  markersNear: (x, y, radiusPx = 8) => fleetMap?.markersNear(x, y, radiusPx) ?? [],
  trackPointCount: () => fleetMap?.trackPointCount() ?? 0,
  markerPoint: (id) => fleetMap?.markerPoint(id) ?? null,
  markerLatLng: (id) => fleetMap?.markerLatLng(id) ?? null,
  movingIds: () => [...store.all()].filter((item) => item.status === "moving").map((item) => item.id),
  reveal: (id) => fleetMap?.reveal(id) ?? false,
  playback: () => playback?.snapshot() ?? null,
  mode: () => mode,
  queueCount: () => dispatchPanel?.count() ?? 0,
  routePoints: () => dispatchLayer?.routeCount ?? 0,
  refreshQueue: () => dispatchPanel?.refresh(),
  proposal: () => proposals?.snapshot() ?? null,
  zones: () => zonesPanel?.snapshot() ?? null,
};

boot();
