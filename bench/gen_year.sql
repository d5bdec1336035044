-- bench/gen_year.sql - a plausible national year of what the consumers
-- write, generated set-based (run by bench/gen_year.sh, which documents
-- the options; psql variables: days, scale, end_day, seed).
--
-- Written: tthc.dossiers (the year's dossiers in their state at the
-- watermark: end_day 16:00 Vietnam time), tthc.agencies,
-- tthc.commune_throughput_hourly (and tthc.province_throughput_daily),
-- tthc.procedure_level_daily,
-- tthc.procedure_routing_daily, tthc.routing_anomalies_daily (and their
-- monthly twins),
-- tthc.commune_backlog_daily (every commune, every day), tthc-alert's
-- state as of the watermark (alert_provinces, alert_commune_ticks, the
-- last 40 days of alert_commune_days), alert episodes (tthc.alerts,
-- tthc.alert_outbox), consumer_offsets and partition_progress (3
-- partitions per province, the three groups drained).
-- Not written: tthc.filing_events (no documented query reads it; 100-150M
-- events would take hours and ~40 GB), tthc.route_dossiers and
-- tthc.alert_dossiers (consumer state no analyst query reads).
--
-- The aggregates are derived from the generated dossiers, so they agree
-- with each other (received, resolved, transfers); the histograms put a
-- group's stints in the bucket of their mean time, and the backlog history
-- is modelled per commune (its volume, a weekly and a slow cycle, noise),
-- not replayed.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET jit = off;
SET work_mem = '256MB';
SET maintenance_work_mem = '512MB';
SELECT setseed(:seed) \gset

CREATE TEMP TABLE g_par AS
SELECT :'end_day'::date AS end_day, :days::int AS days,
       :scale::float8 AS scale,
       ((:'end_day'::date + time '16:00') AT TIME ZONE 'Asia/Ho_Chi_Minh')
               AS wm;

-- communes: a volume weight (a few large urban wards, many small
-- communes) and a neighbour in the province (the other commune a desk
-- sometimes receives for, Decree 118/2025)
CREATE TEMP TABLE g_comm AS
SELECT row_number() OVER (ORDER BY code)::int AS i, code, province_code,
       exp(2.2 * random()) AS w,
       coalesce(lead(code) OVER (PARTITION BY province_code ORDER BY code),
                first_value(code) OVER (PARTITION BY province_code ORDER BY code))
               AS neighbour
FROM tthc.communes;
-- 100,000 slots shared by the communes in proportion to their weight: a
-- dossier's commune is the owner of a random slot
CREATE TEMP TABLE g_cslot AS
SELECT s.slot, x.i
FROM (SELECT i, floor(100000 * (sum(w) OVER (ORDER BY i) - w) / sum(w) OVER ())::int AS lo,
             floor(100000 * sum(w) OVER (ORDER BY i) / sum(w) OVER ())::int AS hi
      FROM g_comm) x,
     generate_series(x.lo, x.hi - 1) AS s(slot);
CREATE UNIQUE INDEX ON g_cslot (slot);

-- procedures: Zipf-like volumes in a random order
CREATE TEMP TABLE g_proc AS
SELECT row_number() OVER (ORDER BY random())::int AS i, procedure_code,
       coalesce(competent_level, 'COMMUNE') AS level,
       coalesce(deadline_days, 5) AS deadline_days
FROM tthc.procedures;
CREATE TEMP TABLE g_pslot AS
SELECT s.slot, x.i
FROM (SELECT i, floor(100000 * (sum(1.0 / i ^ 0.9) OVER (ORDER BY i) - 1.0 / i ^ 0.9)
                      / sum(1.0 / i ^ 0.9) OVER ())::int AS lo,
             floor(100000 * sum(1.0 / i ^ 0.9) OVER (ORDER BY i)
                   / sum(1.0 / i ^ 0.9) OVER ())::int AS hi
      FROM g_proc) x,
     generate_series(x.lo, x.hi - 1) AS s(slot);
