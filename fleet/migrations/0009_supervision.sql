-- Supervision (issue #5): zones as the rules see them, the rules worker's bookkeeping, rule
-- parameters per organisation (versioned), holiday seals and duty registrations, violations
-- with frozen evidence, remote reminders with delivery and acknowledgement, the review with an
-- audit trail chained by hashes, and the public's reports.

-- 车辆分组: zones and rules may bind to a group of vehicles.
CREATE TABLE vehicle_groups (
    id                integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code              text NOT NULL UNIQUE,
    name_zh           text NOT NULL,
    name_en           text NOT NULL,
    org_id            integer NOT NULL REFERENCES organisations(id)
);
CREATE TABLE vehicle_group_members (
    group_id          integer NOT NULL REFERENCES vehicle_groups(id) ON DELETE CASCADE,
    vehicle_id        integer NOT NULL REFERENCES vehicles(id),
    PRIMARY KEY (group_id, vehicle_id)
);

-- 电子围栏, completed: a corridor's route, time windows and dates, whom it binds, its owner and
-- its version (a violation cites the version it was judged against).
ALTER TABLE geofences
    ADD COLUMN org_id integer REFERENCES organisations(id),            -- NULL: the province's
    ADD COLUMN line_geojson jsonb,                                     -- corridor: LineString [lon, lat]
    ADD COLUMN time_windows jsonb NOT NULL DEFAULT '[]',               -- [{"weekdays": [1..7], "from": "HH:MM", "to": "HH:MM"}]; [] = always
    ADD COLUMN valid_from date,
    ADD COLUMN valid_to date,
    ADD COLUMN applies_to text NOT NULL DEFAULT 'all' CHECK (applies_to IN ('all', 'group', 'vehicle')),
    ADD COLUMN vehicle_group_id integer REFERENCES vehicle_groups(id),
    ADD COLUMN vehicle_id integer REFERENCES vehicles(id),
    ADD COLUMN version integer NOT NULL DEFAULT 1,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT geofences_binding CHECK (
        (applies_to = 'group') = (vehicle_group_id IS NOT NULL)
        AND (applies_to = 'vehicle') = (vehicle_id IS NOT NULL)),
    ADD CONSTRAINT geofences_corridor CHECK (
        shape <> 'corridor' OR (line_geojson IS NOT NULL AND buffer_m > 0)),
    ADD CONSTRAINT geofences_dates CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from);

-- Every version of every zone, as it was (the API writes one row per change).
CREATE TABLE geofence_versions (
    geofence_id       integer NOT NULL REFERENCES geofences(id),
    version           integer NOT NULL,
    changed_at        timestamptz NOT NULL DEFAULT now(),
    changed_by        integer REFERENCES users(id),
    zone              jsonb NOT NULL,                                  -- the row, GeoJSON included
    PRIMARY KEY (geofence_id, version)
);

