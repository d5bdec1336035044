-- 002_route.sql: tthc-route's per-dossier routing state, the procedure
-- routing aggregates (transfers, per-level counters and time-at-level
-- histograms, anomalies), the monthly scorecard and the analyst views.
-- See docs/route.md (semantics) and docs/analysts.md (example queries).
-- Never edit a shipped migration: add one.

-- Per-dossier state of tthc-route, written in the same transaction as the
-- group's offsets. The lifecycle columns mirror tthc.dossiers (the same
-- rules, common/dossier.c); the stint columns describe the time since the
-- dossier entered its current level.
CREATE TABLE tthc.route_dossiers (
        province_code           text NOT NULL,
        dossier_id              text NOT NULL,
        commune_code            text,
        procedure_code          text NOT NULL,
        procedure_level         text NOT NULL,
        channel                 text NOT NULL,
        submitted_at            timestamptz,
        received_at             timestamptz,
        due_at                  timestamptz,
        status                  text NOT NULL,
        closed_at               timestamptz,
        outcome                 text,
        original_due_at         timestamptz,
        extended                boolean NOT NULL DEFAULT false,
        result_returned_at      timestamptz,
        handling_level          text,
        agency_code             text,
        handling_commune_code   text,
        last_seq                integer NOT NULL,
        seq_gaps                integer NOT NULL DEFAULT 0,
        open_pauses             integer NOT NULL DEFAULT 0,
        last_event_at           timestamptz,
        stint_level             text,
        stint_since             timestamptz,
        stint_paused_ms         bigint NOT NULL DEFAULT 0,
        pause_since             timestamptz,
        transfers               integer NOT NULL DEFAULT 0,
        down_transfers          integer NOT NULL DEFAULT 0,
        stints                  integer NOT NULL DEFAULT 0,
        updated_at              timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (province_code, dossier_id)
);
COMMENT ON TABLE tthc.route_dossiers IS
        'tthc-route state: last_seq (deduplication), current level and entry time, pauses, transfers';

