#!/usr/bin/env bash
# Analysts get names (issue "Analysts get names, history and answers"):
# the shipped sample catalogue is loaded by migrate, tthc-ingest adds the
# codes events carry (a procedure no catalogue has, with a null name, and
# the agencies), the analyst views show procedure names, and a national
# catalogue load (the export's Vietnamese headers, a byte order mark, CRLF)
# replaces the sample while keeping every code the dossiers carry.
set -uo pipefail # no -e: checks exit codes itself (CONTRIBUTING.md)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/common_ingest.sh"
source "$(dirname "${BASH_SOURCE[0]}")/common_route.sh"

tp_ingest_setup
SAMPLE=$(($(wc -l <"$TP_ROOT/reference/procedures.csv") - 1))
tp_assert_eq "$SAMPLE" "$(tp_psql_val "SELECT count(*) FROM tthc.procedures
	WHERE source = 'sample' AND name IS NOT NULL AND competent_level IS NOT NULL
	AND deadline_days IS NOT NULL")" \
	"migrate loads the shipped sample catalogue, names, levels and deadlines"

"$TTHC_BIN/tthc-sim" --brokers "$TTHC_BROKERS" --reference "$TP_ROOT/reference" \
	--schema "$TP_ROOT/schemas/avro/1-filing_event.avsc" --provinces 01,79 \
	--from 2025-09-29 --days 3 --dossiers-per-day 20000 --seed 3 --laggards 3 \
	>"$W/sim.log" 2>&1 || tp_die "tthc-sim failed"
# one event with a procedure code no catalogue has
python3 - "$TP_ROOT/schemas/avro/1-filing_event.avsc" <<'PY' | tp_produce
import json, sys
T0 = 1759190400000  # 2025-09-30 00:00 UTC
e = {"event_id": "0e0e0e0e-0000-4000-8000-000000000001",
     "event_type": "RECEIVED", "occurred_at": T0, "dossier_id": "UNKNOWN-PROC-1",
     "seq": 1, "province_code": "01", "commune_code": "00004",
     "procedure_code": "9.999999", "procedure_level": "COMMUNE",
     "channel": "ONLINE", "agency_code": "UBND-00004",
     "handling_level": "COMMUNE", "to_level": None, "to_agency_code": None,
     "due_at": T0 + 86400000 * 3, "source_system": "t",
     "handling_commune_code": "00004"}
print(json.dumps({"topic": "tthc.filings.01", "key": "UNKNOWN-PROC-1",
                  "schema_id": 1, "schema_file": sys.argv[1], "event": e}))
PY
tp_ingest --exit-when-idle >"$W/ingest.log" 2>&1
tp_assert_eq 0 $? "tthc-ingest drains the stream"
tp_consumer route --exit-when-idle >"$W/route.log" 2>&1
tp_assert_eq 0 $? "tthc-route drains the stream"

tp_assert_eq "9.999999 event" "$(tp_psql_val "SELECT procedure_code || ' ' || source
	FROM tthc.unknown_procedures JOIN tthc.procedures USING (procedure_code)")" \
	"a code no catalogue has is added by tthc-ingest and listed as unknown"
tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM (SELECT DISTINCT procedure_code
	FROM tthc.dossiers) d LEFT JOIN tthc.procedures p USING (procedure_code)
	WHERE p.procedure_code IS NULL OR (p.first_seen_at IS NULL)")" \
	"every code of the dossiers is in tthc.procedures, with when it was first seen"
tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM tthc.top_procedures
	WHERE procedure_name IS NULL AND procedure_code <> '9.999999'")" \
	"tthc.top_procedures shows every catalogued procedure's name"
tp_assert_eq "Đăng ký nhận cha, mẹ, con" "$(tp_psql_val "SELECT DISTINCT procedure_name
	FROM tthc.procedure_month_over_month WHERE procedure_code = '1.000037'")" \
	"names keep their diacritics"
for v in procedure_commune_share procedure_level_monthly procedure_level_times \
	slowest_procedures routing_anomalies open_dossiers; do
	tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM tthc.$v
		WHERE procedure_name IS NULL AND procedure_code <> '9.999999'")" \
		"tthc.$v shows the procedure names"
done

# Agencies: every (province, agency) of the dossiers' events, once, with
# the level it handled at and, for a commune's, that commune.
tp_assert_eq 0 "$(tp_diff_count \
	"SELECT DISTINCT province_code, agency_code FROM tthc.filing_events" \
	"SELECT province_code, agency_code FROM tthc.agencies")" \
	"tthc.agencies holds every agency events carried"
tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM tthc.agencies a
	WHERE level IS NULL OR (level = 'COMMUNE') <> (commune_code IS NOT NULL)
	OR (commune_code IS NOT NULL AND NOT EXISTS
	    (SELECT 1 FROM tthc.communes c WHERE c.code = a.commune_code
	     AND c.province_code = a.province_code))")" \
	"a commune's agency has its level and commune, a provincial one none"

# Backlog history: tthc-alert writes a row per commune and Vietnam day once
# the province's watermark passes the day's end; it equals the dossier
# state recomputed from the stored events (tests/tools/check_backlog.py),
# and a replay with other batch sizes writes the same rows.
# low thresholds, so that a three-day stream has episodes to show
printf '%s.warning = 1\n%s.critical = 3\n%s.deescalate = 2\n%s.resolve = 0\n' \
	overdue_backlog overdue_backlog overdue_backlog overdue_backlog \
	intake_backlog intake_backlog intake_backlog intake_backlog >"$W/rules.conf"
tp_consumer alert --exit-when-idle --rules "$W/rules.conf" >"$W/alert.log" 2>&1
tp_assert_eq 0 $? "tthc-alert drains the stream"
out=$(python3 "$TP_ROOT/tests/tools/check_backlog.py" "$TTHC_PG" 5 2>&1)
tp_assert_eq 0 $? "tthc.commune_backlog_daily equals the state recomputed at each day's end ($out)"
tp_assert_eq "2 1" "$(tp_psql_val "SELECT count(DISTINCT province_code) || ' ' ||
	(count(DISTINCT day) >= 2)::int FROM tthc.commune_backlog_daily")" \
	"both provinces have rows, for every day their stream closed"
tp_assert_eq 1 "$(tp_psql_val "SELECT (sum(paused) > 0 AND sum(overdue) > 0
	AND sum(intake_backlog) > 0)::int FROM tthc.commune_backlog_daily")" \
	"the history has paused, overdue and intake backlog figures to compare"
# Alert history: every change, with the commune named in the summaries.
tp_assert_eq "1 0 0" "$(tp_psql_val "SELECT (count(*) > 0)::int || ' ' ||
	(count(*) - (SELECT count(*) FROM tthc.alert_outbox)) || ' ' ||
	count(*) FILTER (WHERE commune_code IS NOT NULL AND (place_name IS NULL
	  OR summary_vi NOT LIKE place_name || ' (' || commune_code || ')%'))
	FROM tthc.alert_history")" \
	"tthc.alert_history lists every change; summaries name the commune ($(tp_psql_val "SELECT summary_vi FROM tthc.alert_history ORDER BY change_no LIMIT 1"))"

# Freshness: one row per province of the stream, the three consumers' lags
# from the high watermarks they store with their offsets.
tp_assert_eq "01 0 0 0 t f|79 0 0 0 t f" "$(tp_psql_val "SELECT string_agg(concat_ws(' ',
	province_code, consumer_lag, route_lag, alert_lag,
	alert_watermark IS NOT NULL, stale), '|' ORDER BY province_code) FROM tthc.freshness")" \
	"tthc.freshness: drained, every consumer's lag 0, not stale"
tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM tthc.consumer_offsets
	WHERE topic IN ('tthc.filings.01', 'tthc.filings.79')
	AND (high_watermark IS NULL OR high_watermark <> next_offset)")" \
	"each consumer stored the partitions' high watermarks with its offsets"
tp_psql_val "CREATE TABLE tthc.test_backlog AS SELECT * FROM tthc.commune_backlog_daily" >/dev/null
tp_psql_super_val "DELETE FROM tthc.consumer_offsets WHERE group_id = 'tthc-alert';
	TRUNCATE tthc.commune_backlog_daily, tthc.alert_dossiers,
	tthc.alert_commune_days, tthc.alert_commune_ticks,
	tthc.alert_partition_state, tthc.alert_provinces, tthc.alerts,
	tthc.alert_outbox, tthc.alert_delivery CASCADE" >/dev/null
tp_consumer alert --exit-when-idle --rules "$W/rules.conf" --batch-size 700 \
	>"$W/alert-2.log" 2>&1
