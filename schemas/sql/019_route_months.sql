-- 019: tthc-route's daily tables summed per Vietnam month, stored.
--
-- The analyst views over procedure levels and routing anomalies
-- (top_procedures, procedure_commune_share, procedure_level_monthly,
-- procedure_level_times, slowest_procedures, procedure_month_over_month,
-- routing_anomalies) aggregated every daily row: 4.3M level rows and 2.9M
-- anomaly rows on a national year, 1-30 s per query (docs/benchmarks.md).
-- tthc-route now adds each batch's increments, summed per month, to a
-- monthly twin of each daily table in the statement after the daily
-- upsert (same transaction), so a month's row is always the sum of its
-- days' rows; the views read the twins: 4-19 times fewer rows.

CREATE TABLE tthc.procedure_level_by_month (
        month                   date NOT NULL,
        province_code           text NOT NULL,
        procedure_code          text NOT NULL,
        procedure_level         text NOT NULL,
        handling_level          text NOT NULL,
        received                bigint NOT NULL DEFAULT 0,
        resolved_early          bigint NOT NULL DEFAULT 0,
        resolved_on_time        bigint NOT NULL DEFAULT 0,
        resolved_late           bigint NOT NULL DEFAULT 0,
        stopped                 bigint NOT NULL DEFAULT 0,
        withdrawn               bigint NOT NULL DEFAULT 0,
        supplement_requested    bigint NOT NULL DEFAULT 0,
        stints                  bigint NOT NULL DEFAULT 0,
        stint_ms                bigint NOT NULL DEFAULT 0,
        hist                    integer[] NOT NULL,
        PRIMARY KEY (month, province_code, procedure_code, procedure_level,
                     handling_level)
);
-- The previous month of a procedure (procedure_month_over_month).
CREATE INDEX procedure_level_by_month_key_idx ON tthc.procedure_level_by_month
        (province_code, procedure_code, procedure_level, month);

CREATE TABLE tthc.procedure_routing_by_month (
        month                   date NOT NULL,
        province_code           text NOT NULL,
        procedure_code          text NOT NULL,
        procedure_level         text NOT NULL,
        from_level              text NOT NULL,
        to_level                text NOT NULL,
        to_agency_code          text,
        transfers               bigint NOT NULL DEFAULT 0,
        CONSTRAINT procedure_routing_by_month_key UNIQUE NULLS NOT DISTINCT
                (month, province_code, procedure_code, procedure_level,
                 from_level, to_level, to_agency_code)
);
CREATE INDEX procedure_routing_by_month_proc_idx
        ON tthc.procedure_routing_by_month (procedure_code, month);

CREATE TABLE tthc.routing_anomalies_by_month (
        month                   date NOT NULL,
        province_code           text NOT NULL,
        procedure_code          text NOT NULL,
        procedure_level         text NOT NULL,
        resolved                bigint NOT NULL DEFAULT 0,
        resolved_off_level      bigint NOT NULL DEFAULT 0,
        transferred_dossiers    bigint NOT NULL DEFAULT 0,
        multi_transfer_dossiers bigint NOT NULL DEFAULT 0,
        transfers               bigint NOT NULL DEFAULT 0,
        down_transfers          bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (month, province_code, procedure_code, procedure_level)
);

-- Comments each column of dst that src has too with src's comment: a
-- table that sums another's counters says what they say, never something
-- else. For migrations (owner only).
CREATE FUNCTION tthc.copy_column_comments(src regclass, dst regclass)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
        c record;
BEGIN
        FOR c IN SELECT a.attname, col_description(src, s.attnum) AS text
                 FROM pg_attribute a
                 JOIN pg_attribute s ON s.attrelid = src AND s.attname = a.attname
                 WHERE a.attrelid = dst AND a.attnum > 0 AND NOT a.attisdropped
                   AND NOT s.attisdropped
        LOOP
                EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', dst, c.attname,
                               c.text);
        END LOOP;
END
$$;
REVOKE ALL ON FUNCTION tthc.copy_column_comments(regclass, regclass) FROM PUBLIC;
COMMENT ON FUNCTION tthc.copy_column_comments(regclass, regclass) IS
        'comments the columns of the second table as the same-named columns of the first (migrations)';

