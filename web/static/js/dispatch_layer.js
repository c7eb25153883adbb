// The dispatch drawings on the console map: the selected request's route (起 pickup, 终
// destinations), a line from each of the best cars to the pickup, and the orders on the road
// as flags at their destination with their state.
import "./i18n/dispatch.js";
import { t } from "./i18n.js";

const L = window.L;
const BEST_CARS_DRAWN = 3;

function pin(latlng, text, cls) {
  return L.marker(latlng, {
    pane: "selected",
    icon: L.divIcon({ className: `route-pin ${cls}`, html: text, iconSize: [22, 22], iconAnchor: [11, 11] }),
    keyboard: false,
  });
}

export class DispatchLayer {
  constructor(fleetMap) {
    this.fleetMap = fleetMap;
    this.map = fleetMap.map;
    this.route = L.layerGroup().addTo(this.map);
    this.road = L.layerGroup().addTo(this.map);
    this.routeCount = 0;
  }

  showRequest(request) {
    this.route.clearLayers();
    const origin = [request.origin.lat, request.origin.lon];
    const stops = request.destinations.map((d) => [d.lat, d.lon]);
    const line = [origin, ...stops];
    if (request.round_trip) line.push(origin);
    L.polyline(line, { color: "#b4232a", weight: 3, dashArray: "8 6", opacity: 0.9, pane: "selected",
      interactive: false }).addTo(this.route);
    pin(origin, t("pin.pickup"), "pickup").bindTooltip(request.origin.name).addTo(this.route);
    request.destinations.forEach((d, i) => {
      pin([d.lat, d.lon], request.destinations.length > 1 ? String(i + 1) : t("pin.dropoff"), "drop")
        .bindTooltip(d.name).addTo(this.route);
    });
    this.routeCount = line.length;
    this.map.flyToBounds(L.latLngBounds(line), {
      paddingTopLeft: [40, 40], paddingBottomRight: [400, 40], maxZoom: 13, duration: 0.6,
    });
  }

  /** Lines from the best cars that may go to the pickup. */
  showCandidates(offer) {
    const pickup = [offer.pickup.lat, offer.pickup.lon];
    for (const car of offer.cars.filter((c) => c.reason == null).slice(0, BEST_CARS_DRAWN)) {
      const at = this.fleetMap.markerLatLng(car.vehicle_id);
      if (!at) continue;
      L.polyline([at, pickup], { color: "#1f5fbf", weight: 1.5, dashArray: "2 5", pane: "selected",
        interactive: false }).addTo(this.route);
    }
  }

  clearRequest() {
    this.route.clearLayers();
    this.routeCount = 0;
  }

  showRoad(orders) {
    this.road.clearLayers();
    for (const order of orders) {
      const last = order.destinations[order.destinations.length - 1];
      if (!last) continue;
      const state = t(`ostate.${order.state}`);
      pin([last.lat, last.lon], "⚑", `road state-${order.state}`)
        .bindTooltip(t("order.on_map", { id: order.id, state, plate: order.plate }))
        .addTo(this.road);
    }
  }
}
