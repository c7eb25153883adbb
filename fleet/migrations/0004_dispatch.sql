-- Dispatch workflow (domain.md §4): the states of trip requests and dispatch orders
-- (dispatch/trip_requests.py, dispatch/orders.py), their event history, and no double booking.

-- An order holds its car from its planned start until 30 min after its planned end. Adding a
-- fixed number of minutes to a timestamptz does not depend on the session's time zone (only
-- days and months do), so the function may be declared IMMUTABLE and used in the constraints.
CREATE FUNCTION booking_range(start_ts timestamptz, end_ts timestamptz) RETURNS tstzrange
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN tstzrange(start_ts, end_ts + make_interval(mins => 30));

ALTER TABLE trip_requests
    ADD COLUMN approval_levels smallint NOT NULL DEFAULT 1 CHECK (approval_levels BETWEEN 1 AND 9),
    ADD COLUMN approved_levels smallint NOT NULL DEFAULT 0,
    ADD COLUMN emergency_deadline timestamptz,          -- emergency: dispatched first, approve by then (R14)
    ADD COLUMN emergency_approved boolean,              -- NULL: not decided yet
    ADD COLUMN version integer NOT NULL DEFAULT 1,      -- optimistic concurrency for approvers
    ADD CONSTRAINT trip_requests_state CHECK (state IN ('draft', 'submitted', 'pending_approval',
        'approved', 'rejected', 'withdrawn', 'dispatching', 'dispatched', 'in_progress',
        'completed', 'settled', 'closed'));

ALTER TABLE dispatch_orders
    ADD COLUMN version integer NOT NULL DEFAULT 1,
    ADD CONSTRAINT dispatch_orders_state CHECK (state IN ('created', 'assigned', 'sent_to_rental',
        'accepted', 'departed', 'at_pickup', 'in_service', 'service_ended', 'returned',
        'disputed', 'confirmed', 'rated', 'settled', 'cancelled')),
    -- No double booking, in the database itself: while an order holds its car (assigned until
    -- back), no other such order of the same car, or the same driver, may come within 30 min
    -- of it. Two dispatchers assigning the same car at once: one insert/update fails.
    ADD CONSTRAINT dispatch_orders_no_double_booked_car EXCLUDE USING gist (
        vehicle_id WITH =,
        booking_range(planned_start, planned_end) WITH &&
    ) WHERE (vehicle_id IS NOT NULL AND state IN ('assigned', 'accepted', 'departed',
        'at_pickup', 'in_service', 'service_ended')),
    ADD CONSTRAINT dispatch_orders_no_double_booked_driver EXCLUDE USING gist (
        driver_id WITH =,
        booking_range(planned_start, planned_end) WITH &&
    ) WHERE (driver_id IS NOT NULL AND state IN ('assigned', 'accepted', 'departed',
        'at_pickup', 'in_service', 'service_ended'));

-- Every transition, append-only: who did what when, with the note (reject reason, odometer...).
CREATE TABLE trip_request_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id    integer NOT NULL REFERENCES trip_requests(id),
    event         text NOT NULL,
    from_state    text NOT NULL,
    to_state      text NOT NULL,
    actor_id      integer REFERENCES users(id),
    at            timestamptz NOT NULL DEFAULT now(),
    note          text NOT NULL DEFAULT '',
    data          jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX trip_request_events_request ON trip_request_events (request_id, id);

CREATE TABLE dispatch_order_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id      integer NOT NULL REFERENCES dispatch_orders(id),
    event         text NOT NULL,
    from_state    text NOT NULL,
    to_state      text NOT NULL,
    actor_id      integer REFERENCES users(id),
    at            timestamptz NOT NULL DEFAULT now(),
    note          text NOT NULL DEFAULT '',
    data          jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX dispatch_order_events_order ON dispatch_order_events (order_id, id);
