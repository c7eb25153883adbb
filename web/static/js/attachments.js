// Attachments (附件) of a trip request, shared by the requester's and approver's pages: upload
// one file (multipart), list, delete; the list with download links, a file picker, and a
// file's upload result (name, size, uploaded or refused with the reason). The server judges
// the file by its bytes; the page refuses only what it can see: too large or empty.
import "./i18n/attachments.js";
import { ApiError, api } from "./api.js";
import { el } from "./dom.js";
import { t } from "./i18n.js";
import { when } from "./trip_format.js";

export const MAX_SIZE_BYTES = 10 * 1024 * 1024;
export const MAX_PER_REQUEST = 10;
export const EDITABLE_STATES = new Set(["draft", "submitted", "pending_approval"]);
export const ACCEPT = [
  ".pdf", ".jpg", ".jpeg", ".png", ".docx", ".xlsx", "application/pdf", "image/jpeg", "image/png",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
].join(",");
const KIND_LABELS = {
  "application/pdf": "PDF",
  "image/jpeg": "JPG",
  "image/png": "PNG",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
};

const base = (requestId) => `/api/v1/trip-requests/${requestId}/attachments`;

export function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** A refusal the page can make without sending the file, or null. */
export function localRefusal(file) {
  if (file.size > MAX_SIZE_BYTES) return new ApiError(413, "attachment_too_large", "too large", null);
  if (file.size === 0) return new ApiError(422, "empty_attachment", "empty", null);
  return null;
}

