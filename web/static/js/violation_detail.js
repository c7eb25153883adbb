// One violation in detail, for the inspector (decide) or the unit (answer): what happened, the
// evidence played back on the map, the unit's answers with their files, the audit trail, and
// the moves this user may make now (the API's allowed_events).
import { api } from "./api.js";
import { attachmentList } from "./attachments.js";
import { el } from "./dom.js";
import { EvidenceMap, EvidencePlayer } from "./evidence_map.js";
import { t } from "./i18n.js";
import { when } from "./trip_format.js";
import { AnswerForm } from "./violation_answer.js";
import {
  eventName,
  message,
  moveError,
  ruleLabel,
  severityBadge,
  stateBadge,
  summaryFacts,
  timeSpan,
  unitName,
} from "./violation_format.js";

const INSPECTOR_EVENTS = ["send", "confirm", "dismiss", "refer", "close"];
const NEEDS_REASON = new Set(["confirm", "dismiss", "refer"]);

export class ViolationDetail {
  constructor(root, config, { onChanged }) {
    this.root = root;
    this.onChanged = onChanged;
    this.v = null;
    this.revision = null;
    this.playback = null;
    this.noteEvent = null; // the move just made, said under the buttons
    this.head = el("div", { class: "vd-head" });
    this.facts = el("div", { class: "vd-facts" });
    this.mapBox = el("div", { class: "vd-map", "data-testid": "evidence-map" });
    this.controls = el("div", { class: "vd-player", "data-testid": "evidence-player" });
    this.evidenceHead = el("div", { class: "vd-evidence-head" });
    this.actions = el("div", { class: "vd-actions", "data-testid": "review-actions" });
    this.answers = el("div", { class: "vd-answers", "data-testid": "explanations" });
    this.audit = el("div", { class: "vd-audit" });
    this.empty = el("div", { class: "list-note", text: t("vi.pick") });
    this.body = el("div", { class: "vd-body hidden" }, this.head, this.facts,
      el("section", { class: "vd-evidence" }, this.evidenceHead, this.mapBox, this.controls),
      this.actions, this.answers, this.audit);
    root.replaceChildren(this.empty, this.body);
    this.map = new EvidenceMap(this.mapBox, config);
    this.player = new EvidencePlayer(this.controls, this.map);
  }

  async show(id) {
    this.noteEvent = null;
    const [v, playback] = await Promise.all([
      api(`/api/v1/violations/${id}`),
      api(`/api/v1/violations/${id}/playback`).catch(() => null),
    ]);
    const same = this.v?.id === v.id;
    this.v = v;
    this.playback = playback;
    if (!same) this.revision = v.evidence.length ? v.evidence[v.evidence.length - 1].revision : null;
    this.root.dataset.violationId = String(v.id);
    this.root.dataset.state = v.state;
    this.empty.classList.add("hidden");
    this.body.classList.remove("hidden");
    this.render();
    if (!same) this.drawEvidence();
  }

  clear() {
    this.v = null;
    this.root.dataset.violationId = "";
    this.empty.classList.remove("hidden");
    this.body.classList.add("hidden");
  }

  bundle() {
    return this.v.evidence.find((e) => e.revision === this.revision)?.bundle ?? {};
  }

  render() {
    if (!this.v) return;
    const v = this.v;
    this.head.replaceChildren(
      el("div", { class: "vd-title" },
        el("h2", { "data-testid": "violation-title", text: `#${v.id} ${ruleLabel(v.rule_id)}` }),
        severityBadge(v.severity), stateBadge(v.state)),
      el("div", { class: "vd-message", "data-testid": "violation-message", text: message(v) }),
    );
    this.renderFacts();
    this.renderEvidenceHead();
    this.renderActions();
    this.renderAnswers();
    this.renderAudit();
    this.player.relabel();
  }

