// The unit's page (违规说明): the violations an inspector sent to my unit (or one below it)
// with their deadlines, each with its evidence (read-only, the same map and playback), and the
// answer: an explanation with files while it is awaited, a rectification report once confirmed.
import "./i18n/violations.js";
import { api } from "./api.js";
import { onLangChange } from "./i18n.js";
import { NotificationBell } from "./notification_bell.js";
import { startPage } from "./page_shell.js";
import { ViolationDetail } from "./violation_detail.js";
import { ViolationList } from "./violation_list.js";

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);

async function main() {
  await startPage();
  const config = await api("/api/v1/config");
  new NotificationBell($("notif-root"));
  const query = new URLSearchParams({ sent: "true" });
  let detail = null;
  const list = new ViolationList($("violation-list"), $("list-more"), {
    showDue: true,
    onSelect: (id) => {
      window.history.replaceState(null, "", `#${id}`);
      detail.show(id).catch(() => detail.clear());
    },
  });
  detail = new ViolationDetail($("violation-detail"), config, { onChanged: (fresh) => list.update(fresh) });
  $("list-refresh").addEventListener("click", () => list.reload(query));
  onLangChange(() => {
    list.render();
    detail.render();
  });
  await list.reload(query);
  const wanted = Number(window.location.hash.slice(1));
  if (wanted) list.select(wanted);
  document.body.dataset.ready = "true";
}

main();
