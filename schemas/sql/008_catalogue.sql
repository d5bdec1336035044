-- 008: the procedure catalogue and the agencies (design.md, "SQL"), so that
-- analysts see names, not codes (docs/analysts.md, "Procedures and
-- agencies").
--
-- tthc.procedures is loaded from a catalogue CSV (tthc-admin procedures
-- load FILE: the national TTHC database's export, source 'national'); the
-- shipped sample (reference/procedures.csv, the simulator's) is loaded by
-- migrate while no national catalogue is, with source 'sample'. A code an
-- event carries that no catalogue has is added by tthc-ingest with a null
-- name (source 'event') and listed by tthc.unknown_procedures.
-- tthc.agencies is filled by tthc-ingest from the codes events carry: the
-- agency handling a dossier, at its level, and the commune it serves.

CREATE TABLE tthc.procedures (
        procedure_code  text PRIMARY KEY,
        name            text,
        competent_level text CHECK (competent_level IN
                                    ('COMMUNE', 'PROVINCE', 'CENTRAL')),
        deadline_days   integer CHECK (deadline_days >= 0),
        sector          text,
        agency          text,
        source          text NOT NULL CHECK (source IN
                                             ('sample', 'national', 'event')),
        loaded_at       timestamptz,
        first_seen_at   timestamptz
);
COMMENT ON TABLE tthc.procedures IS
        'procedure catalogue: the national catalogue (source national, tthc-admin procedures load), the shipped sample until one is loaded (source sample), and codes first seen in events with no name (source event)';
COMMENT ON COLUMN tthc.procedures.procedure_code IS 'procedure code, as events carry it (e.g. 1.000037)';
COMMENT ON COLUMN tthc.procedures.name IS 'procedure name in Vietnamese; null for a code no catalogue has (see tthc.unknown_procedures)';
COMMENT ON COLUMN tthc.procedures.competent_level IS 'level of the authority competent to decide: COMMUNE, PROVINCE or CENTRAL';
COMMENT ON COLUMN tthc.procedures.deadline_days IS 'statutory deadline in working days, as the catalogue states it (null: none stated)';
COMMENT ON COLUMN tthc.procedures.sector IS 'sector (lĩnh vực)';
COMMENT ON COLUMN tthc.procedures.agency IS 'agency that carries it out (cơ quan thực hiện), as the catalogue names it';
COMMENT ON COLUMN tthc.procedures.source IS 'national (a national catalogue load), sample (the shipped sample) or event (first seen in an event, not in any catalogue)';
COMMENT ON COLUMN tthc.procedures.loaded_at IS 'when a catalogue load last wrote the row';
COMMENT ON COLUMN tthc.procedures.first_seen_at IS 'when tthc-ingest first stored an event with the code (null: not seen yet, or seen before this column existed)';

CREATE TABLE tthc.agencies (
        province_code   text NOT NULL,
        agency_code     text NOT NULL,
        level           text CHECK (level IN ('COMMUNE', 'PROVINCE', 'CENTRAL')),
        commune_code    text,
        first_seen_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (province_code, agency_code)
);
COMMENT ON TABLE tthc.agencies IS
        'agencies seen handling dossiers, per province, filled by tthc-ingest from the codes events carry (as first seen)';
COMMENT ON COLUMN tthc.agencies.agency_code IS 'agency code as events carry it (agency_code, to_agency_code)';
COMMENT ON COLUMN tthc.agencies.level IS 'its level: handling_level of the first event it handled';
COMMENT ON COLUMN tthc.agencies.commune_code IS 'the commune it serves (handling_commune_code of that event); null for a provincial or central agency';

CREATE VIEW tthc.unknown_procedures WITH (security_invoker = true) AS
SELECT procedure_code, first_seen_at
FROM tthc.procedures
WHERE name IS NULL;
COMMENT ON VIEW tthc.unknown_procedures IS
        'procedure codes events carry that no loaded catalogue names: load the national catalogue (tthc-admin procedures load), or ask the province why its system sends them';

SELECT tthc.enable_province_rls('tthc.agencies');
REVOKE ALL ON tthc.procedures, tthc.agencies FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON tthc.procedures, tthc.agencies TO tthc_service;
GRANT SELECT ON tthc.procedures, tthc.agencies, tthc.unknown_procedures
        TO tthc_analyst, tthc_province_analyst;

-- Names in the analyst views: procedure_name next to every procedure code
-- (appended, so CREATE OR REPLACE keeps the views' grants and dependants).
CREATE OR REPLACE VIEW tthc.top_procedures WITH (security_invoker = true) AS
SELECT t.province_code, t.procedure_code, t.procedure_level,
       sum(t.received)::bigint AS received,
       sum(t.resolved_early + t.resolved_on_time + t.resolved_late)::bigint
               AS resolved,
       rank() OVER (PARTITION BY t.province_code
                    ORDER BY sum(t.received) DESC) AS rank_in_province,
       p.name AS procedure_name
FROM tthc.procedure_level_daily t
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
FROM tthc.procedure_level_daily t
LEFT JOIN tthc.procedures p USING (procedure_code)
GROUP BY t.province_code, t.procedure_code, t.procedure_level, p.name;

CREATE OR REPLACE VIEW tthc.procedure_level_monthly WITH (security_invoker = true) AS
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
       round(tthc.hist_percentile(tthc.hist_sum(hist), 0.99)::numeric, 2) AS p99_hours,
       (SELECT p.name FROM tthc.procedures p WHERE p.procedure_code = t.procedure_code) AS procedure_name
FROM tthc.procedure_level_daily t
GROUP BY 1, 2, 3, 4, 5;

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
FROM tthc.procedure_level_daily t
GROUP BY 1, 2, 3, 4;

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
FROM tthc.routing_anomalies_daily t
GROUP BY 1, 2, 3;

CREATE OR REPLACE VIEW tthc.routing_anomalies_worst WITH (security_invoker = true) AS
SELECT rank() OVER (ORDER BY anomalies DESC, off_level_rate DESC NULLS LAST)
               AS rank, a.*
FROM tthc.routing_anomalies a
WHERE anomalies > 0
ORDER BY anomalies DESC, off_level_rate DESC NULLS LAST, province_code,
         procedure_code;

CREATE OR REPLACE VIEW tthc.slowest_procedures WITH (security_invoker = true) AS
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
                    ORDER BY tthc.hist_percentile(hist, 0.9) DESC) AS rank_in_level,
       (SELECT p.name FROM tthc.procedures p WHERE p.procedure_code = t.procedure_code) AS procedure_name
FROM t;

CREATE OR REPLACE VIEW tthc.procedure_month_over_month WITH (security_invoker = true) AS
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
       on_time_rate - lag(on_time_rate) OVER w AS on_time_rate_change,
       (SELECT p.name FROM tthc.procedures p WHERE p.procedure_code = r.procedure_code) AS procedure_name
FROM r
WINDOW w AS (PARTITION BY province_code, procedure_code, procedure_level
             ORDER BY month);

CREATE OR REPLACE VIEW tthc.open_dossiers WITH (security_invoker = true) AS
SELECT d.*,
       (d.status = 'processing' AND d.original_due_at IS NOT NULL
        AND (d.original_due_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
            < (f.watermark AT TIME ZONE 'Asia/Ho_Chi_Minh')::date) AS overdue,
       (SELECT p.name FROM tthc.procedures p
        WHERE p.procedure_code = d.procedure_code) AS procedure_name
FROM tthc.dossiers d
LEFT JOIN tthc.freshness f USING (province_code)
WHERE d.status IN ('submitted', 'processing', 'paused');