  renderFacts() {
    const v = this.v;
    const bundle = this.bundle();
    const facts = el("dl", { class: "facts", "data-testid": "violation-facts" });
    const fact = (key, value) => facts.append(el("dt", { text: t(key) }), el("dd", { text: value }));
    if (v.plate) fact("vi.facts.vehicle", v.plate);
    fact("vi.facts.unit", unitName(v));
    if (v.driver_name) fact("vi.facts.driver", v.driver_name);
    fact("vi.facts.time", timeSpan(v));
    for (const [key, value] of summaryFacts(v.summary)) fact(key, value);
    const orders = bundle.orders ?? [];
    if (orders.length) fact("vi.facts.orders", orders.map((o) => `#${o.id}`).join("、"));
    else if (bundle.orders_checked) {
      fact("vi.facts.orders", t("vi.facts.none_orders", { from: when(bundle.orders_checked.from), to: when(bundle.orders_checked.to) }));
    }
    fact("vi.facts.detected", when(v.detected_at));
    if (v.explanation_due) fact("vi.facts.due", v.explanation_due);
    const params = Object.entries(v.params ?? {}).filter(([, value]) => typeof value !== "object")
      .map(([k, value]) => `${k}=${value}`).join(" · ");
    if (params) fact("vi.facts.params", `v${v.params_version} · ${params}`);
    const parts = [facts];
    if (bundle.report) parts.push(this.reportBox(bundle));
    this.facts.replaceChildren(...parts);
  }

  reportBox(bundle) {
    const r = bundle.report;
    const box = el("dl", { class: "facts vd-report", "data-testid": "public-report" });
    const fact = (key, value) => box.append(el("dt", { text: t(key) }), el("dd", { text: value }));
    fact("vi.public_report", r.description);
    fact("vi.report_place", r.place || `${r.lat?.toFixed(5)}, ${r.lon?.toFixed(5)}`);
    if (r.contact) fact("vi.report_contact", r.contact);
    const verdict = bundle.match?.verdict ?? "unmatched";
    const distance = bundle.match?.nearest_m != null ? ` (${Math.round(bundle.match.nearest_m)} m)` : "";
    fact("vi.verdict", t(`vi.verdict.${verdict}`) + distance);
    return box;
  }

  renderEvidenceHead() {
    const v = this.v;
    const parts = [el("h3", { text: t("vi.evidence") })];
    if (v.evidence.length > 1) {
      const select = el("select", { class: "input", "data-testid": "evidence-revision" });
      for (const e of v.evidence) {
        select.append(el("option", { value: String(e.revision), selected: e.revision === this.revision, text: t("vi.revision", { n: e.revision, reason: e.reason }) }));
      }
      select.addEventListener("change", () => {
        this.revision = Number(select.value);
        this.renderFacts();
        this.drawEvidence();
      });
      parts.push(select);
    } else if (v.evidence.length) {
      parts.push(el("span", { class: "muted small", text: t("vi.revision", { n: v.evidence[0].revision, reason: v.evidence[0].reason }) }));
    }
    if (v.position_withheld) parts.push(el("span", { class: "warn-line", "data-testid": "evidence-withheld", text: t("vi.withheld") }));
    const legend = el("span", { class: "vd-legend small muted" },
      el("i", { class: "lg lg-track" }), t("vi.legend.track"), el("i", { class: "lg lg-trigger" }), t("vi.legend.trigger"),
      el("i", { class: "lg lg-zone" }), t("vi.legend.zone"), el("i", { class: "lg lg-route" }), t("vi.legend.route"));
    parts.push(legend);
    this.evidenceHead.replaceChildren(...parts);
  }

  drawEvidence() {
    const points = this.playback?.points ?? [];
    this.map.show(this.bundle(), points);
    this.player.load(this.playback);
  }

  renderActions() {
    const v = this.v;
    const mine = v.allowed_events;
    const inspectorMoves = INSPECTOR_EVENTS.filter((e) => mine.includes(e));
    const box = [el("h3", { text: t("vi.actions") })];
    if (inspectorMoves.length) box.push(this.inspectorForm(inspectorMoves));
    if (mine.includes("explain") || mine.includes("rectify")) {
      box.push(new AnswerForm(v, mine.includes("explain") ? "explanation" : "rectification", {
        onDone: (fresh) => this.changed(fresh, "explain"),
      }).root);
    }
    if (!inspectorMoves.length && !mine.includes("explain") && !mine.includes("rectify")) {
      box.push(el("div", { class: "muted", "data-testid": "review-none", text: t("vi.no_actions") }));
    }
    if (this.noteEvent) {
      box.push(el("div", { class: "vd-note", role: "status", "data-testid": "review-message", text: t("vi.done", { event: eventName(this.noteEvent) }) }));
    }
    this.actions.replaceChildren(...box);
  }

