// "新建申请": the request form. Stops (origin, destinations) are placed by clicking the map
// or picking a named place; each shows the city it lies in (the locate endpoint refuses a
// point outside the nine cities). Attachments (附件) chosen here are uploaded once the draft
// exists, one by one, each with its result. Save as a draft, or submit and show the pre-check
// outcome (a refused attachment keeps the request a draft).
import { api } from "./api.js";
import { ACCEPT, PendingFiles } from "./attachments.js";
import { el } from "./dom.js";
import { FormOutcome } from "./form_outcome.js";
import { localDayStartMs, toLocalInput } from "./format.js";
import { localName, t } from "./i18n.js";
import { NamedPlaces } from "./named_places.js";
import { PlacePicker } from "./place_picker.js";
import { cities, emergencyText, reasonsLine } from "./trip_format.js";

const $ = (root, testid) => root.querySelector(`[data-testid="${testid}"]`);
const HOUR_MS = 3600 * 1000;
const MAX_DESTINATIONS = 10;

function emptyStop(role) {
  return { role, name: "", lat: null, lon: null, city: null };
}

/** "2026-11-24T09:00" typed in Asia/Shanghai → an ISO instant with its offset. */
function shanghaiIso(localValue) {
  return localValue ? `${localValue}:00+08:00` : null;
}

function names(text) {
  return text.split(/[,，、;；\s]+/).map((s) => s.trim()).filter(Boolean);
}

