// The two answers of a rental company to an order: accept with one of its cars and one of its
// drivers (the chooser shows which fit the order: seats, class, documents, free in its window
// with the 30-min buffer), or reject with a reason. Both go through /api/v1/rental/orders/{id}.
import { api } from "./api.js";
import { el } from "./dom.js";
import { currentLang, t } from "./i18n.js";
import { timeRange } from "./rental_cards.js";

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);
const QUICK_REASONS = ["rt.quick.full", "rt.quick.level", "rt.quick.driver", "rt.quick.area"];

export function errorText(err) {
  const key = `rt.err.${err?.code}`;
  const text = t(key);
  return text === key ? err?.message ?? String(err) : text;
}

function showError(testid, err) {
  const box = $(testid);
  box.textContent = err ? errorText(err) : "";
  box.classList.toggle("hidden", !err);
}

function summary(order) {
  return `${t("rt.order", { id: order.id })} · ${timeRange(order.planned_start, order.planned_end)} · ${t(
    "rt.passengers_n",
    { n: order.passenger_count },
  )}`;
}

function carLabel(car) {
  const city = currentLang() === "en" ? car.home_city_name_en : car.home_city_name_zh;
  return [
    car.plate,
    t(`level.${car.car_level}`),
    t("rt.seats_n", { n: car.seats }),
    t(`energy.${car.energy_type}`),
    city,
  ].join(" · ");
}

function carNotes(car) {
  const notes = [];
  if (car.reason) notes.push(t(`rt.reason.${car.reason}`));
  else notes.push(t("rt.fits"));
  if (car.documents_valid && car.documents_expiring.length) notes.push(t("rt.docs_expiring"));
  if (car.busy_now) notes.push(t("rt.busy_now"));
  return notes.join(" · ");
}

function driverNotes(driver) {
  const notes = [driver.reason ? t(`rt.reason.${driver.reason}`) : t("rt.fits")];
  if (driver.busy_now) notes.push(t("rt.busy_now"));
  if (!driver.has_login) notes.push(t("rt.no_login"));
  return notes.join(" · ");
}

function option(name, item, label, notes, onPick) {
  const input = el("input", { type: "radio", name, value: String(item.id), disabled: !item.fits });
  input.addEventListener("change", onPick);
  return el(
    "label",
    {
      class: `rt-option${item.fits ? "" : " unfit"}`,
      "data-testid": `${name}-option`,
      "data-id": String(item.id),
      "data-fits": String(Boolean(item.fits)),
    },
    input,
    el(
      "span",
      { class: "rt-option-text" },
      el("span", { class: "rt-option-label", text: label }),
      el("span", { class: "rt-option-notes muted small", text: notes }),
    ),
  );
}

/** The accept and reject dialogs; `latest(id)` gives the order as last loaded (its version),
 * `done(message)` is called after a successful answer, `refresh()` after a failed one. */
export class AnswerDialogs {
  constructor({ latest, done, refresh }) {
    this.latest = latest;
    this.done = done;
    this.refresh = refresh;
    this.order = null;
    this.accept = $("accept-dialog");
    this.reject = $("reject-dialog");
    for (const id of ["accept-close", "accept-cancel"]) $(id).addEventListener("click", () => this.accept.close());
    for (const id of ["reject-close", "reject-cancel"]) $(id).addEventListener("click", () => this.reject.close());
    $("accept-confirm").addEventListener("click", () => this.sendAccept());
    $("reject-confirm").addEventListener("click", () => this.sendReject());
    $("reject-reason").addEventListener("input", () => this.checkReason());
  }

  open(order, kind) {
    this.order = order;
    if (kind === "accept") this.openAccept(order);
    else this.openReject(order);
  }

  async openAccept(order) {
    $("accept-summary").textContent = summary(order);
    showError("accept-error", null);
    $("accept-confirm").disabled = true;
    $("car-options").replaceChildren(el("div", { class: "muted", text: t("rt.loading_fleet") }));
    $("driver-options").replaceChildren();
    this.accept.showModal();
    try {
      const fleet = await api(`/api/v1/rental/fleet?order_id=${order.id}`);
      this.renderFleet(fleet);
    } catch (err) {
      $("car-options").replaceChildren();
      showError("accept-error", err);
    }
  }

  renderFleet(fleet) {
    const pick = () => this.checkChoice();
    const fitsFirst = (a, b) => Number(b.fits) - Number(a.fits);
    const cars = [...fleet.cars].sort(fitsFirst);
    const drivers = [...fleet.drivers].sort(fitsFirst);
    $("car-options").replaceChildren(
      ...(cars.length
        ? cars.map((c) => option("car", c, carLabel(c), carNotes(c), pick))
        : [el("div", { class: "muted", text: t("rt.no_cars") })]),
    );
    $("driver-options").replaceChildren(
      ...(drivers.length
        ? drivers.map((d) =>
            option("driver", d, [d.name, d.phone].join(" · "), driverNotes(d), pick),
          )
        : [el("div", { class: "muted", text: t("rt.no_drivers") })]),
    );
  }

  chosen(name) {
    const input = this.accept.querySelector(`input[name=${name}]:checked`);
    return input ? Number(input.value) : null;
  }

  checkChoice() {
    $("accept-confirm").disabled = !(this.chosen("car") && this.chosen("driver"));
  }

  async sendAccept() {
    const order = this.latest(this.order.id) ?? this.order;
    const button = $("accept-confirm");
    button.disabled = true;
    try {
      const body = { version: order.version, vehicle_id: this.chosen("car"), driver_id: this.chosen("driver") };
      const result = await api(`/api/v1/rental/orders/${order.id}/accept`, { method: "POST", body });
      this.accept.close();
      this.done(t("rt.done.accepted", { id: order.id, plate: result.plate, driver: result.driver_name }));
    } catch (err) {
      showError("accept-error", err);
      button.disabled = false;
      this.refresh();
    }
  }

  openReject(order) {
    $("reject-summary").textContent = summary(order);
    showError("reject-error", null);
    const reason = $("reject-reason");
    reason.value = "";
    $("reject-quick").replaceChildren(
      ...QUICK_REASONS.map((key) => {
        const chip = el("button", { type: "button", class: "btn btn-small rt-chip", "data-testid": "reject-chip", text: t(key) });
        chip.addEventListener("click", () => {
          reason.value = t(key);
          this.checkReason();
        });
        return chip;
      }),
    );
    this.checkReason();
    this.reject.showModal();
    reason.focus();
  }

  checkReason() {
    $("reject-confirm").disabled = !$("reject-reason").value.trim();
  }

  async sendReject() {
    const order = this.latest(this.order.id) ?? this.order;
    const button = $("reject-confirm");
    button.disabled = true;
    try {
      const body = { version: order.version, reason: $("reject-reason").value.trim() };
      await api(`/api/v1/rental/orders/${order.id}/reject`, { method: "POST", body });
      this.reject.close();
      this.done(t("rt.done.rejected", { id: order.id }));
    } catch (err) {
      showError("reject-error", err);
      button.disabled = false;
      this.refresh();
    }
  }
}