  inspectorForm(moves) {
    const reason = el("textarea", { class: "input", rows: 3, maxLength: 2000, "data-testid": "review-reason", placeholder: t("vi.reason_hint") });
    const form = el("div", { class: "vd-form" }, el("label", { class: "field" }, el("span", { text: t("vi.reason") }), reason));
    let deadline = null;
    if (moves.includes("send")) {
      deadline = el("input", { class: "input vd-deadline", type: "number", min: "1", max: "30", value: "3", "data-testid": "review-deadline" });
      form.append(el("label", { class: "field vd-deadline-field" }, el("span", { text: t("vi.deadline") }), deadline));
    }
    const error = el("div", { class: "vd-error hidden", role: "alert", "data-testid": "review-error" });
    const buttons = el("div", { class: "vd-buttons" });
    for (const event of moves) {
      const kind = event === "confirm" || event === "refer" ? "btn-danger-solid" : event === "send" ? "btn-primary" : "";
      const button = el("button", { type: "button", class: `btn ${kind}`, "data-testid": `review-${event}`, text: eventName(event) });
      button.addEventListener("click", async () => {
        const why = reason.value.trim();
        if (NEEDS_REASON.has(event) && !why) {
          error.textContent = t("vi.err.reason_required");
          error.classList.remove("hidden");
          reason.focus();
          return;
        }
        for (const b of buttons.children) b.disabled = true;
        const body = { event, version: this.v.version, reason: why };
        if (event === "send") body.deadline_working_days = Number(deadline.value) || 3;
        try {
          const fresh = await api(`/api/v1/violations/${this.v.id}/events`, { method: "POST", body });
          await this.changed(fresh, event);
        } catch (err) {
          error.textContent = moveError(err);
          error.classList.remove("hidden");
          for (const b of buttons.children) b.disabled = false;
          if (err.code === "stale_version" || err.code === "illegal_transition") await this.show(this.v.id);
        }
      });
      buttons.append(button);
    }
    form.append(error, buttons);
    return form;
  }

  async changed(fresh, event) {
    this.v = fresh;
    this.noteEvent = event;
    this.root.dataset.state = fresh.state;
    this.render();
    this.onChanged?.(fresh);
  }

  renderAnswers() {
    const items = this.v.explanations;
    const parts = [el("h3", { text: t("vi.explanations") })];
    if (!items.length) parts.push(el("div", { class: "muted", text: t("vi.no_explanations") }));
    for (const x of items) {
      parts.push(el("article", { class: "vd-answer", "data-testid": "explanation", "data-kind": x.kind },
        el("div", { class: "vd-answer-head" }, el("strong", { text: t(`vi.kind.${x.kind}`) }),
          el("span", { class: "muted small", text: `${x.submitted_by_name} · ${when(x.submitted_at)}` })),
        el("p", { class: "vd-answer-text", text: x.text }),
        x.attachments.length ? attachmentList(x.attachments) : null));
    }
    this.answers.replaceChildren(...parts);
  }

  renderAudit() {
    const list = el("ol", { class: "timeline vd-trail", "data-testid": "audit-trail" });
    for (const a of this.v.audit) {
      const states = a.from_state || a.to_state
        ? `${a.from_state ? t(`vstate.${a.from_state}`) : "—"} → ${a.to_state ? t(`vstate.${a.to_state}`) : "—"}` : "";
      list.append(el("li", { "data-testid": "audit-entry", "data-action": a.action },
        el("span", { class: "num muted", text: when(a.at) }),
        el("strong", { text: eventName(a.action) }),
        el("span", { text: a.actor_name ?? t("vi.audit_system") }),
        el("span", { class: "muted", text: states }),
        a.reason ? el("span", { class: "vd-reason", text: a.reason }) : null,
        el("code", { class: "vd-hash muted", title: a.hash, text: a.hash.slice(0, 10) })));
    }
    this.audit.replaceChildren(el("h3", { text: t("vi.audit") }), list);
  }
}
