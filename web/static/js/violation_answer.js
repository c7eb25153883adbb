// The unit's answer to a violation (情况说明, or 整改情况 once confirmed): a text and files. Each
// chosen file is uploaded at once (the server judges it by its bytes) and sent with the text.
import { ApiError, api } from "./api.js";
import { fileStatusRow, filePicker, localRefusal } from "./attachments.js";
import { el } from "./dom.js";
import { t } from "./i18n.js";
import { moveError } from "./violation_format.js";

async function uploadFile(violationId, file) {
  const refused = localRefusal(file);
  if (refused) throw refused;
  const body = new FormData();
  body.append("file", file, file.name);
  let response;
  try {
    response = await fetch(`/api/v1/violations/${violationId}/attachments`, {
      method: "POST", body, credentials: "same-origin", headers: { Accept: "application/json" },
    });
  } catch (err) {
    throw new ApiError(0, "network_error", err.message || "network error");
  }
  if (response.status === 401) window.location.assign("/login");
  const payload = await response.json().catch(() => null);
  if (!response.ok) {
    const error = payload?.error ?? {};
    throw new ApiError(response.status, error.code ?? "http_error", error.message ?? `HTTP ${response.status}`, error.details);
  }
  return payload;
}

export class AnswerForm {
  constructor(violation, kind, { onDone }) {
    this.v = violation;
    this.kind = kind;
    this.onDone = onDone;
    this.entries = [];
    this.text = el("textarea", {
      class: "input", rows: 5, maxLength: 4000, "data-testid": "explain-text",
      placeholder: t(kind === "explanation" ? "ex.text_hint" : "ex.rectify_hint"),
    });
    this.files = el("ul", { class: "file-list", "data-testid": "explain-file-list" });
    this.error = el("div", { class: "vd-error hidden", role: "alert", "data-testid": "explain-error" });
    this.submit = el("button", { type: "button", class: "btn btn-primary", "data-testid": "explain-submit", text: t("ex.submit") });
    this.submit.addEventListener("click", () => this.send());
    this.root = el("div", { class: "vd-form", "data-testid": "explain-form", "data-kind": kind },
      el("label", { class: "field" }, el("span", { text: t(kind === "explanation" ? "ex.answer" : "ex.rectify") }), this.text),
      el("div", { class: "vd-files" }, filePicker("explain-files", "ex.attach", (files) => this.add(files)), this.files),
      this.error, el("div", { class: "vd-buttons" }, this.submit));
  }

  renderFiles() {
    this.files.replaceChildren(...this.entries.map((entry) => fileStatusRow(
      entry, entry.status === "uploading" ? null : (e) => {
        this.entries = this.entries.filter((x) => x !== e);
        this.renderFiles();
      })));
  }

  async add(files) {
    for (const file of files) {
      const entry = { file, status: "uploading", error: null, meta: null };
      this.entries.push(entry);
      this.renderFiles();
      try {
        entry.meta = await uploadFile(this.v.id, file);
        entry.status = "uploaded";
      } catch (err) {
        entry.status = "refused";
        entry.error = err;
      }
      this.renderFiles();
    }
  }

  async send() {
    const text = this.text.value.trim();
    if (!text) {
      this.showError(t("vi.err.reason_required"));
      this.text.focus();
      return;
    }
    if (this.entries.some((e) => e.status === "uploading")) return;
    this.submit.disabled = true;
    const ids = this.entries.filter((e) => e.status === "uploaded").map((e) => e.meta.id);
    try {
      const fresh = await api(`/api/v1/violations/${this.v.id}/explanations`, {
        method: "POST", body: { kind: this.kind, text, version: this.v.version, attachment_ids: ids },
      });
      this.onDone(fresh);
    } catch (err) {
      this.showError(moveError(err));
      this.submit.disabled = false;
    }
  }

  showError(text) {
    this.error.textContent = text;
    this.error.classList.remove("hidden");
  }
}
