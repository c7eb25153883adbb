-- Reports (issue #4): figures and statements read orders by the month they came back in, and
-- requests by the month they were planned for; the seeded month remembers what it wrote.

-- Statements, figures and billing runs: "orders back in [month start, next month start)".
CREATE INDEX dispatch_orders_returned ON dispatch_orders (returned_at) WHERE returned_at IS NOT NULL;
-- Per-vehicle figures: a car's orders back in the month.
CREATE INDEX dispatch_orders_vehicle_returned ON dispatch_orders (vehicle_id, returned_at)
    WHERE returned_at IS NOT NULL;
-- Approved requests of a month (满足率), whatever their state.
CREATE INDEX trip_requests_planned_start ON trip_requests (planned_start);
-- 满足率: the requests whose car left, among the orders that departed around the month.
CREATE INDEX dispatch_orders_departed ON dispatch_orders (departed_at) WHERE departed_at IS NOT NULL;
-- Approval times (派车响应时长, 满足率): the events into 'approved' (or, for an emergency,
-- into 'dispatching' at once) of the weeks around a month.
CREATE INDEX trip_request_events_approval ON trip_request_events (at) INCLUDE (request_id, event)
    WHERE to_state IN ('approved', 'dispatching');

-- A month written by `fleet generate-month` (fleet/month_seed.py): what it inserted, so that a
-- second run into the same month is refused, or `--replace` removes exactly those rows.
CREATE TABLE generated_months (
    month         text PRIMARY KEY CHECK (month ~ '^\d{4}-(0[1-9]|1[0-2])$'),
    seed          bigint NOT NULL,
    requests      integer NOT NULL,
    request_ids   integer[] NOT NULL,
    order_ids     integer[] NOT NULL,
    trip_vehicle_ids integer[] NOT NULL,             -- with trip_starts: the trips' keys
    trip_starts   timestamptz[] NOT NULL,
    generated_at  timestamptz NOT NULL DEFAULT now()
);
