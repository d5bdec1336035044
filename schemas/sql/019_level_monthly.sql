-- 019: tthc.procedure_level_daily summed per Vietnam month, stored.
--
-- The analyst views over procedure levels (top_procedures,
-- procedure_commune_share, procedure_level_monthly, procedure_level_times,
-- slowest_procedures, procedure_month_over_month) aggregated every daily
-- row: 4.3M rows on a national year, 2.8-30 s per query
-- (docs/benchmarks.md). tthc-route now adds each batch's deltas to this
-- table in the transaction that adds them to the daily table, so the two
-- always agree (a month's row is the sum of its days' rows), and the
-- views read it: 30 times fewer rows.

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
COMMENT ON TABLE tthc.procedure_level_by_month IS
        'tthc.procedure_level_daily summed per Vietnam month (first day of the month), kept by tthc-route in the same transaction as the daily rows';
COMMENT ON COLUMN tthc.procedure_level_by_month.month IS
        'first day of the Vietnam month';
COMMENT ON COLUMN tthc.procedure_level_by_month.hist IS
        'stints ended that month per bucket of hours at the level (tthc.route_hist_bounds())';
-- Every other column means what it means in the daily table.
DO $$
DECLARE
        c record;
BEGIN
        FOR c IN SELECT a.attname,
                        col_description('tthc.procedure_level_daily'::regclass,
                                        d.attnum) AS text
                 FROM pg_attribute a
                 JOIN pg_attribute d ON d.attrelid = 'tthc.procedure_level_daily'::regclass
                                    AND d.attname = a.attname
                 WHERE a.attrelid = 'tthc.procedure_level_by_month'::regclass
                   AND a.attnum > 0 AND a.attname <> 'hist'
        LOOP
                EXECUTE format('COMMENT ON COLUMN tthc.procedure_level_by_month.%I IS %L',
                               c.attname, c.text);
        END LOOP;
END
$$;
SELECT tthc.enable_province_rls('tthc.procedure_level_by_month');
REVOKE ALL ON tthc.procedure_level_by_month FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON tthc.procedure_level_by_month TO tthc_service;
GRANT SELECT ON tthc.procedure_level_by_month TO tthc_analyst;

-- Recomputes the months from from_day's month on (NULL: every month) from
-- the daily table. tthc-route's rebuild calls it after it deleted the
-- days it replays; run by the owner, it also repairs the table by hand.
-- Returns the rows written.
CREATE FUNCTION tthc.procedure_level_resum(from_day date)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
        n       bigint;
BEGIN
        DELETE FROM tthc.procedure_level_by_month
        WHERE from_day IS NULL
           OR month >= date_trunc('month', from_day)::date;
        INSERT INTO tthc.procedure_level_by_month
        SELECT date_trunc('month', day)::date, province_code, procedure_code,
               procedure_level, handling_level, sum(received),
               sum(resolved_early), sum(resolved_on_time), sum(resolved_late),
               sum(stopped), sum(withdrawn), sum(supplement_requested),
               sum(stints), sum(stint_ms), tthc.hist_sum(hist)
        FROM tthc.procedure_level_daily
        WHERE from_day IS NULL
           OR day >= date_trunc('month', from_day)::date
        GROUP BY 1, 2, 3, 4, 5;
        GET DIAGNOSTICS n = ROW_COUNT;
        RETURN n;
END
$$;
REVOKE ALL ON FUNCTION tthc.procedure_level_resum(date) FROM PUBLIC;
COMMENT ON FUNCTION tthc.procedure_level_resum(date) IS
        'recomputes tthc.procedure_level_by_month from the daily table for the months from the given day''s month on (NULL: all); owner only';

SELECT tthc.procedure_level_resum(NULL);

-- The views: same columns, read from the monthly rows.
CREATE OR REPLACE VIEW tthc.top_procedures WITH (security_invoker = true) AS
SELECT t.province_code, t.procedure_code, t.procedure_level,
       sum(t.received)::bigint AS received,
       sum(t.resolved_early + t.resolved_on_time + t.resolved_late)::bigint
               AS resolved,
       rank() OVER (PARTITION BY t.province_code
                    ORDER BY sum(t.received) DESC) AS rank_in_province,
       p.name AS procedure_name
FROM tthc.procedure_level_by_month t
LEFT JOIN tthc.procedures p USING (procedure_code)
GROUP BY t.province_code, t.procedure_code, t.procedure_level, p.name;

