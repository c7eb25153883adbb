-- Telemetry: positions (the hottest table), latest state, dead letters.
--
-- Sizing: a few thousand cars for a year is ~1-2 billion rows, so each column is the
-- smallest type that keeps the device's precision: double for lat/lon (the terminals send
-- 6-7 decimals; real would cost ~1 m), real for speeds and levels, smallint heading, and the
-- device referenced by an integer id rather than its text uid. About 100 bytes a row with
-- the tuple header; daily partitions (Asia/Shanghai days) make retention a DROP TABLE.
CREATE TABLE positions (
    vehicle_id    integer NOT NULL,
    device_id     integer NOT NULL,
    ts            timestamptz NOT NULL,            -- device time (GNSS fix time)
    seq           integer,                         -- per-device sequence, with ts identifies a duplicate
    received_at   timestamptz NOT NULL,            -- when the platform got it
    lat           double precision NOT NULL,
    lon           double precision NOT NULL,
    speed_kmh     real,
    heading_deg   smallint,
    acc           boolean,
    fix           boolean NOT NULL DEFAULT true,
    odometer_km   double precision,
    fuel_l        real,
    soc_pct       real,
    alarm         bigint NOT NULL DEFAULT 0        -- JT/T 808 alarm bits (unsigned 32-bit: bit 31 is used)
) PARTITION BY RANGE (ts);

CREATE UNIQUE INDEX positions_identity ON positions (device_id, ts, seq) NULLS NOT DISTINCT;
CREATE INDEX positions_vehicle_ts ON positions (vehicle_id, ts);

-- Catches anything outside the daily partitions so that no position is refused.
CREATE TABLE positions_default PARTITION OF positions DEFAULT;

-- Creates the daily partitions (Asia/Shanghai days) for [from_day, to_day]; idempotent.
-- Rows of that day already caught by the default partition (a write that raced the creation)
-- are moved into the new partition first, since a default partition holding rows of the new
-- range would make the ATTACH fail.
CREATE FUNCTION ensure_position_partitions(from_day date, to_day date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    d date;
    created integer := 0;
    part text;
    lower_ts timestamptz;
    upper_ts timestamptz;
BEGIN
    FOR d IN SELECT generate_series(from_day, to_day, interval '1 day')::date LOOP
        part := 'positions_' || to_char(d, 'YYYYMMDD');
        IF to_regclass(part) IS NULL THEN
            lower_ts := d::timestamp AT TIME ZONE 'Asia/Shanghai';
            upper_ts := (d + 1)::timestamp AT TIME ZONE 'Asia/Shanghai';
            EXECUTE format('CREATE TABLE %I (LIKE positions INCLUDING DEFAULTS)', part);
            EXECUTE format(
                'WITH moved AS (DELETE FROM positions_default WHERE ts >= %L AND ts < %L RETURNING *)
                 INSERT INTO %I SELECT * FROM moved', lower_ts, upper_ts, part);
            EXECUTE format('ALTER TABLE positions ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                part, lower_ts, upper_ts);
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END $$;

SELECT ensure_position_partitions((now() AT TIME ZONE 'Asia/Shanghai')::date - 2,
                                  (now() AT TIME ZONE 'Asia/Shanghai')::date + 7);

-- The newest position of each vehicle (Redis holds the same for the live console).
CREATE TABLE latest_vehicle_state (
    vehicle_id    integer PRIMARY KEY REFERENCES vehicles(id),
    device_id     integer NOT NULL REFERENCES devices(id),
    ts            timestamptz NOT NULL,
    received_at   timestamptz NOT NULL,
    lat           double precision NOT NULL,
    lon           double precision NOT NULL,
    speed_kmh     real,
    heading_deg   smallint,
    acc           boolean,
    odometer_km   double precision,
    fuel_l        real,
    soc_pct       real,
    alarm         bigint NOT NULL DEFAULT 0
);

-- A message that could not be used, kept whole with the reason (never silently dropped).
CREATE TABLE dead_letters (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at   timestamptz NOT NULL,
    topic         text NOT NULL,
    payload       bytea NOT NULL,
    reason        text NOT NULL,                   -- machine code: bad_json, missing_field, ...
    detail        text NOT NULL DEFAULT '',
    device_uid    text
);
CREATE INDEX dead_letters_received ON dead_letters (received_at);
CREATE INDEX dead_letters_reason ON dead_letters (reason);
