-- 001_core.sql: schema tthc, reference data, raw events, dossier state,
-- hourly commune throughput, dead letters and consumer offsets.
-- Applied by `tthc-admin migrate` (or --migrate on start) as the owner role,
-- once, under an advisory lock. Never edit a shipped migration: add one.

DO $$
BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tthc_service') THEN
                CREATE ROLE tthc_service NOLOGIN;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tthc_analyst') THEN
                CREATE ROLE tthc_analyst NOLOGIN;
        END IF;
END
$$;

GRANT USAGE ON SCHEMA tthc TO tthc_service, tthc_analyst;

-- Reference data (loaded from reference/*.csv by the migrate command).
CREATE TABLE tthc.provinces (
        code            text PRIMARY KEY CHECK (code ~ '^[0-9]{2}$'),
        name            text NOT NULL,
        name_en         text,
        full_name       text,
        full_name_en    text,
        kind            text
);

CREATE TABLE tthc.communes (
        code            text PRIMARY KEY CHECK (code ~ '^[0-9]{5}$'),
        province_code   text NOT NULL REFERENCES tthc.provinces,
        name            text NOT NULL,
        name_en         text,
        full_name       text,
        full_name_en    text,
        kind            text
);
CREATE INDEX communes_province_idx ON tthc.communes (province_code);

CREATE TABLE tthc.holidays (
        date            date PRIMARY KEY,
        kind            text NOT NULL CHECK (kind IN ('day_off', 'worked_saturday')),
        name            text,
        basis           text
);

-- Working days in [a, b): Monday-Friday that are not days off, plus worked
-- Saturdays. Years without an official calendar (after 2026) count plain
-- weekdays: callers that need certainty check tthc.holidays' coverage.
CREATE FUNCTION tthc.working_days_between(a date, b date) RETURNS integer
LANGUAGE sql STABLE AS $$
        SELECT count(*)::integer
        FROM generate_series(a, b - 1, interval '1 day') AS g(d)
        WHERE (extract(isodow FROM g.d) < 6
               AND NOT EXISTS (SELECT 1 FROM tthc.holidays h
                               WHERE h.date = g.d::date AND h.kind = 'day_off'))
           OR EXISTS (SELECT 1 FROM tthc.holidays h
                      WHERE h.date = g.d::date AND h.kind = 'worked_saturday')
$$;

-- One row per distinct accepted event, partitioned by Vietnam month.
CREATE TABLE tthc.filing_events (
        event_id                uuid NOT NULL,
        event_type              text NOT NULL,
        occurred_at             timestamptz NOT NULL,
        dossier_id              text NOT NULL,
        seq                     integer NOT NULL,
        province_code           text NOT NULL,
        commune_code            text,
        procedure_code          text NOT NULL,
        procedure_level         text NOT NULL,
        channel                 text NOT NULL,
        agency_code             text NOT NULL,
        handling_level          text NOT NULL,
        to_level                text,
        to_agency_code          text,
        due_at                  timestamptz,
        source_system           text NOT NULL,
        handling_commune_code   text,
        kafka_topic             text NOT NULL,
        kafka_partition         integer NOT NULL,
        kafka_offset            bigint NOT NULL,
        ingested_at             timestamptz NOT NULL DEFAULT now()
) PARTITION BY RANGE (occurred_at);
CREATE INDEX filing_events_dossier_idx
        ON tthc.filing_events (province_code, dossier_id, seq);

-- Creates the Vietnam-month partition holding `at` if it is missing.
-- SECURITY DEFINER so the services (no DDL rights) can call it; they do so
-- outside their batch transaction because it locks the parent.
CREATE FUNCTION tthc.ensure_month_partition(at timestamptz) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        m       date := date_trunc('month', at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date;
        part    text := 'filing_events_' || to_char(m, 'YYYY_MM');
BEGIN
        IF to_regclass('tthc.' || part) IS NOT NULL THEN
                RETURN part;
        END IF;
        PERFORM pg_advisory_xact_lock(hashtext('tthc.partition.' || part));
        IF to_regclass('tthc.' || part) IS NULL THEN
                EXECUTE format(
                        'CREATE TABLE tthc.%I PARTITION OF tthc.filing_events '
                        'FOR VALUES FROM (%L) TO (%L)', part,
                        (m::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh'),
                        ((m + interval '1 month')::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh'));
        END IF;
        RETURN part;
END
$$;
REVOKE ALL ON FUNCTION tthc.ensure_month_partition(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tthc.ensure_month_partition(timestamptz) TO tthc_service;

CREATE TABLE tthc.dossiers (
        province_code           text NOT NULL,
        dossier_id              text NOT NULL,
        commune_code            text,
        procedure_code          text NOT NULL,
        procedure_level         text NOT NULL,
        channel                 text NOT NULL,
        submitted_at            timestamptz,
        received_at             timestamptz,
        due_at                  timestamptz,
        status                  text NOT NULL CHECK (status IN ('submitted',
                                  'processing', 'paused', 'resolved', 'stopped',
                                  'withdrawn', 'refused')),
        closed_at               timestamptz,
        outcome                 text CHECK (outcome IN ('early', 'on_time', 'late')),
        original_due_at         timestamptz,
        extended                boolean NOT NULL DEFAULT false,
        result_returned_at      timestamptz,
        handling_level          text,
        agency_code             text,
        handling_commune_code   text,
        last_seq                integer NOT NULL,
        seq_gaps                integer NOT NULL DEFAULT 0,
        open_pauses             integer NOT NULL DEFAULT 0,
        last_event_at           timestamptz,
        updated_at              timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (province_code, dossier_id)
);
CREATE INDEX dossiers_open_idx ON tthc.dossiers (province_code, commune_code)
        WHERE status IN ('submitted', 'processing', 'paused');

COMMENT ON COLUMN tthc.dossiers.due_at IS
        'the deadline as the source last reported it (extensions included)';
COMMENT ON COLUMN tthc.dossiers.original_due_at IS
        'the effective due date that outcome and overdue use: the first due_at, moved only when a pause ends';

CREATE TABLE tthc.commune_throughput_hourly (
        province_code           text NOT NULL,
        commune_code            text,
        hour                    timestamptz NOT NULL,
        received                integer NOT NULL DEFAULT 0,
        resolved_early          integer NOT NULL DEFAULT 0,
        resolved_on_time        integer NOT NULL DEFAULT 0,
        resolved_late           integer NOT NULL DEFAULT 0,
        stopped                 integer NOT NULL DEFAULT 0,
        withdrawn               integer NOT NULL DEFAULT 0,
        intake_refused          integer NOT NULL DEFAULT 0,
        transferred_out         integer NOT NULL DEFAULT 0,
        supplement_requested    integer NOT NULL DEFAULT 0,
        online_received         integer NOT NULL DEFAULT 0,
        CONSTRAINT commune_throughput_hourly_key
                UNIQUE NULLS NOT DISTINCT (province_code, commune_code, hour)
);

CREATE VIEW tthc.commune_throughput_daily WITH (security_invoker = true) AS
SELECT province_code, commune_code,
       (hour AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS day,
       sum(received)::bigint AS received,
       sum(resolved_early)::bigint AS resolved_early,
       sum(resolved_on_time)::bigint AS resolved_on_time,
       sum(resolved_late)::bigint AS resolved_late,
       sum(stopped)::bigint AS stopped,
       sum(withdrawn)::bigint AS withdrawn,
       sum(intake_refused)::bigint AS intake_refused,
       sum(transferred_out)::bigint AS transferred_out,
       sum(supplement_requested)::bigint AS supplement_requested,
       sum(online_received)::bigint AS online_received
FROM tthc.commune_throughput_hourly
GROUP BY province_code, commune_code, (hour AT TIME ZONE 'Asia/Ho_Chi_Minh')::date;

CREATE TABLE tthc.rejected_messages (
        id              bigserial PRIMARY KEY,
        consumer_group  text NOT NULL,
        topic           text NOT NULL,
        partition       integer NOT NULL,
        kafka_offset    bigint NOT NULL,
        message_key     bytea,
        raw_value       bytea,
        schema_id       integer,
        reason          text NOT NULL CHECK (reason IN ('bad_framing',
                          'unknown_schema', 'bad_avro', 'missing_field',
                          'topic_province_mismatch', 'unknown_province',
                          'unknown_commune', 'time_out_of_range', 'bad_seq',
                          'bad_transfer', 'conflicting_duplicate')),
        detail          text,
        rejected_at     timestamptz NOT NULL DEFAULT now(),
        redriven_at     timestamptz,
        UNIQUE (topic, partition, kafka_offset)
);

CREATE TABLE tthc.consumer_offsets (
        group_id        text NOT NULL,
        topic           text NOT NULL,
        partition       integer NOT NULL,
        next_offset     bigint NOT NULL CHECK (next_offset >= 0),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (group_id, topic, partition)
);

-- Event-time progress per consumed partition, written with the offsets.
CREATE TABLE tthc.partition_progress (
        group_id        text NOT NULL,
        topic           text NOT NULL,
        partition       integer NOT NULL,
        province_code   text NOT NULL,
        max_occurred_at timestamptz,
        last_message_at timestamptz NOT NULL,
        high_watermark  bigint,
        next_offset     bigint NOT NULL,
        PRIMARY KEY (group_id, topic, partition)
);

-- How current the figures are, per province (from tthc-ingest's progress).
-- The watermark is the minimum over the province's partitions of the
-- largest occurred_at seen, skipping partitions whose latest event is more
-- than 6 hours (event time) behind the province's newest: an idle
-- partition does not hold the province back. Allowed lateness is 0 here.
CREATE VIEW tthc.freshness WITH (security_invoker = true) AS
WITH p AS (
        SELECT province_code, max_occurred_at, last_message_at,
               greatest(coalesce(high_watermark, next_offset) - next_offset, 0) AS lag,
               max(max_occurred_at) OVER (PARTITION BY province_code) AS newest
        FROM tthc.partition_progress
        WHERE group_id = 'tthc-ingest'
)
SELECT province_code,
       min(max_occurred_at) FILTER (WHERE max_occurred_at >= newest - interval '6 hours') AS watermark,
       max(last_message_at) AS last_message_at,
       sum(lag)::bigint AS consumer_lag
FROM p GROUP BY province_code;

-- Open dossiers with their overdue flag as of their province's evaluation
-- date (the Vietnam date of its watermark, never the machine's clock).
CREATE VIEW tthc.open_dossiers WITH (security_invoker = true) AS
SELECT d.*,
       (d.status = 'processing' AND d.original_due_at IS NOT NULL
        AND (d.original_due_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
            < (f.watermark AT TIME ZONE 'Asia/Ho_Chi_Minh')::date) AS overdue
FROM tthc.dossiers d
LEFT JOIN tthc.freshness f USING (province_code)
WHERE d.status IN ('submitted', 'processing', 'paused');

GRANT SELECT ON tthc.provinces, tthc.communes, tthc.holidays TO tthc_service, tthc_analyst;
GRANT SELECT, INSERT, UPDATE ON tthc.filing_events, tthc.dossiers,
        tthc.commune_throughput_hourly, tthc.consumer_offsets,
        tthc.partition_progress TO tthc_service;
GRANT SELECT, INSERT, UPDATE ON tthc.rejected_messages TO tthc_service;
GRANT USAGE ON SEQUENCE tthc.rejected_messages_id_seq TO tthc_service;
GRANT SELECT ON tthc.filing_events, tthc.dossiers, tthc.commune_throughput_hourly,
        tthc.commune_throughput_daily, tthc.freshness, tthc.open_dossiers,
        tthc.rejected_messages, tthc.partition_progress,
        tthc.consumer_offsets TO tthc_analyst;
