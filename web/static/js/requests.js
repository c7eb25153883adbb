// The requester's page (用车申请): the new-request form with its map picker, "my requests"
// with progress and orders, and the notification bell.
import "./i18n/requests.js";
import { api } from "./api.js";
import { onLangChange } from "./i18n.js";
import { MyRequests } from "./my_requests.js";
import { NotificationBell } from "./notification_bell.js";
import { startPage } from "./page_shell.js";
import { RequestForm } from "./request_form.js";
import { loadCities } from "./trip_format.js";

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);

async function main() {
  const me = await startPage();
  const [config] = await Promise.all([api("/api/v1/config"), loadCities(api)]);
  new NotificationBell($("notif-root"));
  let form = null;
  const list = new MyRequests($("my-requests"), { onEdit: (request) => form.loadDraft(request) });
  form = new RequestForm($("request-form"), config, me, { onChanged: () => list.refresh() });
  $("my-refresh").addEventListener("click", () => list.refresh());
  onLangChange(() => {
    form.relabel();
    list.render();
  });
  // Hooks for the page tests: where a point is on the map, what the form holds.
  window.__requests = {
    pointOf: (lat, lon) => form.picker.pointOf(lat, lon),
    view: () => form.picker.view(),
    stops: () => form.stops.map((s) => ({ ...s })),
  };
  document.body.dataset.ready = "true";
}

main();
