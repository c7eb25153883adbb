-- 常用地点: named places (government offices, stations, hospitals, conference venues ...) the
-- requester's map picker offers, seeded from the scenario (fleet/seed_places.py).
CREATE TABLE places (
    id            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code          text NOT NULL UNIQUE,
    city_code     text NOT NULL REFERENCES cities(code),
    kind          text NOT NULL CHECK (kind IN ('government', 'hospital', 'railway_station',
                      'airport', 'conference', 'other')),
    name_zh       text NOT NULL,
    name_en       text NOT NULL,
    lat           double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon           double precision NOT NULL CHECK (lon BETWEEN -180 AND 180)
);
CREATE INDEX places_city ON places (city_code, kind);
