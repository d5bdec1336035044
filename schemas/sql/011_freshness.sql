-- 011: tthc.freshness covers the three consumers. Each consumer stores the
-- broker's high watermark with its offsets (common/consumer.c, at every
-- commit), so the lag of tthc-ingest, tthc-route and tthc-alert is known
-- per province, and a stale flag says when the figures may be behind.
-- partition_progress.high_watermark was never written (the old view's lag
-- was always 0): it goes.

ALTER TABLE tthc.consumer_offsets
        ADD COLUMN IF NOT EXISTS high_watermark bigint;
COMMENT ON TABLE tthc.consumer_offsets IS
        'each consumer group''s next offset per partition, committed with its results (exactly once), and the broker''s high watermark then';
COMMENT ON COLUMN tthc.consumer_offsets.next_offset IS 'the next offset the group will read';
COMMENT ON COLUMN tthc.consumer_offsets.high_watermark IS 'the partition''s end (high watermark) when the group last committed; high_watermark - next_offset is its lag then';
COMMENT ON COLUMN tthc.consumer_offsets.updated_at IS 'when the group last committed a batch of the partition';
SELECT tthc.enable_province_rls('tthc.consumer_offsets', 'tthc.topic_province(topic)');

CREATE OR REPLACE VIEW tthc.freshness WITH (security_invoker = true) AS
WITH p AS (
        SELECT province_code, max_occurred_at, last_message_at,
               max(max_occurred_at) OVER (PARTITION BY province_code) AS newest
        FROM tthc.partition_progress
        WHERE group_id = 'tthc-ingest'
), ing AS (
        SELECT province_code,
               min(max_occurred_at) FILTER (WHERE max_occurred_at >= newest - interval '6 hours') AS watermark,
               max(last_message_at) AS last_message_at
        FROM p GROUP BY province_code
), lag AS (
        SELECT tthc.topic_province(topic) AS province_code,
               sum(greatest(coalesce(high_watermark, next_offset) - next_offset, 0))
                       FILTER (WHERE group_id = 'tthc-ingest')::bigint AS ingest_lag,
               sum(greatest(coalesce(high_watermark, next_offset) - next_offset, 0))
                       FILTER (WHERE group_id = 'tthc-route')::bigint AS route_lag,
               sum(greatest(coalesce(high_watermark, next_offset) - next_offset, 0))
                       FILTER (WHERE group_id = 'tthc-alert')::bigint AS alert_lag,
               bool_or(high_watermark > next_offset
                       AND updated_at < now() - interval '5 minutes') AS stuck
        FROM tthc.consumer_offsets
        WHERE group_id IN ('tthc-ingest', 'tthc-route', 'tthc-alert')
        GROUP BY 1
)
SELECT coalesce(ing.province_code, lag.province_code) AS province_code,
       ing.watermark, ing.last_message_at,
       coalesce(lag.ingest_lag, 0) AS consumer_lag,
       lag.route_lag, lag.alert_lag,
       a.watermark AS alert_watermark,
       (ing.last_message_at IS NULL OR lag.route_lag IS NULL
        OR lag.alert_lag IS NULL OR coalesce(lag.stuck, false)
        OR ing.last_message_at < now() - interval '2 hours') AS stale
FROM ing
FULL JOIN lag USING (province_code)
LEFT JOIN tthc.alert_provinces a
       ON a.province_code = coalesce(ing.province_code, lag.province_code)
WHERE coalesce(ing.province_code, lag.province_code) IS NOT NULL;
COMMENT ON VIEW tthc.freshness IS
        'how current the figures are, one row per province with a stream: event-time watermarks, the newest message, each consumer''s lag, and stale';
COMMENT ON COLUMN tthc.freshness.watermark IS 'tthc-ingest''s event-time watermark: the minimum over the province''s partitions of the newest occurred_at (partitions idle for 6 hours of event time behind the newest skipped)';
COMMENT ON COLUMN tthc.freshness.last_message_at IS 'wall time tthc-ingest last stored a message of the province';
COMMENT ON COLUMN tthc.freshness.consumer_lag IS 'tthc-ingest''s lag: messages of the province''s partitions not yet read at its last commit';
COMMENT ON COLUMN tthc.freshness.route_lag IS 'the same for tthc-route (null: it has not read the province yet)';
COMMENT ON COLUMN tthc.freshness.alert_lag IS 'the same for tthc-alert (null: it has not read the province yet)';
COMMENT ON COLUMN tthc.freshness.alert_watermark IS 'tthc-alert''s province watermark (minus the lateness): its figures, alerts and backlog history are as of this event time';
COMMENT ON COLUMN tthc.freshness.stale IS 'the figures may be behind: a consumer has not read the province, one has had unread messages without committing for 5 minutes, or no message arrived for 2 hours (normal at night for a small province)';

ALTER TABLE tthc.partition_progress DROP COLUMN IF EXISTS high_watermark;
GRANT SELECT ON tthc.consumer_offsets TO tthc_analyst, tthc_province_analyst;
