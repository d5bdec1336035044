-- 016: the scorecard of closed months is stored. tthc.scorecard_monthly
-- recomputed every month from every dossier on each query (2.0-5.2 s
-- measured on a smaller set, 1.3 s of it JIT compilation, sorts spilling to
-- disk; 169 s on a generated national year, docs/benchmarks.md). Now:
--
--   tthc.scorecard_closed         the rows (counts) of closed months: a
--                                 province's months before the month of its
--                                 watermark, evaluated at their last day
--   tthc.scorecard_closed_months  which months are stored, and when
--   tthc.scorecard_stale          closed months whose dossiers changed since
--                                 they were stored (a late event, a pause of
--                                 a dossier that was overdue then, ...),
--                                 appended by a statement-level trigger on
--                                 tthc.dossiers with transition tables
--   tthc.scorecard_refresh()      stores the closed months that are missing
--                                 or stale (tthc-admin scorecard refresh;
--                                 tthc-alert at each Vietnam midnight tick)
--
-- The view keeps its columns and meaning (015's ranks): it reads the stored
-- months that are not stale and computes the others live (the open month,
-- a month that closed since the last refresh, stale months), so it answers
-- the same with or without a refresh. Ranks are computed when read, over
-- the rows the reader sees, as before.

CREATE TABLE tthc.scorecard_closed (
        scope                   text NOT NULL CHECK (scope IN ('province', 'commune')),
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
        in_progress_within      integer NOT NULL,
        in_progress_past        integer NOT NULL,
        online_received         integer NOT NULL,
        CHECK ((scope = 'province') = (commune_code IS NULL)),
        CONSTRAINT scorecard_closed_key UNIQUE NULLS NOT DISTINCT
                (province_code, month, commune_code)
);
COMMENT ON TABLE tthc.scorecard_closed IS
        'the scorecard''s counts for closed months (before the month of the province''s watermark), stored by tthc.scorecard_refresh(); tthc.scorecard_monthly reads them unless the month is in tthc.scorecard_stale';
COMMENT ON COLUMN tthc.scorecard_closed.province_code IS 'province code';
COMMENT ON COLUMN tthc.scorecard_closed.scope IS 'province (a province''s row) or commune (a commune''s, by the HANDLING commune)';
COMMENT ON COLUMN tthc.scorecard_closed.commune_code IS 'the HANDLING commune (null on province rows)';
COMMENT ON COLUMN tthc.scorecard_closed.month IS 'Vietnam month (first day), evaluated at its last day';
COMMENT ON COLUMN tthc.scorecard_closed.received IS 'dossiers received in the month';
COMMENT ON COLUMN tthc.scorecard_closed.handled IS 'received dossiers closed in the month + still open at its end';
COMMENT ON COLUMN tthc.scorecard_closed.resolved_early IS 'resolved in the month before the deadline';
COMMENT ON COLUMN tthc.scorecard_closed.resolved_on_time IS 'resolved in the month on the deadline''s day';
COMMENT ON COLUMN tthc.scorecard_closed.resolved_late IS 'resolved in the month after the deadline';
COMMENT ON COLUMN tthc.scorecard_closed.withdrawn IS 'withdrawn in the month (counts as on time)';
COMMENT ON COLUMN tthc.scorecard_closed.stopped IS 'stopped in the month';
COMMENT ON COLUMN tthc.scorecard_closed.in_progress_within IS 'open at the month''s end within the deadline (paused counts as within)';
COMMENT ON COLUMN tthc.scorecard_closed.in_progress_past IS 'open at the month''s end past the deadline';
COMMENT ON COLUMN tthc.scorecard_closed.online_received IS 'of received, submitted online';

CREATE TABLE tthc.scorecard_closed_months (
        province_code   text NOT NULL,
        month           date NOT NULL,
        refreshed_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (province_code, month)
);
COMMENT ON TABLE tthc.scorecard_closed_months IS
        'the closed months whose scorecard rows tthc.scorecard_closed holds (a month with no dossier has no rows but is listed)';
COMMENT ON COLUMN tthc.scorecard_closed_months.province_code IS 'province code';
COMMENT ON COLUMN tthc.scorecard_closed_months.month IS 'Vietnam month (first day)';
COMMENT ON COLUMN tthc.scorecard_closed_months.refreshed_at IS 'when tthc.scorecard_refresh() last stored it';

CREATE TABLE tthc.scorecard_stale (
        id              bigserial PRIMARY KEY,
        province_code   text NOT NULL,
        month           date NOT NULL,
        marked_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scorecard_stale_month_idx
        ON tthc.scorecard_stale (province_code, month);
COMMENT ON TABLE tthc.scorecard_stale IS
        'stored months whose figures changed since they were stored (a dossier change that alters the month''s counts, e.g. a late event): tthc.scorecard_monthly computes them live until tthc.scorecard_refresh() stores them again and removes the rows';
COMMENT ON COLUMN tthc.scorecard_stale.province_code IS 'province code';
COMMENT ON COLUMN tthc.scorecard_stale.id IS 'order of marking';
COMMENT ON COLUMN tthc.scorecard_stale.month IS 'Vietnam month (first day) that changed';
COMMENT ON COLUMN tthc.scorecard_stale.marked_at IS 'when the change was written (wall time of the writing transaction)';

SELECT tthc.enable_province_rls('tthc.scorecard_closed');
SELECT tthc.enable_province_rls('tthc.scorecard_closed_months');
SELECT tthc.enable_province_rls('tthc.scorecard_stale');
REVOKE ALL ON tthc.scorecard_closed, tthc.scorecard_closed_months,
        tthc.scorecard_stale FROM PUBLIC;
GRANT SELECT ON tthc.scorecard_closed, tthc.scorecard_closed_months,
        tthc.scorecard_stale TO tthc_service, tthc_analyst,
        tthc_province_analyst;

-- Open dossiers and those closed after a given instant, per province: what
-- the open month's live computation reads (and the refresh of one month).
CREATE INDEX dossiers_scorecard_idx ON tthc.dossiers
        (province_code, (coalesce(closed_at, 'infinity'::timestamptz)));

-- The scorecard counts of the given (province, month, evaluation day)
-- triples, from tthc.dossiers: 015's computation, reading only the dossiers
-- that can count (received by the last evaluation day, open or closed since
-- the first month). Each dossier is expanded to the months it spans, so a
-- year costs one pass. Row-level security applies (SECURITY INVOKER).
-- jit off: the plan is cheap to run and 1.3 s to compile; sorts off: the
-- planner underestimates the expansion and sorts a million rows on text
-- keys (spilling to disk) where hashing the 40k groups is 3 times faster.
CREATE FUNCTION tthc.scorecard_compute(p_province text[], p_month date[],
                                       p_eval date[])
RETURNS TABLE (scope text, province_code text, commune_code text, month date,
               received bigint, handled bigint, resolved_early bigint,
               resolved_on_time bigint, resolved_late bigint, withdrawn bigint,
               stopped bigint, in_progress_within bigint,
               in_progress_past bigint, online_received bigint)
LANGUAGE sql STABLE SET jit = off SET work_mem = '256MB' SET enable_sort = off
ROWS 5000 AS $$
WITH m AS (
        SELECT * FROM unnest(p_province, p_month, p_eval)
                AS m(province_code, month, eval_day)
), r AS (
        SELECT m.province_code, min(m.month) AS lo, max(m.eval_day) AS hi
        FROM m GROUP BY m.province_code
), dd AS (
        -- per province, an index scan of dossiers_scorecard_idx: the open
        -- ones and those closed since the first month asked (OFFSET 0: not
        -- flattened into a join the planner would make a sequential scan)
        SELECT d.*
        FROM r CROSS JOIN LATERAL (
                SELECT d.province_code, r.lo, r.hi,
                       CASE WHEN d.handling_level = 'COMMUNE'
                            THEN d.handling_commune_code END AS commune_code,
                       (d.received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS rday,
                       (d.closed_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS cday,
                       (d.original_due_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
                               AS due_day,
                       d.status, d.outcome, d.channel
                FROM tthc.dossiers d
                WHERE d.province_code = r.province_code
                  AND coalesce(d.closed_at, 'infinity'::timestamptz)
                      >= (r.lo::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')
                  AND d.received_at IS NOT NULL AND d.status <> 'refused'
                  AND d.received_at
                      < ((r.hi + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')
                OFFSET 0) d
), e AS MATERIALIZED (
        -- each dossier once per month it spans, from the first month asked
        -- to the last one
        SELECT dd.*, g::date AS month
        FROM dd
        CROSS JOIN LATERAL generate_series(
                date_trunc('month', greatest(dd.rday, dd.lo)::timestamp),
                date_trunc('month', least(coalesce(dd.cday, dd.hi), dd.hi)::timestamp),
                interval '1 month') AS g
), x AS (
        SELECT m.province_code, e.commune_code, m.month, m.eval_day,
               e.cday, e.due_day, e.status, e.outcome, e.channel,
               e.rday >= m.month AS received_in,
               e.cday IS NOT NULL AND e.cday <= m.eval_day AS closed_in,
               e.cday IS NULL OR e.cday > m.eval_day AS open_at_end
        FROM e
        JOIN m ON m.province_code = e.province_code AND m.month = e.month
        WHERE e.rday <= m.eval_day
          AND (e.cday IS NULL OR e.cday >= m.month)
), y AS (
        SELECT x.*,
               x.open_at_end AND x.due_day IS NOT NULL AND x.due_day < x.eval_day
                       AND NOT (x.cday IS NULL AND x.status = 'paused') AS past
        FROM x
), a AS (
        -- per commune (null: not handled by a commune), hashed; the
        -- province rows are their sums
        SELECT y.province_code, y.commune_code, y.month,
               count(*) FILTER (WHERE y.received_in) AS received,
               count(*) FILTER (WHERE y.closed_in OR y.open_at_end) AS handled,
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
               count(*) FILTER (WHERE y.open_at_end AND NOT y.past)
                       AS in_progress_within,
               count(*) FILTER (WHERE y.past) AS in_progress_past,
               count(*) FILTER (WHERE y.received_in AND y.channel = 'ONLINE')
                       AS online_received
        FROM y
        GROUP BY y.province_code, y.commune_code, y.month
)
SELECT 'province', a.province_code, NULL::text, a.month,
       sum(a.received)::bigint, sum(a.handled)::bigint,
       sum(a.resolved_early)::bigint, sum(a.resolved_on_time)::bigint,
       sum(a.resolved_late)::bigint, sum(a.withdrawn)::bigint,
       sum(a.stopped)::bigint, sum(a.in_progress_within)::bigint,
       sum(a.in_progress_past)::bigint, sum(a.online_received)::bigint
FROM a
GROUP BY a.province_code, a.month
UNION ALL
SELECT 'commune', a.province_code, a.commune_code, a.month, a.received,
       a.handled, a.resolved_early, a.resolved_on_time, a.resolved_late,
       a.withdrawn, a.stopped, a.in_progress_within, a.in_progress_past,
       a.online_received
FROM a
WHERE a.commune_code IS NOT NULL
$$;
COMMENT ON FUNCTION tthc.scorecard_compute(text[], date[], date[]) IS
        'the scorecard counts of the given (province, month, evaluation day) triples, computed from tthc.dossiers';

-- Per province with dossiers: the first month the scorecard has
-- (from the stored months once a refresh ran, else the first receipt) and
-- the evaluation day of its open month (the Vietnam date of its watermark,
-- else of its latest receipt or closing). The provinces come from a skip
-- scan of the dossiers' primary key (one probe per province).
CREATE FUNCTION tthc.scorecard_bounds()
RETURNS TABLE (province_code text, first_month date, last_day date)
LANGUAGE sql STABLE SET jit = off AS $$
WITH RECURSIVE p AS (
        (SELECT d.province_code FROM tthc.dossiers d
         ORDER BY d.province_code LIMIT 1)
        UNION ALL
        SELECT (SELECT d.province_code FROM tthc.dossiers d
                WHERE d.province_code > p.province_code
                ORDER BY d.province_code LIMIT 1)
        FROM p WHERE p.province_code IS NOT NULL
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
COMMENT ON FUNCTION tthc.scorecard_bounds() IS
        'per province: the scorecard''s first month and the evaluation day of its open month';

-- The rows of the view before ranking: stored months that are closed and
-- not stale, and the others computed live.
CREATE FUNCTION tthc.scorecard_rows()
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
), live AS (
        SELECT b.province_code, g::date AS month,
               least((g + interval '1 month')::date - 1, b.last_day) AS eval_day
        FROM b, generate_series(b.first_month::timestamp,
                                date_trunc('month', b.last_day::timestamp),
                                interval '1 month') AS g
        WHERE NOT EXISTS (SELECT 1 FROM clean
                          WHERE clean.province_code = b.province_code
                            AND clean.month = g::date)
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
             array_agg(eval_day) AS e FROM live) a,
     tthc.scorecard_compute(a.p, a.m, a.e) c
$$;
COMMENT ON FUNCTION tthc.scorecard_rows() IS
        'the scorecard counts: stored closed months that are not stale, the others computed live';

CREATE OR REPLACE VIEW tthc.scorecard_monthly WITH (security_invoker = true) AS
WITH s AS (
        SELECT r.*,
               round(r.online_received::numeric / nullif(r.received, 0), 4)
                       AS online_share,
               round(least(20, 20.0 * (r.resolved_early + r.resolved_on_time
                                       + r.withdrawn + r.in_progress_within)
                               / nullif(r.handled, 0)), 2) AS score,
               (r.resolved_early + r.resolved_on_time + r.withdrawn
                + r.in_progress_within)::numeric / nullif(r.handled, 0)
                       AS raw_score
        FROM tthc.scorecard_rows() r
)
SELECT scope, province_code, commune_code, month, received, handled,
       resolved_early, resolved_on_time, resolved_late, withdrawn, stopped,
       in_progress_within, in_progress_past, online_received, online_share,
       score,
       CASE WHEN scope = 'province'
            THEN rank() OVER (PARTITION BY scope, month
                              ORDER BY raw_score DESC NULLS LAST,
                                       in_progress_past, handled DESC)
            ELSE rank() OVER (PARTITION BY scope, month, province_code
                              ORDER BY raw_score DESC NULLS LAST,
                                       in_progress_past, handled DESC) END
               AS rank
FROM s;
COMMENT ON VIEW tthc.scorecard_monthly IS
        'Decision 766-style progress per Vietnam month: province rows (scope province) and commune rows (scope commune, by the HANDLING commune); rank among provinces for province rows, among the province''s communes for commune rows, by the unrounded score, then fewer past deadline, then more handled. Closed months are read from tthc.scorecard_closed unless stale (tthc.scorecard_stale), the others computed live: the same figures either way';

-- ---- staleness ---------------------------------------------------------
-- What a dossier version contributes to the scorecard of month mon (the
-- columns 015 counts it by), or null when it does not count there.
CREATE FUNCTION tthc.scorecard_contribution(handling_level text,
        handling_commune_code text, received_at timestamptz,
        closed_at timestamptz, original_due_at timestamptz, status text,
        outcome text, channel text, mon date)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE
               WHEN received_at IS NULL OR status = 'refused'
                    OR (received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
                       > (mon + interval '1 month')::date - 1
                    OR (closed_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date < mon
               THEN NULL
               ELSE concat_ws('|',
                       CASE WHEN handling_level = 'COMMUNE'
                            THEN handling_commune_code END,
                       CASE WHEN (received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date >= mon
                            THEN 'r:' || channel END,
                       CASE WHEN (closed_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
                                 <= (mon + interval '1 month')::date - 1
                            THEN 'c:' || status || ':' || coalesce(outcome, '')
                            WHEN (original_due_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
                                 < (mon + interval '1 month')::date - 1
                                 AND NOT (closed_at IS NULL AND status = 'paused')
                            THEN 'past' ELSE 'within' END) END
$$;

-- Statement-level triggers on tthc.dossiers (tthc-ingest writes a batch
-- with one INSERT ... ON CONFLICT DO UPDATE; a rebuild may delete): for the
-- rows (inserted, deleted, or old and new versions of updated ones) of dossiers
-- received up to the last stored month, the months from their receipt to
-- it whose contribution changed are appended to tthc.scorecard_stale
-- (an append, no lock on shared rows, sorted). Rows of dossiers received
-- in the open month, the vast majority, are skipped by one comparison.
CREATE FUNCTION tthc.scorecard_mark_stale() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        upto    timestamptz;
BEGIN
        SELECT ((max(month) + interval '1 month')::timestamp
                AT TIME ZONE 'Asia/Ho_Chi_Minh')
        INTO upto FROM tthc.scorecard_closed_months;
        IF upto IS NULL THEN
                RETURN NULL;
        END IF;
        IF TG_OP IN ('INSERT', 'DELETE') THEN
                INSERT INTO tthc.scorecard_stale (province_code, month)
                SELECT DISTINCT n.province_code, g::date
                FROM tscs_rows n
                CROSS JOIN LATERAL generate_series(
                        date_trunc('month', n.received_at AT TIME ZONE 'Asia/Ho_Chi_Minh'),
                        (SELECT max(c.month)::timestamp FROM tthc.scorecard_closed_months c
                         WHERE c.province_code = n.province_code),
                        interval '1 month') AS g
                WHERE n.received_at < upto
                  AND tthc.scorecard_contribution(n.handling_level,
                        n.handling_commune_code, n.received_at, n.closed_at,
                        n.original_due_at, n.status, n.outcome, n.channel,
                        g::date) IS NOT NULL
                ORDER BY 1, 2;
        ELSE
                INSERT INTO tthc.scorecard_stale (province_code, month)
                SELECT DISTINCT n.province_code, g::date
                FROM tscs_new n
                JOIN tscs_old o ON o.province_code = n.province_code
                               AND o.dossier_id = n.dossier_id
                CROSS JOIN LATERAL generate_series(
                        date_trunc('month', least(n.received_at, o.received_at)
                                   AT TIME ZONE 'Asia/Ho_Chi_Minh'),
                        (SELECT max(c.month)::timestamp FROM tthc.scorecard_closed_months c
                         WHERE c.province_code = n.province_code),
                        interval '1 month') AS g
                WHERE least(n.received_at, o.received_at) < upto
                  AND (n.handling_level, n.handling_commune_code,
                       n.received_at, n.closed_at, n.original_due_at,
                       n.status, n.outcome, n.channel)
                      IS DISTINCT FROM
                      (o.handling_level, o.handling_commune_code,
                       o.received_at, o.closed_at, o.original_due_at,
                       o.status, o.outcome, o.channel)
                  AND tthc.scorecard_contribution(n.handling_level,
                        n.handling_commune_code, n.received_at, n.closed_at,
                        n.original_due_at, n.status, n.outcome, n.channel,
                        g::date)
                      IS DISTINCT FROM
                      tthc.scorecard_contribution(o.handling_level,
                        o.handling_commune_code, o.received_at, o.closed_at,
                        o.original_due_at, o.status, o.outcome, o.channel,
                        g::date)
                ORDER BY 1, 2;
        END IF;
        RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION tthc.scorecard_mark_stale() FROM PUBLIC;
CREATE TRIGGER scorecard_stale_insert AFTER INSERT ON tthc.dossiers
        REFERENCING NEW TABLE AS tscs_rows
        FOR EACH STATEMENT EXECUTE FUNCTION tthc.scorecard_mark_stale();
CREATE TRIGGER scorecard_stale_delete AFTER DELETE ON tthc.dossiers
        REFERENCING OLD TABLE AS tscs_rows
        FOR EACH STATEMENT EXECUTE FUNCTION tthc.scorecard_mark_stale();
CREATE TRIGGER scorecard_stale_update AFTER UPDATE ON tthc.dossiers
        REFERENCING OLD TABLE AS tscs_old NEW TABLE AS tscs_new
        FOR EACH STATEMENT EXECUTE FUNCTION tthc.scorecard_mark_stale();

-- TRUNCATE (a rebuild, a test) forgets which months are stored: every
-- month is computed live until the next refresh stores them all again.
CREATE FUNCTION tthc.scorecard_forget() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
        DELETE FROM tthc.scorecard_closed_months;
        RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION tthc.scorecard_forget() FROM PUBLIC;
CREATE TRIGGER scorecard_forget AFTER TRUNCATE ON tthc.dossiers
        FOR EACH STATEMENT EXECUTE FUNCTION tthc.scorecard_forget();

-- ---- refresh -----------------------------------------------------------
-- Stores every closed month of every province (of p_province only, when
-- given) that is not stored yet or is stale, evaluated at its last day;
-- returns the number of (province, month) stored. The stale rows it saw
-- are removed in the same transaction; a change committed meanwhile leaves
-- its own row, so the month stays stale (computed live) until the next
-- refresh. One refresh at a time (advisory lock). SECURITY DEFINER: the
-- services (tthc-alert's midnight tick) may call it.
CREATE FUNCTION tthc.scorecard_refresh(p_province text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
        seen    bigint[];
        tp      text[];
        tm      date[];
        te      date[];
BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('tthc.scorecard_refresh'));
        SELECT coalesce(array_agg(id), '{}') INTO seen
        FROM tthc.scorecard_stale
        WHERE p_province IS NULL OR province_code = p_province;
        SELECT array_agg(t.province_code), array_agg(t.month),
               array_agg(t.eval_day)
        INTO tp, tm, te
        FROM (SELECT b.province_code, g::date AS month,
                     (g + interval '1 month')::date - 1 AS eval_day
              FROM tthc.scorecard_bounds() b,
                   generate_series(b.first_month::timestamp,
                                   date_trunc('month', b.last_day::timestamp)
                                   - interval '1 month',
                                   interval '1 month') AS g
              WHERE (p_province IS NULL OR b.province_code = p_province)
                AND (NOT EXISTS (SELECT 1 FROM tthc.scorecard_closed_months c
                                 WHERE c.province_code = b.province_code
                                   AND c.month = g::date)
                     OR EXISTS (SELECT 1 FROM tthc.scorecard_stale st
                                WHERE st.id = ANY (seen)
                                  AND st.province_code = b.province_code
                                  AND st.month = g::date))) t;
        IF tp IS NULL THEN
                RETURN 0;
        END IF;
        DELETE FROM tthc.scorecard_closed s USING unnest(tp, tm) AS u(p, m)
        WHERE s.province_code = u.p AND s.month = u.m;
        INSERT INTO tthc.scorecard_closed
        SELECT * FROM tthc.scorecard_compute(tp, tm, te);
        INSERT INTO tthc.scorecard_closed_months (province_code, month)
        SELECT * FROM unnest(tp, tm)
        ON CONFLICT (province_code, month) DO UPDATE SET refreshed_at = now();
        DELETE FROM tthc.scorecard_stale st USING unnest(tp, tm) AS u(p, m)
        WHERE st.id = ANY (seen) AND st.province_code = u.p
          AND st.month = u.m;
        RETURN array_length(tp, 1);
END
$$;
REVOKE ALL ON FUNCTION tthc.scorecard_refresh(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tthc.scorecard_refresh(text) TO tthc_service;
COMMENT ON FUNCTION tthc.scorecard_refresh(text) IS
        'stores the closed months of the scorecard that are missing or stale (tthc-admin scorecard refresh; tthc-alert at each Vietnam midnight tick); returns how many (province, month) it stored';

-- ---- other analyst queries on a national year ----------------------------
-- docs/analysts.md's episodes next to a commune's backlog history looks up
-- the episodes of one commune, then their changes: without these, each of
-- the commune's days scanned every change of every episode (1.5 s on a
-- national year). tthc-alert writes both tables a few thousand times a
-- year: the cost is nil.
CREATE INDEX alerts_commune_code_idx ON tthc.alerts (commune_code);
CREATE INDEX alert_outbox_alert_idx ON tthc.alert_outbox (alert_id, id);