tp_assert_eq 0 $? "tthc-alert replays the stream with other batches"
tp_assert_eq 0 "$(tp_diff_count "SELECT * FROM tthc.test_backlog" \
	"SELECT * FROM tthc.commune_backlog_daily")" \
	"the replay writes the same backlog history, row for row"

# The scorecard's ranks follow the documented order: the unrounded score,
# then fewer past deadline, then more handled.
tp_assert_eq 0 "$(tp_psql_val "WITH s AS (SELECT *, (resolved_early + resolved_on_time
	  + withdrawn + in_progress_within)::numeric / nullif(handled, 0) AS raw
	  FROM tthc.scorecard_monthly)
	SELECT count(*) FROM s a JOIN s b ON a.scope = b.scope AND a.month = b.month
	  AND (a.scope = 'province' OR a.province_code = b.province_code)
	WHERE a.rank < b.rank AND NOT (a.raw > b.raw OR (a.raw = b.raw
	  AND (a.in_progress_past < b.in_progress_past
	       OR (a.in_progress_past = b.in_progress_past AND a.handled > b.handled))))")" \
	"ranks follow the unrounded score, then fewer past deadline, then more handled"

# Every relation and column an analyst reads says what it holds.
tp_assert_eq "" "$(tp_psql_val "SELECT string_agg(c.relname || '.' || coalesce(a.attname, '*'), ' ')
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'tthc'
	LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
	  AND NOT a.attisdropped AND col_description(c.oid, a.attnum) IS NULL
	WHERE c.relkind IN ('r', 'v', 'p') AND NOT c.relispartition
	  AND has_table_privilege('tthc_analyst', c.oid, 'SELECT')
	  AND (a.attname IS NOT NULL OR obj_description(c.oid, 'pg_class') IS NULL)")" \
	"every relation and column analysts read is commented"

# docs/analysts.md: every query runs as an analyst login (made by
# tthc.create_analyst, so in Vietnam time) and returns rows.
tp_psql_val "SELECT tthc.create_analyst('tp_analyst');
	SELECT tthc.create_province_analyst('tp_prov79', '79')" >/dev/null
ANALYST="host=127.0.0.1 port=$TP_PG_PORT dbname=tthc user=tp_analyst"
tp_psql_super_val "ALTER ROLE tp_prov79 LOGIN" >/dev/null
tp_assert_eq "Asia/Ho_Chi_Minh Asia/Ho_Chi_Minh" \
	"$(psql -XAtq "$ANALYST" -c "SHOW timezone") $(psql -XAtq \
	"host=127.0.0.1 port=$TP_PG_PORT dbname=tthc user=tp_prov79" -c "SHOW timezone")" \
	"analyst logins, national and provincial, see Vietnam time"
n=0
while IFS= read -r -d '' q; do
	n=$((n + 1))
	if ! rows=$(psql -XAtq -v ON_ERROR_STOP=1 "$ANALYST" -c "$q" \
		2>"$W/q$n.err" | wc -l); then
		cat "$W/q$n.err" >&2
		rows=error
	fi
	tp_assert_eq 1 "$([[ $rows != error && $rows -gt 0 ]] && echo 1 || echo "$rows")" \
		"docs/analysts.md query $n returns rows"
done < <(python3 "$TP_ROOT/tests/tools/doc_queries.py" "$TP_ROOT/docs/analysts.md")
tp_assert_eq 1 "$((n >= 12))" "docs/analysts.md has example queries ($n)"

# Rebuild (tthc-admin rebuild): tthc-ingest's and tthc-route's tables,
# damaged on purpose, come back from tthc.filing_events through the
# services' own code, equal to what the live consumers wrote (wall-clock
# columns aside); refused while the service is connected.
REBUILT="dossiers commune_throughput_hourly province_throughput_daily
	route_dossiers procedure_level_daily
	procedure_level_by_month procedure_routing_daily procedure_routing_by_month
	routing_anomalies_daily routing_anomalies_by_month"
rows_of() { # TABLE: a query of its rows without the wall-clock columns
	echo "SELECT $(tp_psql_val "SELECT string_agg(quote_ident(column_name), ', '
		ORDER BY ordinal_position) FROM information_schema.columns
		WHERE table_schema = 'tthc' AND table_name = '$1'
		AND column_name NOT IN ('updated_at', 'ingested_at', 'created_at',
			'kafka_sent_at', 'id', 'last_message_at')") FROM tthc.$1"
}
for t in $REBUILT; do
	tp_psql_val "CREATE TABLE tthc.test_live_$t AS $(rows_of "$t")" >/dev/null
	tp_psql_super_val "DELETE FROM tthc.$t WHERE ctid IN
		(SELECT ctid FROM tthc.$t ORDER BY random() LIMIT 30)" >/dev/null
