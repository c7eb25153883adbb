-- The rest of the dispatch workflow (issue #4): approval policies per organisation, pre-check
-- results, carpooled orders, rental company acceptance, the driver's steps and costs, billing,
-- 一车一档 documents, notifications, and phones as position sources.

-- 审批规则: how many levels approve a trip, per organisation and trip type (NULL: every type).
-- A request takes the policy of the nearest organisation on its unit's path that has one; at
-- the same organisation a policy for its trip type wins over the one for every type.
-- allowed_car_levels is the 用车制度 (who may use which car class); NULL: any class.
CREATE TABLE approval_policies (
    id                integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id            integer NOT NULL REFERENCES organisations(id),
    trip_type         text CHECK (trip_type IN ('official', 'meeting', 'reception', 'emergency',
                          'confidential', 'law_enforcement')),
    base_levels       smallint NOT NULL DEFAULT 1 CHECK (base_levels BETWEEN 1 AND 5),
    cross_city_extra  smallint NOT NULL DEFAULT 1 CHECK (cross_city_extra BETWEEN 0 AND 2),
    night_extra       smallint NOT NULL DEFAULT 1 CHECK (night_extra BETWEEN 0 AND 2),
    holiday_extra     smallint NOT NULL DEFAULT 1 CHECK (holiday_extra BETWEEN 0 AND 2),
    allowed_car_levels text[] CHECK (allowed_car_levels <@ ARRAY['sedan', 'business', 'minibus', 'bus']),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE NULLS NOT DISTINCT (org_id, trip_type)
);

-- 车补: an applicant who receives a transport subsidy gets a warning on an in-city ordinary
-- trip. A rental company's operator belongs to the company.
ALTER TABLE users
    ADD COLUMN transport_subsidy boolean NOT NULL DEFAULT false,
    ADD COLUMN rental_company_id integer REFERENCES rental_companies(id),
    ADD COLUMN phone text NOT NULL DEFAULT '';

ALTER TABLE trip_requests
    ADD COLUMN precheck_warnings text[] NOT NULL DEFAULT '{}',  -- e.g. transport_subsidy
    ADD COLUMN approval_reasons text[] NOT NULL DEFAULT '{}',   -- cross_city, night, holiday
    ADD COLUMN driver_waits boolean NOT NULL DEFAULT true,      -- round trip: the car waits there
    ADD COLUMN contact_phone text NOT NULL DEFAULT '';
CREATE INDEX trip_requests_state ON trip_requests (state, planned_start);

-- Contract values the price plans lacked: lateness penalty (SLA) per late arrival.
ALTER TABLE price_plans
    ADD COLUMN late_penalty_cny numeric(10, 2) NOT NULL DEFAULT 0;

ALTER TABLE dispatch_orders
    -- sent to a rental company: which plan, and until when it may accept
    ADD COLUMN charter_type text CHECK (charter_type IN ('trip', 'half_day', 'full_day', 'multi_day')),
    ADD COLUMN service_mode text CHECK (service_mode IN ('with_driver', 'car_only')),
    ADD COLUMN price_plan_id integer REFERENCES price_plans(id),
    ADD COLUMN sent_to_rental_at timestamptz,
    ADD COLUMN rental_deadline timestamptz,
    -- the driver's steps
    ADD COLUMN assigned_at timestamptz,
    ADD COLUMN accepted_at timestamptz,
    ADD COLUMN arrived_pickup_at timestamptz,
    ADD COLUMN service_started_at timestamptz,
    ADD COLUMN service_ended_at timestamptz,
    -- 行车日志: what the driver enters on return
    ADD COLUMN tolls_cny numeric(10, 2) NOT NULL DEFAULT 0 CHECK (tolls_cny >= 0),
    ADD COLUMN parking_cny numeric(10, 2) NOT NULL DEFAULT 0 CHECK (parking_cny >= 0),
    ADD COLUMN fuel_cny numeric(10, 2) NOT NULL DEFAULT 0 CHECK (fuel_cny >= 0),
    ADD COLUMN fuel_l numeric(8, 2) NOT NULL DEFAULT 0 CHECK (fuel_l >= 0),
    ADD COLUMN charge_kwh numeric(8, 2) NOT NULL DEFAULT 0 CHECK (charge_kwh >= 0),
    ADD COLUMN nights_out_of_town smallint NOT NULL DEFAULT 0 CHECK (nights_out_of_town >= 0),
    -- the requester's word
    ADD COLUMN rating smallint CHECK (rating BETWEEN 1 AND 5),
    ADD COLUMN feedback text NOT NULL DEFAULT '',
    ADD COLUMN dispute_reason text NOT NULL DEFAULT '',
    -- billing: the fee of a rental order, computed from what happened (dispatch/billing.py)
    ADD COLUMN gnss_km numeric(10, 1),
    ADD COLUMN billed_km numeric(10, 1),
    ADD COLUMN fee_cny numeric(12, 2),
    ADD COLUMN fee_lines jsonb,
    ADD COLUMN fee_computed_at timestamptz;
CREATE INDEX dispatch_orders_state ON dispatch_orders (state, planned_start);
CREATE INDEX dispatch_orders_rental ON dispatch_orders (rental_company_id, state)
    WHERE rental_company_id IS NOT NULL;
CREATE INDEX dispatch_orders_driver ON dispatch_orders (driver_id, planned_start);

-- Which requests an order carries. One row per request; a carpooled order (公务拼车) carries
-- several, each with its passengers, its own ride km and its share of the cost.
CREATE TABLE dispatch_order_requests (
    order_id          integer NOT NULL REFERENCES dispatch_orders(id),
    request_id        integer NOT NULL REFERENCES trip_requests(id),
    passenger_count   smallint NOT NULL CHECK (passenger_count > 0),
    ride_km           numeric(10, 1),                  -- the request's own direct km
    share_cny         numeric(12, 2),                  -- its part of the order's cost
    PRIMARY KEY (order_id, request_id)
);
CREATE INDEX dispatch_order_requests_request ON dispatch_order_requests (request_id);
INSERT INTO dispatch_order_requests (order_id, request_id, passenger_count)
    SELECT d.id, d.request_id, r.passenger_count
    FROM dispatch_orders d JOIN trip_requests r ON r.id = d.request_id;

-- 一车一档: a vehicle's documents with their expiry dates (行驶证, 保险, 年检). An expired
-- 年检 or 保险 keeps the car from being assigned; all are reminded 30 days ahead.
CREATE TABLE vehicle_documents (
    vehicle_id        integer NOT NULL REFERENCES vehicles(id),
    kind              text NOT NULL CHECK (kind IN ('registration', 'insurance', 'annual_inspection')),
    number            text NOT NULL DEFAULT '',
    expires_on        date NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (vehicle_id, kind)
);
CREATE INDEX vehicle_documents_expiry ON vehicle_documents (expires_on);

-- What a person is told: an order for the driver, a merge for the passengers, a new rental
-- order for the company, a remote reminder (远程提醒) from the dispatcher. `kind` and `data`
-- are rendered by the page in the reader's language; `text` is free text (a reminder).
CREATE TABLE notifications (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id           integer NOT NULL REFERENCES users(id),
    kind              text NOT NULL,
    text              text NOT NULL DEFAULT '',
    data              jsonb NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL DEFAULT now(),
    read_at           timestamptz
);
CREATE INDEX notifications_user ON notifications (user_id, id DESC);

-- A driver's phone can stand in for a terminal on a leased car that has none.
ALTER TABLE devices
    ADD COLUMN kind text NOT NULL DEFAULT 'terminal' CHECK (kind IN ('terminal', 'phone'));
