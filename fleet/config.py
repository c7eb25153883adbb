"""The platform's settings: one validated class, built once at start-up and passed down.

Every field is read from an environment variable with the ``FLEET_`` prefix
(``FLEET_DATABASE_URL``, ``FLEET_HTTP_PORT`` ...). A URL left unset means "use the
embedded server" for ``fleet up``; the single-process commands need it set.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from telemetry.filters import FilterSettings
from telemetry.motion import MotionSettings
from telemetry.silence import SilenceSettings

DEFAULT_SECRET_KEY = "fleet-demo-secret-key-change-me"
DEFAULT_DEMO_PASSWORD = "fleet-demo"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLEET_", extra="ignore")

    database_url: str | None = Field(
        None,
        description="PostgreSQL URL, e.g. postgresql://postgres@127.0.0.1:5432/fleet. "
        "Unset: `fleet up` starts the embedded PostgreSQL (unix socket in the data dir).",
    )
    redis_url: str | None = Field(
        None,
        description="Redis URL, e.g. redis://127.0.0.1:6379/0. Unset: embedded Valkey.",
    )
    mqtt_url: str | None = Field(
        None,
        description="MQTT 3.1.1 broker URL, e.g. mqtt://127.0.0.1:1883. Unset: embedded amqtt broker.",
    )
    data_dir: Path = Field(
        Path(".fleet"), description="Where the embedded servers keep their data and logs."
    )
    demo: bool = Field(
        False,
        description="Demo mode: seeds demo accounts with FLEET_DEMO_PASSWORD and allows the "
        "built-in secret key. Never in production.",
    )
    demo_password: SecretStr = Field(
        SecretStr(DEFAULT_DEMO_PASSWORD), description="Password of the demo accounts (demo mode only)."
    )
    secret_key: SecretStr = Field(
        SecretStr(DEFAULT_SECRET_KEY),
        description="Key that signs session cookies; must be set outside demo mode.",
    )
    http_host: str = Field("127.0.0.1", description="Address the web app listens on.")
    http_port: int = Field(8000, description="Port the web app listens on.")
    session_max_age_s: int = Field(12 * 3600, description="Lifetime of a login session.")
    tile_url: str = Field(
        "/tiles/{z}/{x}/{y}.png",
        description="Basemap tile URL template. Default: offline OSM tiles (zoom 0-6) served "
        "by the app; point it at 天地图 or your own tile server in production.",
    )
    tile_max_native_zoom: int = Field(6, description="Highest zoom the tile source has.")
    tile_attribution: str = Field("© OpenStreetMap contributors")
    scenario_path: Path | None = Field(
        None, description="Scenario file to seed; default: the bundled Wuhan-circle scenario."
    )
    sim_interval_s: float = Field(5.0, description="Simulator: seconds between two reports of one device.")
    sim_parked_interval_s: float | None = Field(
        None, description="Simulator: report interval of a parked (ACC off) device; default max(interval, 30 s)."
    )
    sim_speedup: float = Field(1.0, description="Simulator: simulated seconds per wall-clock second.")
    sim_vehicles: int | None = Field(None, description="Simulator: drive only the first N vehicles.")
    sim_duration_s: float | None = Field(None, description="Simulator: stop after this many wall seconds.")
    sim_seed: int = Field(20261122, description="Simulator: random seed (same seed, same day).")
    sim_order_share: float = Field(
        0.9, ge=0.0, le=1.0,
        description="Simulator, demo mode: share of the random outings the units file with an "
        "approved trip request and its dispatch order before the car leaves (seeded); the rest "
        "are the demo's genuine violations.",
    )
    ingest_batch_size: int = Field(1000, description="Ingest: positions per COPY batch at most.")
    ingest_flush_ms: int = Field(
        0,
        description="Ingest: linger this long for a fuller batch (0: group commit, each batch is "
        "what arrived during the previous write; lingering holds unacked messages).",
    )
    ingest_client_id: str = Field("fleet-ingest", description="Ingest: MQTT client id (persistent session).")
    ingest_shared_group: str = Field(
        "",
        description="Ingest: MQTT shared-subscription group ($share/{group}/...): workers with the "
        "same group share the devices' messages. Empty: every worker gets every message.",
    )
    ingest_spool: bool = Field(
        True, description="Ingest: keep batches in a local spool file while PostgreSQL is away."
    )
    ingest_spool_path: Path | None = Field(
        None, description="Ingest: spool file; default {data_dir}/spool/{ingest_client_id}.sqlite."
    )
    ingest_motion: bool = Field(True, description="Ingest: derive trips and stops.")
    ingest_metrics_host: str = Field("127.0.0.1", description="Ingest: address of /metrics.")
    ingest_metrics_port: int = Field(
        9464, description="Ingest: port of the Prometheus /metrics endpoint (0: off)."
    )
    motion_reorder_window_s: int = Field(
        300, description="Trips: late positions within this (device time) are put in order in memory; "
        "older ones make the worker recompute the trips they fall into from storage."
    )
    motion_flush_s: float = Field(
        30.0, description="Trips: write an open trip or stop at least this often (device time); "
        "closed ones are written at once."
    )
    motion_start_speed_kmh: float = Field(5.0, description="Trips without ACC: this fast ...")
    motion_start_after_s: int = Field(60, description="... for this long starts a trip.")
    motion_stop_speed_kmh: float = Field(3.0, description="Trips without ACC: this slow ...")
    motion_stop_after_s: int = Field(300, description="... for this long ends it.")
    motion_min_trip_m: float = Field(500.0, description="Trips shorter than this are ignored.")
    motion_min_trip_s: int = Field(180, description="Trips shorter than this are ignored.")
    silence_intervals: float = Field(
        3.0, description="Device offline after this many expected report intervals without data."
    )
    silence_parked_interval_s: int = Field(
        300, description="Expected report interval of a parked (ACC off, sleeping) terminal."
    )
    filter_zero_coordinates: bool = Field(True, description="Filter: refuse lat = lon = 0.")
    filter_duplicates: bool = Field(True, description="Filter: drop a repeat of a recent (ts, seq).")
    filter_max_age_days: float | None = Field(
        30, description="Filter: refuse positions older than this (device time); empty = off."
    )
    filter_max_implied_speed_kmh: float | None = Field(
        250, description="Filter: refuse a jump faster than this from the last fix; empty = off."
    )
    filter_max_reported_speed_kmh: float | None = Field(
        220, description="Filter: refuse a terminal speed above this; empty = off."
    )
    rules_batch_size: int = Field(50, description="Rules: dirty vehicles claimed per round.")
    rules_tick_s: float = Field(
        60.0, description="Rules: the tick (R1 live, R4 check times, R7 silence, R14) every this often."
    )
    rules_poll_s: float = Field(1.0, description="Rules: pause when no vehicle is dirty.")
    rules_settle_s: float = Field(
        0.5, description="Rules: a mark this young waits (ingest writes its trips just after)."
    )
    rules_recent_h: float = Field(
        36.0, description="Rules: the tick looks again at vehicles with a fix this recent."
    )
    rules_max_days_back: int = Field(7, description="Rules: late data re-evaluates at most this many days.")
    rules_late_margin_s: int = Field(
        300, description="Rules: positions received this long before the last pass count as unfolded."
    )
    rules_reminder_max_age_s: int = Field(
        7200, description="Rules: no remote reminder for a WARN that ended longer ago than this."
    )
    redis_prefix: str = Field(
        "fleet", description="Prefix of Redis keys: {prefix}:latest (hash), {prefix}:live (channel)."
    )
    mqtt_topic_root: str = Field(
        "fleet/v1", description="Topic root of the device contract: {root}/devices/{uid}/telemetry."
    )
    embedded_mqtt_port: int = Field(18830, description="Port of the embedded broker (next free if taken).")
    embedded_redis_port: int = Field(16379, description="Port of the embedded Valkey (next free if taken).")
    log_level: str = Field("INFO")

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.demo:
            return self
        key = self.secret_key.get_secret_value()
        if key == DEFAULT_SECRET_KEY:
            raise ValueError(
                "FLEET_SECRET_KEY must be set outside demo mode (or run with FLEET_DEMO=true)"
            )
        if len(key) < 32:
            raise ValueError(
                "FLEET_SECRET_KEY must be at least 32 characters "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return self

    def filter_settings(self) -> FilterSettings:
        return FilterSettings(
            zero_coordinates=self.filter_zero_coordinates,
            duplicates=self.filter_duplicates,
            max_age_s=None if self.filter_max_age_days is None else self.filter_max_age_days * 86_400,
            max_implied_speed_kmh=self.filter_max_implied_speed_kmh,
            max_reported_speed_kmh=self.filter_max_reported_speed_kmh,
        )

    def motion_settings(self) -> MotionSettings:
        return MotionSettings(
            start_speed_kmh=self.motion_start_speed_kmh,
            start_after_s=self.motion_start_after_s,
            stop_speed_kmh=self.motion_stop_speed_kmh,
            stop_after_s=self.motion_stop_after_s,
            min_trip_dist_m=self.motion_min_trip_m,
            min_trip_s=self.motion_min_trip_s,
            reorder_window_s=self.motion_reorder_window_s,
        )

    def silence_settings(self) -> SilenceSettings:
        return SilenceSettings(
            intervals=self.silence_intervals, parked_interval_s=self.silence_parked_interval_s
        )

    def ingest_spool_file(self) -> Path:
        return self.ingest_spool_path or self.data_dir / "spool" / f"{self.ingest_client_id}.sqlite"

    def require_database_url(self) -> str:
        if not self.database_url:
            raise SystemExit("FLEET_DATABASE_URL not set: point it at your PostgreSQL")
        return self.database_url

    def require_web_urls(self) -> tuple[str, str]:
        """The web app needs the database and Redis, not the broker."""
        if not self.database_url or not self.redis_url:
            raise SystemExit(
                "FLEET_DATABASE_URL and FLEET_REDIS_URL must be set for `fleet web` "
                "(or run `fleet up`, which starts embedded servers)"
            )
        return self.database_url, self.redis_url

    def require_urls(self) -> tuple[str, str, str]:
        """The three server URLs, for a command that does not start embedded servers."""
        missing = [
            name
            for name, value in (
                ("FLEET_DATABASE_URL", self.database_url),
                ("FLEET_REDIS_URL", self.redis_url),
                ("FLEET_MQTT_URL", self.mqtt_url),
            )
            if not value
        ]
        if missing:
            raise SystemExit(
                f"{', '.join(missing)} not set: run `fleet up` for the embedded servers, "
                "or point these at your own"
            )
        assert self.database_url and self.redis_url and self.mqtt_url
        return self.database_url, self.redis_url, self.mqtt_url


def settings_help() -> str:
    """One line per setting, for `fleet --help`."""
    lines = []
    for name, field in Settings.model_fields.items():
        default = field.default
        if isinstance(default, SecretStr):
            default = "(secret)"
        lines.append(f"  FLEET_{name.upper():<24} {field.description or ''} [default: {default}]")
    return "\n".join(lines)
