-- 003_alert.sql: tthc-alert's state (per partition, checkpointed with the
-- group's offsets), alert episodes, their outbox and tthc.commune_health.
-- See docs/alerts.md. Never edit a shipped migration: add one.

-- Open dossiers of each consumed partition (and, for a few days after they
-- close, tombstones that keep duplicates out), as tthc-alert sees them.
CREATE TABLE tthc.alert_dossiers (
        topic                   text NOT NULL,
        partition               integer NOT NULL,
        province_code           text NOT NULL,
        dossier_id              text NOT NULL,
        commune_code            text,
        procedure_code          text NOT NULL,
        channel                 text NOT NULL,
        status                  text NOT NULL,
        submitted_at            timestamptz,
        received_at             timestamptz,
        closed_at               timestamptz,
        due_at                  timestamptz,
        original_due_at         timestamptz,
        handling_level          text,
        handling_commune_code   text,
        open_pauses             integer NOT NULL DEFAULT 0,
        last_seq                integer NOT NULL,
        last_event_at           timestamptz,
        PRIMARY KEY (topic, partition, dossier_id)
);

-- Per partition, commune and Vietnam day: events that commune's desk or
-- agencies acted on, dossiers received, resolved, resolved early or on
-- time. Late events (before the partition's watermark) count in the
-- watermark's day, so a day before the province watermark is final.
CREATE TABLE tthc.alert_commune_days (
        topic           text NOT NULL,
        partition       integer NOT NULL,
        province_code   text NOT NULL,
        commune_code    text NOT NULL,
        day             date NOT NULL,
        events          integer NOT NULL DEFAULT 0,
        received        integer NOT NULL DEFAULT 0,
        resolved        integer NOT NULL DEFAULT 0,
        resolved_ok     integer NOT NULL DEFAULT 0,
        PRIMARY KEY (topic, partition, commune_code, day)
);
CREATE INDEX alert_commune_days_province_idx
        ON tthc.alert_commune_days (province_code, day);

-- Per partition and commune, the figures that depend on dossier state, as
-- of each hourly tick the partition's watermark passed; a row is written
-- only when they change (the latest row at or before a tick holds).
CREATE TABLE tthc.alert_commune_ticks (
        topic           text NOT NULL,
        partition       integer NOT NULL,
        province_code   text NOT NULL,
        commune_code    text NOT NULL,
        tick            timestamptz NOT NULL,
        open            integer NOT NULL,
        overdue         integer NOT NULL,
        intake_backlog  integer NOT NULL,
        last_event_at   timestamptz,
        PRIMARY KEY (topic, partition, commune_code, tick)
);
CREATE INDEX alert_commune_ticks_province_idx
        ON tthc.alert_commune_ticks (province_code, tick);

-- Event-time progress of each partition.
CREATE TABLE tthc.alert_partition_state (
        topic                   text NOT NULL,
        partition               integer NOT NULL,
        province_code           text NOT NULL,
        first_occurred_at       timestamptz,
        max_occurred_at         timestamptz,
        next_tick               timestamptz,
        caught_up               boolean NOT NULL DEFAULT false,
        last_message_at         timestamptz,
        next_offset             bigint,
        PRIMARY KEY (topic, partition)
);

-- Per province: partitions of its topic, the next tick to evaluate and
-- the watermark last evaluated. Locked (FOR UPDATE) by the evaluator.
CREATE TABLE tthc.alert_provinces (
        province_code   text PRIMARY KEY,
        topic           text NOT NULL,
        partitions      integer NOT NULL,
        next_tick       timestamptz,
        watermark       timestamptz,
        caught_up       boolean NOT NULL DEFAULT false,
        caught_up_at    timestamptz,
        updated_at      timestamptz NOT NULL DEFAULT now()
);

-- One row per alert episode (design.md, "Alerts").
CREATE TABLE tthc.alerts (
        alert_id        uuid PRIMARY KEY,
        province_code   text NOT NULL,
        commune_code    text,
        rule            text NOT NULL CHECK (rule IN ('overdue_backlog',
                          'on_time_rate', 'backlog_growth', 'commune_silent',
                          'province_feed_stale', 'intake_backlog')),
        severity        text NOT NULL CHECK (severity IN ('warning', 'critical')),
        status          text NOT NULL CHECK (status IN ('firing', 'resolved')),
        value           double precision NOT NULL,
        threshold       double precision NOT NULL,
        started_at      timestamptz NOT NULL,
        resolved_at     timestamptz,
        resolution      text CHECK (resolution IN ('cleared', 'insufficient_data')),
        details         jsonb NOT NULL DEFAULT '{}',
        volume_lost_at  timestamptz,
        changed_at      timestamptz NOT NULL,
        updated_at      timestamptz NOT NULL DEFAULT now()
);
-- At most one open episode per commune (or province) and rule.
CREATE UNIQUE INDEX alerts_open_idx ON tthc.alerts
        (province_code, coalesce(commune_code, ''), rule) WHERE status = 'firing';
CREATE INDEX alerts_commune_idx ON tthc.alerts (province_code, commune_code);

-- Every change of an episode, for the Kafka sink (drained in id order).
CREATE TABLE tthc.alert_outbox (
        id              bigserial PRIMARY KEY,
        alert_id        uuid NOT NULL,
        change          text NOT NULL CHECK (change IN ('fired', 'changed', 'resolved')),
        severity        text NOT NULL,
        status          text NOT NULL,
        value           double precision NOT NULL,
        threshold       double precision NOT NULL,
        changed_at      timestamptz NOT NULL,
        details         jsonb NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT now(),
        kafka_sent_at   timestamptz
);
CREATE INDEX alert_outbox_pending_idx ON tthc.alert_outbox (id)
        WHERE kafka_sent_at IS NULL;

-- Alertmanager delivery bookkeeping.
CREATE TABLE tthc.alert_delivery (
        alert_id                uuid PRIMARY KEY,
        am_first_sent_at        timestamptz,
        am_last_sent_at         timestamptz,
        am_resolved_sent_at     timestamptz,
        am_severity             text
);

-- Per commune as of its province's watermark (the last evaluated tick).
CREATE VIEW tthc.commune_health WITH (security_invoker = true) AS
WITH p AS (
        SELECT province_code, next_tick - interval '1 hour' AS tick,
               ((next_tick - interval '1 hour') AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS day
        FROM tthc.alert_provinces WHERE next_tick IS NOT NULL
), t AS (
        SELECT DISTINCT ON (t.topic, t.partition, t.commune_code)
               t.province_code, t.commune_code, t.open, t.overdue,
               t.intake_backlog, t.last_event_at
        FROM tthc.alert_commune_ticks t JOIN p USING (province_code)
        WHERE t.tick <= p.tick
        ORDER BY t.topic, t.partition, t.commune_code, t.tick DESC
), ts AS (
        SELECT province_code, commune_code, sum(open)::bigint AS open_dossiers,
               sum(overdue)::bigint AS overdue_open,
               sum(intake_backlog)::bigint AS intake_backlog,
               max(last_event_at) AS last_event_at
        FROM t GROUP BY province_code, commune_code
), d AS (
        SELECT d.province_code, d.commune_code,
               sum(d.resolved) FILTER (WHERE d.day >= p.day - 30)::bigint AS resolved_30d,
               sum(d.resolved_ok) FILTER (WHERE d.day >= p.day - 30)::bigint AS resolved_ok_30d,
               sum(d.received) FILTER (WHERE d.day >= p.day - 7)::bigint AS received_7d,
               sum(d.resolved) FILTER (WHERE d.day >= p.day - 7)::bigint AS resolved_7d
        FROM tthc.alert_commune_days d JOIN p USING (province_code)
        WHERE d.day >= p.day - 30 AND d.day < p.day
        GROUP BY d.province_code, d.commune_code
), a AS (
        SELECT province_code, commune_code,
               array_agg(rule || ':' || severity ORDER BY rule) AS firing
        FROM tthc.alerts WHERE status = 'firing' AND commune_code IS NOT NULL
        GROUP BY province_code, commune_code
)
SELECT c.province_code, c.code AS commune_code, c.name AS commune_name,
       p.tick AS as_of,
       coalesce(ts.open_dossiers, 0) AS open_dossiers,
       coalesce(ts.overdue_open, 0) AS overdue_open,
       coalesce(ts.intake_backlog, 0) AS intake_backlog,
       CASE WHEN coalesce(d.resolved_30d, 0) > 0
            THEN round(100.0 * d.resolved_ok_30d / d.resolved_30d, 1) END AS on_time_rate_30d,
       coalesce(d.resolved_30d, 0) AS resolved_30d,
       coalesce(d.received_7d, 0) AS received_7d,
       coalesce(d.resolved_7d, 0) AS resolved_7d,
       ts.last_event_at,
       a.firing IS NOT NULL AS behind,
       coalesce(a.firing, '{}') AS firing_rules
FROM tthc.communes c
JOIN p ON p.province_code = c.province_code
LEFT JOIN ts ON ts.province_code = c.province_code AND ts.commune_code = c.code
LEFT JOIN d ON d.province_code = c.province_code AND d.commune_code = c.code
LEFT JOIN a ON a.province_code = c.province_code AND a.commune_code = c.code;

GRANT SELECT, INSERT, UPDATE, DELETE ON tthc.alert_dossiers,
        tthc.alert_commune_days, tthc.alert_commune_ticks,
        tthc.alert_partition_state, tthc.alert_provinces, tthc.alerts,
        tthc.alert_outbox, tthc.alert_delivery TO tthc_service;
GRANT USAGE ON SEQUENCE tthc.alert_outbox_id_seq TO tthc_service;
-- security_invoker views need their tables readable by the analyst.
GRANT SELECT ON tthc.alerts, tthc.commune_health, tthc.alert_commune_ticks,
        tthc.alert_commune_days, tthc.alert_provinces TO tthc_analyst;