done
tp_psql_super_val "UPDATE tthc.dossiers SET status = 'stopped', last_seq = 99
	WHERE ctid IN (SELECT ctid FROM tthc.dossiers LIMIT 40);
	UPDATE tthc.commune_throughput_hourly SET received = received + 7
	WHERE ctid IN (SELECT ctid FROM tthc.commune_throughput_hourly LIMIT 40)" >/dev/null
damaged=0
for t in $REBUILT; do
	damaged=$((damaged + $(tp_diff_count "$(rows_of "$t")" "SELECT * FROM tthc.test_live_$t")))
done
tp_assert_eq 1 "$((damaged > 200))" "the tables are damaged ($damaged rows differ)"
rebuild() {
	TTHC_SCHEMAS="$CAT" TTHC_REFERENCE="$TP_ROOT/reference" \
		"$TTHC_BIN/tthc-admin" rebuild "$@" --pg "$TTHC_PG" 2>&1
}
PGAPPNAME=tthc-ingest psql -qAt "$TTHC_PG" -c "SELECT pg_sleep(120)" >/dev/null 2>&1 &
sleeper=$!
tp_on_exit kill "$sleeper"
tp_wait_for "[[ \$(tp_psql_super_val \"SELECT count(*) FROM pg_stat_activity
	WHERE application_name = 'tthc-ingest'\") == 1 ]]" 10
out=$(rebuild ingest)
tp_assert_eq "1 1" "$? $(grep -c 'session(s) of tthc-ingest are connected: stop the service' <<<"$out")" \
	"rebuild refuses while tthc-ingest is connected ($out)"
tp_psql_super_val "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
	WHERE application_name = 'tthc-ingest'" >/dev/null
wait "$sleeper" 2>/dev/null
tp_wait_for "[[ \$(tp_psql_super_val \"SELECT count(*) FROM pg_stat_activity
	WHERE application_name = 'tthc-ingest'\") == 0 ]]" 10
out=$(rebuild ingest)
tp_assert_eq 0 "$?" "tthc-admin rebuild ingest ($(tail -c 300 <<<"$out"))"
tp_assert_eq 1 "$(grep -c "tthc-ingest rebuilt from tthc.filing_events: $(tp_psql_val "SELECT count(*)
	FROM tthc.filing_events") event(s) applied, 0 refused" <<<"$out")" \
	"the rebuild applies every stored event and says so"
out=$(rebuild route)
tp_assert_eq 0 "$?" "tthc-admin rebuild route ($(tail -c 300 <<<"$out"))"
for t in $REBUILT; do
	tp_assert_eq 0 "$(tp_diff_count "$(rows_of "$t")" "SELECT * FROM tthc.test_live_$t")" \
		"tthc.$t after the rebuild equals the live run, row for row"
done
# tthc-alert: episodes, their changes and the backlog history come back the
# same; the rebuilt changes are not sent to subscribers again.
ALERTS="alerts alert_outbox commune_backlog_daily alert_commune_ticks
	alert_commune_days alert_partition_state alert_dossiers alert_provinces"
for t in $ALERTS; do
	tp_psql_val "CREATE TABLE tthc.test_live_$t AS $(rows_of "$t")" >/dev/null
	# the partition counts it registered are what the rebuild reads
	[[ $t == alert_provinces ]] || tp_psql_super_val "DELETE FROM tthc.$t
		WHERE ctid IN (SELECT ctid FROM tthc.$t ORDER BY random() LIMIT 5)" >/dev/null
done
tp_psql_super_val "UPDATE tthc.alert_provinces SET next_tick = NULL" >/dev/null
out=$(TTHC_RULES="$W/rules.conf" rebuild alert)
tp_assert_eq 0 "$?" "tthc-admin rebuild alert ($(tail -c 300 <<<"$out"))"
for t in $ALERTS; do
	tp_assert_eq 0 "$(tp_diff_count "$(rows_of "$t")" "SELECT * FROM tthc.test_live_$t")" \
		"tthc.$t after the rebuild equals the live run, row for row"
