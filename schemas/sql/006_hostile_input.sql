-- 006: the reason codes of hostile input (design.md, "Nothing is lost on
-- bad input"): bad_schema (a writer schema refused before a decoder is
-- built) and db_rejected (PostgreSQL refused the row as data; the detail
-- carries the SQLSTATE). Dead letters are published to the DLQ topic after
-- they commit, from this table: dlq_published_at marks what was delivered.
ALTER TABLE tthc.rejected_messages
        DROP CONSTRAINT IF EXISTS rejected_messages_reason_check;
ALTER TABLE tthc.rejected_messages
        ADD CONSTRAINT rejected_messages_reason_check CHECK (reason IN (
                'bad_framing', 'unknown_schema', 'bad_avro', 'missing_field',
                'topic_province_mismatch', 'unknown_province',
                'unknown_commune', 'time_out_of_range', 'bad_seq',
                'bad_transfer', 'conflicting_duplicate', 'bad_schema',
                'db_rejected'));
ALTER TABLE tthc.rejected_messages
        ADD COLUMN IF NOT EXISTS dlq_published_at timestamptz;
-- Every dead letter stored before this migration was already produced to
-- the DLQ topic (the old path produced before commit).
UPDATE tthc.rejected_messages SET dlq_published_at = rejected_at
        WHERE dlq_published_at IS NULL;
CREATE INDEX IF NOT EXISTS rejected_messages_dlq_pending
        ON tthc.rejected_messages (id) WHERE dlq_published_at IS NULL;
