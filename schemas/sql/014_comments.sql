-- 014: every relation and column an analyst reads says what it holds
-- (\d+ in psql, or any SQL client's column help). Columns that mean the same
-- everywhere are commented from one list; the rest one by one. Which commune
-- a figure counts is said on each: the RECEIVING commune (the desk that took
-- the dossier in: throughput) or the HANDLING commune (whose agency handles it
-- now or resolved it: backlog, health, alerts, scorecard) - docs/analysts.md,
-- "Which commune a figure counts".

DO $$
DECLARE
        g record;
        c record;
BEGIN
        FOR g IN SELECT * FROM (VALUES
                ('province_code', 'province code (2 digits, tthc.provinces)'),
                ('procedure_code', 'procedure code as events carry it (tthc.procedures has its name)'),
                ('procedure_name', 'the procedure''s name (tthc.procedures; null when no loaded catalogue names it)'),
                ('procedure_level', 'level competent to decide the procedure: COMMUNE, PROVINCE or CENTRAL'),
                ('handling_level', 'level of the agency handling the dossier: COMMUNE, PROVINCE or CENTRAL'),
                ('day', 'Vietnam calendar day (Asia/Ho_Chi_Minh)'),
                ('month', 'Vietnam calendar month (its first day)'),
                ('hour', 'start of the hour (timestamptz) in which the events occurred'),
                ('dossier_id', 'dossier id from the producing province''s system (unique within the province)'),
                ('channel', 'how the dossier was filed: ONLINE, IN_PERSON or POSTAL'),
                ('topic', 'Kafka topic (tthc.filings.<province>)'),
                ('partition', 'Kafka partition of the topic'),
                ('kafka_topic', 'Kafka topic the event was read from'),
                ('kafka_partition', 'Kafka partition the event was read from'),
                ('kafka_offset', 'offset of the message in its partition'),
                ('group_id', 'consumer group: tthc-ingest, tthc-route or tthc-alert'),
                ('received', 'dossiers received (RECEIVED events)'),
                ('resolved', 'dossiers resolved (early + on time + late)'),
                ('resolved_early', 'dossiers resolved before their due date''s Vietnam day'),
                ('resolved_on_time', 'dossiers resolved on their due date''s Vietnam day'),
                ('resolved_late', 'dossiers resolved after their due date''s Vietnam day'),
                ('stopped', 'dossiers stopped by the agency (STOPPED)'),
                ('withdrawn', 'dossiers withdrawn by the citizen (WITHDRAWN)'),
                ('intake_refused', 'submissions refused at intake (INTAKE_REFUSED)'),
                ('transferred_out', 'TRANSFERRED events sent while a commune-level agency handled the dossier'),
                ('supplement_requested', 'requests for a supplement to the dossier (the deadline clock stops)'),
                ('online_received', 'of received, filed online'),
                ('stints', 'stints that ended: entry at the level (receipt or transfer in) to exit (transfer out or closing)'),
                ('stint_ms', 'total time of those stints at the level, pauses excluded (ms)'),
                ('hist', 'histogram of stint hours over tthc.route_hist_bounds() (sum with tthc.hist_sum, read with tthc.hist_percentile)'),
                ('mean_hours', 'mean hours at the level per stint, pauses excluded'),
                ('p50_hours', 'median hours at the level per stint (histogram, accurate to its bucket)'),
                ('p90_hours', '90th percentile of hours at the level per stint'),
                ('p99_hours', '99th percentile of hours at the level per stint'),
                ('transfers', 'TRANSFERRED events'),
                ('down_transfers', 'transfers to a lower level'),
                ('resolved_off_level', 'dossiers resolved at a level other than the procedure''s competent level'),
                ('transferred_dossiers', 'dossiers transferred at least once'),
                ('multi_transfer_dossiers', 'dossiers transferred more than once'),
                ('anomalies', 'resolved_off_level + multi_transfer_dossiers + down_transfers'),
                ('off_level_rate', 'resolved_off_level / resolved'),
                ('submitted_at', 'when the dossier was submitted (SUBMITTED)'),
                ('received_at', 'when the dossier was received (first RECEIVED)'),
                ('due_at', 'the deadline as the source last reported it'),
                ('original_due_at', 'the effective due date: the first due_at, moved only by the end of a pause (SUPPLEMENT_RECEIVED, RESUMED); outcomes and overdue use it'),
                ('status', 'submitted, processing, paused, resolved, stopped, withdrawn or refused'),
                ('closed_at', 'when the dossier was closed (resolved, stopped, withdrawn or refused)'),
                ('outcome', 'for a resolved dossier: early, on_time or late against original_due_at''s Vietnam day'),
                ('extended', 'the source changed the deadline other than by the end of a pause'),
                ('result_returned_at', 'when the result was handed back (RESULT_RETURNED)'),
                ('agency_code', 'agency handling the dossier (tthc.agencies)'),
                ('handling_commune_code', 'the HANDLING commune: whose commune-level agency handles the dossier now (null: a provincial or central agency)'),
                ('last_seq', 'seq of the last event applied'),
                ('seq_gaps', 'sequence numbers skipped (events lost upstream)'),
                ('open_pauses', 'pauses begun and not ended (supplement requested, suspended)'),
                ('last_event_at', 'occurred_at of the last event'),
                ('updated_at', 'wall time the row was last written'),
                ('commune_name', 'the commune''s name (tthc.communes)')
        ) AS t(col, txt) LOOP
                FOR c IN
                        SELECT cl.relname FROM pg_attribute a
                        JOIN pg_class cl ON cl.oid = a.attrelid
                        JOIN pg_namespace n ON n.oid = cl.relnamespace
                        WHERE n.nspname = 'tthc' AND a.attname = g.col
                          AND a.attnum > 0 AND NOT a.attisdropped
                          AND cl.relkind IN ('r', 'v', 'p')
                          AND NOT cl.relispartition
                          AND col_description(cl.oid, a.attnum) IS NULL
                LOOP
                        EXECUTE format('COMMENT ON COLUMN tthc.%I.%I IS %L',
                                       c.relname, g.col, g.txt);
                END LOOP;
        END LOOP;
END
$$;

-- Reference data
COMMENT ON TABLE tthc.provinces IS 'the 34 provinces and centrally-governed cities since 1 July 2025 (reference/provinces.csv)';
COMMENT ON COLUMN tthc.provinces.code IS 'province code (2 digits)';
COMMENT ON COLUMN tthc.provinces.name IS 'short name in Vietnamese (Hà Nội)';
COMMENT ON COLUMN tthc.provinces.name_en IS 'short name without diacritics (Ha Noi)';
COMMENT ON COLUMN tthc.provinces.full_name IS 'full name in Vietnamese (Thành phố Hà Nội)';
COMMENT ON COLUMN tthc.provinces.full_name_en IS 'full name in English (Hanoi City)';
COMMENT ON COLUMN tthc.provinces.kind IS 'municipality or province';
COMMENT ON TABLE tthc.communes IS 'the communes, wards and special zones since 1 July 2025 (reference/communes.csv)';
COMMENT ON COLUMN tthc.communes.code IS 'commune code (5 digits)';
COMMENT ON COLUMN tthc.communes.name IS 'short name in Vietnamese (Ba Đình)';
COMMENT ON COLUMN tthc.communes.name_en IS 'short name without diacritics';
COMMENT ON COLUMN tthc.communes.full_name IS 'full name in Vietnamese (Phường Ba Đình)';
COMMENT ON COLUMN tthc.communes.full_name_en IS 'full name in English (Ba Dinh Ward)';
COMMENT ON COLUMN tthc.communes.kind IS 'commune, ward or special_zone';
COMMENT ON TABLE tthc.holidays IS 'days off and worked Saturdays (reference/holidays.csv); tthc.working_days_between(a, b) counts working days';
COMMENT ON COLUMN tthc.holidays.date IS 'the day';
COMMENT ON COLUMN tthc.holidays.kind IS 'day_off or worked_saturday';
COMMENT ON COLUMN tthc.holidays.name IS 'the holiday''s name';
COMMENT ON COLUMN tthc.holidays.basis IS 'the decision that sets it';

-- tthc-ingest
COMMENT ON TABLE tthc.filing_events IS 'one row per distinct accepted event (tthc-ingest), partitioned by the Vietnam month of occurred_at; months older than the retention are dropped (tthc.retention_log)';
COMMENT ON COLUMN tthc.filing_events.event_id IS 'the producer''s event id (uuid)';
COMMENT ON COLUMN tthc.filing_events.event_type IS 'SUBMITTED, RECEIVED, INTAKE_REFUSED, TRANSFERRED, SUPPLEMENT_REQUESTED, SUPPLEMENT_RECEIVED, SUSPENDED, RESUMED, RESOLVED, RESULT_RETURNED, STOPPED or WITHDRAWN';
COMMENT ON COLUMN tthc.filing_events.occurred_at IS 'when it happened (event time)';
COMMENT ON COLUMN tthc.filing_events.seq IS 'the event''s number within its dossier (1, 2, ...)';
COMMENT ON COLUMN tthc.filing_events.commune_code IS 'the RECEIVING commune: the desk that took the dossier in (null: a provincial public-service centre)';
COMMENT ON COLUMN tthc.filing_events.handling_level IS 'level of the agency that sent the event';
COMMENT ON COLUMN tthc.filing_events.agency_code IS 'agency that sent the event';
COMMENT ON COLUMN tthc.filing_events.to_level IS 'TRANSFERRED only: level it goes to';
COMMENT ON COLUMN tthc.filing_events.to_agency_code IS 'TRANSFERRED only: agency it goes to';
COMMENT ON COLUMN tthc.filing_events.due_at IS 'the deadline the event reports';
COMMENT ON COLUMN tthc.filing_events.source_system IS 'the producing system';
COMMENT ON COLUMN tthc.filing_events.handling_commune_code IS 'the commune whose commune-level agency handles the dossier after the event, as the producer reports it';
COMMENT ON COLUMN tthc.filing_events.ingested_at IS 'wall time tthc-ingest stored it';
COMMENT ON TABLE tthc.dossiers IS 'one row per dossier, its state after its last event (tthc-ingest)';
COMMENT ON COLUMN tthc.dossiers.commune_code IS 'the RECEIVING commune (null: received at a provincial public-service centre)';
COMMENT ON TABLE tthc.commune_throughput_hourly IS 'events per RECEIVING commune and hour (tthc-ingest); commune_code null for provincial centres';
COMMENT ON COLUMN tthc.commune_throughput_hourly.commune_code IS 'the RECEIVING commune (null: a provincial public-service centre)';
COMMENT ON VIEW tthc.commune_throughput_daily IS 'tthc.commune_throughput_hourly per Vietnam day (RECEIVING commune)';
COMMENT ON COLUMN tthc.commune_throughput_daily.commune_code IS 'the RECEIVING commune (null: a provincial public-service centre)';
COMMENT ON VIEW tthc.open_dossiers IS 'dossiers not closed, with overdue as of their province''s watermark day';
COMMENT ON COLUMN tthc.open_dossiers.commune_code IS 'the RECEIVING commune';
COMMENT ON COLUMN tthc.open_dossiers.overdue IS 'processing and original_due_at''s Vietnam day before the province watermark''s';
COMMENT ON TABLE tthc.rejected_messages IS 'dead letters: messages tthc-ingest could not store, with the reason code (docs/ingest.md)';
COMMENT ON COLUMN tthc.rejected_messages.id IS 'dead letter number';
COMMENT ON COLUMN tthc.rejected_messages.consumer_group IS 'the consumer group that rejected it';
COMMENT ON COLUMN tthc.rejected_messages.message_key IS 'the message key as received';
COMMENT ON COLUMN tthc.rejected_messages.raw_value IS 'the message value as received (bytes)';
COMMENT ON COLUMN tthc.rejected_messages.schema_id IS 'the schema id of its header (null: unreadable framing)';
COMMENT ON COLUMN tthc.rejected_messages.reason IS 'reason code (docs/ingest.md, "Reason codes")';
COMMENT ON COLUMN tthc.rejected_messages.detail IS 'what is wrong and where';
COMMENT ON COLUMN tthc.rejected_messages.rejected_at IS 'wall time it was stored';
COMMENT ON COLUMN tthc.rejected_messages.redriven_at IS 'when tthc-admin redrive republished it';
COMMENT ON COLUMN tthc.rejected_messages.dlq_published_at IS 'when it was published to tthc.filings.dlq';
COMMENT ON TABLE tthc.partition_progress IS 'tthc-ingest''s event-time progress per partition (the input of tthc.freshness)';
COMMENT ON COLUMN tthc.partition_progress.max_occurred_at IS 'the newest occurred_at read from the partition';
COMMENT ON COLUMN tthc.partition_progress.last_message_at IS 'wall time of the last batch that read the partition';
COMMENT ON COLUMN tthc.partition_progress.next_offset IS 'the next offset tthc-ingest will read';
COMMENT ON COLUMN tthc.consumer_offsets.group_id IS 'consumer group: tthc-ingest, tthc-route or tthc-alert';
COMMENT ON COLUMN tthc.freshness.province_code IS 'province code';
COMMENT ON COLUMN tthc.agencies.province_code IS 'province code';
COMMENT ON COLUMN tthc.agencies.first_seen_at IS 'wall time tthc-ingest first stored an event of the agency';
COMMENT ON COLUMN tthc.commune_backlog_daily.province_code IS 'province code';
COMMENT ON COLUMN tthc.commune_backlog_daily.commune_code IS 'the commune: HANDLING for open, paused and overdue, RECEIVING desk for intake_backlog';
COMMENT ON COLUMN tthc.retention_log.dropped_at IS 'wall time it was dropped';
COMMENT ON COLUMN tthc.unknown_procedures.first_seen_at IS 'when tthc-ingest first stored an event with the code';

-- tthc-route
COMMENT ON TABLE tthc.route_dossiers IS 'tthc-route''s state per dossier: the dossier columns plus the current stint and transfer counts';
COMMENT ON COLUMN tthc.route_dossiers.commune_code IS 'the RECEIVING commune';
COMMENT ON COLUMN tthc.route_dossiers.stint_level IS 'the level the dossier is at now (null: at no level - not yet received, or closed)';
COMMENT ON COLUMN tthc.route_dossiers.stint_since IS 'when it entered that level';
COMMENT ON COLUMN tthc.route_dossiers.stint_paused_ms IS 'paused time in the current stint (ms)';
COMMENT ON COLUMN tthc.route_dossiers.pause_since IS 'start of the pause in progress (null: none)';
COMMENT ON COLUMN tthc.route_dossiers.transfers IS 'transfers of the dossier so far';
COMMENT ON COLUMN tthc.route_dossiers.down_transfers IS 'of those, to a lower level';
COMMENT ON COLUMN tthc.route_dossiers.stints IS 'stints ended so far';
COMMENT ON TABLE tthc.procedure_routing_daily IS 'transfers per Vietnam day, province, procedure and route (tthc-route)';
COMMENT ON COLUMN tthc.procedure_routing_daily.from_level IS 'level the dossier was transferred from';
COMMENT ON COLUMN tthc.procedure_routing_daily.to_level IS 'level it was transferred to';
COMMENT ON COLUMN tthc.procedure_routing_daily.to_agency_code IS 'agency it was transferred to';
COMMENT ON TABLE tthc.procedure_level_daily IS 'per Vietnam day, province, procedure and handling level: counts and time at the level (tthc-route; docs/route.md)';
COMMENT ON TABLE tthc.routing_anomalies_daily IS 'routing anomalies per Vietnam day, province and procedure (tthc-route)';
COMMENT ON VIEW tthc.procedure_level_monthly IS 'tthc.procedure_level_daily per Vietnam month, with percentiles';
COMMENT ON VIEW tthc.procedure_level_times IS 'tthc.procedure_level_daily over every day, with percentiles';
COMMENT ON VIEW tthc.routing_anomalies IS 'anomaly totals per province and procedure, every day';
COMMENT ON VIEW tthc.routing_anomalies_worst IS 'tthc.routing_anomalies with anomalies, the worst first';
COMMENT ON COLUMN tthc.routing_anomalies_worst.rank IS '1 = the most anomalies (then the highest off_level_rate)';
COMMENT ON VIEW tthc.top_procedures IS 'procedures by volume per province, every day';
COMMENT ON COLUMN tthc.top_procedures.rank_in_province IS '1 = the most received in the province';
COMMENT ON VIEW tthc.procedure_commune_share IS 'share of each procedure received and resolved at commune level, per province';
COMMENT ON COLUMN tthc.procedure_commune_share.received_at_commune IS 'received while a commune-level agency handled it';
COMMENT ON COLUMN tthc.procedure_commune_share.resolved_at_commune IS 'resolved by a commune-level agency';
COMMENT ON COLUMN tthc.procedure_commune_share.commune_share IS 'resolved_at_commune / resolved';
COMMENT ON VIEW tthc.slowest_procedures IS 'time at each level per procedure, nationwide (every province''s histograms merged)';
COMMENT ON COLUMN tthc.slowest_procedures.rank_in_level IS '1 = the highest p90 at that level';
COMMENT ON VIEW tthc.procedure_month_over_month IS 'per province, procedure and Vietnam month, against the previous month with activity';
COMMENT ON COLUMN tthc.procedure_month_over_month.on_time_rate IS '(resolved early + on time) / resolved, this month (all handling levels)';
COMMENT ON COLUMN tthc.procedure_month_over_month.prev_month IS 'the month the prev_* columns are from (months without activity are skipped)';
COMMENT ON COLUMN tthc.procedure_month_over_month.prev_received IS 'received in prev_month';
COMMENT ON COLUMN tthc.procedure_month_over_month.prev_resolved IS 'resolved in prev_month';
COMMENT ON COLUMN tthc.procedure_month_over_month.prev_on_time_rate IS 'on_time_rate in prev_month';
COMMENT ON COLUMN tthc.procedure_month_over_month.prev_p50_hours IS 'p50_hours in prev_month';
COMMENT ON COLUMN tthc.procedure_month_over_month.received_change IS 'received - prev_received';
COMMENT ON COLUMN tthc.procedure_month_over_month.on_time_rate_change IS 'on_time_rate - prev_on_time_rate';
COMMENT ON COLUMN tthc.scorecard_monthly.scope IS 'province (a province''s row) or commune (a commune''s, by the HANDLING commune)';
COMMENT ON COLUMN tthc.scorecard_monthly.commune_code IS 'the HANDLING commune (null on province rows)';
COMMENT ON COLUMN tthc.scorecard_monthly.handled IS 'received dossiers closed in the month + still open at its end';
COMMENT ON COLUMN tthc.scorecard_monthly.in_progress_within IS 'open at the month''s end (or the watermark) within the deadline (paused counts as within)';
COMMENT ON COLUMN tthc.scorecard_monthly.in_progress_past IS 'open at the month''s end past the deadline';
COMMENT ON COLUMN tthc.scorecard_monthly.online_share IS 'online_received / received';
COMMENT ON COLUMN tthc.scorecard_monthly.score IS '20 x (early + on time + withdrawn + in progress within) / handled (Decision 766 style, at most 20)';
COMMENT ON COLUMN tthc.scorecard_monthly.rank IS 'rank by score: among provinces (province rows), among the province''s communes (commune rows)';

-- tthc-alert
COMMENT ON TABLE tthc.alerts IS 'one row per alert episode with its latest state (tthc.alert_history has every change)';
COMMENT ON COLUMN tthc.alerts.alert_id IS 'the episode id: UUIDv5 of province, commune, rule and starting tick (the same on a replay)';
COMMENT ON COLUMN tthc.alerts.commune_code IS 'the HANDLING commune the rule evaluated (RECEIVING desk for intake_backlog; null for province_feed_stale)';
COMMENT ON COLUMN tthc.alerts.rule IS 'overdue_backlog, on_time_rate, backlog_growth, commune_silent, intake_backlog or province_feed_stale (docs/alerts.md)';
COMMENT ON COLUMN tthc.alerts.severity IS 'warning or critical (at the last change)';
COMMENT ON COLUMN tthc.alerts.status IS 'firing or resolved';
COMMENT ON COLUMN tthc.alerts.value IS 'the rule''s value at the last change';
COMMENT ON COLUMN tthc.alerts.threshold IS 'the threshold crossed at the last change (the resolve threshold on a resolved row)';
COMMENT ON COLUMN tthc.alerts.started_at IS 'the tick (event time) it fired; wall time for province_feed_stale';
COMMENT ON COLUMN tthc.alerts.resolved_at IS 'the tick it resolved';
COMMENT ON COLUMN tthc.alerts.resolution IS 'cleared (the value went back) or insufficient_data';
COMMENT ON COLUMN tthc.alerts.details IS 'the figures at the last change, summary_vi and summary_en';
COMMENT ON COLUMN tthc.alerts.volume_lost_at IS 'when the rule''s minimum volume stopped being met (the episode holds)';
COMMENT ON COLUMN tthc.alerts.changed_at IS 'the tick of the last change';
COMMENT ON COLUMN tthc.alert_history.alert_id IS 'the episode (tthc.alerts)';
COMMENT ON COLUMN tthc.alert_history.commune_code IS 'as in tthc.alerts';
COMMENT ON COLUMN tthc.alert_history.rule IS 'the rule (docs/alerts.md)';
COMMENT ON COLUMN tthc.alert_history.severity IS 'warning or critical after the change';
COMMENT ON COLUMN tthc.alert_history.status IS 'firing or resolved after the change';
COMMENT ON COLUMN tthc.alert_history.resolution IS 'on a resolution: cleared or insufficient_data';
COMMENT ON COLUMN tthc.alert_history.summary_vi IS 'the change in Vietnamese, naming the place';
COMMENT ON COLUMN tthc.alert_history.summary_en IS 'the change in English, naming the place';
COMMENT ON COLUMN tthc.alert_history.started_at IS 'when the episode fired';
COMMENT ON TABLE tthc.alert_outbox IS 'every change of every episode, for the Kafka sink (read it through tthc.alert_history)';
COMMENT ON COLUMN tthc.alert_outbox.id IS 'change number (increasing)';
COMMENT ON COLUMN tthc.alert_outbox.alert_id IS 'the episode';
COMMENT ON COLUMN tthc.alert_outbox.change IS 'fired, changed or resolved';
COMMENT ON COLUMN tthc.alert_outbox.severity IS 'after the change';
COMMENT ON COLUMN tthc.alert_outbox.status IS 'after the change';
COMMENT ON COLUMN tthc.alert_outbox.value IS 'the rule''s value at the change';
COMMENT ON COLUMN tthc.alert_outbox.threshold IS 'the threshold crossed at the change';
COMMENT ON COLUMN tthc.alert_outbox.changed_at IS 'the tick of the change';
COMMENT ON COLUMN tthc.alert_outbox.details IS 'the figures at the change and the summaries';
COMMENT ON COLUMN tthc.alert_outbox.created_at IS 'wall time it was recorded';
COMMENT ON COLUMN tthc.alert_outbox.kafka_sent_at IS 'when it was published to tthc.alerts';
COMMENT ON TABLE tthc.alert_provinces IS 'tthc-alert''s evaluation progress per province';
COMMENT ON COLUMN tthc.alert_provinces.partitions IS 'partitions of the province''s topic';
COMMENT ON COLUMN tthc.alert_provinces.next_tick IS 'the next hour to evaluate';
COMMENT ON COLUMN tthc.alert_provinces.watermark IS 'the province''s event-time watermark (minus the lateness)';
COMMENT ON COLUMN tthc.alert_provinces.caught_up IS 'every partition read to its end and the watermark near the wall clock (province_feed_stale may fire)';
COMMENT ON COLUMN tthc.alert_provinces.caught_up_at IS 'since when';
COMMENT ON TABLE tthc.alert_commune_days IS 'tthc-alert''s day counters per partition and commune (the on_time_rate, backlog_growth and commune_silent windows)';
COMMENT ON COLUMN tthc.alert_commune_days.commune_code IS 'the commune whose desk or agency acted';
COMMENT ON COLUMN tthc.alert_commune_days.events IS 'events its desk or agency sent';
COMMENT ON COLUMN tthc.alert_commune_days.received IS 'dossiers its desk received (RECEIVING commune)';
COMMENT ON COLUMN tthc.alert_commune_days.resolved IS 'dossiers it resolved (HANDLING commune)';
COMMENT ON COLUMN tthc.alert_commune_days.resolved_ok IS 'of those, early or on time';
COMMENT ON TABLE tthc.alert_commune_ticks IS 'tthc-alert''s snapshots per partition and commune at hour ticks (rows only when a figure changed)';
COMMENT ON COLUMN tthc.alert_commune_ticks.commune_code IS 'HANDLING commune for open and overdue, RECEIVING desk for intake_backlog';
COMMENT ON COLUMN tthc.alert_commune_ticks.tick IS 'the hour (event time) of the snapshot';
COMMENT ON COLUMN tthc.alert_commune_ticks.open IS 'open dossiers it handles (processing + paused)';
COMMENT ON COLUMN tthc.alert_commune_ticks.overdue IS 'of those, processing past the effective due date';
COMMENT ON COLUMN tthc.alert_commune_ticks.intake_backlog IS 'online submissions to its desk not received after a full working day';
COMMENT ON VIEW tthc.commune_health IS 'per commune as of its province''s last evaluated tick: the figures the alert rules read (HANDLING commune; intake_backlog by RECEIVING desk)';
COMMENT ON COLUMN tthc.commune_health.as_of IS 'the tick (event time) the figures are as of';
COMMENT ON COLUMN tthc.commune_health.open_dossiers IS 'open dossiers its agency handles (processing + paused)';
COMMENT ON COLUMN tthc.commune_health.overdue_open IS 'of those, processing past the effective due date';
COMMENT ON COLUMN tthc.commune_health.intake_backlog IS 'online submissions to its desk not received after a full working day';
COMMENT ON COLUMN tthc.commune_health.on_time_rate_30d IS '% of the dossiers it resolved in the 30 days before as_of that were early or on time (HANDLING commune)';
COMMENT ON COLUMN tthc.commune_health.resolved_30d IS 'dossiers it resolved in those 30 days';
COMMENT ON COLUMN tthc.commune_health.received_7d IS 'dossiers its desk received in the 7 days before as_of';
COMMENT ON COLUMN tthc.commune_health.resolved_7d IS 'dossiers it resolved in those 7 days';
COMMENT ON COLUMN tthc.commune_health.behind IS 'a rule fires for it';
COMMENT ON COLUMN tthc.commune_health.firing_rules IS 'rule:severity of its firing episodes';
COMMENT ON COLUMN tthc.commune_health.province_code IS 'province code';
COMMENT ON COLUMN tthc.commune_health.commune_code IS 'the commune';

-- province analysts' bindings
COMMENT ON TABLE tthc.analyst_provinces IS 'which province each province-analyst role may see (tthc.create_province_analyst)';
COMMENT ON COLUMN tthc.analyst_provinces.role_name IS 'the role';
COMMENT ON COLUMN tthc.analyst_provinces.province_code IS 'a province it may see';
COMMENT ON COLUMN tthc.analyst_provinces.granted_at IS 'when';
COMMENT ON COLUMN tthc.my_province_bindings.role_name IS 'a role the current role has the privileges of';
COMMENT ON COLUMN tthc.my_province_bindings.province_code IS 'a province it may see';
COMMENT ON COLUMN tthc.my_province_bindings.granted_at IS 'when';