-- Milliseconds since the Unix epoch (how the services read timestamps).
CREATE FUNCTION tthc.epoch_ms(t timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT (extract(epoch FROM t) * 1000)::bigint
$$;

-- The fixed histogram buckets of time at a level, in calendar hours:
-- bucket i (1-based) holds [b[i], b[i+1]), the last [b[27], infinity).
-- Mirrors services/route/route.c; never change it (rows are summed).
CREATE FUNCTION tthc.route_hist_bounds() RETURNS double precision[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT ARRAY[0, 0.5, 1, 2, 3, 4, 6, 8, 12, 16, 24, 36, 48, 72, 96,
                     120, 168, 240, 336, 480, 720, 1080, 1440, 2160, 2880,
                     4320, 8760]::double precision[]
$$;

-- The bucket (1-based) that a duration in hours falls into.
CREATE FUNCTION tthc.hist_bucket(hours double precision) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT greatest(1, width_bucket(greatest(hours, 0),
                                        tthc.route_hist_bounds()))
$$;

-- Element-wise sum of two histograms (NULL is the empty histogram).
CREATE FUNCTION tthc.hist_add(a integer[], b integer[]) RETURNS integer[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE WHEN a IS NULL THEN b WHEN b IS NULL THEN a
               ELSE ARRAY(SELECT coalesce(x, 0) + coalesce(y, 0)
                          FROM unnest(a, b) WITH ORDINALITY AS u(x, y, i)
                          ORDER BY i) END
$$;

-- Sums histograms exactly: days roll up to months, provinces to the nation.
CREATE AGGREGATE tthc.hist_sum(integer[]) (
        SFUNC = tthc.hist_add, STYPE = integer[],
        COMBINEFUNC = tthc.hist_add, PARALLEL = SAFE);

-- The p-quantile (0 < p <= 1) of a histogram, in hours: the bucket holding
-- the ceil(p * n)-th smallest value (nearest rank, as percentile_disc),
-- interpolated inside it; the lower bound for the open last bucket.
-- NULL for an empty histogram.
CREATE FUNCTION tthc.hist_percentile(h integer[], p double precision)
RETURNS double precision
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
        b       double precision[] := tthc.route_hist_bounds();
        n       bigint;
        k       bigint;
        cum     bigint := 0;
BEGIN
        SELECT sum(x) INTO n FROM unnest(h) AS x;
        IF n IS NULL OR n = 0 THEN
                RETURN NULL;
        END IF;
        k := greatest(1, ceil(p * n)::bigint);
        FOR i IN 1 .. array_length(h, 1) LOOP
                IF h[i] > 0 AND cum + h[i] >= k THEN
                        IF i >= array_length(b, 1) THEN
                                RETURN b[array_length(b, 1)];
                        END IF;
                        RETURN b[i] + (b[i + 1] - b[i])
                                * ((k - cum) - 0.5) / h[i];
                END IF;
                cum := cum + h[i];
        END LOOP;
        RETURN NULL;
END
$$;

-- Transfers per Vietnam day of the TRANSFERRED event.
CREATE TABLE tthc.procedure_routing_daily (
        day                     date NOT NULL,
        province_code           text NOT NULL,
        procedure_code          text NOT NULL,
        procedure_level         text NOT NULL,
        from_level              text NOT NULL,
        to_level                text NOT NULL,
        to_agency_code          text,
        transfers               integer NOT NULL DEFAULT 0,
        CONSTRAINT procedure_routing_daily_key UNIQUE NULLS NOT DISTINCT
                (day, province_code, procedure_code, procedure_level,
                 from_level, to_level, to_agency_code)
);
CREATE INDEX procedure_routing_daily_proc_idx
        ON tthc.procedure_routing_daily (procedure_code, day);

-- Per Vietnam day and level: counters by the event's handling_level, and
-- the time spent at that level by stints that ended that day (entry by
-- receipt or transfer in, exit by transfer out or closing, minus pauses).
CREATE TABLE tthc.procedure_level_daily (
        day                     date NOT NULL,
        province_code           text NOT NULL,
        procedure_code          text NOT NULL,
        procedure_level         text NOT NULL,
        handling_level          text NOT NULL,
        received                integer NOT NULL DEFAULT 0,
        resolved_early          integer NOT NULL DEFAULT 0,
        resolved_on_time        integer NOT NULL DEFAULT 0,
        resolved_late           integer NOT NULL DEFAULT 0,
        stopped                 integer NOT NULL DEFAULT 0,
        withdrawn               integer NOT NULL DEFAULT 0,
        supplement_requested    integer NOT NULL DEFAULT 0,
        stints                  integer NOT NULL DEFAULT 0,
        stint_ms                bigint NOT NULL DEFAULT 0,
        hist                    integer[] NOT NULL,
        PRIMARY KEY (day, province_code, procedure_code, procedure_level,
                     handling_level)
);
CREATE INDEX procedure_level_daily_proc_idx
        ON tthc.procedure_level_daily (procedure_code, day);
COMMENT ON COLUMN tthc.procedure_level_daily.hist IS
        'stints ended that day per bucket of hours at the level (tthc.route_hist_bounds())';

-- Routing anomalies per Vietnam day of the event that showed them.
CREATE TABLE tthc.routing_anomalies_daily (
        day                     date NOT NULL,
        province_code           text NOT NULL,
        procedure_code          text NOT NULL,
        procedure_level         text NOT NULL,
        resolved                integer NOT NULL DEFAULT 0,
        resolved_off_level      integer NOT NULL DEFAULT 0,
        transferred_dossiers    integer NOT NULL DEFAULT 0,
        multi_transfer_dossiers integer NOT NULL DEFAULT 0,
        transfers               integer NOT NULL DEFAULT 0,
        down_transfers          integer NOT NULL DEFAULT 0,
        PRIMARY KEY (day, province_code, procedure_code, procedure_level)
);

-- Views (security_invoker: row-level security on the tables applies).

CREATE VIEW tthc.procedure_level_monthly WITH (security_invoker = true) AS
SELECT date_trunc('month', day)::date AS month, province_code,
       procedure_code, procedure_level, handling_level,
       sum(received)::bigint AS received,
       sum(resolved_early)::bigint AS resolved_early,
       sum(resolved_on_time)::bigint AS resolved_on_time,
       sum(resolved_late)::bigint AS resolved_late,
       sum(stopped)::bigint AS stopped,
       sum(withdrawn)::bigint AS withdrawn,
       sum(supplement_requested)::bigint AS supplement_requested,
       sum(stints)::bigint AS stints,
       tthc.hist_sum(hist) AS hist,
       round((sum(stint_ms) / 3600000.0 / nullif(sum(stints), 0))::numeric, 2)
               AS mean_hours,
       round(tthc.hist_percentile(tthc.hist_sum(hist), 0.5)::numeric, 2) AS p50_hours,
       round(tthc.hist_percentile(tthc.hist_sum(hist), 0.9)::numeric, 2) AS p90_hours,
       round(tthc.hist_percentile(tthc.hist_sum(hist), 0.99)::numeric, 2) AS p99_hours
FROM tthc.procedure_level_daily
GROUP BY 1, 2, 3, 4, 5;

-- All days together, per province, procedure and level.
CREATE VIEW tthc.procedure_level_times WITH (security_invoker = true) AS
SELECT province_code, procedure_code, procedure_level, handling_level,
       sum(received)::bigint AS received,
       sum(resolved_early + resolved_on_time + resolved_late)::bigint AS resolved,
       sum(stints)::bigint AS stints,
       tthc.hist_sum(hist) AS hist,
       round((sum(stint_ms) / 3600000.0 / nullif(sum(stints), 0))::numeric, 2)
               AS mean_hours,
       round(tthc.hist_percentile(tthc.hist_sum(hist), 0.5)::numeric, 2) AS p50_hours,
       round(tthc.hist_percentile(tthc.hist_sum(hist), 0.9)::numeric, 2) AS p90_hours,
       round(tthc.hist_percentile(tthc.hist_sum(hist), 0.99)::numeric, 2) AS p99_hours
FROM tthc.procedure_level_daily
GROUP BY 1, 2, 3, 4;

CREATE VIEW tthc.routing_anomalies WITH (security_invoker = true) AS
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
               AS off_level_rate
FROM tthc.routing_anomalies_daily
GROUP BY 1, 2, 3;

-- The worst procedure/province pairs first (rank 1 = most anomalies).
CREATE VIEW tthc.routing_anomalies_worst WITH (security_invoker = true) AS
SELECT rank() OVER (ORDER BY anomalies DESC, off_level_rate DESC NULLS LAST)
               AS rank, a.*
FROM tthc.routing_anomalies a
WHERE anomalies > 0
ORDER BY anomalies DESC, off_level_rate DESC NULLS LAST, province_code,
         procedure_code;

-- Scorecard per province and per commune and Vietnam month, in the style
-- of Decision 766 "tien do giai quyet", from tthc.dossiers. A dossier
-- counts for the province, and for the commune whose agency handles it
-- (or resolved it) when that is a commune-level agency. handled = received
-- dossiers closed in the month + still open at its end; score = 20 x
-- (early + on time + withdrawn + in progress within deadline) / handled.
-- The current month is evaluated at the province's watermark.
CREATE VIEW tthc.scorecard_monthly WITH (security_invoker = true) AS
WITH dd AS (
        SELECT d.province_code,
               CASE WHEN d.handling_level = 'COMMUNE'
                    THEN d.handling_commune_code END AS commune_code,
               (d.received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS rday,
               (d.closed_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS cday,
               (d.original_due_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS due_day,
               d.status, d.outcome, d.channel
        FROM tthc.dossiers d
        WHERE d.received_at IS NOT NULL AND d.status <> 'refused'
), bounds AS (
        SELECT dd.province_code,
               date_trunc('month', min(dd.rday))::date AS first_month,
               coalesce((f.watermark AT TIME ZONE 'Asia/Ho_Chi_Minh')::date,
                        max(greatest(dd.rday, dd.cday))) AS last_day
        FROM dd LEFT JOIN tthc.freshness f USING (province_code)
        GROUP BY dd.province_code, f.watermark
), months AS (
        SELECT b.province_code, g::date AS month,
               least((g + interval '1 month')::date - 1, b.last_day) AS eval_day
        FROM bounds b,
             generate_series(b.first_month, date_trunc('month', b.last_day),
                             interval '1 month') AS g
), x AS (
        SELECT m.province_code, dd.commune_code, m.month, m.eval_day,
               dd.rday, dd.cday, dd.due_day, dd.status, dd.outcome, dd.channel,
               dd.rday >= m.month AS received_in,
               dd.cday IS NOT NULL AND dd.cday >= m.month
                       AND dd.cday <= m.eval_day AS closed_in,
               dd.cday IS NULL OR dd.cday > m.eval_day AS open_at_end
        FROM months m
        JOIN dd ON dd.province_code = m.province_code
               AND dd.rday <= m.eval_day
               AND (dd.cday IS NULL OR dd.cday >= m.month)
), y AS (
        SELECT *,
               open_at_end AND due_day IS NOT NULL AND due_day < eval_day
                       AND NOT (cday IS NULL AND status = 'paused') AS past
        FROM x
), agg AS (
        SELECT CASE WHEN grouping(commune_code) = 1 THEN 'province'
                    ELSE 'commune' END AS scope,
               province_code, commune_code, month,
               count(*) FILTER (WHERE received_in) AS received,
               count(*) FILTER (WHERE received_in AND channel = 'ONLINE')
                       AS online_received,
               count(*) FILTER (WHERE closed_in OR open_at_end) AS handled,
               count(*) FILTER (WHERE closed_in AND status = 'resolved'
                                AND outcome = 'early') AS resolved_early,
               count(*) FILTER (WHERE closed_in AND status = 'resolved'
                                AND outcome = 'on_time') AS resolved_on_time,
               count(*) FILTER (WHERE closed_in AND status = 'resolved'
                                AND outcome = 'late') AS resolved_late,
               count(*) FILTER (WHERE closed_in AND status = 'withdrawn')
                       AS withdrawn,
               count(*) FILTER (WHERE closed_in AND status = 'stopped')
                       AS stopped,
               count(*) FILTER (WHERE open_at_end AND NOT past)
                       AS in_progress_within,
               count(*) FILTER (WHERE past) AS in_progress_past
        FROM y
        GROUP BY GROUPING SETS ((province_code, month),
                                (province_code, commune_code, month))
), s AS (
        SELECT scope, province_code, commune_code, month, received, handled,
               resolved_early, resolved_on_time, resolved_late, withdrawn,
               stopped, in_progress_within, in_progress_past, online_received,
               round(online_received::numeric / nullif(received, 0), 4)
                       AS online_share,
               round(least(20, 20.0 * (resolved_early + resolved_on_time
                                       + withdrawn + in_progress_within)
                               / nullif(handled, 0)), 2) AS score
        FROM agg
        WHERE scope = 'province' OR commune_code IS NOT NULL
)
SELECT s.*,
       CASE WHEN scope = 'province'
            THEN rank() OVER (PARTITION BY scope, month
                              ORDER BY score DESC NULLS LAST)
            ELSE rank() OVER (PARTITION BY scope, month, province_code
                              ORDER BY score DESC NULLS LAST) END AS rank
FROM s;
COMMENT ON VIEW tthc.scorecard_monthly IS
        'rank: among provinces for province rows, among the province''s communes for commune rows';

-- Analyst views (docs/analysts.md).

-- Top procedures by volume per province (rank 1 = most received).
CREATE VIEW tthc.top_procedures WITH (security_invoker = true) AS
SELECT province_code, procedure_code, procedure_level,
       sum(received)::bigint AS received,
       sum(resolved_early + resolved_on_time + resolved_late)::bigint AS resolved,
       rank() OVER (PARTITION BY province_code
                    ORDER BY sum(received) DESC) AS rank_in_province
FROM tthc.procedure_level_daily
GROUP BY province_code, procedure_code, procedure_level;

-- Share of each procedure's dossiers received and resolved at commune level.
CREATE VIEW tthc.procedure_commune_share WITH (security_invoker = true) AS
SELECT province_code, procedure_code, procedure_level,
       sum(received)::bigint AS received,
       sum(received) FILTER (WHERE handling_level = 'COMMUNE')::bigint
               AS received_at_commune,
       sum(resolved_early + resolved_on_time + resolved_late)::bigint AS resolved,
       sum(resolved_early + resolved_on_time + resolved_late)
               FILTER (WHERE handling_level = 'COMMUNE')::bigint
               AS resolved_at_commune,
       round(sum(resolved_early + resolved_on_time + resolved_late)
                     FILTER (WHERE handling_level = 'COMMUNE')::numeric
             / nullif(sum(resolved_early + resolved_on_time + resolved_late), 0),
             4) AS commune_share
FROM tthc.procedure_level_daily
GROUP BY province_code, procedure_code, procedure_level;

-- Slowest procedures per level, nationwide (histograms of every province
-- merged); rank 1 = the highest p90.
CREATE VIEW tthc.slowest_procedures WITH (security_invoker = true) AS
WITH t AS (
        SELECT handling_level, procedure_code, procedure_level,
               sum(stints)::bigint AS stints, tthc.hist_sum(hist) AS hist
        FROM tthc.procedure_level_daily
        GROUP BY handling_level, procedure_code, procedure_level
        HAVING sum(stints) > 0
)
SELECT handling_level, procedure_code, procedure_level, stints,
       round(tthc.hist_percentile(hist, 0.5)::numeric, 2) AS p50_hours,
       round(tthc.hist_percentile(hist, 0.9)::numeric, 2) AS p90_hours,
       round(tthc.hist_percentile(hist, 0.99)::numeric, 2) AS p99_hours,
       rank() OVER (PARTITION BY handling_level
                    ORDER BY tthc.hist_percentile(hist, 0.9) DESC) AS rank_in_level
FROM t;

-- Month over month per province and procedure (all levels).
CREATE VIEW tthc.procedure_month_over_month WITH (security_invoker = true) AS
WITH m AS (
        SELECT province_code, procedure_code, procedure_level,
               date_trunc('month', day)::date AS month,
               sum(received)::bigint AS received,
               sum(resolved_early + resolved_on_time + resolved_late)::bigint
                       AS resolved,
               sum(resolved_early + resolved_on_time)::bigint AS resolved_in_time,
               tthc.hist_sum(hist) AS hist
        FROM tthc.procedure_level_daily
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
       on_time_rate - lag(on_time_rate) OVER w AS on_time_rate_change
FROM r
WINDOW w AS (PARTITION BY province_code, procedure_code, procedure_level
             ORDER BY month);

GRANT SELECT, INSERT, UPDATE ON tthc.route_dossiers,
        tthc.procedure_routing_daily, tthc.procedure_level_daily,
        tthc.routing_anomalies_daily TO tthc_service;
GRANT SELECT ON tthc.route_dossiers, tthc.procedure_routing_daily,
        tthc.procedure_level_daily, tthc.routing_anomalies_daily,
        tthc.procedure_level_monthly, tthc.procedure_level_times,
        tthc.routing_anomalies, tthc.routing_anomalies_worst,
        tthc.scorecard_monthly, tthc.top_procedures,
        tthc.procedure_commune_share, tthc.slowest_procedures,
        tthc.procedure_month_over_month TO tthc_analyst;
