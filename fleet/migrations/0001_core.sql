-- Core schema: organisations, people, vehicles and their sources, devices, geofences,
-- trip requests and dispatch orders. Times are timestamptz (stored UTC, shown Asia/Shanghai).
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE cities (
    code          text PRIMARY KEY,               -- GB/T 2260, e.g. 420100 武汉
    name_zh       text NOT NULL,
    name_en       text NOT NULL,
    centre_lat    double precision NOT NULL,
    centre_lon    double precision NOT NULL
);

-- Organisation tree: province -> city -> district -> unit. `path` is the ids from the root,
-- so "this node and everything below it" is `path @> ARRAY[node_id]`.
CREATE TABLE organisations (
    id            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code          text NOT NULL UNIQUE,
    parent_id     integer REFERENCES organisations(id),
    path          integer[] NOT NULL DEFAULT '{}',
    kind          text NOT NULL CHECK (kind IN ('province', 'city', 'district', 'unit', 'platform')),
    name_zh       text NOT NULL,
    name_en       text NOT NULL,
    city_code     text REFERENCES cities(code)
);
CREATE INDEX organisations_path_gin ON organisations USING gin (path);

CREATE TABLE users (
    id            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    display_name  text NOT NULL,
    password_hash text,                            -- argon2id; NULL = cannot log in
    org_id        integer NOT NULL REFERENCES organisations(id),
    roles         text[] NOT NULL CHECK (roles <@ ARRAY['admin', 'org_admin', 'requester', 'approver',
                      'dispatcher', 'driver', 'inspector', 'rental_operator']::text[]),
    cleared_confidential boolean NOT NULL DEFAULT false,  -- may see 机要 vehicles' positions
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- 电子围栏. Geometry is GeoJSON ([lon, lat], WGS-84) plus WKB for fast loading into shapely.
CREATE TABLE geofences (
    id            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code          text NOT NULL UNIQUE,
    name_zh       text NOT NULL,
    name_en       text NOT NULL,
    shape         text NOT NULL CHECK (shape IN ('polygon', 'circle', 'corridor')),
    purpose       text NOT NULL CHECK (purpose IN ('designated_lot', 'city_boundary', 'permitted_area',
                      'forbidden_zone', 'sensitive_place', 'service_site', 'speed_zone')),
    category      text,                            -- e.g. sensitive place: entertainment, club_hotel ...
    city_code     text REFERENCES cities(code),
    geojson       jsonb NOT NULL,
    wkb           bytea NOT NULL,
    radius_m      double precision,                -- circle
    buffer_m      double precision,                -- corridor
    speed_limit_kmh real,                          -- speed zone
    active        boolean NOT NULL DEFAULT true
);
CREATE INDEX geofences_purpose ON geofences (purpose) WHERE active;

-- One platform depot (motor pool, 车队) per city, with its designated lot (定点停放).
CREATE TABLE depots (
    id            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code          text NOT NULL UNIQUE,
    city_code     text NOT NULL REFERENCES cities(code),
    org_id        integer NOT NULL REFERENCES organisations(id),
    name_zh       text NOT NULL,
    name_en       text NOT NULL,
    lat           double precision NOT NULL,
    lon           double precision NOT NULL,
    lot_geofence_id integer REFERENCES geofences(id)
);

CREATE TABLE rental_companies (
    id            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code          text NOT NULL UNIQUE,
    name_zh       text NOT NULL,
    name_en       text NOT NULL,
    contract_no   text NOT NULL,
    contract_start date NOT NULL,
    contract_end  date NOT NULL,
    service_city_codes text[] NOT NULL,
    accept_timeout_s integer NOT NULL DEFAULT 600
);

-- Price plans per company x car level x charter type (趟/半日/整日/多日) x mode (车+驾 / 仅车).
CREATE TABLE price_plans (
    id            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_id    integer NOT NULL REFERENCES rental_companies(id),
    car_level     text NOT NULL CHECK (car_level IN ('sedan', 'business', 'minibus', 'bus')),
    charter_type  text NOT NULL CHECK (charter_type IN ('trip', 'half_day', 'full_day', 'multi_day')),
    mode          text NOT NULL CHECK (mode IN ('with_driver', 'car_only')),
    base_price_cny numeric(10, 2) NOT NULL,
    included_hours numeric(5, 1) NOT NULL,
    included_km   integer NOT NULL,
    overtime_cny_per_h numeric(10, 2) NOT NULL,
    over_km_cny_per_km numeric(10, 2) NOT NULL,
    night_surcharge_cny numeric(10, 2) NOT NULL DEFAULT 0,
    out_of_town_cny_per_day numeric(10, 2) NOT NULL DEFAULT 0,
    UNIQUE (company_id, car_level, charter_type, mode)
);

CREATE TABLE vehicles (
    id            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plate         text NOT NULL UNIQUE,            -- 鄂A·12345
    source        text NOT NULL CHECK (source IN ('platform', 'entrusted', 'unit_retained', 'leased')),
    use_category  text NOT NULL CHECK (use_category IN ('confidential', 'emergency', 'law_enforcement',
                      'special_technical', 'general')),  -- 机要通信/应急保障/执法执勤/特种专业技术/其他
    seats         smallint NOT NULL CHECK (seats BETWEEN 2 AND 60),
    car_level     text NOT NULL CHECK (car_level IN ('sedan', 'business', 'minibus', 'bus')),
    energy_type   text NOT NULL CHECK (energy_type IN ('fuel', 'bev', 'phev')),
    brand_model   text NOT NULL DEFAULT '',
    home_city_code text NOT NULL REFERENCES cities(code),
    depot_id      integer REFERENCES depots(id),
    lot_geofence_id integer REFERENCES geofences(id),   -- designated lot (定点停放)
    owner_org_id  integer NOT NULL REFERENCES organisations(id),
    rental_company_id integer REFERENCES rental_companies(id),
    tank_l        real,
    battery_kwh   real,
    range_km      real,
    marking       text NOT NULL DEFAULT 'painted' CHECK (marking IN ('painted', 'exempt')),
    active        boolean NOT NULL DEFAULT true,
    CHECK ((source = 'leased') = (rental_company_id IS NOT NULL)),
    CHECK (energy_type = 'fuel' OR battery_kwh IS NOT NULL)
);
CREATE INDEX vehicles_owner ON vehicles (owner_org_id);

-- GPS terminals. `uid` is the id in the MQTT topic fleet/v1/devices/{uid}/...
CREATE TABLE devices (
    id            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uid           text NOT NULL UNIQUE,
    vehicle_id    integer UNIQUE REFERENCES vehicles(id),
    model         text NOT NULL DEFAULT '',
    report_interval_s integer NOT NULL DEFAULT 10,
    status        text NOT NULL DEFAULT 'unknown' CHECK (status IN ('online', 'offline', 'unknown')),
    status_at     timestamptz
);

CREATE TABLE drivers (
    id            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code          text NOT NULL UNIQUE,
    name          text NOT NULL,
    phone         text NOT NULL,
    license_class text NOT NULL DEFAULT 'C1',
    org_id        integer NOT NULL REFERENCES organisations(id),
    rental_company_id integer REFERENCES rental_companies(id),
    home_city_code text NOT NULL REFERENCES cities(code),
    user_id       integer UNIQUE REFERENCES users(id)
);

-- 用车申请. States follow domain.md §4; the workflow arrives with the dispatch capability.
CREATE TABLE trip_requests (
    id            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    applicant_id  integer NOT NULL REFERENCES users(id),
    org_id        integer NOT NULL REFERENCES organisations(id),
    trip_type     text NOT NULL CHECK (trip_type IN ('official', 'meeting', 'reception', 'emergency',
                      'confidential', 'law_enforcement')),
    reason        text NOT NULL,
    passengers    jsonb NOT NULL DEFAULT '[]',
    passenger_count smallint NOT NULL CHECK (passenger_count > 0),
    planned_start timestamptz NOT NULL,
    planned_end   timestamptz NOT NULL CHECK (planned_end > planned_start),
    origin        jsonb NOT NULL,                  -- {"name", "lat", "lon", "city_code"}
    destinations  jsonb NOT NULL,                  -- [{"name", "lat", "lon", "city_code"}, ...]
    round_trip    boolean NOT NULL DEFAULT true,
    car_level_wanted text CHECK (car_level_wanted IN ('sedan', 'business', 'minibus', 'bus')),
    carpool_allowed boolean NOT NULL DEFAULT false,
    state         text NOT NULL DEFAULT 'draft',
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- 派车单, one per vehicle. A car is never booked twice for overlapping windows (30 min buffer
-- is added by the dispatch capability; the constraint here keeps raw overlaps out).
CREATE TABLE dispatch_orders (
    id            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id    integer NOT NULL REFERENCES trip_requests(id),
    vehicle_id    integer REFERENCES vehicles(id),
    driver_id     integer REFERENCES drivers(id),
    rental_company_id integer REFERENCES rental_companies(id),
    state         text NOT NULL DEFAULT 'created',
    planned_start timestamptz NOT NULL,
    planned_end   timestamptz NOT NULL CHECK (planned_end > planned_start),
    departed_at   timestamptz,
    returned_at   timestamptz,
    odometer_start_km double precision,
    odometer_end_km double precision,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dispatch_orders_vehicle_window ON dispatch_orders USING gist
    (vehicle_id, tstzrange(planned_start, planned_end));