-- Each twin: the daily table's comments, column by column (month, the
-- table and hist said here), its row-level security and grants.
DO $$
DECLARE
        t record;
BEGIN
        FOR t IN SELECT * FROM (VALUES
                ('procedure_level', 'procedure_level_daily'),
                ('procedure_routing', 'procedure_routing_daily'),
                ('routing_anomalies', 'routing_anomalies_daily')) AS v(stem, daily)
        LOOP
                PERFORM tthc.copy_column_comments(
                        format('tthc.%I', t.daily)::regclass,
                        format('tthc.%I_by_month', t.stem)::regclass);
                EXECUTE format('COMMENT ON TABLE tthc.%I IS %L', t.stem || '_by_month',
                               format('tthc.%s summed per Vietnam month, kept by '
                                      'tthc-route in the same transaction as the '
                                      'days (migration 019)', t.daily));
                EXECUTE format('COMMENT ON COLUMN tthc.%I.month IS %L',
                               t.stem || '_by_month',
                               'Vietnam calendar month (its first day)');
                PERFORM tthc.enable_province_rls(format('tthc.%I_by_month', t.stem)::regclass);
                EXECUTE format('REVOKE ALL ON tthc.%I FROM PUBLIC', t.stem || '_by_month');
                EXECUTE format('GRANT SELECT, INSERT, UPDATE ON tthc.%I TO tthc_service',
                               t.stem || '_by_month');
                EXECUTE format('GRANT SELECT ON tthc.%I TO tthc_analyst',
                               t.stem || '_by_month');
        END LOOP;
END
$$;
-- A twin is a few hundred thousand rows a year: on 2 cores a parallel
-- plan over one (Gather Merge of histogram rows) cost more than it saved,
-- 0.25 s of a 0.3 s query where an index scan takes 20 ms.
ALTER TABLE tthc.procedure_level_by_month SET (parallel_workers = 0);
ALTER TABLE tthc.procedure_routing_by_month SET (parallel_workers = 0);
ALTER TABLE tthc.routing_anomalies_by_month SET (parallel_workers = 0);
COMMENT ON COLUMN tthc.procedure_level_by_month.hist IS
        'stints ended that month per bucket of hours at the level (tthc.route_hist_bounds())';

-- Recomputes the three twins for the months from from_day's month on
-- (NULL: every month) from the daily tables. tthc-route's rebuild calls
-- it after deleting the days it replays; run by the owner, it also
-- repairs the twins by hand. Returns the rows written.
CREATE FUNCTION tthc.route_months_resum(from_day date)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
        lo      date := CASE WHEN from_day IS NULL THEN '-infinity'::date
                                 ELSE date_trunc('month', from_day)::date END;
        n       bigint;
        total   bigint := 0;
BEGIN
        DELETE FROM tthc.procedure_level_by_month WHERE month >= lo;
        INSERT INTO tthc.procedure_level_by_month
        SELECT date_trunc('month', day)::date, province_code, procedure_code,
               procedure_level, handling_level, sum(received),
               sum(resolved_early), sum(resolved_on_time), sum(resolved_late),
               sum(stopped), sum(withdrawn), sum(supplement_requested),
               sum(stints), sum(stint_ms), tthc.hist_sum(hist)
        FROM tthc.procedure_level_daily WHERE day >= lo
        GROUP BY 1, 2, 3, 4, 5;
        GET DIAGNOSTICS n = ROW_COUNT;
        total := total + n;

        DELETE FROM tthc.procedure_routing_by_month WHERE month >= lo;
        INSERT INTO tthc.procedure_routing_by_month
        SELECT date_trunc('month', day)::date, province_code, procedure_code,
               procedure_level, from_level, to_level, to_agency_code,
               sum(transfers)
        FROM tthc.procedure_routing_daily WHERE day >= lo
        GROUP BY 1, 2, 3, 4, 5, 6, 7;
        GET DIAGNOSTICS n = ROW_COUNT;
        total := total + n;

        DELETE FROM tthc.routing_anomalies_by_month WHERE month >= lo;
        INSERT INTO tthc.routing_anomalies_by_month
        SELECT date_trunc('month', day)::date, province_code, procedure_code,
               procedure_level, sum(resolved), sum(resolved_off_level),
               sum(transferred_dossiers), sum(multi_transfer_dossiers),
               sum(transfers), sum(down_transfers)
        FROM tthc.routing_anomalies_daily WHERE day >= lo
        GROUP BY 1, 2, 3, 4;
        GET DIAGNOSTICS n = ROW_COUNT;
        RETURN total + n;