done
tp_assert_eq "$(tp_psql_val "SELECT count(*) FROM tthc.test_live_alert_outbox") 0" \
	"$(tp_psql_val "SELECT count(*) || ' ' || count(*) FILTER (WHERE kafka_sent_at IS NULL)
	FROM tthc.alert_outbox")" "every rebuilt change is there, none waits to be sent again"
out=$(rebuild sim)
tp_assert_eq 2 "$?" "a service without a rebuild is named ($out)"

# Retention: the months before October 2025 go; the aggregates stay.
K=$(tp_psql_val "SELECT (extract(year FROM now() AT TIME ZONE 'Asia/Ho_Chi_Minh') * 12
	+ extract(month FROM now() AT TIME ZONE 'Asia/Ho_Chi_Minh'))::int - (2025 * 12 + 10)")
sums() {
	tp_psql_val "SELECT md5(string_agg(t, '|' ORDER BY t)) FROM (
		SELECT 'd' || d::text AS t FROM tthc.dossiers d UNION ALL
		SELECT 'h' || h::text FROM tthc.commune_throughput_hourly h UNION ALL
		SELECT 'v' || v::text FROM tthc.province_throughput_daily v UNION ALL
		SELECT 'p' || p::text FROM tthc.procedure_level_daily p UNION ALL
		SELECT 'm' || m::text FROM tthc.procedure_level_by_month m UNION ALL
		SELECT 'r' || r::text FROM tthc.procedure_routing_by_month r UNION ALL
		SELECT 'a' || a::text FROM tthc.routing_anomalies_by_month a UNION ALL
		SELECT 'b' || b::text FROM tthc.commune_backlog_daily b) x"
}
before=$(sums)
sept=$(tp_psql_val "SELECT count(*) FROM tthc.filing_events WHERE occurred_at < '2025-09-30 17:00+00'")
total=$(tp_psql_val "SELECT count(*) FROM tthc.filing_events")
# a September event, to send again once its month is gone
tp_psql_val "SELECT json_build_object('topic', 'tthc.filings.' || province_code,
	'key', dossier_id, 'schema_id', 1, 'schema_file', '$TP_ROOT/schemas/avro/1-filing_event.avsc',
	'event', json_build_object('event_id', event_id, 'event_type', event_type,
	  'occurred_at', tthc.epoch_ms(occurred_at), 'dossier_id', dossier_id,
	  'seq', seq, 'province_code', province_code, 'commune_code', commune_code,
	  'procedure_code', procedure_code, 'procedure_level', procedure_level,
	  'channel', channel, 'agency_code', agency_code,
	  'handling_level', handling_level, 'to_level', to_level,
	  'to_agency_code', to_agency_code, 'due_at', tthc.epoch_ms(due_at),
	  'source_system', source_system,
	  'handling_commune_code', handling_commune_code))
	FROM tthc.filing_events WHERE occurred_at < '2025-09-30 17:00+00' AND seq = 1
	ORDER BY dossier_id LIMIT 1" >"$W/resend.jsonl"
out=$("$TTHC_BIN/tthc-admin" retention --keep-months "$K" --pg "$TTHC_PG" 2>&1)
tp_assert_eq "1" "$?" "retention refuses a month where open dossiers began ($out)"
out=$("$TTHC_BIN/tthc-admin" retention --keep-months "$K" --force --pg "$TTHC_PG" 2>&1)
tp_assert_eq "0 1 1" "$? $(grep -c "^  2025-09  filing_events_2025_09  $sept event(s), 2025-09-29 .. 2025-09-30" <<<"$out") $(grep -c '^dry run' <<<"$out")" \
	"a dry run lists September with its $sept events and drops nothing"
tp_assert_eq "$total" "$(tp_psql_val "SELECT count(*) FROM tthc.filing_events")" \
	"the dry run changed nothing"
out=$("$TTHC_BIN/tthc-admin" retention --keep-months "$K" --force --apply --pg "$TTHC_PG" 2>&1)
tp_assert_eq "0 1" "$? $(grep -c "^dropped filing_events_2025_09 ($sept event(s), 2025-09-29 .. 2025-09-30)" <<<"$out")" \
	"--apply --force drops it and says how many events it held ($out)"
tp_assert_eq "$((total - sept)) 2025-09-01 $sept" "$(tp_psql_val "SELECT
	(SELECT count(*) FROM tthc.filing_events) || ' ' || month || ' ' || events
	FROM tthc.retention_log")" "September's events are gone, and logged"