CREATE UNIQUE INDEX ON g_pslot (slot);
ANALYZE g_cslot;
ANALYZE g_pslot;
ANALYZE g_comm;
ANALYZE g_proc;

-- days: 40,000 dossiers a working day nationally at scale 1; Saturdays,
-- Sundays and days off get the online trickle
CREATE TEMP TABLE g_day AS
SELECT d::date AS day,
       round(40000 * p.scale
             * CASE WHEN EXISTS (SELECT 1 FROM tthc.holidays h
                                 WHERE h.date = d::date AND h.kind = 'worked_saturday')
                    THEN 1.0
                    WHEN EXISTS (SELECT 1 FROM tthc.holidays h
                                 WHERE h.date = d::date AND h.kind = 'day_off')
                    THEN 0.03
                    WHEN extract(isodow FROM d) = 6 THEN 0.10
                    WHEN extract(isodow FROM d) = 7 THEN 0.03
                    ELSE 1.0 END
             * (0.9 + 0.2 * random()))::int AS n
FROM g_par p,
     generate_series(p.end_day - p.days + 1, p.end_day, interval '1 day') AS d;

ALTER TABLE tthc.dossiers DISABLE TRIGGER USER;

-- ---- dossiers -----------------------------------------------------------
INSERT INTO tthc.dossiers (province_code, dossier_id, commune_code,
        procedure_code, procedure_level, channel, submitted_at, received_at,
        due_at, status, closed_at, outcome, original_due_at, extended,
        result_returned_at, handling_level, agency_code,
        handling_commune_code, last_seq, seq_gaps, open_pauses,
        last_event_at, updated_at)
