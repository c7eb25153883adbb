// A proposal's routes on the console map: one coloured polyline per car from where it starts,
// through its numbered stops, back to its depot; a hovered or selected car's route on top.
import "./i18n/proposal.js";
import { t } from "./i18n.js";
import { when } from "./trip_format.js";

const L = window.L;
export const ROUTE_COLOURS = ["#1f5fbf", "#d9480f", "#2b8a3e", "#862e9c", "#c2255c", "#0b7285",
  "#5c940d", "#e67700", "#364fc7", "#a61e4d"];

export function routeColour(index) {
  return ROUTE_COLOURS[index % ROUTE_COLOURS.length];
}

export class ProposalLayer {
  constructor(fleetMap) {
    this.map = fleetMap.map;
    this.group = L.layerGroup().addTo(this.map);
    this.lines = new Map(); // vehicle id -> polyline
    this.stopCount = 0;
  }

  show(proposal) {
    this.clear();
    const bounds = [];
    proposal.routes.forEach((route, index) => {
      const colour = routeColour(index);
      const line = L.polyline(route.path, { color: colour, weight: 4, opacity: 0.85, pane: "selected" })
        .bindTooltip(`${route.plate} · ${t("pp.cny", { v: route.cost_cny.toFixed(2) })}`)
        .addTo(this.group);
      this.lines.set(route.vehicle_id, line);
      bounds.push(...route.path);
      for (const stop of route.stops) {
        const icon = L.divIcon({ className: `route-pin proposal-stop ${stop.kind}`,
          html: `<span style="background:${colour}">${stop.seq}</span>`, iconSize: [22, 22],
          iconAnchor: [11, 11] });
        L.marker([stop.lat, stop.lon], { icon, pane: "selected", keyboard: false })
          .bindTooltip(`${route.plate} ${t("pp.stop_line", { seq: stop.seq, time: when(stop.start).slice(11),
            kind: t(`pp.stop.${stop.kind}`), id: stop.request_id, name: stop.name })}`)
          .addTo(this.group);
        this.stopCount += 1;
      }
    });
    if (bounds.length) {
      this.map.flyToBounds(L.latLngBounds(bounds), {
        paddingTopLeft: [40, 40], paddingBottomRight: [460, 40], maxZoom: 13, duration: 0.5,
      });
    }
  }

  highlight(vehicleId) {
    for (const [id, line] of this.lines) {
      line.setStyle({ weight: id === vehicleId ? 7 : 4, opacity: vehicleId == null || id === vehicleId ? 0.9 : 0.35 });
      if (id === vehicleId) line.bringToFront();
    }
  }

  clear() {
    this.group.clearLayers();
    this.lines.clear();
    this.stopCount = 0;
  }

  snapshot() {
    return { routes: this.lines.size, stops: this.stopCount };
  }
}