END
$$;
REVOKE ALL ON FUNCTION tthc.route_months_resum(date) FROM PUBLIC;
COMMENT ON FUNCTION tthc.route_months_resum(date) IS
        'recomputes tthc-route''s monthly tables (*_by_month) from the daily ones for the months from the given day''s month on (NULL: all); owner only';

SELECT tthc.route_months_resum(NULL);

-- The views: same columns, read from the monthly rows.
-- Summed first, named after: the name joins a few thousand groups, not
-- every monthly row.
CREATE OR REPLACE VIEW tthc.top_procedures WITH (security_invoker = true) AS
SELECT t.province_code, t.procedure_code, t.procedure_level, t.received,
       t.resolved,
       rank() OVER (PARTITION BY t.province_code
                    ORDER BY t.received DESC) AS rank_in_province,
       p.name AS procedure_name
FROM (
        SELECT province_code, procedure_code, procedure_level,
               sum(received)::bigint AS received,
               sum(resolved_early + resolved_on_time + resolved_late)::bigint
                       AS resolved
        FROM tthc.procedure_level_by_month
        GROUP BY 1, 2, 3
) t
LEFT JOIN tthc.procedures p USING (procedure_code);

CREATE OR REPLACE VIEW tthc.procedure_commune_share WITH (security_invoker = true) AS
SELECT t.province_code, t.procedure_code, t.procedure_level, t.received,
       t.received_at_commune, t.resolved, t.resolved_at_commune,
       round(t.resolved_at_commune::numeric / nullif(t.resolved, 0), 4)
               AS commune_share,
       p.name AS procedure_name
FROM (
        SELECT province_code, procedure_code, procedure_level,
               sum(received)::bigint AS received,
               sum(received) FILTER (WHERE handling_level = 'COMMUNE')::bigint
                       AS received_at_commune,
               sum(resolved_early + resolved_on_time + resolved_late)::bigint
                       AS resolved,
               sum(resolved_early + resolved_on_time + resolved_late)
                       FILTER (WHERE handling_level = 'COMMUNE')::bigint
                       AS resolved_at_commune
        FROM tthc.procedure_level_by_month
        GROUP BY 1, 2, 3
) t
LEFT JOIN tthc.procedures p USING (procedure_code);

CREATE OR REPLACE VIEW tthc.procedure_level_monthly WITH (security_invoker = true) AS
SELECT t.month, t.province_code, t.procedure_code, t.procedure_level,
       t.handling_level, t.received, t.resolved_early, t.resolved_on_time,
       t.resolved_late, t.stopped, t.withdrawn, t.supplement_requested,
       t.stints, t.hist,
       round((t.stint_ms / 3600000.0 / nullif(t.stints, 0))::numeric, 2)
               AS mean_hours,
       round(tthc.hist_percentile(t.hist, 0.5)::numeric, 2) AS p50_hours,
       round(tthc.hist_percentile(t.hist, 0.9)::numeric, 2) AS p90_hours,
       round(tthc.hist_percentile(t.hist, 0.99)::numeric, 2) AS p99_hours,
       (SELECT p.name FROM tthc.procedures p WHERE p.procedure_code = t.procedure_code) AS procedure_name
FROM tthc.procedure_level_by_month t;

