-- demo-summary.sql: the readable end of scripts/demo.sh.
\pset footer off
\pset format aligned
\pset border 1
\pset null '-'
SELECT count(*) AS events_stored,
       round(:elapsed::numeric, 1) AS seconds,
       round(count(*) / :elapsed::numeric) AS events_per_second,
       (SELECT count(*) FROM tthc.rejected_messages) AS dead_letters,
       (SELECT count(*) FROM tthc.dossiers) AS dossiers
FROM tthc.filing_events;

\echo
\echo Busiest provinces (dossiers received)
SELECT p.name AS province, sum(h.received) AS received,
       sum(h.resolved_early + h.resolved_on_time) AS on_time,
       sum(h.resolved_late) AS late,
       round(100.0 * sum(h.online_received) / nullif(sum(h.received), 0), 1) AS online_pct
FROM tthc.commune_throughput_hourly h JOIN tthc.provinces p ON p.code = h.province_code
GROUP BY p.name ORDER BY received DESC LIMIT 5;

\echo
\echo Communes behind (alert episodes; * = seeded by the simulator)
SELECT CASE WHEN a.commune_code = ANY (string_to_array(:'seeded', ',')) THEN '*' ELSE '' END AS s,
       c.full_name AS commune, p.name AS province, a.rule, a.severity, a.status,
       round(a.value::numeric, 1) AS value, a.threshold, (a.started_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS since
FROM tthc.alerts a
LEFT JOIN tthc.communes c ON c.code = a.commune_code
LEFT JOIN tthc.provinces p ON p.code = a.province_code
WHERE a.status = 'firing' OR a.commune_code = ANY (string_to_array(:'seeded', ','))
ORDER BY s DESC, a.severity, a.rule, commune
LIMIT 25;

\echo
SELECT count(DISTINCT commune_code) FILTER (WHERE commune_code = ANY (string_to_array(:'seeded', ','))) AS seeded_communes_alerted,
       count(DISTINCT commune_code) FILTER (WHERE NOT commune_code = ANY (string_to_array(:'seeded', ','))) AS other_communes_alerted,
       count(*) AS episodes
FROM tthc.alerts;