tp_assert_eq "$before" "$(sums)" "dossier state and every aggregate are unchanged"
out=$(rebuild ingest)
tp_assert_eq "1 1" "$? $(grep -c 'began before the retention horizon' <<<"$out")" \
	"after retention, rebuild says which dossiers it cannot recompute ($out)"
out=$(TTHC_RULES="$W/rules.conf" rebuild alert --force)
tp_assert_eq "1 1" "$? $(grep -c 'tthc-alert counts every open dossier' <<<"$out")" \
	"after retention, tthc-alert's tables cannot be rebuilt, --force or not ($out)"
out=$(rebuild ingest --force)
tp_assert_eq 0 "$?" "with --force it rebuilds the rest ($(tail -c 300 <<<"$out"))"
tp_assert_eq "0 0" "$(tp_diff_count "$(rows_of dossiers)" "SELECT * FROM tthc.test_live_dossiers") \
$(tp_diff_count "$(rows_of commune_throughput_hourly) WHERE hour < tthc.retention_horizon()" \
	"SELECT * FROM tthc.test_live_commune_throughput_hourly WHERE hour < tthc.retention_horizon()")" \
	"the dossiers that began before the horizon keep their rows, the hours before it their counts"
tp_produce <"$W/resend.jsonl"
tp_ingest --exit-when-idle >"$W/ingest-resend.log" 2>&1
tp_assert_eq "0 1 0" "$? $(grep -c 'stored 0 event(s), 1 duplicate(s) counted once, 0 dead letter' "$W/ingest-resend.log") \
$(tp_psql_val "SELECT count(*) FROM tthc.rejected_messages WHERE reason = 'bad_seq'")" \
	"a re-sent event of the dropped month is a duplicate, not bad_seq"

# An interrupted run: a detach left pending (DETACH ... CONCURRENTLY
# cancelled while it waited for a transaction reading the table) is listed
# and finished by --apply; a month table left detached is listed with what
# to do, never dropped.
tp_psql_val "SELECT tthc.ensure_month_partition('2025-08-15 12:00+07')" >/dev/null
PGAPPNAME=tp-holder psql -qAt "$TTHC_PG" -c "BEGIN; SELECT count(*) FROM tthc.filing_events;
	SELECT pg_sleep(60)" >/dev/null 2>&1 &
holder=$!
tp_on_exit kill "$holder"
tp_wait_for "[[ \$(tp_psql_super_val \"SELECT count(*) FROM pg_stat_activity
	WHERE application_name = 'tp-holder' AND query LIKE '%pg_sleep%'\") == 1 ]]" 10