SELECT province_code, dossier_id, commune_code, procedure_code,
       procedure_level, channel, submitted_at, received_at,
       CASE WHEN extended THEN original_due_at + interval '5 days'
            ELSE original_due_at END,
       status, closed_at,
       CASE WHEN status = 'resolved' THEN
            CASE WHEN (closed_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
                      < (original_due_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
                 THEN 'early'
                 WHEN (closed_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
                      = (original_due_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
                 THEN 'on_time' ELSE 'late' END END,
       original_due_at, extended,
       CASE WHEN status = 'resolved' AND closed_at + interval '4 hours' <= wm
            THEN closed_at + interval '4 hours' END,
       handling_level, agency_code, handling_commune_code,
       3 + (handling_level <> 'COMMUNE')::int + 2 * paused_ever::int
         + (status IN ('resolved', 'withdrawn', 'stopped'))::int,
       0, (status = 'paused')::int,
       least(coalesce(closed_at, received_at + interval '1 day', submitted_at), wm),
       now()
FROM (
        SELECT b.*,
               CASE WHEN refused THEN 'refused'
                    WHEN received_at IS NULL THEN 'submitted'
                    WHEN end_at > wm AND paused_ever AND r7 < 0.5 THEN 'paused'
                    WHEN end_at > wm THEN 'processing'
                    WHEN r8 < 0.92 THEN 'resolved'
                    WHEN r8 < 0.96 THEN 'withdrawn'
                    ELSE 'stopped' END AS status,
               CASE WHEN refused THEN least(submitted_at + interval '2 hours', wm)
                    WHEN received_at IS NOT NULL AND end_at <= wm THEN end_at
                    END AS closed_at,
               base_due + CASE WHEN paused_ever THEN pause_len ELSE interval '0' END
                       AS original_due_at
        FROM (
                SELECT a.*,
                       a.received_at + a.pause_len * a.paused_ever::int
                       + greatest(a.base_due - a.received_at, interval '4 hours')
                         * (0.1 + 1.1 * a.r6 ^ 2)
                               AS end_at
                FROM (
                        SELECT p.wm, c.province_code, c.code AS commune_code,
                               'G' || c.code || '-' || to_char(x.day, 'YYMMDD')
                               || '-' || x.n AS dossier_id,
                               pr.procedure_code, pr.level AS procedure_level,
                               x.channel, x.submitted_at,
                               CASE WHEN x.r3 < 0.015 THEN NULL
                                    WHEN x.channel = 'IN_PERSON' THEN x.submitted_at
                                    WHEN x.submitted_at + interval '20 hours' * x.r3 > p.wm
                                    THEN NULL
                                    ELSE x.submitted_at + interval '20 hours' * x.r3
                                    END AS received_at,
                               x.r3 < 0.015 AS refused,
                               ((((x.submitted_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
                                  + (pr.deadline_days * 1.4 + 0.5)::int) + time '17:00')
                                AT TIME ZONE 'Asia/Ho_Chi_Minh') AS base_due,
                               x.r5 < 0.08 AS paused_ever,
                               interval '1 day' * (1 + floor(9 * x.r7)) AS pause_len,
                               x.r5 >= 0.08 AND x.r5 < 0.11 AS extended,
                               x.r6, x.r7, x.r8,
                               CASE pr.level
                                    WHEN 'COMMUNE' THEN CASE WHEN x.r4 < 0.03 THEN 'PROVINCE' ELSE 'COMMUNE' END
                                    WHEN 'PROVINCE' THEN CASE WHEN x.r4 < 0.15 THEN 'COMMUNE' ELSE 'PROVINCE' END
                                    ELSE CASE WHEN x.r4 < 0.3 THEN 'PROVINCE' ELSE 'CENTRAL' END
                                    END AS handling_level,
                               CASE WHEN pr.level = 'COMMUNE' AND x.r4 < 0.03 THEN NULL
                                    WHEN pr.level = 'PROVINCE' AND x.r4 >= 0.15 THEN NULL
                                    WHEN pr.level = 'CENTRAL' THEN NULL
                                    WHEN x.r9 < 0.05 THEN c.neighbour
                                    ELSE c.code END AS handling_commune_code,
                               CASE WHEN pr.level = 'COMMUNE' AND x.r4 < 0.03
                                    THEN 'TTPVHCC-' || c.province_code
                                    WHEN pr.level = 'PROVINCE' AND x.r4 >= 0.15
                                    THEN 'SO-' || (ARRAY['TP', 'XD', 'NNMT', 'TC', 'YT', 'GDDT'])[1 + floor(x.r9 * 6)::int]
                                         || '-' || c.province_code
                                    WHEN pr.level = 'CENTRAL' AND x.r4 < 0.3
                                    THEN 'SO-TC-' || c.province_code
                                    WHEN pr.level = 'CENTRAL'
                                    THEN 'BO-' || (ARRAY['CA', 'TC', 'XD'])[1 + floor(x.r9 * 3)::int]
                                    WHEN x.r9 < 0.05 THEN 'UBND-' || c.neighbour
                                    ELSE 'UBND-' || c.code END AS agency_code
                        FROM (
                                SELECT d.day, s.n,
                                       floor(100000 * random())::int AS cs,
                                       floor(100000 * random())::int AS ps,
                                       CASE WHEN random() < 0.45 THEN 'ONLINE'
                                            WHEN random() < 0.95 THEN 'IN_PERSON'
                                            ELSE 'POSTAL' END AS channel,
                                       ((d.day + time '07:30') AT TIME ZONE 'Asia/Ho_Chi_Minh')
                                       + interval '9.5 hours' * random() AS submitted_at,
                                       random() AS r3, random() AS r4, random() AS r5,
                                       random() AS r6, random() AS r7, random() AS r8,
                                       random() AS r9
                                FROM g_day d, generate_series(1, d.n) AS s(n)
                        ) x
                        JOIN g_cslot cs ON cs.slot = x.cs
                        JOIN g_comm c ON c.i = cs.i
                        JOIN g_pslot ps ON ps.slot = x.ps
                        JOIN g_proc pr ON pr.i = ps.i
                        CROSS JOIN g_par p
                        WHERE x.submitted_at <= p.wm
                ) a
        ) b
) z;

ALTER TABLE tthc.dossiers ENABLE TRIGGER USER;

INSERT INTO tthc.agencies (province_code, agency_code, level, commune_code,
                           first_seen_at)
SELECT DISTINCT ON (province_code, agency_code) province_code, agency_code,
       handling_level, handling_commune_code, received_at
FROM tthc.dossiers
WHERE received_at IS NOT NULL
ORDER BY province_code, agency_code, received_at
ON CONFLICT DO NOTHING;
UPDATE tthc.procedures p SET first_seen_at = s.first
FROM (SELECT procedure_code, min(submitted_at) AS first
      FROM tthc.dossiers GROUP BY procedure_code) s
WHERE s.procedure_code = p.procedure_code AND p.first_seen_at IS NULL;

-- ---- tthc-ingest: hourly throughput of the receiving desk --------------
INSERT INTO tthc.commune_throughput_hourly (province_code, commune_code, hour,
        received, resolved_early, resolved_on_time, resolved_late, stopped,
        withdrawn, intake_refused, transferred_out, supplement_requested,
        online_received)
SELECT province_code, commune_code, hour, sum(received), sum(early),
       sum(on_time), sum(late), sum(stopped), sum(withdrawn), sum(refused),
       sum(transferred), sum(supplement), sum(online)
FROM (
        SELECT province_code, commune_code,
               date_trunc('hour', received_at) AS hour, 1 AS received,
               0 AS early, 0 AS on_time, 0 AS late, 0 AS stopped,
               0 AS withdrawn, 0 AS refused,
               (handling_level <> 'COMMUNE'
                OR handling_commune_code <> commune_code)::int AS transferred,
               (open_pauses > 0 OR last_seq >= 6)::int AS supplement,
               (channel = 'ONLINE')::int AS online
        FROM tthc.dossiers WHERE received_at IS NOT NULL
        UNION ALL
        SELECT province_code, commune_code, date_trunc('hour', closed_at),
               0, (outcome IS NOT DISTINCT FROM 'early')::int, (outcome IS NOT DISTINCT FROM 'on_time')::int,
               (outcome IS NOT DISTINCT FROM 'late')::int, (status = 'stopped')::int,
               (status = 'withdrawn')::int, (status = 'refused')::int, 0, 0, 0
        FROM tthc.dossiers WHERE closed_at IS NOT NULL
) x
GROUP BY province_code, commune_code, hour;
-- and per province and Vietnam day, as tthc-ingest keeps them (020)
SELECT tthc.province_throughput_resum(NULL);

-- ---- tthc-route: per level, routes, anomalies ---------------------------
CREATE TEMP TABLE g_pl AS
SELECT day, province_code, procedure_code, procedure_level, handling_level,
       sum(received)::int AS received, sum(early)::int AS resolved_early,
       sum(on_time)::int AS resolved_on_time, sum(late)::int AS resolved_late,
       sum(stopped)::int AS stopped, sum(withdrawn)::int AS withdrawn,
       sum(supplement)::int AS supplement_requested,
       sum(stints)::int AS stints, sum(stint_ms)::bigint AS stint_ms
FROM (
        -- receipt, at the receiving desk (commune level)
        SELECT (received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS day,
               province_code, procedure_code, procedure_level,
               'COMMUNE' AS handling_level, 1 AS received, 0 AS early,
               0 AS on_time, 0 AS late, 0 AS stopped, 0 AS withdrawn,
               0 AS supplement,
               (handling_level <> 'COMMUNE')::int AS stints,
               CASE WHEN handling_level <> 'COMMUNE' THEN 7200000 ELSE 0 END AS stint_ms
        FROM tthc.dossiers WHERE received_at IS NOT NULL
        UNION ALL
        -- closing, at the level that closed it (its last stint)
        SELECT (closed_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date,
               province_code, procedure_code, procedure_level, handling_level,
               0, (outcome IS NOT DISTINCT FROM 'early')::int, (outcome IS NOT DISTINCT FROM 'on_time')::int,
               (outcome IS NOT DISTINCT FROM 'late')::int, (status = 'stopped')::int,
               (status = 'withdrawn')::int, (last_seq >= 6)::int, 1,
               tthc.epoch_ms(closed_at) - tthc.epoch_ms(received_at)
        FROM tthc.dossiers
        WHERE closed_at IS NOT NULL AND received_at IS NOT NULL
) x
GROUP BY day, province_code, procedure_code, procedure_level, handling_level;
INSERT INTO tthc.procedure_level_daily
SELECT day, province_code, procedure_code, procedure_level, handling_level,
       received, resolved_early, resolved_on_time, resolved_late, stopped,
       withdrawn, supplement_requested, stints, stint_ms,
       CASE WHEN stints = 0 THEN array_fill(0, ARRAY[27])
            ELSE array_fill(0, ARRAY[b - 1]) || stints
                 || array_fill(0, ARRAY[27 - b]) END
FROM (SELECT g_pl.*,
             tthc.hist_bucket(stint_ms / 3600000.0 / greatest(stints, 1)) AS b
      FROM g_pl) x;

INSERT INTO tthc.procedure_routing_daily (day, province_code, procedure_code,
        procedure_level, from_level, to_level, to_agency_code, transfers)
SELECT (received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, province_code,
       procedure_code, procedure_level, 'COMMUNE', handling_level,
       agency_code, count(*)
FROM tthc.dossiers
WHERE received_at IS NOT NULL
  AND (handling_level <> 'COMMUNE' OR handling_commune_code <> commune_code)
GROUP BY 1, 2, 3, 4, 5, 6, 7;

INSERT INTO tthc.routing_anomalies_daily (day, province_code, procedure_code,
        procedure_level, resolved, resolved_off_level, transferred_dossiers,
        multi_transfer_dossiers, transfers, down_transfers)
SELECT day, province_code, procedure_code, procedure_level, sum(resolved),
       sum(off_level), sum(transferred), sum(multi), sum(transfers),
       sum(down)
FROM (
        SELECT (closed_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS day,
               province_code, procedure_code, procedure_level, 1 AS resolved,
               (handling_level <> procedure_level)::int AS off_level,
               0 AS transferred, 0 AS multi, 0 AS transfers, 0 AS down
        FROM tthc.dossiers WHERE status = 'resolved'
        UNION ALL
        SELECT (received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date,
               province_code, procedure_code, procedure_level, 0, 0, 1,
               (last_seq % 7 = 0)::int, 1 + (last_seq % 7 = 0)::int,
               (procedure_level = 'CENTRAL' AND handling_level = 'PROVINCE')::int
        FROM tthc.dossiers
        WHERE received_at IS NOT NULL
          AND (handling_level <> 'COMMUNE' OR handling_commune_code <> commune_code)
) x
GROUP BY 1, 2, 3, 4;

-- the monthly twins tthc-route keeps with its daily tables (migration 019)
SELECT tthc.route_months_resum(NULL);

-- ---- tthc-alert ----------------------------------------------------------
-- backlog history: every commune, every day of the year
INSERT INTO tthc.commune_backlog_daily (province_code, commune_code, day,
        open, paused, overdue, intake_backlog)
SELECT province_code, code, day, open, (open * (0.06 + 0.08 * r1))::int,
       (open * (0.02 + 0.12 * r2 * r2))::int, (4 * w * p.scale * r3 * r3)::int
FROM (
        SELECT c.province_code, c.code, c.w, d::date AS day,
               greatest(0, round(12 * c.w * (SELECT scale FROM g_par)
                   * (1 + 0.25 * sin(extract(doy FROM d) / 58.0 + c.i)
                      + 0.1 * (extract(isodow FROM d) < 6)::int)
                   * (0.85 + 0.3 * random())))::int AS open,
               random() AS r1, random() AS r2, random() AS r3
        FROM g_comm c, g_par p2,
             generate_series(p2.end_day - p2.days + 1, p2.end_day - 1,
                             interval '1 day') AS d
) x, g_par p;

INSERT INTO tthc.alert_provinces (province_code, topic, partitions, next_tick,
        watermark, caught_up, caught_up_at)
SELECT code, 'tthc.filings.' || code, 3,
       date_trunc('hour', p.wm) + interval '1 hour', p.wm, true, now()
FROM tthc.provinces, g_par p;

-- the latest snapshot per partition and commune (older ones are pruned)
INSERT INTO tthc.alert_commune_ticks (topic, partition, province_code,
        commune_code, tick, open, overdue, intake_backlog, last_event_at,
        paused)
SELECT 'tthc.filings.' || d.province_code, abs(hashtext(d.dossier_id)) % 3,
       d.province_code, d.handling_commune_code, date_trunc('hour', p.wm),
       count(*) FILTER (WHERE d.status IN ('processing', 'paused')),
       count(*) FILTER (WHERE d.status = 'processing'
                        AND (d.original_due_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
                            < (p.wm AT TIME ZONE 'Asia/Ho_Chi_Minh')::date),
       0, max(d.last_event_at),
       count(*) FILTER (WHERE d.status = 'paused')
FROM tthc.dossiers d, g_par p
WHERE d.status IN ('processing', 'paused') AND d.handling_level = 'COMMUNE'
GROUP BY 1, 2, 3, 4, 5;

-- per commune and day: the last 40 days (older ones are pruned)
INSERT INTO tthc.alert_commune_days (province_code, commune_code, day,
        events, received, resolved, resolved_ok)
SELECT province_code, commune_code, day, sum(events), sum(received),
       sum(resolved), sum(resolved_ok)
FROM (
        SELECT province_code, commune_code,
               (received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS day,
               2 AS events, 1 AS received, 0 AS resolved, 0 AS resolved_ok
        FROM tthc.dossiers, g_par p
        WHERE received_at >= p.wm - interval '40 days'
        UNION ALL
        SELECT province_code, handling_commune_code,
               (closed_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, 2, 0, 1,
               (outcome IN ('early', 'on_time'))::int
        FROM tthc.dossiers, g_par p
        WHERE status = 'resolved' AND handling_level = 'COMMUNE'
          AND closed_at >= p.wm - interval '40 days'
) x
WHERE commune_code IS NOT NULL
GROUP BY 1, 2, 3;

-- alert episodes: 0-3 per commune over the year, each fired, sometimes
-- escalated, resolved (the ones of the last days still firing)
CREATE TEMP TABLE g_alert AS
SELECT gen_random_uuid() AS alert_id, c.province_code, c.code AS commune_code,
       cc.name AS commune_name,
       (ARRAY['overdue_backlog', 'on_time_rate', 'backlog_growth',
              'intake_backlog'])[k] AS rule,
       date_trunc('hour', p.wm - interval '1 day' * floor(random() * (p.days - 1)))
               AS started_at,
       interval '1 hour' * (6 + floor(random() * 200)) AS dur,
       random() < 0.3 AS escalated, 5 + 20 * random() AS value
FROM g_comm c
JOIN tthc.communes cc ON cc.code = c.code
CROSS JOIN g_par p
CROSS JOIN LATERAL generate_series(1, floor(random() * (1 + 3 * p.scale ^ 0.25) + 0 * c.i)::int) AS k;
INSERT INTO tthc.alerts (alert_id, province_code, commune_code, rule, severity,
        status, value, threshold, started_at, resolved_at, resolution,
        details, changed_at)
SELECT a.alert_id, a.province_code, a.commune_code, a.rule,
       CASE WHEN a.escalated THEN 'critical' ELSE 'warning' END,
       CASE WHEN a.started_at + a.dur > p.wm THEN 'firing' ELSE 'resolved' END,
       a.value, 5,
       a.started_at,
       CASE WHEN a.started_at + a.dur <= p.wm THEN a.started_at + a.dur END,
       CASE WHEN a.started_at + a.dur <= p.wm THEN 'cleared' END,
       jsonb_build_object('summary_vi', a.commune_name || ' (' || a.commune_code || '): ' || a.rule,
                          'summary_en', a.commune_name || ' (' || a.commune_code || '): ' || a.rule),
       least(a.started_at + a.dur, date_trunc('hour', p.wm))
FROM g_alert a, g_par p;
INSERT INTO tthc.alert_outbox (alert_id, change, severity, status, value,
        threshold, changed_at, details, kafka_sent_at)
SELECT alert_id, change, severity, status, value, threshold, changed_at,
       details, changed_at + interval '1 second'
FROM (
        SELECT a.alert_id, 'fired' AS change, 'warning' AS severity,
               'firing' AS status, a.value AS value, 5 AS threshold,
               a.started_at AS changed_at,
               jsonb_build_object('summary_vi', a.commune_name || ' (' || a.commune_code || '): ' || a.rule,
                                  'summary_en', a.commune_name || ' (' || a.commune_code || '): ' || a.rule) AS details,
               1 AS o
        FROM g_alert a
        UNION ALL
        SELECT a.alert_id, 'changed', 'critical', 'firing', a.value * 1.5, 10,
               a.started_at + a.dur / 3,
               jsonb_build_object('summary_vi', a.commune_name || ' (' || a.commune_code || '): ' || a.rule,
                                  'summary_en', a.commune_name || ' (' || a.commune_code || '): ' || a.rule),
               2
        FROM g_alert a, g_par p
        WHERE a.escalated AND a.started_at + a.dur / 3 <= p.wm
        UNION ALL
        SELECT a.alert_id, 'resolved', CASE WHEN a.escalated THEN 'critical' ELSE 'warning' END,
               'resolved', 0, 0, a.started_at + a.dur,
               jsonb_build_object('summary_vi', a.commune_name || ' (' || a.commune_code || '): ' || a.rule,
                                  'summary_en', a.commune_name || ' (' || a.commune_code || '): ' || a.rule,
                                  'resolution', 'cleared'),
               3
        FROM g_alert a, g_par p
        WHERE a.started_at + a.dur <= p.wm
) x
ORDER BY changed_at, alert_id, o;

-- ---- offsets and progress: three partitions per province, drained -------
INSERT INTO tthc.partition_progress (group_id, topic, partition, province_code,
        max_occurred_at, last_message_at, next_offset)
SELECT 'tthc-ingest', 'tthc.filings.' || pv.code, part, pv.code, p.wm, now(),
       coalesce(n.n, 0) * 4 / 3
FROM tthc.provinces pv
CROSS JOIN g_par p
CROSS JOIN generate_series(0, 2) AS part
LEFT JOIN (SELECT province_code, count(*) AS n FROM tthc.dossiers
           GROUP BY province_code) n ON n.province_code = pv.code;
INSERT INTO tthc.consumer_offsets (group_id, topic, partition, next_offset,
                                   high_watermark)
SELECT g, pp.topic, pp.partition, pp.next_offset, pp.next_offset
FROM tthc.partition_progress pp,
     unnest(ARRAY['tthc-ingest', 'tthc-route', 'tthc-alert']) AS g
WHERE pp.group_id = 'tthc-ingest';

ANALYZE tthc.dossiers;
ANALYZE tthc.commune_throughput_hourly;
ANALYZE tthc.province_throughput_daily;
ANALYZE tthc.procedure_level_daily;
ANALYZE tthc.procedure_level_by_month;
ANALYZE tthc.procedure_routing_by_month;
ANALYZE tthc.routing_anomalies_by_month;
ANALYZE tthc.procedure_routing_daily;
ANALYZE tthc.routing_anomalies_daily;
ANALYZE tthc.commune_backlog_daily;
ANALYZE tthc.alerts;
ANALYZE tthc.alert_outbox;
ANALYZE tthc.alert_commune_days;
ANALYZE tthc.alert_commune_ticks;
ANALYZE tthc.agencies;