export class RequestForm {
  constructor(root, config, me, { onChanged }) {
    this.root = root;
    this.me = me;
    this.onChanged = onChanged;
    this.form = $(root, "rf-form");
    this.stopsBox = $(root, "rf-stops");
    this.placeError = $(root, "rf-place-error");
    this.outcome = new FormOutcome($(root, "rf-outcome"));
    this.filesInput = $(root, "rf-files");
    this.filesInput.accept = ACCEPT;
    this.files = new PendingFiles($(root, "rf-file-list"));
    this.named = new NamedPlaces(
      { city: $(root, "rf-place-city"), search: $(root, "rf-place-search"), results: $(root, "rf-place-results") },
      { onChoose: (place) => this.choosePlace(place) },
    );
    this.placeCity = $(root, "rf-place-city");
    this.picker = new PlacePicker($(root, "rf-map"), config, {
      onClick: (lat, lon) => this.pickPoint(lat, lon),
    });
    this.reset();
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.save(true);
    });
    $(root, "rf-save-draft").addEventListener("click", () => this.save(false));
    $(root, "rf-reset").addEventListener("click", () => this.reset());
    $(root, "rf-add-destination").addEventListener("click", () => this.addDestination());
    $(root, "rf-round-trip").addEventListener("change", () => this.syncChecks());
    this.filesInput.addEventListener("change", () => {
      this.files.add([...this.filesInput.files]);
      this.filesInput.value = ""; // the same file may be chosen again after removing it
    });
    this.named.start(me.scope_org?.city_code ?? "");
    api("/api/v1/map/layers")
      .then((layers) => this.picker.setBoundaries(layers.city_boundaries))
      .catch(() => null);
  }

  // --- the form's state ---

  reset() {
    this.stops = [emptyStop("origin"), emptyStop("destination")];
    this.active = 0;
    this.draft = null; // {id, version} while a saved draft is being edited
    this.files.reset(); // attachments chosen here
    const placeCity = this.placeCity.value; // the named places' filter is no request field
    this.form.reset();
    this.placeCity.value = placeCity;
    if (this.named.loaded) this.named.load(); // the search box was cleared
    const tomorrow = localDayStartMs(Date.now()) + 24 * HOUR_MS;
    $(this.root, "rf-start").value = toLocalInput(tomorrow + 9 * HOUR_MS);
    $(this.root, "rf-end").value = toLocalInput(tomorrow + 17 * HOUR_MS);
    this.outcome.hide();
    this.placeError.classList.add("hidden");
    this.syncChecks();
    this.renderStops();
  }

  /** Edit a saved draft (from the list): its fields, stops and version. */
  loadDraft(request) {
    this.reset();
    this.draft = { id: request.id, version: request.version };
    const set = (testid, value) => {
      $(this.root, testid).value = value ?? "";
    };
    set("rf-trip-type", request.trip_type);
    set("rf-car-level", request.car_level_wanted ?? "");
    set("rf-reason", request.reason);
    set("rf-passengers", request.passengers.join("，"));
    set("rf-passenger-count", request.passenger_count);
    set("rf-start", toLocalInput(Date.parse(request.planned_start)));
    set("rf-end", toLocalInput(Date.parse(request.planned_end)));
    set("rf-contact-phone", request.contact_phone);
    $(this.root, "rf-round-trip").checked = request.round_trip;
    $(this.root, "rf-driver-waits").checked = request.driver_waits;
    $(this.root, "rf-carpool").checked = request.carpool_allowed;
    const toStop = (role, p) => ({
      role, name: p.name, lat: p.lat, lon: p.lon,
      city: cities.get(p.city_code) ?? { code: p.city_code, name_zh: p.city_code, name_en: p.city_code },
    });
    this.stops = [toStop("origin", request.origin), ...request.destinations.map((d) => toStop("destination", d))];
    this.active = this.stops.length - 1;
    this.syncChecks();
    this.renderStops();
    this.picker.fit(this.stops);
    this.root.scrollIntoView({ behavior: "smooth", block: "start" });
  }

  syncChecks() {
    const roundTrip = $(this.root, "rf-round-trip").checked;
    const waits = $(this.root, "rf-driver-waits");
    waits.disabled = !roundTrip;
    if (!roundTrip) waits.checked = false;
    $(this.root, "rf-draft-label").textContent = this.draft ? t("rq.editing_draft", { id: this.draft.id }) : "";
  }

  addDestination() {
    if (this.stops.length - 1 >= MAX_DESTINATIONS) return;
    this.stops.push(emptyStop("destination"));
    this.active = this.stops.length - 1;
    this.renderStops();
  }

  // --- stops ---

  label(index) {
    return index === 0 ? t("rq.pin_origin") : String(index);
  }

  renderStops() {
    this.stopsBox.replaceChildren();
    this.stops.forEach((stop, index) => {
      const isOrigin = stop.role === "origin";
      const name = el("input", {
        class: "input stop-name",
        value: stop.name,
        maxLength: 100,
        placeholder: t(isOrigin ? "rq.origin_hint" : "rq.destination_hint"),
        "data-testid": "place-name",
        "aria-label": isOrigin ? t("wf.origin") : `${t("wf.destination")} ${index}`,
      });
      name.addEventListener("input", () => {
        stop.name = name.value;
      });
      name.addEventListener("focus", () => this.activate(index, false));
      const pick = el("button", {
        type: "button",
        class: `stop-pick${isOrigin ? " origin" : ""}`,
        title: t("rq.pick_here"),
        "data-testid": "place-pick",
        text: this.label(index),
      });
      pick.addEventListener("click", () => this.activate(index));
      const city = el("span", {
        class: `stop-city${stop.city ? "" : " muted"}`,
        "data-testid": "place-city",
        "data-city-code": stop.city?.code ?? "",
        text: stop.city ? localName(stop.city) : t("rq.no_point"),
      });
      const row = el(
        "div",
        {
          class: "stop-row",
          "data-testid": "place-row",
          "data-role": stop.role,
          "data-index": String(index),
          "aria-current": index === this.active ? "true" : null,
        },
        pick,
        el("span", { class: "stop-role", text: isOrigin ? t("wf.origin") : t("wf.destination") }),
        name,
        city,
      );
      if (!isOrigin && this.stops.length > 2) {
        const remove = el("button", {
          type: "button",
          class: "stop-remove",
          title: t("rq.remove"),
          "aria-label": t("rq.remove"),
          "data-testid": "place-remove",
          text: "×",
        });
        remove.addEventListener("click", () => {
          this.stops.splice(index, 1);
          this.active = Math.min(this.active, this.stops.length - 1);
          this.renderStops();
        });
        row.append(remove);
      }
      this.stopsBox.append(row);
    });
    this.picker.showStops(
      this.stops.map((s, i) => ({ ...s, label: this.label(i), active: i === this.active, origin: i === 0 })),
    );
  }

  activate(index, render = true) {
    if (this.active === index) return;
    this.active = index;
    if (render) this.renderStops();
    else {
      for (const row of this.stopsBox.children) {
        row.toggleAttribute("aria-current", Number(row.dataset.index) === index);
      }
    }
  }

  /** The next stop to fill after one was placed: the first without a point, else stay. */
  advance() {
    const empty = this.stops.findIndex((s, i) => i > this.active && s.lat == null);
    const anyEmpty = empty >= 0 ? empty : this.stops.findIndex((s) => s.lat == null);
    if (anyEmpty >= 0) this.active = anyEmpty;
  }

  async pickPoint(lat, lon) {
    this.placeError.classList.add("hidden");
    let city;
    try {
      city = await api(`/api/v1/places/locate?lat=${lat.toFixed(6)}&lon=${lon.toFixed(6)}`);
    } catch (err) {
      const outside = err.code === "outside_service_area";
      this.placeError.textContent = outside ? t("rq.outside") : t("wf.error", { message: err.message });
      this.placeError.dataset.code = err.code;
      this.placeError.classList.remove("hidden");
      return;
    }
    const stop = this.stops[this.active];
    Object.assign(stop, { lat: Number(lat.toFixed(6)), lon: Number(lon.toFixed(6)), city });
    if (!stop.name.trim() || stop.autoName) {
      stop.name = t("rq.map_point", { city: localName(city), lat: lat.toFixed(4), lon: lon.toFixed(4) });
      stop.autoName = true;
    }
    this.advance();
    this.renderStops();
  }

  choosePlace(place) {
    this.placeError.classList.add("hidden");
    const stop = this.stops[this.active];
    Object.assign(stop, {
      name: place.name_zh,
      lat: place.lat,
      lon: place.lon,
      autoName: false,
      city: cities.get(place.city_code) ?? {
        code: place.city_code, name_zh: place.city_name_zh, name_en: place.city_name_en,
      },
    });
    this.picker.flyTo(place.lat, place.lon);
    this.advance();
    this.renderStops();
  }

  relabel() {
    this.named.relabel();
    this.renderStops();
    this.files.render();
    this.syncChecks();
    this.outcome.relabel();
  }

  // --- saving and submitting ---

  body() {
    const value = (testid) => $(this.root, testid).value;
    const checked = (testid) => $(this.root, testid).checked;
    const place = (s) => ({ name: s.name.trim(), lat: s.lat, lon: s.lon, city_code: s.city.code });
    return {
      trip_type: value("rf-trip-type"),
      reason: value("rf-reason").trim(),
      passengers: names(value("rf-passengers")),
      passenger_count: Number(value("rf-passenger-count")),
      planned_start: shanghaiIso(value("rf-start")),
      planned_end: shanghaiIso(value("rf-end")),
      origin: place(this.stops[0]),
      destinations: this.stops.slice(1).map(place),
      round_trip: checked("rf-round-trip"),
      driver_waits: checked("rf-round-trip") && checked("rf-driver-waits"),
      car_level_wanted: value("rf-car-level") || null,
      carpool_allowed: checked("rf-carpool"),
      contact_phone: value("rf-contact-phone").trim(),
    };
  }

  /** What is missing, in the person's words (the API checks again). */
  problem() {
    const value = (testid) => $(this.root, testid).value;
    if (value("rf-reason").trim().length < 2) return t("rq.need_reason");
    const count = Number(value("rf-passenger-count"));
    if (!(count >= 1 && count <= 60)) return t("rq.need_count");
    if (names(value("rf-passengers")).length > count) return t("rq.too_many_names");
    const start = Date.parse(shanghaiIso(value("rf-start")) ?? "");
    const end = Date.parse(shanghaiIso(value("rf-end")) ?? "");
    if (!(start < end)) return t("rq.need_times");
    if (this.stops.some((s) => s.lat == null || !s.name.trim())) return t("rq.need_places");
    return null;
  }

  async save(submit) {
    const problem = this.problem();
    if (problem) {
      this.outcome.show("invalid", () => this.problem());
      return;
    }
    if (this.files.hasRefused()) {
      this.outcome.show("invalid", () => t("att.remove_refused_first"));
      return;
    }
    const buttons = [$(this.root, "rf-submit"), $(this.root, "rf-save-draft")];
    buttons.forEach((b) => (b.disabled = true));
    try {
      let request = this.draft
        ? await api(`/api/v1/trip-requests/${this.draft.id}`, {
            method: "PUT",
            body: { ...this.body(), version: this.draft.version },
          })
        : await api("/api/v1/trip-requests", { method: "POST", body: this.body() });
      this.draft = { id: request.id, version: request.version };
      this.syncChecks();
      // The draft exists: now its attachments, each with its own result.
      if (await this.files.upload(request.id)) {
        this.outcome.show("refused", () => t("att.not_all_uploaded", { id: request.id }), "attachment_refused");
        return;
      }
      const attached = this.files.uploadedNames();
      if (!submit) {
        this.outcome.show("saved", () => [t("rq.saved", { id: request.id }), this.attachedLine(attached)]);
      } else {
        try {
          request = await api(`/api/v1/trip-requests/${request.id}/events`, {
            method: "POST",
            body: { event: "submit", version: request.version },
          });
        } catch (err) {
          this.syncChecks();
          this.showRefusal(err);
          return;
        }
        this.reset();
        this.showSubmitted(request, attached);
      }
    } catch (err) {
      this.outcome.show("error", () => t("wf.error", { message: err.message }));
    } finally {
      buttons.forEach((b) => (b.disabled = false));
      this.onChanged();
    }
  }

  attachedLine(names) {
    return names.length ? t("att.uploaded_line", { names: names.join("、") }) : null;
  }

  showRefusal(err) {
    const lines = () => {
      if (err.code !== "car_level_not_allowed") return t("rq.refused", { message: err.message });
      const allowed = (err.details?.allowed_car_levels ?? []).map((l) => t(`level.${l}`)).join("、");
      return [t("rq.refused_car_level", { allowed }), t("rq.still_draft", { id: this.draft?.id ?? "" })];
    };
    this.outcome.show("refused", lines, err.code);
  }

  showSubmitted(request, attached = []) {
    const state = request.state === "pending_approval" ? "pending" : "dispatching";
    const lines = () => [...this.submittedLines(request), this.attachedLine(attached)];
    this.outcome.show(state, lines, null, {
      levels: String(request.approval_levels),
      warnings: request.precheck_warnings.join(","),
      requestId: String(request.id),
      attachments: String(attached.length),
    });
  }

  submittedLines(request) {
    const lines = [];
    if (request.state === "pending_approval") {
      lines.push(t("rq.submitted", { id: request.id, levels: request.approval_levels }));
      if (request.approval_reasons.length) {
        lines.push(reasonsLine(request.approval_reasons));
      }
    } else {
      lines.push(t("rq.submitted_emergency", { id: request.id }));
      const emergency = emergencyText(request);
      if (emergency) lines.push(emergency);
    }
    for (const warning of request.precheck_warnings) lines.push(t(`warning.${warning}`));
    return lines;
  }
}