-- Histograms summed with one sum() per bucket: tthc.hist_sum is an
-- aggregate over a SQL function, about 5 us a row (1.3-1.9 s over a
-- national year's 281k monthly rows); 27 built-in sums take a sixth of
-- that. The expression is built once here from the bucket bounds.
DO $do$
DECLARE
        hs text;
BEGIN
        SELECT 'ARRAY[' || string_agg(format('sum(hist[%s])', i), ', '
                                      ORDER BY i) || ']::integer[]'
        INTO hs
        FROM generate_series(1, array_length(tthc.route_hist_bounds(), 1)) AS i;

        EXECUTE format($v$
CREATE OR REPLACE VIEW tthc.procedure_level_times WITH (security_invoker = true) AS
SELECT t.*,
       round(tthc.hist_percentile(t.hist, 0.5)::numeric, 2) AS p50_hours,
       round(tthc.hist_percentile(t.hist, 0.9)::numeric, 2) AS p90_hours,
       round(tthc.hist_percentile(t.hist, 0.99)::numeric, 2) AS p99_hours,
       (SELECT p.name FROM tthc.procedures p WHERE p.procedure_code = t.procedure_code) AS procedure_name
FROM (
        SELECT province_code, procedure_code, procedure_level, handling_level,
               sum(received)::bigint AS received,
               sum(resolved_early + resolved_on_time + resolved_late)::bigint AS resolved,
               sum(stints)::bigint AS stints,
               %1$s AS hist,
               round((sum(stint_ms) / 3600000.0 / nullif(sum(stints), 0))::numeric, 2)
                       AS mean_hours
        FROM tthc.procedure_level_by_month
        GROUP BY 1, 2, 3, 4
) t
$v$, hs);

        EXECUTE format($v$
CREATE OR REPLACE VIEW tthc.slowest_procedures WITH (security_invoker = true) AS
WITH t AS (
        SELECT handling_level, procedure_code, procedure_level,
               sum(stints)::bigint AS stints, %1$s AS hist
        FROM tthc.procedure_level_by_month
        GROUP BY handling_level, procedure_code, procedure_level
        HAVING sum(stints) > 0
)
SELECT handling_level, procedure_code, procedure_level, stints,
       round(tthc.hist_percentile(hist, 0.5)::numeric, 2) AS p50_hours,
       round(tthc.hist_percentile(hist, 0.9)::numeric, 2) AS p90_hours,
       round(tthc.hist_percentile(hist, 0.99)::numeric, 2) AS p99_hours,
       rank() OVER (PARTITION BY handling_level
                    ORDER BY tthc.hist_percentile(hist, 0.9) DESC) AS rank_in_level,
       (SELECT p.name FROM tthc.procedures p WHERE p.procedure_code = t.procedure_code) AS procedure_name
FROM t
$v$, hs);

        -- The previous month with activity by a lookup per row (index
        -- procedure_level_by_month_key_idx), not a window over every
        -- month: a filter on month reaches the monthly rows, so the latest
        -- month costs its own rows, not the year's.
        EXECUTE format($v$
CREATE OR REPLACE VIEW tthc.procedure_month_over_month WITH (security_invoker = true) AS
SELECT m.province_code, m.procedure_code, m.procedure_level, m.month,
       m.received, m.resolved, m.on_time_rate,
       round(tthc.hist_percentile(m.hist, 0.5)::numeric, 2) AS p50_hours,
       p.month AS prev_month, p.received AS prev_received,
       p.resolved AS prev_resolved, p.on_time_rate AS prev_on_time_rate,
       round(tthc.hist_percentile(p.hist, 0.5)::numeric, 2) AS prev_p50_hours,
       m.received - p.received AS received_change,
       m.on_time_rate - p.on_time_rate AS on_time_rate_change,
       (SELECT c.name FROM tthc.procedures c WHERE c.procedure_code = m.procedure_code) AS procedure_name
FROM (
        SELECT province_code, procedure_code, procedure_level, month,
               sum(received)::bigint AS received,
               sum(resolved_early + resolved_on_time + resolved_late)::bigint AS resolved,
               round(sum(resolved_early + resolved_on_time)::numeric
                     / nullif(sum(resolved_early + resolved_on_time + resolved_late), 0), 4)
                       AS on_time_rate,
               %1$s AS hist
        FROM tthc.procedure_level_by_month
        GROUP BY 1, 2, 3, 4
) m
LEFT JOIN LATERAL (
        SELECT b.month,
               sum(b.received)::bigint AS received,
               sum(b.resolved_early + b.resolved_on_time + b.resolved_late)::bigint AS resolved,
               round(sum(b.resolved_early + b.resolved_on_time)::numeric
                     / nullif(sum(b.resolved_early + b.resolved_on_time + b.resolved_late), 0), 4)
                       AS on_time_rate,
               %1$s AS hist
        FROM tthc.procedure_level_by_month b
        WHERE b.province_code = m.province_code
          AND b.procedure_code = m.procedure_code
          AND b.procedure_level = m.procedure_level
          AND b.month = (SELECT max(c.month) FROM tthc.procedure_level_by_month c
                         WHERE c.province_code = m.province_code
                           AND c.procedure_code = m.procedure_code
                           AND c.procedure_level = m.procedure_level
                           AND c.month < m.month)
        GROUP BY b.month
) p ON true
$v$, hs);

        -- Nationwide time at each level per month (docs/analysts.md, "Time
        -- at each level, per month").
        EXECUTE format($v$
CREATE VIEW tthc.level_times_monthly WITH (security_invoker = true) AS
SELECT t.month, t.handling_level, t.stints, t.mean_hours,
       round(tthc.hist_percentile(t.hist, 0.5)::numeric, 2) AS p50_hours,
       round(tthc.hist_percentile(t.hist, 0.9)::numeric, 2) AS p90_hours,
       round(tthc.hist_percentile(t.hist, 0.99)::numeric, 2) AS p99_hours,
       t.hist
FROM (
        SELECT month, handling_level, sum(stints)::bigint AS stints,
               round((sum(stint_ms) / 3600000.0 / nullif(sum(stints), 0))::numeric, 2)
                       AS mean_hours,
               %1$s AS hist
        FROM tthc.procedure_level_by_month
        GROUP BY 1, 2
) t
$v$, hs);
END
$do$;

GRANT SELECT ON tthc.level_times_monthly TO tthc_analyst;
COMMENT ON VIEW tthc.level_times_monthly IS 'time at each handling level per Vietnam month, nationwide (every province and procedure merged)';
COMMENT ON COLUMN tthc.level_times_monthly.month IS 'Vietnam calendar month (its first day)';
COMMENT ON COLUMN tthc.level_times_monthly.handling_level IS 'level of the agency handling the dossier: COMMUNE, PROVINCE or CENTRAL';
COMMENT ON COLUMN tthc.level_times_monthly.stints IS 'stints (times one agency held a dossier) that ended that month at the level';
COMMENT ON COLUMN tthc.level_times_monthly.mean_hours IS 'mean hours at the level of those stints (clock stops excluded)';
COMMENT ON COLUMN tthc.level_times_monthly.p50_hours IS 'median hours at the level (within its histogram bucket)';
COMMENT ON COLUMN tthc.level_times_monthly.p90_hours IS '90th percentile of hours at the level';
COMMENT ON COLUMN tthc.level_times_monthly.p99_hours IS '99th percentile of hours at the level';
COMMENT ON COLUMN tthc.level_times_monthly.hist IS 'those stints per bucket of hours at the level (tthc.route_hist_bounds())';

CREATE OR REPLACE VIEW tthc.routing_anomalies WITH (security_invoker = true) AS
SELECT province_code, procedure_code, procedure_level,
       sum(resolved)::bigint AS resolved,
       sum(resolved_off_level)::bigint AS resolved_off_level,
       sum(transferred_dossiers)::bigint AS transferred_dossiers,
       sum(multi_transfer_dossiers)::bigint AS multi_transfer_dossiers,
       sum(transfers)::bigint AS transfers,
       sum(down_transfers)::bigint AS down_transfers,
       sum(resolved_off_level + multi_transfer_dossiers + down_transfers)::bigint
               AS anomalies,
       round(sum(resolved_off_level)::numeric / nullif(sum(resolved), 0), 4)
               AS off_level_rate,
       (SELECT p.name FROM tthc.procedures p WHERE p.procedure_code = t.procedure_code) AS procedure_name
FROM tthc.routing_anomalies_by_month t
GROUP BY 1, 2, 3;

COMMENT ON VIEW tthc.procedure_level_monthly IS 'tthc.procedure_level_by_month with mean and percentiles';
COMMENT ON VIEW tthc.procedure_level_times IS 'tthc.procedure_level_by_month over every month, with percentiles';
COMMENT ON VIEW tthc.routing_anomalies IS 'anomaly totals per province and procedure, every month (tthc.routing_anomalies_by_month)';
