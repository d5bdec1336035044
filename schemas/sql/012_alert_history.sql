-- 012: every change of every alert episode, for analysts. The changes are
-- the outbox rows tthc-alert records with each change (the Kafka sink
-- drains them); tthc.alerts keeps only an episode's latest state.
-- The outbox gets row-level security through its episode's province.

SELECT tthc.enable_province_rls('tthc.alert_outbox',
        '(SELECT a.province_code FROM tthc.alerts a WHERE a.alert_id = alert_outbox.alert_id)');

CREATE VIEW tthc.alert_history WITH (security_invoker = true) AS
SELECT o.alert_id, a.province_code, a.commune_code,
       coalesce(c.full_name, p.full_name) AS place_name,
       a.rule, o.change, o.severity, o.status, o.value, o.threshold,
       o.changed_at, o.details->>'resolution' AS resolution,
       o.details->>'summary_vi' AS summary_vi,
       o.details->>'summary_en' AS summary_en,
       a.started_at, o.id AS change_no
FROM tthc.alert_outbox o
JOIN tthc.alerts a USING (alert_id)
LEFT JOIN tthc.communes c ON c.code = a.commune_code
LEFT JOIN tthc.provinces p ON p.code = a.province_code;
COMMENT ON VIEW tthc.alert_history IS
        'every change of every alert episode (fired, changed, resolved) with the value and threshold of that change; tthc.alerts has each episode''s latest state';
COMMENT ON COLUMN tthc.alert_history.change IS 'fired (opened), changed (severity up or down) or resolved';
COMMENT ON COLUMN tthc.alert_history.value IS 'the rule''s value at this change';
COMMENT ON COLUMN tthc.alert_history.threshold IS 'the threshold crossed at this change: the warning or critical threshold when it fires or changes severity, the resolve threshold when it resolves';
COMMENT ON COLUMN tthc.alert_history.changed_at IS 'the tick (event time, an hour boundary) of the change; wall time for province_feed_stale';
COMMENT ON COLUMN tthc.alert_history.place_name IS 'the commune''s full name (the province''s for a province rule)';
COMMENT ON COLUMN tthc.alert_history.change_no IS 'order of the changes (increasing)';
GRANT SELECT ON tthc.alert_history TO tthc_analyst, tthc_province_analyst;
GRANT SELECT ON tthc.alert_outbox TO tthc_analyst;