CREATE OR REPLACE VIEW tthc.procedure_commune_share WITH (security_invoker = true) AS
SELECT t.province_code, t.procedure_code, t.procedure_level,
       sum(t.received)::bigint AS received,
       sum(t.received) FILTER (WHERE t.handling_level = 'COMMUNE')::bigint
               AS received_at_commune,
       sum(t.resolved_early + t.resolved_on_time + t.resolved_late)::bigint
               AS resolved,
       sum(t.resolved_early + t.resolved_on_time + t.resolved_late)
               FILTER (WHERE t.handling_level = 'COMMUNE')::bigint
               AS resolved_at_commune,
       round(sum(t.resolved_early + t.resolved_on_time + t.resolved_late)
                     FILTER (WHERE t.handling_level = 'COMMUNE')::numeric
             / nullif(sum(t.resolved_early + t.resolved_on_time
                          + t.resolved_late), 0),
             4) AS commune_share,
       p.name AS procedure_name
FROM tthc.procedure_level_by_month t
LEFT JOIN tthc.procedures p USING (procedure_code)
GROUP BY t.province_code, t.procedure_code, t.procedure_level, p.name;

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

CREATE OR REPLACE VIEW tthc.procedure_level_times WITH (security_invoker = true) AS
SELECT province_code, procedure_code, procedure_level, handling_level,
       sum(received)::bigint AS received,
       sum(resolved_early + resolved_on_time + resolved_late)::bigint AS resolved,
       sum(stints)::bigint AS stints,
       tthc.hist_sum(hist) AS hist,
       round((sum(stint_ms) / 3600000.0 / nullif(sum(stints), 0))::numeric, 2)
               AS mean_hours,
       round(tthc.hist_percentile(tthc.hist_sum(hist), 0.5)::numeric, 2) AS p50_hours,
       round(tthc.hist_percentile(tthc.hist_sum(hist), 0.9)::numeric, 2) AS p90_hours,
       round(tthc.hist_percentile(tthc.hist_sum(hist), 0.99)::numeric, 2) AS p99_hours,
       (SELECT p.name FROM tthc.procedures p WHERE p.procedure_code = t.procedure_code) AS procedure_name
FROM tthc.procedure_level_by_month t
GROUP BY 1, 2, 3, 4;

CREATE OR REPLACE VIEW tthc.slowest_procedures WITH (security_invoker = true) AS
WITH t AS (
        SELECT handling_level, procedure_code, procedure_level,
               sum(stints)::bigint AS stints, tthc.hist_sum(hist) AS hist
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
FROM t;

CREATE OR REPLACE VIEW tthc.procedure_month_over_month WITH (security_invoker = true) AS
WITH m AS (
        SELECT province_code, procedure_code, procedure_level, month,
               sum(received)::bigint AS received,
               sum(resolved_early + resolved_on_time + resolved_late)::bigint
                       AS resolved,
               sum(resolved_early + resolved_on_time)::bigint AS resolved_in_time,
               tthc.hist_sum(hist) AS hist
        FROM tthc.procedure_level_by_month
        GROUP BY 1, 2, 3, 4
), r AS (
        SELECT m.*,
               round(resolved_in_time::numeric / nullif(resolved, 0), 4)
                       AS on_time_rate,
               round(tthc.hist_percentile(hist, 0.5)::numeric, 2) AS p50_hours
        FROM m
)
SELECT province_code, procedure_code, procedure_level, month, received,
       resolved, on_time_rate, p50_hours,
       lag(month) OVER w AS prev_month,
       lag(received) OVER w AS prev_received,
       lag(resolved) OVER w AS prev_resolved,
       lag(on_time_rate) OVER w AS prev_on_time_rate,
       lag(p50_hours) OVER w AS prev_p50_hours,
       received - lag(received) OVER w AS received_change,
       on_time_rate - lag(on_time_rate) OVER w AS on_time_rate_change,
       (SELECT p.name FROM tthc.procedures p WHERE p.procedure_code = r.procedure_code) AS procedure_name
FROM r
WINDOW w AS (PARTITION BY province_code, procedure_code, procedure_level
             ORDER BY month);

COMMENT ON VIEW tthc.procedure_level_monthly IS 'tthc.procedure_level_by_month with mean and percentiles';
COMMENT ON VIEW tthc.procedure_level_times IS 'tthc.procedure_level_by_month over every month, with percentiles';
