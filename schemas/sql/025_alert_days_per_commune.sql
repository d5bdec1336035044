-- 025: tthc-alert's day counters per commune, no longer per partition.
--
-- tthc.alert_commune_days held one row per partition, commune and day: a
-- commune's dossiers spread over its province's partitions, so on a
-- national stream (32 partitions a province) a commune's day had about 7
-- rows, and each checkpoint upserted one per partition the commune had
-- events in. The counters are sums, so the partitions' deltas add up in
-- one row per commune and day: tthc-alert adds each batch's into it, in
-- the same transaction as the partitions' offsets (exactly once as
-- before), and two instances sharing a province add theirs in turn (the
-- upsert sorts its rows by the key, so they lock in one order). The
-- evaluator and tthc.commune_health summed the partitions' rows anyway.
--
-- The rows per partition also carried each partition's latest activity
-- per commune (024: a reload takes a commune's activity since its last
-- snapshot from there). That moves to tthc.alert_partition_state, which
-- every checkpoint writes for each partition of its batch: the communes
-- whose latest activity is later than their last snapshot's, with it.
--
-- The key leads with the province and the day, the order in which the
-- evaluator, the prune and tthc.commune_health read the table, so the
-- primary key replaces the (province_code, day) index.

ALTER TABLE tthc.alert_partition_state
        ADD COLUMN activity_communes text[] NOT NULL DEFAULT '{}',
        ADD COLUMN activity_at timestamptz[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN tthc.alert_partition_state.activity_communes IS
        'the communes with activity in this partition later than their last snapshot (tthc.alert_commune_ticks); a reload of the partition takes it from here';
COMMENT ON COLUMN tthc.alert_partition_state.activity_at IS
        'for each of activity_communes, the time (occurred_at) of its latest activity in this partition';

-- Each partition's latest activity per commune as the day rows held it:
-- a reload takes the later of this and the last snapshot, as before.
UPDATE tthc.alert_partition_state s
SET activity_communes = a.communes, activity_at = a.ats
FROM (SELECT topic, partition,
             array_agg(commune_code ORDER BY commune_code) AS communes,
             array_agg(at ORDER BY commune_code) AS ats
      FROM (SELECT topic, partition, commune_code,
                   max(last_event_at) AS at
            FROM tthc.alert_commune_days
            WHERE last_event_at IS NOT NULL
            GROUP BY topic, partition, commune_code) x
      GROUP BY topic, partition) a
WHERE s.topic = a.topic AND s.partition = a.partition;

CREATE TEMP TABLE tp_days_merged ON COMMIT DROP AS
SELECT province_code, commune_code, day, sum(events)::integer AS events,
       sum(received)::integer AS received,
       sum(resolved)::integer AS resolved,
       sum(resolved_ok)::integer AS resolved_ok,
       max(last_event_at) AS last_event_at
FROM tthc.alert_commune_days
GROUP BY province_code, commune_code, day;

DELETE FROM tthc.alert_commune_days;
ALTER TABLE tthc.alert_commune_days
        DROP CONSTRAINT alert_commune_days_pkey,
        DROP COLUMN topic,
        DROP COLUMN partition,
        ADD PRIMARY KEY (province_code, day, commune_code);
DROP INDEX tthc.alert_commune_days_province_idx;
INSERT INTO tthc.alert_commune_days (province_code, commune_code, day,
        events, received, resolved, resolved_ok, last_event_at)
SELECT province_code, commune_code, day, events, received, resolved,
       resolved_ok, last_event_at
FROM tp_days_merged;

COMMENT ON TABLE tthc.alert_commune_days IS
        'tthc-alert''s day counters per commune (the on_time_rate, backlog_growth and commune_silent windows), summed over its province''s partitions';
COMMENT ON COLUMN tthc.alert_commune_days.last_event_at IS
        'the latest occurred_at of the events its desk or agency sent that day (NULL in rows written before migration 024 only)';
