// The outcome line under the request form (saved, submitted, refused …): its text is a
// function, called again when the language changes; data-* attributes carry what tests read.
import { el } from "./dom.js";

const DATA_KEYS = ["levels", "warnings", "requestId", "attachments"];

export class FormOutcome {
  constructor(box) {
    this.box = box;
    this.last = null;
  }

  /** lines: a function giving one line or a list of lines (nulls skipped). */
  show(state, lines, code = null, data = {}, scroll = true) {
    this.last = [state, lines, code, data];
    this.box.replaceChildren(...[lines()].flat().filter(Boolean).map((line) => el("div", { text: line })));
    for (const key of DATA_KEYS) delete this.box.dataset[key];
    this.box.dataset.state = state;
    this.box.dataset.code = code ?? "";
    for (const [key, value] of Object.entries(data)) this.box.dataset[key] = value;
    this.box.classList.remove("hidden");
    if (scroll) this.box.scrollIntoView({ block: "nearest" });
  }

  relabel() {
    if (this.last) this.show(...this.last, false);
  }

  hide() {
    this.last = null;
    this.box.classList.add("hidden");
    this.box.replaceChildren();
  }
}
