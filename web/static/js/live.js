// WS /ws/live with reconnection (exponential backoff with jitter) and a silence watchdog:
// the server pings every ~20 s, so 45 s without any message means the link is dead.

const WATCHDOG_MS = 45000;
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30000;

export class LiveConnection {
  constructor({ onMessage, onState }) {
    this.onMessage = onMessage;
    this.onState = onState;
    this.attempt = 0;
    this.socket = null;
    this.watchdog = null;
    this.retryTimer = null;
    this.countdownTimer = null;
    this.state = "connecting";
  }

  _setState(state, extra = {}) {
    this.state = state;
    this.onState(state, extra);
  }

  connect() {
    clearTimeout(this.retryTimer);
    clearInterval(this.countdownTimer);
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${window.location.host}/ws/live`);
    this.socket = socket;
    this._setState(this.attempt === 0 ? "connecting" : "reconnecting", { seconds: 0 });
    socket.addEventListener("message", (event) => {
      this._armWatchdog();
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.type === "snapshot") {
        this.attempt = 0;
        this._setState("live");
      }
      this.onMessage(message);
    });
    socket.addEventListener("close", (event) => this._closed(socket, event));
  }

  _armWatchdog() {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.socket?.close(4000, "silent"), WATCHDOG_MS);
  }

  _closed(socket, event) {
    if (socket !== this.socket) return;
    clearTimeout(this.watchdog);
    if (event.code === 4401) {
      window.location.assign("/login");
      return;
    }
    if (event.code === 4403) {
      this._setState("offline");
      return;
    }
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt);
    const waitMs = delay / 2 + Math.random() * (delay / 2);
    this.attempt += 1;
    const until = Date.now() + waitMs;
    const announce = () => {
      this._setState("reconnecting", { seconds: Math.max(0, Math.ceil((until - Date.now()) / 1000)) });
    };
    announce();
    this.countdownTimer = setInterval(announce, 1000);
    this.retryTimer = setTimeout(() => this.connect(), waitMs);
  }
}
