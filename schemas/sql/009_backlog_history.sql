-- 009: the backlog history analysts need to see a commune falling behind
-- week by week (design.md, "SQL": tthc.commune_backlog_daily). Written by
-- tthc-alert's evaluator when a province's watermark passes midnight in
-- Vietnam, from the same checkpointed per-partition snapshots the alert
-- rules read, so a replay, a kill or a second instance give the same rows.
-- The snapshots gain the paused count.

ALTER TABLE tthc.alert_commune_ticks
        ADD COLUMN IF NOT EXISTS paused integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN tthc.alert_commune_ticks.paused IS
        'of open, the dossiers paused (supplement requested, suspended); 0 in snapshots taken before migration 009';

CREATE TABLE tthc.commune_backlog_daily (
        province_code   text NOT NULL,
        commune_code    text NOT NULL,
        day             date NOT NULL,
        open            integer NOT NULL,
        paused          integer NOT NULL,
        overdue         integer NOT NULL,
        intake_backlog  integer NOT NULL,
        PRIMARY KEY (province_code, commune_code, day)
);
CREATE INDEX commune_backlog_daily_day_idx
        ON tthc.commune_backlog_daily (day, province_code);
COMMENT ON TABLE tthc.commune_backlog_daily IS
        'per commune and Vietnam day: the backlog as of the end of that day in event time (when the province''s watermark passes midnight: events up to the watermark lateness late count, later ones the next day), as tthc.commune_health counts it';
COMMENT ON COLUMN tthc.commune_backlog_daily.day IS 'Vietnam calendar day (Asia/Ho_Chi_Minh) whose end the row describes';
COMMENT ON COLUMN tthc.commune_backlog_daily.open IS 'dossiers received and not closed whose handling agency is this commune''s (processing + paused)';
COMMENT ON COLUMN tthc.commune_backlog_daily.paused IS 'of open, paused: supplement requested or suspended (the deadline clock stopped)';
COMMENT ON COLUMN tthc.commune_backlog_daily.overdue IS 'of open, processing past the effective due date (original_due_at, moved only by the end of a pause) on that day, by handling commune';
COMMENT ON COLUMN tthc.commune_backlog_daily.intake_backlog IS 'online dossiers submitted to this commune''s desk (receiving commune) and not yet received or refused after a full working day';

SELECT tthc.enable_province_rls('tthc.commune_backlog_daily');
REVOKE ALL ON tthc.commune_backlog_daily FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON tthc.commune_backlog_daily TO tthc_service;
GRANT SELECT ON tthc.commune_backlog_daily TO tthc_analyst, tthc_province_analyst;
