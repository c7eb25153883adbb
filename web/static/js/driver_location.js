// 共享位置: for a car without a GPS terminal, on the road for an order, the phone's position
// goes to POST /api/v1/driver/location about every 10 s (the platform relays it into the
// telemetry pipeline as the car's 'phone' device). The driver switches it on; it resumes after
// a reload (remembered per order) and stops by itself when the order is back.
import { api } from "./api.js";
import { t } from "./i18n.js";
import { hhmmss } from "./driver_format.js";
import { ON_THE_ROAD } from "./driver_cards.js";

const SEND_EVERY_MS = 10_000;
const STORAGE_KEY = "fleet.driver.share";

export class LocationSharing {
  constructor({ onChange, onOrderGone }) {
    this.onChange = onChange; // re-render the status
    this.onOrderGone = onOrderGone; // the server says there is no such order any more
    this.orderId = null;
    this.watchId = null;
    this.timer = null;
    this.latest = null; // the newest fix from the phone
    this.sentTs = null; // the newest fix sent
    this.status = { state: "off", key: "", params: {} };
  }

  /** { state: off | starting | on | error, text } of the order's sharing, in today's language. */
  statusFor(orderId) {
    const { state, key, params } = orderId === this.orderId ? this.status : { state: "off", key: "" };
    return { state, text: key ? t(key, params) : "" };
  }

  setStatus(state, key = "", params = {}) {
    this.status = { state, key, params };
    this.onChange();
  }

  /** After every load: stop if the order is no longer on the road; resume a remembered one. */
  sync(orders) {
    const wanted = orders.find((o) => o.shares_phone_location && ON_THE_ROAD.has(o.state)
      && String(o.id) === localStorage.getItem(STORAGE_KEY));
    if (this.orderId != null && !orders.some((o) => o.id === this.orderId && ON_THE_ROAD.has(o.state))) {
      this.stop("drv.share.stopped");
    }
    if (wanted && this.orderId == null) this.start(wanted);
  }

  toggle(order) {
    if (this.orderId === order.id) this.stop("");
    else this.start(order);
  }

  start(order) {
    if (this.orderId != null) this.stop("");
    this.orderId = order.id;
    localStorage.setItem(STORAGE_KEY, String(order.id));
    if (!("geolocation" in navigator)) {
      this.setStatus("error", "drv.share.unsupported");
      return;
    }
    this.setStatus("starting", "drv.share.starting");
    this.watchId = navigator.geolocation.watchPosition(
      (position) => {
        const first = this.latest == null;
        this.latest = position;
        if (first) this.send();
      },
      (error) => this.setStatus("error", error.code === 1 ? "drv.share.denied" : "drv.share.unavailable"),
      { enableHighAccuracy: true, maximumAge: 5000, timeout: 30000 },
    );
    this.timer = setInterval(() => this.send(), SEND_EVERY_MS);
  }

  stop(key) {
    if (this.watchId != null) navigator.geolocation.clearWatch(this.watchId);
    clearInterval(this.timer);
    this.watchId = this.timer = this.latest = this.sentTs = null;
    this.orderId = null;
    localStorage.removeItem(STORAGE_KEY);
    this.setStatus("off", key);
  }

  async send() {
    const position = this.latest;
    if (!position || position.timestamp === this.sentTs || this.orderId == null) return;
    const { latitude, longitude, accuracy, speed, heading } = position.coords;
    const body = {
      lat: latitude,
      lon: longitude,
      accuracy_m: Math.min(Math.round(accuracy * 10) / 10, 100000),
      speed_kmh: speed == null || Number.isNaN(speed) ? null : Math.round(speed * 36) / 10,
      heading_deg: heading == null || Number.isNaN(heading) ? null : Math.min(heading, 360),
      ts: new Date(position.timestamp).toISOString(),
    };
    try {
      await api("/api/v1/driver/location", { method: "POST", body });
      this.sentTs = position.timestamp;
      this.setStatus("on", "drv.share.on", { time: hhmmss(position.timestamp), acc: Math.round(accuracy) });
    } catch (err) {
      if (err.status === 409) {
        this.stop("drv.share.stopped");
        this.onOrderGone();
      } else {
        this.setStatus("error", "drv.share.failed", { message: err.message });
      }
    }
  }
}
