-- Motion: trips (行程) and stops (停车) derived incrementally by the ingest worker, and the
-- per-vehicle detector state they are derived with.
--
-- A vehicle's timeline alternates stops and trips. The open (current) segment is stored too,
-- with end_ts NULL, and rewritten as positions arrive; closed segments change only when late
-- data (盲区补报) makes the worker recompute them. Keyed by (vehicle_id, start_ts).

CREATE TABLE trips (
    vehicle_id      integer NOT NULL REFERENCES vehicles(id),
    start_ts        timestamptz NOT NULL,
    end_ts          timestamptz,                     -- NULL while the trip is in progress
    start_lat       double precision NOT NULL,
    start_lon       double precision NOT NULL,
    end_lat         double precision NOT NULL,       -- last fix so far while open
    end_lon         double precision NOT NULL,
    dist_gnss_m     double precision NOT NULL,       -- along the fixes
    odo_start_km    double precision,                -- device odometer, else the GNSS odometer
    odo_end_km      double precision,
    odo_source      text NOT NULL CHECK (odo_source IN ('device', 'gnss')),
    max_speed_kmh   real NOT NULL,
    mean_speed_kmh  real NOT NULL,                   -- distance / duration
    duration_s      integer NOT NULL,
    detected_by     text NOT NULL CHECK (detected_by IN ('acc', 'speed')),
    position_count  integer NOT NULL,
    PRIMARY KEY (vehicle_id, start_ts)
);
CREATE INDEX trips_start ON trips (start_ts);

CREATE TABLE stops (
    vehicle_id      integer NOT NULL REFERENCES vehicles(id),
    start_ts        timestamptz NOT NULL,
    end_ts          timestamptz,                     -- NULL while the vehicle is still there
    lat             double precision NOT NULL,
    lon             double precision NOT NULL,
    duration_s      integer NOT NULL,
    gnss_odometer_m double precision NOT NULL,       -- the vehicle's GNSS odometer at the stop
    PRIMARY KEY (vehicle_id, start_ts)
);
CREATE INDEX stops_start ON stops (start_ts);

-- The detector state of each vehicle, so that a restarted worker, or another worker that gets
-- the vehicle (shared subscriptions), continues where the last one stopped. `version` grows
-- with every write: a worker whose cached version differs reloads the state.
CREATE TABLE vehicle_motion (
    vehicle_id      integer PRIMARY KEY REFERENCES vehicles(id),
    version         bigint NOT NULL,
    last_ts         timestamptz NOT NULL,            -- newest device time folded into the state
    state           jsonb NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Device status from silence as well as from the status topic (last will).
ALTER TABLE devices ADD COLUMN status_reason text NOT NULL DEFAULT ''
    CHECK (status_reason IN ('', 'status_topic', 'silence', 'data'));
