// The console's vehicles: the websocket snapshot, then positions and device status merged in.
import { deriveStatus } from "./status.js";

export class VehicleStore {
  constructor() {
    this.items = new Map();
    this.loaded = false;
    this._listeners = { reset: new Set(), update: new Set() };
  }

  on(event, listener) {
    this._listeners[event].add(listener);
  }

  _emit(event, payload) {
    for (const listener of this._listeners[event]) listener(payload);
  }

  get(id) {
    return this.items.get(id);
  }

  all() {
    return this.items.values();
  }

  /** Replaces everything (a new snapshot after (re)connecting). */
  reset(items, nowMs) {
    this.items = new Map();
    for (const item of items) {
      item.status = deriveStatus(item, nowMs);
      this.items.set(item.id, item);
    }
    this.loaded = true;
    this._emit("reset", this.items);
  }

  /** Newer fixes replace older ones; late data (older than what is shown) is ignored. */
  applyPositions(states, nowMs) {
    const changed = [];
    for (const state of states) {
      const item = this.items.get(state.vehicle_id);
      if (!item) continue;
      if (item.state && item.state.ts_ms > state.ts_ms) continue;
      item.state = state;
      item.status = deriveStatus(item, nowMs);
      changed.push(item);
    }
    if (changed.length) this._emit("update", { items: changed, positions: true });
  }

  applyStatuses(statuses, nowMs) {
    const changed = [];
    for (const message of statuses) {
      const item = this.items.get(message.vehicle_id);
      if (!item) continue;
      item.device_status = message.status;
      const status = deriveStatus(item, nowMs);
      if (status !== item.status) {
        item.status = status;
        changed.push(item);
      }
    }
    if (changed.length) this._emit("update", { items: changed, positions: false });
  }

  /** Re-derives statuses as time passes (a silent device becomes offline). */
  tick(nowMs) {
    const changed = [];
    for (const item of this.items.values()) {
      const status = deriveStatus(item, nowMs);
      if (status !== item.status) {
        item.status = status;
        changed.push(item);
      }
    }
    if (changed.length) this._emit("update", { items: changed, positions: false });
  }
}
