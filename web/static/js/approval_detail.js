// One request in detail for its approver: level k of n and why, warnings (车补, emergency
// post-approval and its deadline), who and where (a small map of the stops), its attachments
// (附件: the 会议通知 read before deciding, as downloads), its timeline, and the decision —
// approve with an optional note, or reject with a reason.
import { api } from "./api.js";
import { attachmentList, listAttachments } from "./attachments.js";
import { el } from "./dom.js";
import { localName, t } from "./i18n.js";
import { PlacePicker } from "./place_picker.js";
import {
  cityName,
  emergencyText,
  eventNote,
  reasonsLine,
  reasonsText,
  stateBadge,
  timeRange,
  when,
} from "./trip_format.js";

export class ApprovalDetail {
  constructor(root, config, { onDecided }) {
    this.root = root;
    this.config = config;
    this.onDecided = onDecided;
    this.request = null;
    this.canDecide = false;
    this.message = null; // [state, text function]
    this.events = [];
    this.attachments = null; // null while loading
    this.boundaries = null;
  }

  async show(request, canDecide) {
    this.request = request;
    this.canDecide = canDecide;
    this.message = null;
    this.events = [];
    this.attachments = null;
    this.render();
    const [events, attachments] = await Promise.all([
      api(`/api/v1/trip-requests/${request.id}/events`).catch(() => []),
      listAttachments(request.id).catch(() => []),
    ]);
    if (this.request?.id !== request.id) return; // another request was chosen meanwhile
    this.events = events;
    this.attachments = attachments;
    this.renderTimeline();
    this.renderAttachments();
  }

  clear() {
    this.request = null;
    this.root.dataset.requestId = "";
    this.root.replaceChildren(el("div", { class: "list-note", text: t("ap.pick") }));
  }

  render() {
    const r = this.request;
    if (!r) {
      this.clear();
      return;
    }
    this.root.dataset.requestId = String(r.id);
    const level = Math.min(r.approved_levels + 1, r.approval_levels);
    const title = el(
      "div",
      { class: "ap-title" },
      el("h2", { text: `#${r.id} ${t(`trip.${r.trip_type}`)} · ${r.reason}` }),
      stateBadge(r.state),
    );
    if (this.canDecide) {
      title.append(el("span", {
        class: "level-badge",
        "data-testid": "approval-level",
        "data-level": String(level),
        "data-levels": String(r.approval_levels),
        text: t("wf.level_of", { level, total: r.approval_levels }),
      }));
    }
    const body = el("div", { class: "ap-body" }, title, this.renderWarnings(r));
    const facts = el("dl", { class: "facts", "data-testid": "approval-facts" });
    const fact = (key, value) => facts.append(el("dt", { text: t(key) }), el("dd", { text: value }));
    fact("wf.unit", localName({ name_zh: r.org_name_zh, name_en: r.org_name_en }));
    fact("wf.applicant", r.applicant_name);
    fact("wf.time", timeRange(r.planned_start, r.planned_end));
    fact("wf.passenger_names", [r.passengers.join("、"), t("wf.passengers", { n: r.passenger_count })].filter(Boolean).join(" · "));
    fact("wf.car_level", r.car_level_wanted ? t(`level.${r.car_level_wanted}`) : t("wf.any_level"));
    const flags = [r.round_trip ? t("wf.round_trip") : t("wf.one_way")];
    if (r.round_trip && r.driver_waits) flags.push(t("wf.driver_waits"));
    if (r.carpool_allowed) flags.push(t("wf.carpool"));
    fact("ap.options", flags.join(" · "));
    if (r.contact_phone) fact("wf.phone", r.contact_phone);
    fact("ap.levels", this.levelsLine(r));

    const stops = el("ol", { class: "stops-list", "data-testid": "approval-route" });
    [r.origin, ...r.destinations].forEach((place, i) => {
      stops.append(el(
        "li",
        { "data-testid": "approval-stop", "data-city-code": place.city_code },
        el("span", { class: `pin${i === 0 ? " origin" : ""}`, text: i === 0 ? t("ap.pin_origin") : String(i) }),
        el("span", { class: "city", text: cityName(place.city_code) }),
        el("span", { text: place.name }),
      ));
    });
    // One map per request shown: re-rendering (a decision, the language) keeps it.
    if (this.mapFor !== r.id) {
      this.mapBox = el("div", { class: "ap-map", "data-testid": "approval-map" });
      this.picker = null;
    }
    const mapBox = this.mapBox;
    body.append(el(
      "div",
      { class: "ap-grid" },
      el("div", {}, facts, el("h3", { text: t("wf.route") }), stops),
      mapBox,
    ));
    this.attachmentsBox = el("div", { class: "ap-attachments", "data-testid": "approval-attachments" });
    this.timelineBox = el("div", {});
    body.append(this.attachmentsBox, this.timelineBox);
    if (this.canDecide) body.append(this.renderDecision());
    if (this.message) body.append(this.renderMessage());
    this.root.replaceChildren(body);
    this.renderAttachments();
    this.renderTimeline();
    this.drawMap(mapBox, r);
  }