out=$(psql -XAtq "$TTHC_PG" -c "SET statement_timeout = '2s'" -c "ALTER TABLE
	tthc.filing_events DETACH PARTITION tthc.filing_events_2025_08 CONCURRENTLY" 2>&1)
tp_psql_super_val "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
	WHERE application_name = 'tp-holder'" >/dev/null
wait "$holder" 2>/dev/null
tp_assert_eq 1 "$(tp_psql_val "SELECT count(*) FROM pg_inherits
	WHERE inhrelid = 'tthc.filing_events_2025_08'::regclass AND inhdetachpending")" \
	"a detach cancelled half-way leaves August pending ($out)"
tp_psql_val "CREATE TABLE tthc.filing_events_2025_07 (LIKE tthc.filing_events)" >/dev/null
out=$("$TTHC_BIN/tthc-admin" retention --keep-months "$K" --force --pg "$TTHC_PG" 2>&1)
tp_assert_eq "0 1 1" "$? $(grep -c '^  2025-08  filing_events_2025_08  0 event(s), .*detach pending' <<<"$out") \
$(grep -c '^not attached: tthc.filing_events_2025_07, .*DROP TABLE tthc.filing_events_2025_07$' <<<"$out")" \
	"the dry run lists the pending detach and the table left detached ($out)"
out=$("$TTHC_BIN/tthc-admin" retention --keep-months "$K" --force --apply --pg "$TTHC_PG" 2>&1)
tp_assert_eq "0 1 0 1" "$? $(grep -c '^dropped filing_events_2025_08 (0 event(s))' <<<"$out") \
$(tp_psql_val "SELECT count(*) FROM pg_class WHERE relname = 'filing_events_2025_08'") \
$(tp_psql_val "SELECT count(*) FROM pg_class WHERE relname = 'filing_events_2025_07'")" \
	"--apply finishes the detach and drops August; the detached July stays ($out)"

# The national catalogue: the export's headers, columns in another order,
# a byte order mark, CRLF line ends, quoted names with commas.
python3 - "$TP_ROOT/reference/procedures.csv" "$W/national.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))[:100]
lv = {"COMMUNE": "Cấp Xã", "PROVINCE": "Cấp Tỉnh, Cấp Xã", "CENTRAL": "Cấp Bộ"}
with open(sys.argv[2], "w", encoding="utf-8-sig", newline="") as f:
    w = csv.writer(f, lineterminator="\r\n")
    w.writerow(["STT", "Tên thủ tục", "Mã thủ tục", "Lĩnh vực",
                "Cấp thực hiện", "Thời hạn giải quyết", "Cơ quan thực hiện"])
    for i, r in enumerate(rows):
        w.writerow([i + 1, r["name"] + " (quốc gia)", r["code"], r["sector"],
                    lv[r["level"]], "%s ngày làm việc" % r["deadline_days"],
                    r["agency"]])
    w.writerow([101, "Thủ tục mới, chưa có sự kiện", "2.000001", "Tư pháp",
                "Cấp Huyện", "Trong ngày", "UBND"])
PY
out=$("$TTHC_BIN/tthc-admin" procedures load "$W/national.csv" --pg "$TTHC_PG" 2>&1)
tp_assert_eq 0 $? "tthc-admin procedures load takes the national export ($out)"
used_not_in_file=$(tp_psql_val "SELECT count(DISTINCT procedure_code) FROM tthc.dossiers
	WHERE procedure_code NOT IN (SELECT procedure_code FROM tthc.procedures WHERE source = 'national')")
tp_assert_eq "loaded 101 procedure(s) from $W/national.csv (national catalogue); $((SAMPLE - 100)) sample row(s) replaced; $used_not_in_file code(s) of stored dossiers have no name (tthc.unknown_procedures)
left null: 1 level(s) not understood, 1 deadline(s) not a number of days" "$out" \
	"it says what it loaded, replaced and left unknown"
tp_assert_eq "101 0 $used_not_in_file" "$(tp_psql_val "SELECT
	count(*) FILTER (WHERE source = 'national') || ' ' ||
	count(*) FILTER (WHERE source = 'sample') || ' ' ||
	count(*) FILTER (WHERE name IS NULL) FROM tthc.procedures")" \
	"the national rows replace the sample; codes in use stay, unnamed"
tp_assert_eq "Đăng ký nhận cha, mẹ, con (quốc gia)|COMMUNE|3" "$(tp_psql_val "SELECT
	name || '|' || competent_level || '|' || deadline_days FROM tthc.procedures
	WHERE procedure_code = '1.000037'")" \
	"names, levels (Cấp Xã) and deadlines (3 ngày làm việc) are read"
tp_assert_eq "PROVINCE" "$(tp_psql_val "SELECT competent_level FROM tthc.procedures
	WHERE procedure_code = '1.000008'")" "a list of levels gives its first"
"$TTHC_BIN/tthc-admin" migrate --pg "$TTHC_PG" --migrations "$TP_ROOT/schemas/sql" \
	--reference "$TP_ROOT/reference" >/dev/null
tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM tthc.procedures WHERE source = 'sample'")" \
	"migrate does not bring the sample back once a national catalogue is loaded"

printf 'code,name\n1.1,Một\n1.2,\n' >"$W/bad.csv"
out=$("$TTHC_BIN/tthc-admin" procedures load "$W/bad.csv" --pg "$TTHC_PG" 2>&1)
tp_assert_eq "1 tthc-admin: could not load the catalogue: $W/bad.csv: data row 2: empty name for procedure 1.2" \
	"$? $out" "a row without a name is refused, naming the file and row"
printf 'ma,ten\n1.1,Một\n' >"$W/nohdr.csv"
out=$("$TTHC_BIN/tthc-admin" procedures load "$W/nohdr.csv" --pg "$TTHC_PG" 2>&1)
tp_assert_eq 1 $? "a file without a code column is refused"
tp_assert_eq "101" "$(tp_psql_val "SELECT count(*) FROM tthc.procedures WHERE source = 'national'")" \
	"a refused file changes nothing"

tp_finish
