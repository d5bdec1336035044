-- 022: the open month's closed dossiers are counted once, as days pass.
--
-- The scorecard's open month was computed live at each query from every
-- dossier open or closed since the month began: on a national year 1.1 s
-- on the 4th of a month (338k dossiers), 3.1-4.3 s on its last day (a
-- million; docs/benchmarks.md). A dossier closed in the month contributes the same whatever
-- the evaluation day (it is closed by then), so those closed before the
-- evaluation day are counted once and stored:
--
--   tthc.scorecard_open_closed          per province and HANDLING commune,
--                                       the open month's dossiers closed
--                                       from its first day through `through`
--   tthc.scorecard_open_closed_through  per province, that month and day
--
-- tthc.scorecard_refresh() (each Vietnam midnight in tthc-alert, and
-- tthc-admin scorecard refresh) adds the days that passed since, up to the
-- day before the province's watermark day; a new month starts afresh. The
-- view adds the stored counts to a live computation over only the open
-- dossiers and those closed since `through` (with the few dossiers whose
-- receipt day is after their closing day, which stay live: a partial
-- index finds them). A late change to a dossier closed in the stored days
-- marks the open month in tthc.scorecard_stale, as for closed months: the
-- view then computes the month live until the next refresh counts it
-- again. The figures are the same either way (tests/integration/
-- test_scorecard.sh compares them with 015's computation).
--
-- The refresh now holds a SHARE lock on tthc.dossiers while it counts:
-- a dossier change committed while a refresh counted, in a month or day
-- the refresh was adding, was neither counted nor marked stale (the
-- change's trigger did not see the month stored yet). The lock waits for
-- the writers in flight and holds new ones until the refresh commits
-- (milliseconds for a day; a month that closed, seconds).

CREATE TABLE tthc.scorecard_open_closed (
        province_code           text NOT NULL,
        commune_code            text,
        month                   date NOT NULL,
        received                integer NOT NULL,
        handled                 integer NOT NULL,
        resolved_early          integer NOT NULL,
        resolved_on_time        integer NOT NULL,
        resolved_late           integer NOT NULL,
        withdrawn               integer NOT NULL,
        stopped                 integer NOT NULL,
        online_received         integer NOT NULL,
        CONSTRAINT scorecard_open_closed_key UNIQUE NULLS NOT DISTINCT
                (province_code, month, commune_code)
);
COMMENT ON TABLE tthc.scorecard_open_closed IS
        'the open month''s dossiers closed from its first day through tthc.scorecard_open_closed_through.through, counted per HANDLING commune by tthc.scorecard_refresh(); tthc.scorecard_monthly adds the dossiers still open or closed since, computed live';
COMMENT ON COLUMN tthc.scorecard_open_closed.province_code IS 'province code';
COMMENT ON COLUMN tthc.scorecard_open_closed.commune_code IS 'the HANDLING commune (null: not handled at commune level)';
COMMENT ON COLUMN tthc.scorecard_open_closed.month IS 'the open month (first day)';
COMMENT ON COLUMN tthc.scorecard_open_closed.received IS 'of these dossiers, received in the month';
COMMENT ON COLUMN tthc.scorecard_open_closed.handled IS 'these dossiers (each closed in the month, so handled)';
COMMENT ON COLUMN tthc.scorecard_open_closed.resolved_early IS 'resolved before the deadline';
COMMENT ON COLUMN tthc.scorecard_open_closed.resolved_on_time IS 'resolved on the deadline''s day';
COMMENT ON COLUMN tthc.scorecard_open_closed.resolved_late IS 'resolved after the deadline';
COMMENT ON COLUMN tthc.scorecard_open_closed.withdrawn IS 'withdrawn';
COMMENT ON COLUMN tthc.scorecard_open_closed.stopped IS 'stopped';
COMMENT ON COLUMN tthc.scorecard_open_closed.online_received IS 'of received, submitted online';

CREATE TABLE tthc.scorecard_open_closed_through (
        province_code   text PRIMARY KEY,
        month           date NOT NULL,
        through         date NOT NULL CHECK (through >= month),
        refreshed_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE tthc.scorecard_open_closed_through IS
        'per province, the Vietnam days of the open month whose closed dossiers tthc.scorecard_open_closed counts';
COMMENT ON COLUMN tthc.scorecard_open_closed_through.province_code IS 'province code';
COMMENT ON COLUMN tthc.scorecard_open_closed_through.month IS 'the open month (first day)';
COMMENT ON COLUMN tthc.scorecard_open_closed_through.through IS 'the last Vietnam day counted (the day before the watermark''s when refreshed)';
COMMENT ON COLUMN tthc.scorecard_open_closed_through.refreshed_at IS 'when tthc.scorecard_refresh() last added days';

SELECT tthc.enable_province_rls('tthc.scorecard_open_closed');
SELECT tthc.enable_province_rls('tthc.scorecard_open_closed_through');
REVOKE ALL ON tthc.scorecard_open_closed, tthc.scorecard_open_closed_through
        FROM PUBLIC;
GRANT SELECT ON tthc.scorecard_open_closed, tthc.scorecard_open_closed_through
        TO tthc_service, tthc_analyst, tthc_province_analyst;

-- Dossiers received on a later day than they closed (event times need not
-- follow seq order): the stored days leave them out, the live computation
-- counts them. A handful of rows; the predicate's columns are indexed
-- already, so updates that were HOT stay HOT.
CREATE INDEX dossiers_received_after_close_idx ON tthc.dossiers
        (province_code, closed_at) WHERE received_at > closed_at;

-- 016's bounds, of one province when asked: tthc-alert's refresh of a
-- province computed them for every province (30 ms of the 65 ms a refresh
-- with nothing to store took on a national year).
DROP FUNCTION tthc.scorecard_bounds();
CREATE FUNCTION tthc.scorecard_bounds(p_province text DEFAULT NULL)
RETURNS TABLE (province_code text, first_month date, last_day date)
LANGUAGE sql STABLE SET jit = off AS $$
WITH RECURSIVE p AS (
        (SELECT d.province_code FROM tthc.dossiers d
         WHERE d.province_code >= coalesce(p_province, '')
         ORDER BY d.province_code LIMIT 1)
        UNION ALL
        SELECT (SELECT d.province_code FROM tthc.dossiers d
                WHERE d.province_code > p.province_code
                ORDER BY d.province_code LIMIT 1)
        FROM p WHERE p.province_code IS NOT NULL AND p_province IS NULL
), s AS (
        SELECT p.province_code,
               least((SELECT min(c.month) FROM tthc.scorecard_closed_months c
                      WHERE c.province_code = p.province_code),
                     (SELECT min(st.month) FROM tthc.scorecard_stale st
                      WHERE st.province_code = p.province_code)) AS stored_first,
               (SELECT (f.watermark AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
                FROM tthc.freshness f
                WHERE f.province_code = p.province_code) AS wm_day
        FROM p WHERE p.province_code IS NOT NULL
          AND (p_province IS NULL OR p.province_code = p_province)
)
SELECT s.province_code,
       coalesce(s.stored_first,
                (SELECT date_trunc('month', min(d.received_at
                        AT TIME ZONE 'Asia/Ho_Chi_Minh'))::date
                 FROM tthc.dossiers d
                 WHERE d.province_code = s.province_code
                   AND d.status <> 'refused')) AS first_month,
       coalesce(s.wm_day,
                (SELECT max(greatest((d.received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date,
                                     (d.closed_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date))
                 FROM tthc.dossiers d
                 WHERE d.province_code = s.province_code
                   AND d.received_at IS NOT NULL AND d.status <> 'refused'))
               AS last_day
FROM s
$$;
COMMENT ON FUNCTION tthc.scorecard_bounds(text) IS
        'per province (p_province only, when given): the scorecard''s first month and the evaluation day of its open month';

-- The counts of one province's dossiers closed on Vietnam days p_from to
-- p_through (within p_month), received on or before their closing day.
CREATE FUNCTION tthc.scorecard_closings(p_province text, p_month date,
                                        p_from date, p_through date)
RETURNS TABLE (province_code text, commune_code text, month date,
               received bigint, handled bigint, resolved_early bigint,
               resolved_on_time bigint, resolved_late bigint, withdrawn bigint,
               stopped bigint, online_received bigint)
LANGUAGE sql STABLE SET jit = off AS $$
SELECT p_province, y.commune_code, p_month,
       count(*) FILTER (WHERE y.rday >= p_month),
       count(*),
       count(*) FILTER (WHERE y.status = 'resolved' AND y.outcome = 'early'),
       count(*) FILTER (WHERE y.status = 'resolved' AND y.outcome = 'on_time'),
       count(*) FILTER (WHERE y.status = 'resolved' AND y.outcome = 'late'),
       count(*) FILTER (WHERE y.status = 'withdrawn'),
       count(*) FILTER (WHERE y.status = 'stopped'),
       count(*) FILTER (WHERE y.rday >= p_month AND y.channel = 'ONLINE')
FROM (SELECT CASE WHEN d.handling_level = 'COMMUNE'
                  THEN d.handling_commune_code END AS commune_code,
             (d.received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS rday,
             (d.closed_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS cday,
             d.status, d.outcome, d.channel
      FROM tthc.dossiers d
      WHERE d.province_code = p_province
        AND coalesce(d.closed_at, 'infinity'::timestamptz)
            >= (p_from::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')
        AND coalesce(d.closed_at, 'infinity'::timestamptz)
            < ((p_through + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')
        AND d.received_at IS NOT NULL AND d.status <> 'refused') y
WHERE y.rday <= y.cday
GROUP BY y.commune_code
$$;
COMMENT ON FUNCTION tthc.scorecard_closings(text, date, date, date) IS
        'the scorecard counts of one province''s dossiers closed on the given Vietnam days of a month';

-- The open month's live part: 016's computation for the month of the
-- evaluation day, over only the dossiers open or closed from
-- p_closed_from (and those received after their closing day, which
-- tthc.scorecard_closings leaves out). One month per province, so no
-- expansion over months, and each dossier compared with the month's
-- instants rather than converted to Vietnam days: 2.3 times faster than
-- scorecard_compute on the same rows, with the same counts. Per handling
-- commune (null: not handled by a commune); tthc.scorecard_rows adds the
-- stored closings and sums the province rows.
CREATE FUNCTION tthc.scorecard_open_live(p_province text[], p_month date[],
                                         p_eval date[], p_closed_from date[])
RETURNS TABLE (province_code text, commune_code text, month date,
               received bigint, handled bigint, resolved_early bigint,
               resolved_on_time bigint, resolved_late bigint, withdrawn bigint,
               stopped bigint, in_progress_within bigint,
               in_progress_past bigint, online_received bigint)
LANGUAGE sql STABLE SET jit = off SET work_mem = '256MB' SET enable_sort = off
ROWS 5000 AS $$
WITH m AS (
        SELECT m.province_code, m.month,
               (m.month::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh') AS month_at,
               (m.eval_day::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh') AS eval_at,
               ((m.eval_day + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh') AS eval_end,
               (m.closed_from::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh') AS from_at
        FROM unnest(p_province, p_month, p_eval, p_closed_from)
                AS m(province_code, month, eval_day, closed_from)
), y AS (
        SELECT m.province_code, m.month, d.*
        FROM m CROSS JOIN LATERAL (
                SELECT CASE WHEN d.handling_level = 'COMMUNE'
                            THEN d.handling_commune_code END AS commune_code,
                       d.received_at >= m.month_at AS received_in,
                       coalesce(d.closed_at < m.eval_end, false) AS closed_in,
                       d.original_due_at < m.eval_at
                               AND NOT (d.closed_at IS NULL AND d.status = 'paused')
                               AS due_passed,
                       d.status, d.outcome, d.channel
                FROM tthc.dossiers d
                WHERE d.province_code = m.province_code
                  AND coalesce(d.closed_at, 'infinity'::timestamptz) >= m.from_at
                  AND d.received_at IS NOT NULL AND d.status <> 'refused'
                  AND d.received_at < m.eval_end
                UNION ALL
                SELECT CASE WHEN d.handling_level = 'COMMUNE'
                            THEN d.handling_commune_code END,
                       d.received_at >= m.month_at, true, false,
                       d.status, d.outcome, d.channel
                FROM tthc.dossiers d
                WHERE d.province_code = m.province_code
                  AND d.received_at > d.closed_at
                  AND d.closed_at >= m.month_at AND d.closed_at < m.from_at
                  AND d.status <> 'refused' AND d.received_at < m.eval_end
                  AND (d.received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
                      > (d.closed_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
                OFFSET 0) d
)
SELECT y.province_code, y.commune_code, y.month,
       count(*) FILTER (WHERE y.received_in) AS received,
       count(*) AS handled,
       count(*) FILTER (WHERE y.closed_in AND y.status = 'resolved'
                        AND y.outcome = 'early') AS resolved_early,
       count(*) FILTER (WHERE y.closed_in AND y.status = 'resolved'
                        AND y.outcome = 'on_time') AS resolved_on_time,
       count(*) FILTER (WHERE y.closed_in AND y.status = 'resolved'
                        AND y.outcome = 'late') AS resolved_late,
       count(*) FILTER (WHERE y.closed_in AND y.status = 'withdrawn')
               AS withdrawn,
       count(*) FILTER (WHERE y.closed_in AND y.status = 'stopped')
               AS stopped,
       count(*) FILTER (WHERE NOT y.closed_in
                        AND y.due_passed IS NOT TRUE) AS in_progress_within,
       count(*) FILTER (WHERE NOT y.closed_in AND y.due_passed)
               AS in_progress_past,
       count(*) FILTER (WHERE y.received_in AND y.channel = 'ONLINE')
               AS online_received
FROM y
GROUP BY y.province_code, y.commune_code, y.month
$$;
COMMENT ON FUNCTION tthc.scorecard_open_live(text[], date[], date[], date[]) IS
        'the open month''s scorecard counts per handling commune of the dossiers open or closed since the given day, for (province, month, evaluation day, first closing day) tuples';

-- The rows of the view before ranking: stored months that are closed and
-- not stale; the open month from its stored closings (when usable: the
-- month of the watermark, through a day before the watermark's, not
-- stale) plus the rest computed live; other months computed live.
CREATE OR REPLACE FUNCTION tthc.scorecard_rows()
RETURNS TABLE (scope text, province_code text, commune_code text, month date,
               received bigint, handled bigint, resolved_early bigint,
               resolved_on_time bigint, resolved_late bigint, withdrawn bigint,
               stopped bigint, in_progress_within bigint,
               in_progress_past bigint, online_received bigint)
LANGUAGE sql STABLE SET jit = off ROWS 50000 AS $$
WITH b AS (
        SELECT * FROM tthc.scorecard_bounds()
        WHERE first_month IS NOT NULL AND last_day IS NOT NULL
), clean AS (
        SELECT c.province_code, c.month
        FROM tthc.scorecard_closed_months c
        JOIN b ON b.province_code = c.province_code
        WHERE c.month < date_trunc('month', b.last_day::timestamp)
          AND NOT EXISTS (SELECT 1 FROM tthc.scorecard_stale st
                          WHERE st.province_code = c.province_code
                            AND st.month = c.month)
), oc AS (
        SELECT t.province_code, t.month, t.through
        FROM tthc.scorecard_open_closed_through t
        JOIN b ON b.province_code = t.province_code
        WHERE t.month = date_trunc('month', b.last_day::timestamp)::date
          AND t.through < b.last_day
          AND NOT EXISTS (SELECT 1 FROM tthc.scorecard_stale st
                          WHERE st.province_code = t.province_code
                            AND st.month = t.month)
), live AS (
        SELECT b.province_code, g::date AS month,
               least((g + interval '1 month')::date - 1, b.last_day) AS eval_day,
               oc.through + 1 AS closed_from
        FROM b
        CROSS JOIN generate_series(b.first_month::timestamp,
                                   date_trunc('month', b.last_day::timestamp),
                                   interval '1 month') AS g
        LEFT JOIN oc ON oc.province_code = b.province_code
                    AND oc.month = g::date
        WHERE NOT EXISTS (SELECT 1 FROM clean
                          WHERE clean.province_code = b.province_code
                            AND clean.month = g::date)
), open_rows AS (
        -- the open month, per commune: its stored closings and the rest
        -- computed live
        SELECT o.province_code, o.commune_code, o.month,
               sum(o.received) AS received, sum(o.handled) AS handled,
               sum(o.resolved_early) AS resolved_early,
               sum(o.resolved_on_time) AS resolved_on_time,
               sum(o.resolved_late) AS resolved_late,
               sum(o.withdrawn) AS withdrawn, sum(o.stopped) AS stopped,
               sum(o.in_progress_within) AS in_progress_within,
               sum(o.in_progress_past) AS in_progress_past,
               sum(o.online_received) AS online_received
        FROM (SELECT l.*
              FROM (SELECT array_agg(province_code) AS p,
                           array_agg(month) AS m, array_agg(eval_day) AS e,
                           array_agg(closed_from) AS f
                    FROM live WHERE closed_from IS NOT NULL) a,
                   tthc.scorecard_open_live(a.p, a.m, a.e, a.f) l
              UNION ALL
              SELECT s.province_code, s.commune_code, s.month, s.received,
                     s.handled, s.resolved_early, s.resolved_on_time,
                     s.resolved_late, s.withdrawn, s.stopped, 0, 0,
                     s.online_received
              FROM tthc.scorecard_open_closed s
              JOIN oc ON oc.province_code = s.province_code
                     AND oc.month = s.month) o
        GROUP BY o.province_code, o.commune_code, o.month
)
SELECT s.scope, s.province_code, s.commune_code, s.month,
       s.received::bigint, s.handled::bigint, s.resolved_early::bigint,
       s.resolved_on_time::bigint, s.resolved_late::bigint,
       s.withdrawn::bigint, s.stopped::bigint, s.in_progress_within::bigint,
       s.in_progress_past::bigint, s.online_received::bigint
FROM tthc.scorecard_closed s
JOIN clean USING (province_code, month)
UNION ALL
SELECT c.*
FROM (SELECT array_agg(province_code) AS p, array_agg(month) AS m,
             array_agg(eval_day) AS e
      FROM live WHERE closed_from IS NULL) a,
     tthc.scorecard_compute(a.p, a.m, a.e) c
UNION ALL
SELECT 'province', o.province_code, NULL, o.month, sum(o.received)::bigint,
       sum(o.handled)::bigint, sum(o.resolved_early)::bigint,
       sum(o.resolved_on_time)::bigint, sum(o.resolved_late)::bigint,
       sum(o.withdrawn)::bigint, sum(o.stopped)::bigint,
       sum(o.in_progress_within)::bigint, sum(o.in_progress_past)::bigint,
       sum(o.online_received)::bigint
FROM open_rows o
GROUP BY o.province_code, o.month
UNION ALL
SELECT 'commune', o.province_code, o.commune_code, o.month,
       o.received::bigint, o.handled::bigint, o.resolved_early::bigint,
       o.resolved_on_time::bigint, o.resolved_late::bigint,
       o.withdrawn::bigint, o.stopped::bigint,
       o.in_progress_within::bigint, o.in_progress_past::bigint,
       o.online_received::bigint
FROM open_rows o
WHERE o.commune_code IS NOT NULL
$$;

-- ---- staleness ---------------------------------------------------------
-- 016's marks for closed months, and now for the open month's stored
-- days: a dossier inserted or deleted, or changed in what the scorecard
-- counts, whose closing (old or new) falls in the province's stored days
-- marks (province, open month).
CREATE OR REPLACE FUNCTION tthc.scorecard_mark_stale() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        upto    timestamptz;    -- end of the last closed month stored
        dupto   timestamptz;    -- end of the last open month's day stored
BEGIN
        SELECT ((max(month) + interval '1 month')::timestamp
                AT TIME ZONE 'Asia/Ho_Chi_Minh')
        INTO upto FROM tthc.scorecard_closed_months;
        SELECT ((max(through) + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')
        INTO dupto FROM tthc.scorecard_open_closed_through;
        IF upto IS NULL AND dupto IS NULL THEN
                RETURN NULL;
        END IF;
        -- One pass over the rows; those received in the open month and
        -- open or closed after the stored days (nearly all of them) are
        -- dropped by the first two comparisons.
        IF TG_OP IN ('INSERT', 'DELETE') THEN
                INSERT INTO tthc.scorecard_stale (province_code, month)
                SELECT DISTINCT x.province_code, x.month
                FROM tscs_rows n
                CROSS JOIN LATERAL (
                        SELECT n.province_code, g::date AS month
                        FROM generate_series(
                                date_trunc('month', n.received_at AT TIME ZONE 'Asia/Ho_Chi_Minh'),
                                (SELECT max(c.month)::timestamp
                                 FROM tthc.scorecard_closed_months c
                                 WHERE c.province_code = n.province_code),
                                interval '1 month') AS g
                        WHERE n.received_at < upto
                          AND tthc.scorecard_contribution(n.handling_level,
                                n.handling_commune_code, n.received_at,
                                n.closed_at, n.original_due_at, n.status,
                                n.outcome, n.channel, g::date) IS NOT NULL
                        UNION ALL
                        SELECT t.province_code, t.month
                        FROM tthc.scorecard_open_closed_through t
                        WHERE t.province_code = n.province_code
                          AND n.closed_at >= (t.month::timestamp
                                              AT TIME ZONE 'Asia/Ho_Chi_Minh')
                          AND n.closed_at < ((t.through + 1)::timestamp
                                             AT TIME ZONE 'Asia/Ho_Chi_Minh')) x
                WHERE n.received_at < upto OR n.closed_at < dupto
                ORDER BY 1, 2;
        ELSE
                INSERT INTO tthc.scorecard_stale (province_code, month)
                SELECT DISTINCT x.province_code, x.month
                FROM tscs_new n
                JOIN tscs_old o ON o.province_code = n.province_code
                               AND o.dossier_id = n.dossier_id
                CROSS JOIN LATERAL (
                        SELECT n.province_code, g::date AS month
                        FROM generate_series(
                                date_trunc('month', least(n.received_at, o.received_at)
                                           AT TIME ZONE 'Asia/Ho_Chi_Minh'),
                                (SELECT max(c.month)::timestamp
                                 FROM tthc.scorecard_closed_months c
                                 WHERE c.province_code = n.province_code),
                                interval '1 month') AS g
                        WHERE least(n.received_at, o.received_at) < upto
                          AND tthc.scorecard_contribution(n.handling_level,
                                n.handling_commune_code, n.received_at,
                                n.closed_at, n.original_due_at, n.status,
                                n.outcome, n.channel, g::date)
                              IS DISTINCT FROM
                              tthc.scorecard_contribution(o.handling_level,
                                o.handling_commune_code, o.received_at,
                                o.closed_at, o.original_due_at, o.status,
                                o.outcome, o.channel, g::date)
                        UNION ALL
                        SELECT t.province_code, t.month
                        FROM tthc.scorecard_open_closed_through t
                        WHERE t.province_code = n.province_code
                          AND EXISTS (
                                SELECT 1 FROM (VALUES (n.closed_at),
                                                      (o.closed_at)) AS v(at)
                                WHERE v.at >= (t.month::timestamp
                                               AT TIME ZONE 'Asia/Ho_Chi_Minh')
                                  AND v.at < ((t.through + 1)::timestamp
                                              AT TIME ZONE 'Asia/Ho_Chi_Minh'))) x
                WHERE (least(n.received_at, o.received_at) < upto
                       OR least(n.closed_at, o.closed_at) < dupto)
                  AND (n.handling_level, n.handling_commune_code,
                       n.received_at, n.closed_at, n.original_due_at,
                       n.status, n.outcome, n.channel)
                      IS DISTINCT FROM
                      (o.handling_level, o.handling_commune_code,
                       o.received_at, o.closed_at, o.original_due_at,
                       o.status, o.outcome, o.channel)
                ORDER BY 1, 2;
        END IF;
        RETURN NULL;
END
$$;

-- TRUNCATE forgets the open month's stored days too.
CREATE OR REPLACE FUNCTION tthc.scorecard_forget() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
        DELETE FROM tthc.scorecard_closed_months;
        DELETE FROM tthc.scorecard_open_closed;
        DELETE FROM tthc.scorecard_open_closed_through;
        RETURN NULL;
END
$$;

-- ---- refresh -----------------------------------------------------------
-- 016's refresh of closed months, then the open month's days: for each
-- province (p_province only, when given), the closings from the day
-- after the stored `through` (or the month's first day: a new month, or
-- the open month marked stale) to the day before the watermark's are
-- added. Returns the number of closed (province, month) stored, as
-- before.
CREATE OR REPLACE FUNCTION tthc.scorecard_refresh(p_province text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
        seen    bigint[];
        tp      text[];
        tm      date[];
        te      date[];
        bo      record;
        cur     record;
        mon     date;
        upto    date;
        first   date;
BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('tthc.scorecard_refresh'));
        LOCK TABLE tthc.dossiers IN SHARE MODE;
        SELECT coalesce(array_agg(id), '{}') INTO seen
        FROM tthc.scorecard_stale
        WHERE p_province IS NULL OR province_code = p_province;
        SELECT array_agg(t.province_code), array_agg(t.month),
               array_agg(t.eval_day)
        INTO tp, tm, te
        FROM (SELECT b.province_code, g::date AS month,
                     (g + interval '1 month')::date - 1 AS eval_day
              FROM tthc.scorecard_bounds(p_province) b,
                   generate_series(b.first_month::timestamp,
                                   date_trunc('month', b.last_day::timestamp)
                                   - interval '1 month',
                                   interval '1 month') AS g
              WHERE (NOT EXISTS (SELECT 1 FROM tthc.scorecard_closed_months c
                                 WHERE c.province_code = b.province_code
                                   AND c.month = g::date)
                     OR EXISTS (SELECT 1 FROM tthc.scorecard_stale st
                                WHERE st.id = ANY (seen)
                                  AND st.province_code = b.province_code
                                  AND st.month = g::date))) t;
        IF tp IS NOT NULL THEN
                DELETE FROM tthc.scorecard_closed s
                USING unnest(tp, tm) AS u(p, m)
                WHERE s.province_code = u.p AND s.month = u.m;
                INSERT INTO tthc.scorecard_closed
                SELECT * FROM tthc.scorecard_compute(tp, tm, te);
                INSERT INTO tthc.scorecard_closed_months (province_code, month)
                SELECT * FROM unnest(tp, tm)
                ON CONFLICT (province_code, month) DO UPDATE
                SET refreshed_at = now();
                DELETE FROM tthc.scorecard_stale st
                USING unnest(tp, tm) AS u(p, m)
                WHERE st.id = ANY (seen) AND st.province_code = u.p
                  AND st.month = u.m;
        END IF;

        FOR bo IN SELECT b.province_code, b.last_day
                  FROM tthc.scorecard_bounds(p_province) b
                  WHERE b.last_day IS NOT NULL
        LOOP
                mon := date_trunc('month', bo.last_day::timestamp)::date;
                upto := bo.last_day - 1;
                SELECT c.month, c.through INTO cur
                FROM tthc.scorecard_open_closed_through c
                WHERE c.province_code = bo.province_code;
                IF NOT FOUND OR cur.month <> mon OR cur.through > upto
                   OR EXISTS (SELECT 1 FROM tthc.scorecard_stale st
                              WHERE st.id = ANY (seen)
                                AND st.province_code = bo.province_code
                                AND st.month = mon) THEN
                        DELETE FROM tthc.scorecard_open_closed c
                        WHERE c.province_code = bo.province_code;
                        DELETE FROM tthc.scorecard_open_closed_through c
                        WHERE c.province_code = bo.province_code;
                        first := mon;
                ELSE
                        first := cur.through + 1;
                END IF;
                DELETE FROM tthc.scorecard_stale st
                WHERE st.id = ANY (seen) AND st.province_code = bo.province_code
                  AND st.month = mon;
                CONTINUE WHEN upto < first;
                INSERT INTO tthc.scorecard_open_closed AS s
                SELECT * FROM tthc.scorecard_closings(bo.province_code, mon,
                                                      first, upto)
                ON CONFLICT (province_code, month, commune_code) DO UPDATE
                SET received = s.received + EXCLUDED.received,
                    handled = s.handled + EXCLUDED.handled,
                    resolved_early = s.resolved_early + EXCLUDED.resolved_early,
                    resolved_on_time = s.resolved_on_time + EXCLUDED.resolved_on_time,
                    resolved_late = s.resolved_late + EXCLUDED.resolved_late,
                    withdrawn = s.withdrawn + EXCLUDED.withdrawn,
                    stopped = s.stopped + EXCLUDED.stopped,
                    online_received = s.online_received + EXCLUDED.online_received;
                INSERT INTO tthc.scorecard_open_closed_through AS c
                        (province_code, month, through)
                VALUES (bo.province_code, mon, upto)
                ON CONFLICT (province_code) DO UPDATE
                SET month = EXCLUDED.month, through = EXCLUDED.through,
                    refreshed_at = now();
        END LOOP;
        RETURN coalesce(array_length(tp, 1), 0);
END
$$;