  levelsLine(r) {
    const parts = [t("wf.levels", { done: r.approved_levels, total: r.approval_levels })];
    if (r.approval_reasons.length) parts.push(reasonsLine(r.approval_reasons));
    return parts.join(" · ");
  }

  renderWarnings(r) {
    const box = el("div", { class: "warnings", "data-testid": "approval-warnings" });
    const emergency = emergencyText(r);
    if (emergency) {
      box.append(el("div", { class: "warn-line emergency", "data-testid": "approval-warning", "data-warning": "emergency", text: emergency }));
    }
    for (const warning of r.precheck_warnings) {
      box.append(el("div", { class: "warn-line", "data-testid": "approval-warning", "data-warning": warning, text: t(`warning.${warning}`) }));
    }
    const extra = r.approval_reasons.filter((x) => x !== "chain_capped");
    if (extra.length && this.canDecide) {
      box.append(el("div", {
        class: "warn-line",
        "data-testid": "approval-warning",
        "data-warning": "extra_levels",
        text: t("ap.extra_levels_note", { reasons: reasonsText(extra), total: r.approval_levels }),
      }));
    }
    if (r.approval_reasons.includes("chain_capped") && this.canDecide) {
      box.append(el("div", { class: "warn-line", "data-testid": "approval-warning",
        "data-warning": "chain_capped", text: t("areason.chain_capped") }));
    }
    return box;
  }

  renderAttachments() {
    if (!this.attachmentsBox) return;
    const items = this.attachments;
    const title = `${t("att.title")}${items?.length ? ` (${items.length})` : ""}`;
    this.attachmentsBox.dataset.loaded = String(items !== null);
    this.attachmentsBox.replaceChildren(
      el("h3", { text: title }),
      items === null ? el("div", { class: "muted", text: t("wf.loading") }) : attachmentList(items),
    );
  }

  renderTimeline() {
    if (!this.timelineBox) return;
    const list = el("ol", { class: "timeline", "data-testid": "approval-timeline" });
    for (const e of this.events) {
      list.append(el(
        "li",
        { "data-event": e.event },
        el("span", { class: "num muted", text: when(e.at) }),
        el("strong", { text: t(`revent.${e.event}`) }),
        el("span", { text: eventNote(e) }),
      ));
    }
    this.timelineBox.replaceChildren(el("h3", { text: t("ap.timeline") }), list);
  }

  renderDecision() {
    this.note = el("textarea", {
      class: "input",
      rows: 2,
      maxLength: 500,
      placeholder: t("ap.note_hint"),
      "data-testid": "approval-note",
    });
    const approve = el("button", { type: "button", class: "btn btn-primary", "data-testid": "approval-approve", text: t("ap.approve") });
    const reject = el("button", { type: "button", class: "btn btn-reject", "data-testid": "approval-reject", text: t("ap.reject") });
    approve.addEventListener("click", () => this.decide("approve"));
    reject.addEventListener("click", () => this.decide("reject"));
    return el(
      "div",
      { class: "decision" },
      el("label", { class: "field" }, el("span", { text: t("ap.note") }), this.note),
      el("div", { class: "decision-actions" }, reject, approve),
    );
  }

  renderMessage() {
    const [state, text] = this.message;
    const box = el("div", { class: "ap-message", "data-testid": "approval-message", "data-state": state }, el("span", { text: text() }));
    if (state === "stale") {
      const reload = el("button", { type: "button", class: "btn btn-small", "data-testid": "approval-reload", text: t("wf.refresh") });
      reload.addEventListener("click", () => this.onDecided(null));
      box.append(reload);
    }
    return box;
  }

  async decide(event) {
    const r = this.request;
    const note = this.note.value.trim();
    if (event === "reject" && !note) {
      this.message = ["invalid", () => t("ap.reason_required")];
      this.render();
      this.note?.focus();
      return;
    }
    const level = r.approved_levels + 1;
    try {
      const after = await api(`/api/v1/trip-requests/${r.id}/events`, {
        method: "POST",
        body: { event, version: r.version, note },
      });
      const key = event === "reject" ? "ap.rejected" : "ap.approved";
      this.message = ["done", () => t(key, { id: r.id, level, total: r.approval_levels })];
      this.request = after;
      this.canDecide = false;
      this.render();
      this.onDecided(after);
      this.events = await api(`/api/v1/trip-requests/${r.id}/events`).catch(() => this.events);
      if (this.request === after) this.renderTimeline();
    } catch (err) {
      if (err.code === "stale_version") this.message = ["stale", () => t("wf.stale")];
      else this.message = ["error", () => err.message];
      this.render();
    }
  }

  drawMap(box, r) {
    const stops = [r.origin, ...r.destinations].map((p, i) => ({
      lat: p.lat, lon: p.lon, label: i === 0 ? t("ap.pin_origin") : String(i), origin: i === 0,
    }));
    if (this.picker && this.mapFor === r.id) {
      this.picker.invalidate();
      this.picker.showStops(stops); // relabelled in the current language
      return;
    }
    this.mapFor = r.id;
    this.picker = new PlacePicker(box, this.config, { onClick: () => {} });
    if (this.boundaries) this.picker.setBoundaries(this.boundaries);
    this.picker.showStops(stops);
    this.picker.fit(stops);
  }
}
