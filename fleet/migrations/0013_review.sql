-- The review (issue #5, helper G4): the audit trail's checkpoint.
--
-- `audit_log` chains its records by hash (supervision/audit.py); a changed or removed past
-- record breaks the chain, but removing the NEWEST records leaves a shorter chain that is
-- still whole. This one-row table names the newest record and its hash; it is written in the
-- same transaction as every append (supervision/audit_store.py), so `fleet audit verify`
-- sees a removed tail as a checkpoint naming a record that is gone. It only moves forward.
-- (`fleet audit verify` also keeps the last verified point in Redis, outside the database.)
CREATE TABLE audit_checkpoint (
    id                smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    last_id           bigint NOT NULL CHECK (last_id >= 1),
    last_hash         text NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION audit_checkpoint_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.last_id <= OLD.last_id THEN
        RAISE EXCEPTION 'audit_checkpoint only moves forward'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_checkpoint_forward_only BEFORE UPDATE OR DELETE ON audit_checkpoint
    FOR EACH ROW EXECUTE FUNCTION audit_checkpoint_forward();

-- A unit's text is either its explanation (情况说明) or its report of the rectification done
-- (整改情况); both may carry attachments (violation_attachments.explanation_id).
ALTER TABLE violation_explanations
    ADD COLUMN kind text NOT NULL DEFAULT 'explanation' CHECK (kind IN ('explanation', 'rectification'));
