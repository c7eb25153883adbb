// 常用地点: the named places beside the map picker, filtered by city and searched by name;
// choosing one places the form's active stop there.
import { api } from "./api.js";
import { el } from "./dom.js";
import { localName, t } from "./i18n.js";
import { cities, cityName } from "./trip_format.js";

export class NamedPlaces {
  constructor({ city, search, results }, { onChoose }) {
    this.city = city;
    this.search = search;
    this.results = results;
    this.onChoose = onChoose;
    this.places = [];
    this.loaded = false;
    this.city.addEventListener("change", () => this.load());
    let typing = null;
    this.search.addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(() => this.load(), 250);
    });
  }

  /** Opens on the user's own city. */
  start(cityCode) {
    this.fillCities(cityCode);
    this.load();
  }

  fillCities(selected) {
    const current = this.city.value || selected;
    this.city.replaceChildren(el("option", { value: "", text: t("rq.all_cities") }));
    for (const city of cities.values()) {
      this.city.append(el("option", { value: city.code, text: localName(city) }));
    }
    this.city.value = current;
  }

  async load() {
    this.loaded = true;
    const params = new URLSearchParams({ limit: "60" });
    if (this.city.value) params.set("city_code", this.city.value);
    if (this.search.value.trim()) params.set("q", this.search.value.trim());
    try {
      this.places = await api(`/api/v1/places?${params}`);
    } catch {
      this.places = [];
    }
    this.render();
  }

  render() {
    this.results.replaceChildren();
    if (!this.places.length) {
      this.results.append(el("div", { class: "muted small pad", text: t("rq.no_places") }));
      return;
    }
    for (const place of this.places) {
      const option = el(
        "button",
        { type: "button", class: "place-option", role: "listitem", "data-testid": "place-option", "data-code": place.code },
        el("span", { class: "place-name", text: localName(place) }),
        el("span", { class: "muted small", text: `${cityName(place.city_code)} · ${t(`pkind.${place.kind}`)}` }),
      );
      option.addEventListener("click", () => this.onChoose(place));
      this.results.append(option);
    }
  }

  relabel() {
    this.fillCities(this.city.value);
    this.render();
  }
}
