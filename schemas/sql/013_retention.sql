-- 013: retention of tthc.filing_events (tthc-admin retention): the months
-- whose partitions were dropped. tthc-ingest reads the horizon: a re-sent
-- event of a dropped month (its first copy is gone, no content comparison
-- is possible) counts as a duplicate when its seq is not above the
-- dossier's, never as bad_seq.

CREATE TABLE tthc.retention_log (
        month           date PRIMARY KEY,
        events          bigint NOT NULL,
        dropped_at      timestamptz NOT NULL DEFAULT now(),
        forced          boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE tthc.retention_log IS
        'filing_events month partitions dropped by tthc-admin retention (the aggregates and dossier state keep those months)';
COMMENT ON COLUMN tthc.retention_log.month IS 'the Vietnam month whose events were dropped (first day)';
COMMENT ON COLUMN tthc.retention_log.events IS 'events the partition held when dropped';
COMMENT ON COLUMN tthc.retention_log.forced IS 'dropped with --force although open dossiers had their first event in it';
REVOKE ALL ON tthc.retention_log FROM PUBLIC;
GRANT SELECT ON tthc.retention_log TO tthc_service, tthc_analyst;

-- The first instant whose events are all kept (null: nothing dropped).
CREATE FUNCTION tthc.retention_horizon() RETURNS timestamptz
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
        SELECT ((max(month) + interval '1 month')::timestamp
                AT TIME ZONE 'Asia/Ho_Chi_Minh')
        FROM tthc.retention_log
$$;
GRANT EXECUTE ON FUNCTION tthc.retention_horizon() TO tthc_service,
        tthc_analyst;