export async function uploadAttachment(requestId, file) {
  const refused = localRefusal(file);
  if (refused) throw refused;
  const body = new FormData();
  body.append("file", file, file.name);
  let response;
  try {
    response = await fetch(base(requestId), {
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

export const listAttachments = (requestId) => api(base(requestId));
export const deleteAttachment = (requestId, id) => api(`${base(requestId)}/${id}`, { method: "DELETE" });

/** Why a file was refused, in the reader's language. */
export function refusalText(err) {
  if (err.code === "unsupported_attachment_type" && err.details?.detected) {
    return t("att.err.name_mismatch", { extension: err.details.extension, detected: err.details.detected.toUpperCase() });
  }
  const key = `att.err.${err.code}`;
  const text = t(key);
  return text === key ? t("att.err.other", { message: err.message }) : text;
}

/** The attachments with their download links (and delete buttons, armed by a first click). */
export function attachmentList(items, { onDelete = null } = {}) {
  const list = el("ul", { class: "att-list", "data-testid": "attachment-list" });
  if (!items.length) {
    list.append(el("li", { class: "muted att-none", "data-testid": "attachment-none", text: t("att.none") }));
    return list;
  }
  for (const a of items) {
    const item = el(
      "li",
      { class: "att-item", "data-testid": "attachment-item", "data-attachment-id": String(a.id), "data-filename": a.filename },
      el("span", { class: "att-kind", text: KIND_LABELS[a.content_type] ?? "FILE" }),
      el("a", {
        class: "att-name",
        href: a.download_url,
        download: a.filename,
        title: `${t("att.download")} ${a.filename}`,
        "data-testid": "attachment-download",
        text: a.filename,
      }),
      el("span", { class: "att-size num muted", text: formatSize(a.size_bytes) }),
      el("span", { class: "att-by muted small", text: t("att.uploaded_by", { name: a.uploaded_by_name, at: when(a.uploaded_at) }) }),
    );
    if (onDelete) {
      const remove = el("button", { type: "button", class: "btn btn-small att-delete", "data-testid": "attachment-delete", text: t("att.delete") });
      remove.addEventListener("click", () => {
        if (remove.dataset.armed === "true") {
          remove.disabled = true;
          onDelete(a);
        } else {
          remove.dataset.armed = "true";
          remove.textContent = t("att.delete_confirm");
          remove.classList.add("danger");
        }
      });
      item.append(remove);
    }
    list.append(item);
  }
  return list;
}

/** A "choose files" button around a hidden (still focusable) file input. */
export function filePicker(testid, labelKey, onFiles) {
  const input = el("input", { type: "file", multiple: true, accept: ACCEPT, class: "file-input", "data-testid": testid });
  input.addEventListener("change", () => {
    const files = [...input.files];
    input.value = ""; // the same file may be chosen again after a refusal
    if (files.length) onFiles(files);
  });
  return el("label", { class: "btn btn-small file-pick" }, input, el("span", { text: t(labelKey) }));
}

/** One file on its way: {file, status: waiting|uploading|uploaded|refused, error, meta}. */
export function fileStatusRow(entry, onRemove = null) {
  const reason = entry.status === "refused" ? refusalText(entry.error) : "";
  const row = el(
    "li",
    { class: `file-status ${entry.status}`, "data-testid": "file-status", "data-status": entry.status, "data-name": entry.file.name, "data-code": entry.error?.code ?? "" },
    el("span", { class: "att-name", text: entry.meta?.filename ?? entry.file.name }),
    el("span", { class: "att-size num muted", text: formatSize(entry.file.size) }),
    el("span", { class: "file-state", text: t(`att.status.${entry.status}`) }),
  );
  if (onRemove) {
    const remove = el("button", { type: "button", class: "file-remove", title: t("att.remove"), "aria-label": t("att.remove"), "data-testid": "file-remove", text: "×" });
    remove.addEventListener("click", () => onRemove(entry));
    row.append(remove);
  }
  if (reason) row.append(el("span", { class: "file-reason", "data-testid": "file-reason", text: reason }));
  return row;
}

/** Files chosen but not (all) on the server yet, shown in `listBox` with their results:
 * entries {file, status: waiting|uploading|uploaded|refused, error, meta}. */
export class PendingFiles {
  constructor(listBox) {
    this.listBox = listBox;
    this.entries = [];
  }

  /** Adds chosen files; those the page can refuse already (too large, empty, one too many
   * beyond `liveCount` attachments on the server, by default those uploaded from here) are
   * marked so. */
  add(files, liveCount = null) {
    const active = (e) => e.status === "waiting" || e.status === "uploading";
    let count = (liveCount ?? this.entries.filter((e) => e.status === "uploaded").length)
      + this.entries.filter(active).length;
    for (const file of files) {
      let error = localRefusal(file);
      if (!error && count >= MAX_PER_REQUEST) error = new ApiError(409, "too_many_attachments", "too many", null);
      if (!error) count += 1;
      this.entries.push({ file, status: error ? "refused" : "waiting", error, meta: null });
    }
    this.render();
  }

  reset() {
    this.entries = [];
    this.render();
  }

  /** Forgets the finished ones (uploaded or refused) before a new batch. */
  clearFinished() {
    this.entries = this.entries.filter((e) => e.status === "waiting" || e.status === "uploading");
  }

  hasRefused() {
    return this.entries.some((e) => e.status === "refused");
  }

  uploadedNames() {
    return this.entries.filter((e) => e.status === "uploaded").map((e) => e.meta.filename);
  }

  render() {
    this.listBox.replaceChildren(...this.entries.map((entry) => fileStatusRow(
      entry,
      entry.status === "waiting" || entry.status === "refused" ? (e) => this.remove(e) : null,
    )));
  }

  remove(entry) {
    this.entries = this.entries.filter((e) => e !== entry);
    this.render();
  }

  /** Uploads the waiting files one after the other; how many were refused. */
  async upload(requestId) {
    let refused = 0;
    for (const entry of this.entries.filter((e) => e.status === "waiting")) {
      entry.status = "uploading";
      this.render();
      try {
        entry.meta = await uploadAttachment(requestId, entry.file);
        entry.status = "uploaded";
      } catch (err) {
        entry.status = "refused";
        entry.error = err;
        refused += 1;
      }
      this.render();
    }
    return refused;
  }
}
