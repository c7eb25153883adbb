-- 附件: files attached to a trip request (会议通知, 出差审批单 …), domain.md §4. The bytes live
-- in the database with the request they document (at most 10 MiB each, a few per request), so
-- one backup holds both. Deleting only marks a row: what an approver read stays on record.
CREATE TABLE trip_request_attachments (
    id            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id    integer NOT NULL REFERENCES trip_requests(id),
    filename      text NOT NULL CHECK (length(filename) BETWEEN 1 AND 200),  -- sanitised, for display
    content_type  text NOT NULL CHECK (content_type IN (
                      'application/pdf', 'image/jpeg', 'image/png',
                      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
                      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')),
    size_bytes    integer NOT NULL CHECK (size_bytes BETWEEN 1 AND 10485760),  -- 10 MiB
    sha256        text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    data          bytea NOT NULL,
    uploaded_by   integer NOT NULL REFERENCES users(id),
    uploaded_at   timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz,
    deleted_by    integer REFERENCES users(id),
    CHECK (size_bytes = octet_length(data)),
    CHECK ((deleted_at IS NULL) = (deleted_by IS NULL))
);
-- PDFs, JPEGs, PNGs and OOXML files are compressed already: TOAST need not try again.
ALTER TABLE trip_request_attachments ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE INDEX trip_request_attachments_live ON trip_request_attachments (request_id, id)
    WHERE deleted_at IS NULL;
