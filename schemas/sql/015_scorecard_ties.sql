-- 015: the scorecard's ranks break ties by a documented rule. Scores are
-- shown rounded to 2 decimals (many provinces tie at 19.2x); the rank
-- orders by the unrounded score, then fewer dossiers past their deadline,
-- then more dossiers handled; rows equal in all three share a rank.

CREATE OR REPLACE VIEW tthc.scorecard_monthly WITH (security_invoker = true) AS
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
                               / nullif(handled, 0)), 2) AS score,
               (resolved_early + resolved_on_time + withdrawn
                + in_progress_within)::numeric / nullif(handled, 0)
                       AS raw_score
        FROM agg
        WHERE scope = 'province' OR commune_code IS NOT NULL
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
        'Decision 766-style progress per Vietnam month: province rows (scope province) and commune rows (scope commune, by the HANDLING commune); rank among provinces for province rows, among the province''s communes for commune rows, by the unrounded score, then fewer past deadline, then more handled';
