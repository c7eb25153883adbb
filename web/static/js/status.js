// Vehicle status, mirrored from web/vehicle_state.py: the console re-derives it every
// second so that a car that stops reporting turns "offline" without any message.

export const STATUSES = ["moving", "idle", "parked", "offline", "no_data"];
export const MOVING_MIN_SPEED_KMH = 5;

export const STATUS_COLOURS = {
  moving: "#16a34a",
  idle: "#d97706",
  parked: "#2563eb",
  offline: "#7b8594",
  no_data: "#c2c8d0",
};

export function deriveStatus(item, nowMs) {
  const state = item.state;
  if (!state || state.ts_ms == null) return "no_data";
  if (item.device_status === "offline") return "offline";
  if (nowMs - state.ts_ms > item.offline_after_s * 1000) return "offline";
  const speed = state.speed_kmh ?? 0;
  if (state.acc == null) return speed >= MOVING_MIN_SPEED_KMH ? "moving" : "parked";
  if (!state.acc) return "parked";
  return speed >= MOVING_MIN_SPEED_KMH ? "moving" : "idle";
}
