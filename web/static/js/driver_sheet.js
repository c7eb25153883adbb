// The bottom sheet for the steps that need input: 出车 (odometer), 还车 (odometer and the
// 行车日志 costs), 申请改派 (a reason). `openSheet(order, event, send)` resolves when sent or
// cancelled; `send(body)` throws an ApiError that is shown in the sheet.
import { el } from "./dom.js";
import { t } from "./i18n.js";
import { km } from "./driver_format.js";

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);

function numberField(name, label, { value = "", step = "0.01", hint = "" } = {}) {
  return el(
    "label",
    { class: "d-field" },
    el("span", { class: "d-field-label", text: label }),
    el("input", {
      class: "d-input num", name, type: "number", inputMode: "decimal", min: "0", step,
      value: value === null || value === undefined ? "" : String(value), "data-testid": `field-${name}`,
    }),
    hint ? el("span", { class: "d-field-hint", text: hint }) : null,
  );
}

function energyFields(order) {
  const fuel = [numberField("fuel_cny", t("drv.fuel_cny")), numberField("fuel_l", t("drv.fuel_l"))];
  const charge = [numberField("fuel_cny", t("drv.charge_cny")), numberField("charge_kwh", t("drv.charge_kwh"))];
  if (order.energy_type === "bev") return charge;
  if (order.energy_type === "phev") {
    return [numberField("fuel_cny", t("drv.energy_cny")), numberField("fuel_l", t("drv.fuel_l")),
      numberField("charge_kwh", t("drv.charge_kwh"))];
  }
  return fuel;
}

/** What each sheet asks, and how its answers become the event's body. */
function layout(order, event) {
  if (event === "depart") {
    const hint = order.last_odometer_km != null ? t("drv.odometer_hint", { km: km(order.last_odometer_km) }) : "";
    return {
      title: t("drv.sheet.depart"),
      fields: [numberField("odometer_km", t("drv.odometer"), { value: order.last_odometer_km, step: "0.1", hint })],
      submit: t("drv.submit.depart"),
    };
  }
  if (event === "return") {
    const start = order.odometer_start_km;
    const guess = Math.max(order.last_odometer_km ?? 0, start ?? 0) || null;
    return {
      title: t("drv.sheet.return"),
      fields: [
        numberField("odometer_km", t("drv.odometer"), {
          value: guess, step: "0.1", hint: start != null ? t("drv.odometer_start", { km: km(start) }) : "",
        }),
        el("div", { class: "d-grid2" },
          numberField("tolls_cny", t("drv.tolls")), numberField("parking_cny", t("drv.parking")),
          ...energyFields(order),
          numberField("nights_out_of_town", t("drv.nights"), { value: 0, step: "1" })),
      ],
      submit: t("drv.submit.return"),
    };
  }
  return {
    title: t("drv.sheet.reassign"),
    fields: [el("label", { class: "d-field" },
      el("span", { class: "d-field-label", text: t("drv.reassign_reason") }),
      el("textarea", { class: "d-input d-textarea", name: "note", rows: 3, maxLength: 500, placeholder: t("drv.reassign_placeholder"), "data-testid": "field-note" }))],
    submit: t("drv.submit.reassign"),
  };
}

/** The body of the event from the form, or an error message to show. */
function readForm(form, order, event) {
  const body = {};
  for (const input of form.querySelectorAll("input[name]")) {
    const text = input.value.trim();
    if (text !== "") body[input.name] = input.name === "nights_out_of_town" ? parseInt(text, 10) : Number(text);
  }
  if (event === "request_reassignment") {
    const note = form.querySelector("textarea[name=note]").value.trim();
    return note ? { body: { note } } : { error: t("drv.error.reason_required") };
  }
  if (body.odometer_km === undefined || Number.isNaN(body.odometer_km)) {
    return { error: t("drv.error.odometer_required") };
  }
  if (event === "return" && order.odometer_start_km != null && body.odometer_km < order.odometer_start_km) {
    return { error: t("drv.error.odometer_backwards", { km: km(order.odometer_start_km) }) };
  }
  for (const key of ["tolls_cny", "parking_cny", "fuel_cny", "fuel_l", "charge_kwh"]) {
    if (key in body) body[key] = body[key].toFixed(2);
  }
  return { body };
}

export function openSheet(order, event, send, describeError) {
  const dialog = $("step-sheet");
  const form = $("step-form");
  const error = $("sheet-error");
  const submit = $("sheet-submit");
  const spec = layout(order, event);
  $("sheet-title").textContent = spec.title;
  $("sheet-sub").textContent = `${order.plate} · ${t("drv.order_no", { id: order.id })}`;
  $("sheet-fields").replaceChildren(...spec.fields);
  submit.textContent = spec.submit;
  submit.disabled = false;
  error.classList.add("hidden");
  dialog.dataset.event = event;
  return new Promise((resolve) => {
    const close = (sent) => {
      form.onsubmit = null;
      form.oninput = null;
      $("sheet-cancel").onclick = null;
      dialog.onclose = null;
      if (dialog.open) dialog.close();
      resolve(sent);
    };
    $("sheet-cancel").onclick = () => close(false);
    dialog.onclose = () => close(false);
    form.oninput = () => error.classList.add("hidden");
    form.onsubmit = async (e) => {
      e.preventDefault();
      const { body, error: problem } = readForm(form, order, event);
      if (problem) {
        error.textContent = problem;
        error.classList.remove("hidden");
        return;
      }
      submit.disabled = true;
      submit.textContent = t("drv.busy");
      try {
        await send(body);
        close(true);
      } catch (err) {
        error.textContent = describeError(err);
        error.classList.remove("hidden");
        submit.disabled = false;
        submit.textContent = spec.submit;
      }
    };
    dialog.showModal();
  });
}