-- The rules worker (`fleet rules`). Ingest marks a vehicle dirty from the oldest device time it
-- stored (same transaction as the positions); dispatch changes mark the order's car (trigger
-- below). The worker claims dirty vehicles, folds their new positions into episodes (zone
-- visits, speeding, gaps, alarm bits) and re-evaluates the days concerned.
CREATE TABLE rule_dirty (
    vehicle_id        integer PRIMARY KEY REFERENCES vehicles(id),
    from_ts           timestamptz NOT NULL,
    marked_at         timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE rule_vehicle_state (
    vehicle_id        integer PRIMARY KEY REFERENCES vehicles(id),
    last_ts           timestamptz NOT NULL,                            -- newest device time folded in
    state             jsonb NOT NULL,                                  -- the episode trackers
    updated_at        timestamptz NOT NULL DEFAULT now()
);
-- The trackers' state at the start of each local day: late data replays from there.
CREATE TABLE rule_day_state (
    vehicle_id        integer NOT NULL REFERENCES vehicles(id),
    day               date NOT NULL,                                   -- Asia/Shanghai
    state             jsonb NOT NULL,
    PRIMARY KEY (vehicle_id, day)
);
-- What the trackers found in the positions, by device time. kind: zone (a visit with
-- persistence; key = zone id), speeding (key = ''), gap (no data; key = ''), alarm (a JT/T 808
-- alarm bit raised; key = the bit). end_ts NULL: still going on.
CREATE TABLE vehicle_episodes (
    vehicle_id        integer NOT NULL REFERENCES vehicles(id),
    kind              text NOT NULL CHECK (kind IN ('zone', 'speeding', 'gap', 'alarm')),
    key               text NOT NULL DEFAULT '',
    start_ts          timestamptz NOT NULL,
    end_ts            timestamptz,
    data              jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (vehicle_id, kind, key, start_ts)
);
CREATE INDEX vehicle_episodes_time ON vehicle_episodes (vehicle_id, start_ts);

-- A change to an order (car, window, state, actual times) or to an emergency's approval makes
-- the rules look at that car again from a day before the order.
CREATE FUNCTION mark_order_vehicle_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.vehicle_id IS NOT NULL THEN
        INSERT INTO rule_dirty (vehicle_id, from_ts)
        VALUES (OLD.vehicle_id, least(OLD.planned_start, coalesce(OLD.departed_at, OLD.planned_start)) - interval '1 day')
        ON CONFLICT (vehicle_id) DO UPDATE SET from_ts = least(rule_dirty.from_ts, EXCLUDED.from_ts),
            marked_at = now();
    END IF;
    IF NEW.vehicle_id IS NOT NULL THEN
        INSERT INTO rule_dirty (vehicle_id, from_ts)
        VALUES (NEW.vehicle_id, least(NEW.planned_start, coalesce(NEW.departed_at, NEW.planned_start)) - interval '1 day')
        ON CONFLICT (vehicle_id) DO UPDATE SET from_ts = least(rule_dirty.from_ts, EXCLUDED.from_ts),
            marked_at = now();
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER dispatch_orders_mark_dirty
    AFTER INSERT OR UPDATE OF vehicle_id, state, planned_start, planned_end, departed_at, returned_at
    ON dispatch_orders FOR EACH ROW EXECUTE FUNCTION mark_order_vehicle_dirty();

CREATE FUNCTION mark_request_vehicles_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rule_dirty (vehicle_id, from_ts)
    SELECT d.vehicle_id, min(d.planned_start) - interval '1 day'
    FROM dispatch_order_requests x JOIN dispatch_orders d ON d.id = x.order_id
    WHERE x.request_id = NEW.id AND d.vehicle_id IS NOT NULL
    GROUP BY d.vehicle_id
    ON CONFLICT (vehicle_id) DO UPDATE SET from_ts = least(rule_dirty.from_ts, EXCLUDED.from_ts),
        marked_at = now();
    RETURN NULL;
END $$;
CREATE TRIGGER trip_requests_mark_dirty
    AFTER UPDATE OF emergency_approved, state ON trip_requests
    FOR EACH ROW WHEN (OLD.emergency_approved IS DISTINCT FROM NEW.emergency_approved
                       OR OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION mark_request_vehicles_dirty();

-- 规则参数: every parameter of every rule, per organisation (NULL: the platform's default),
-- versioned; a violation records the version and the values in force.
CREATE TABLE rule_params (
    id                integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id            integer REFERENCES organisations(id),
    rule_id           text NOT NULL CHECK (rule_id ~ '^R[0-9]{1,2}$'),
    version           integer NOT NULL CHECK (version >= 1),
    params            jsonb NOT NULL,
    valid_from        timestamptz NOT NULL DEFAULT now(),
    created_by        integer REFERENCES users(id),
    created_at        timestamptz NOT NULL DEFAULT now(),
    note              text NOT NULL DEFAULT '',
    UNIQUE NULLS NOT DISTINCT (org_id, rule_id, version)
);

-- 节假日封存 (sealed cars must not move) and 值班/应急报备 (a car registered on duty).
CREATE TABLE holiday_seals (
    id                integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id            integer NOT NULL REFERENCES organisations(id),
    name              text NOT NULL,
    starts_at         timestamptz NOT NULL,
    ends_at           timestamptz NOT NULL CHECK (ends_at > starts_at),
    created_by        integer REFERENCES users(id),
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE duty_registrations (
    id                integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vehicle_id        integer NOT NULL REFERENCES vehicles(id),
    starts_at         timestamptz NOT NULL,
    ends_at           timestamptz NOT NULL CHECK (ends_at > starts_at),
    reason            text NOT NULL,
    created_by        integer REFERENCES users(id),
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX duty_registrations_vehicle ON duty_registrations (vehicle_id, starts_at);

-- 违规 / 预警. A detection is identified by (rule_id, finding_key): the key is built by the
-- detector from what it judged (the vehicle and the trip's start, the stop's start, the
-- request…), so that re-evaluating after late data finds the same violation again and amends
-- or retracts it (with a reason) instead of creating another. Never deleted.
CREATE TABLE violations (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule_id           text NOT NULL,
    finding_key       text NOT NULL,
    vehicle_id        integer REFERENCES vehicles(id),
    org_id            integer NOT NULL REFERENCES organisations(id),   -- the unit that explains
    request_id        integer REFERENCES trip_requests(id),            -- R14
    severity          text NOT NULL CHECK (severity IN ('info', 'warn', 'alarm')),
    state             text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'auto_closed',
                          'retracted', 'awaiting_explanation', 'overdue', 'under_review',
                          'dismissed', 'confirmed', 'rectified', 'closed', 'referred')),
    started_at        timestamptz NOT NULL,                            -- device time
    ended_at          timestamptz,
    local_day         date NOT NULL,
    driver_id         integer REFERENCES drivers(id),
    order_ids         integer[] NOT NULL DEFAULT '{}',
    params            jsonb NOT NULL,
    params_version    integer NOT NULL,
    summary           jsonb NOT NULL DEFAULT '{}',                     -- km, duration_s, max_speed_kmh…
    provisional       boolean NOT NULL DEFAULT false,                  -- live (the trip still goes on)
    case_id           bigint REFERENCES violations(id),                -- R17: the case it belongs to
    detected_at       timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    explanation_due   date,                                            -- while awaiting the unit
    version           integer NOT NULL DEFAULT 1,
    UNIQUE (rule_id, finding_key)
);
CREATE INDEX violations_list ON violations (local_day DESC, id DESC);
CREATE INDEX violations_state ON violations (state, severity);
CREATE INDEX violations_vehicle ON violations (vehicle_id, local_day);
CREATE INDEX violations_org ON violations (org_id, local_day);

-- The frozen evidence: a new revision when late data amends a violation; rows are never
-- changed or removed (the trigger refuses it).
CREATE TABLE violation_evidence (
    violation_id      bigint NOT NULL REFERENCES violations(id),
    revision          integer NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    reason            text NOT NULL,                                   -- detected | amended: … | retracted: …
    bundle            jsonb NOT NULL,
    PRIMARY KEY (violation_id, revision)
);
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are never changed or deleted', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER violation_evidence_frozen BEFORE UPDATE OR DELETE ON violation_evidence
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- The unit's 情况说明 and its attachments.
CREATE TABLE violation_explanations (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    violation_id      bigint NOT NULL REFERENCES violations(id),
    text              text NOT NULL CHECK (length(text) BETWEEN 1 AND 4000),
    submitted_by      integer NOT NULL REFERENCES users(id),
    submitted_at      timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE violation_attachments (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    violation_id      bigint NOT NULL REFERENCES violations(id),
    explanation_id    bigint REFERENCES violation_explanations(id),
    filename          text NOT NULL,
    content_type      text NOT NULL,
    size_bytes        integer NOT NULL CHECK (size_bytes BETWEEN 1 AND 10485760),
    sha256            text NOT NULL,
    data              bytea NOT NULL,
    uploaded_by       integer NOT NULL REFERENCES users(id),
    uploaded_at       timestamptz NOT NULL DEFAULT now()
);

-- 远程提醒: a text command to the car's terminal and a notice on the driver's page; when the
-- broker took it (published_at) and when the terminal acknowledged it (acked_at, on cmd/ack).
CREATE TABLE reminders (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    command_id        text NOT NULL UNIQUE,
    vehicle_id        integer NOT NULL REFERENCES vehicles(id),
    device_uid        text,
    violation_id      bigint REFERENCES violations(id),
    order_id          integer REFERENCES dispatch_orders(id),
    driver_user_id    integer REFERENCES users(id),
    notification_id   bigint REFERENCES notifications(id),
    text              text NOT NULL,
    tts               boolean NOT NULL DEFAULT true,
    created_by        integer REFERENCES users(id),                    -- NULL: the rules
    created_at        timestamptz NOT NULL DEFAULT now(),
    published_at      timestamptz,
    acked_at          timestamptz,
    ack_ok            boolean,
    ack_detail        text NOT NULL DEFAULT ''
);
CREATE INDEX reminders_vehicle ON reminders (vehicle_id, created_at DESC);

-- 审计: every transition of a violation (and of a public report, a rule parameter, a seal) is
-- appended here; each record carries the hash of the one before it, so `fleet audit verify`
-- detects a changed or a removed record. The table refuses updates and deletes as well.
CREATE TABLE audit_log (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at                timestamptz NOT NULL,
    actor_id          integer REFERENCES users(id),                    -- NULL: the system
    subject           text NOT NULL,                                   -- violation:12, public_report:3 …
    action            text NOT NULL,
    from_state        text,
    to_state          text,
    reason            text NOT NULL DEFAULT '',
    data              jsonb NOT NULL DEFAULT '{}',
    prev_hash         text NOT NULL,
    hash              text NOT NULL UNIQUE
);
CREATE INDEX audit_log_subject ON audit_log (subject, id);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- 监督举报: a citizen's report of a marked official car, matched against its track.
CREATE TABLE public_reports (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plate             text NOT NULL,
    seen_at           timestamptz NOT NULL,
    lat               double precision,
    lon               double precision,
    place             text NOT NULL,
    description       text NOT NULL,
    contact           text NOT NULL DEFAULT '',
    submitted_at      timestamptz NOT NULL DEFAULT now(),
    client_key        text NOT NULL,                                   -- a keyed hash of the sender's address
    state             text NOT NULL DEFAULT 'received' CHECK (state IN ('received', 'matched',
                          'unmatched', 'reviewed', 'dismissed')),
    vehicle_id        integer REFERENCES vehicles(id),
    match             jsonb NOT NULL DEFAULT '{}',
    violation_id      bigint REFERENCES violations(id)
);
CREATE INDEX public_reports_state ON public_reports (state, submitted_at DESC);
