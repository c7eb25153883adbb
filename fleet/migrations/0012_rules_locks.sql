-- The rules worker's dirty marks (issue #5, fix of the deadlock between ingest and the tick).
--
-- Several writers upsert many rows of rule_dirty in one statement: ingest (the cars of a batch
-- of positions, telemetry/store.py), the worker's tick (every car seen lately,
-- supervision/rules_store.py), rule parameter and seal changes (supervision/settings_store.py)
-- and the triggers below. Each such statement locks the rows it upserts one after the other;
-- two statements taking the same cars in different orders wait on each other for ever
-- (PostgreSQL reported "deadlock detected" between ingest and the tick). The one rule: every
-- multi-row upsert of rule_dirty takes its rows in vehicle_id order.
--
-- Migration 0009's triggers are replaced here by ordered versions: an order moved from one
-- car to another marks both cars in one statement, the lower id first; a request's cars are
-- marked in id order.

CREATE OR REPLACE FUNCTION mark_order_vehicle_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rule_dirty (vehicle_id, from_ts)
    SELECT m.vehicle_id, min(m.from_ts)
    FROM (
        SELECT OLD.vehicle_id AS vehicle_id,
               least(OLD.planned_start, coalesce(OLD.departed_at, OLD.planned_start)) - interval '1 day' AS from_ts
        WHERE TG_OP <> 'INSERT'
        UNION ALL
        SELECT NEW.vehicle_id,
               least(NEW.planned_start, coalesce(NEW.departed_at, NEW.planned_start)) - interval '1 day'
    ) AS m
    WHERE m.vehicle_id IS NOT NULL
    GROUP BY m.vehicle_id
    ORDER BY m.vehicle_id
    ON CONFLICT (vehicle_id) DO UPDATE SET from_ts = least(rule_dirty.from_ts, EXCLUDED.from_ts),
        marked_at = now();
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION mark_request_vehicles_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rule_dirty (vehicle_id, from_ts)
    SELECT d.vehicle_id, min(d.planned_start) - interval '1 day'
    FROM dispatch_order_requests x JOIN dispatch_orders d ON d.id = x.order_id
    WHERE x.request_id = NEW.id AND d.vehicle_id IS NOT NULL
    GROUP BY d.vehicle_id
    ORDER BY d.vehicle_id
    ON CONFLICT (vehicle_id) DO UPDATE SET from_ts = least(rule_dirty.from_ts, EXCLUDED.from_ts),
        marked_at = now();
    RETURN NULL;
END $$;
