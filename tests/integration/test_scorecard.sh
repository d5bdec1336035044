#!/usr/bin/env bash
# The scorecard of closed months is stored (migration 016): after a stream
# that spans a month's end, tthc.scorecard_monthly equals 015's live
# computation row for row before and after a refresh, the stored rows equal
# it for the closed month; a late event of the closed month (through the
# stream) makes the month stale, the view still answers right, a refresh
# stores it again; an update that changes nothing a closed month counts
# leaves it alone; a province analyst sees only its province's stored rows;
# tthc-alert stores a month that closes in its stream. The open month's
# closed dossiers are stored by day (migration 022): the view reads them,
# a late change to one marks the month stale, a dossier received after
# the day it closed is counted live, tthc-alert stores the days at the end
# of its stream; the view equals 015's throughout.
set -uo pipefail # no -e: checks exit codes itself (CONTRIBUTING.md)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/common_ingest.sh"
source "$(dirname "${BASH_SOURCE[0]}")/common_route.sh"

tp_pg_start
tp_broker_start 3
W=$(tp_workdir)
CAT=$W/cat
mkdir -p "$CAT"
cp "$TP_ROOT/schemas/avro/1-filing_event.avsc" "$CAT/"
"$TTHC_BIN/tthc-admin" migrate --pg "$TTHC_PG" --migrations "$TP_ROOT/schemas/sql" \
	--reference "$TP_ROOT/reference" >/dev/null || tp_die "migrations failed"
"$TTHC_BIN/tthc-sim" --brokers "$TTHC_BROKERS" --reference "$TP_ROOT/reference" \
	--schema "$TP_ROOT/schemas/avro/1-filing_event.avsc" --provinces 01,79 \
	--from 2025-09-29 --days 4 --dossiers-per-day 8000 --seed 11 \
	>"$W/sim.log" 2>&1 || tp_die "tthc-sim failed"
tp_ingest --exit-when-idle >"$W/ingest.log" 2>&1
tp_assert_eq 0 $? "tthc-ingest drains the stream"

# 015's view, computed from every dossier on each query: the reference.
sed 's/tthc\.scorecard_monthly/tthc.test_scorecard_015/g' \
	"$TP_ROOT/schemas/sql/015_scorecard_ties.sql" >"$W/ref.sql"
psql -XAq -v ON_ERROR_STOP=1 "$TTHC_PG" -f "$W/ref.sql" ||
	tp_die "could not create the reference view"
same_as_015() {
	tp_diff_count "SELECT * FROM tthc.scorecard_monthly" \
		"SELECT * FROM tthc.test_scorecard_015"
}
stored_vs_015() {
	tp_diff_count "SELECT s.scope, s.province_code, s.commune_code, s.month,
		s.received::bigint, s.handled::bigint, s.resolved_early::bigint,
		s.resolved_on_time::bigint, s.resolved_late::bigint,
		s.withdrawn::bigint, s.stopped::bigint,
		s.in_progress_within::bigint, s.in_progress_past::bigint,
		s.online_received::bigint FROM tthc.scorecard_closed s" \
		"SELECT r.scope, r.province_code, r.commune_code, r.month,
		r.received, r.handled, r.resolved_early, r.resolved_on_time,
		r.resolved_late, r.withdrawn, r.stopped, r.in_progress_within,
		r.in_progress_past, r.online_received
		FROM tthc.test_scorecard_015 r
		JOIN tthc.scorecard_closed_months m USING (province_code, month)"
}
tp_assert_eq "2 0" "$(tp_psql_val "SELECT count(DISTINCT month) || ' ' ||
	(SELECT count(*) FROM tthc.scorecard_closed_months)
	FROM tthc.scorecard_monthly")" "September and October, nothing stored yet"
tp_assert_eq 0 "$(same_as_015)" "before any refresh, the view equals 015's, row for row"

out=$("$TTHC_BIN/tthc-admin" scorecard refresh --pg "$TTHC_PG" 2>&1)
tp_assert_eq "0 scorecard: 2 closed month(s) of a province stored (missing or stale)" \
	"$? $out" "tthc-admin scorecard refresh stores September of both provinces"
tp_assert_eq "01 2025-09-01|79 2025-09-01" "$(tp_psql_val "SELECT string_agg(
	province_code || ' ' || month, '|' ORDER BY 1) FROM tthc.scorecard_closed_months")" \
	"the closed month is September (the watermark is in October)"
tp_assert_eq 1 "$(tp_psql_val "SELECT (count(*) > 100)::int FROM tthc.scorecard_closed")" \
	"the stored month has the provinces' and communes' rows"
tp_assert_eq 0 "$(stored_vs_015)" "the stored rows equal 015's for September"
tp_assert_eq 0 "$(same_as_015)" "the view (September stored, October live) equals 015's"
out=$("$TTHC_BIN/tthc-admin" scorecard refresh --pg "$TTHC_PG" 2>&1)
tp_assert_eq "0 scorecard: 0 closed month(s) of a province stored (missing or stale)" \
	"$? $out" "a second refresh has nothing to do"

# A late event: a dossier received on 30 September arrives now.
python3 - "$TP_ROOT/schemas/avro/1-filing_event.avsc" <<'PY' | tp_produce
import json, sys
T0 = 1759201200000  # 2025-09-30 03:00 UTC, 10:00 in Vietnam
e = {"event_id": "5c0e0e0e-0000-4000-8000-000000000001",
     "event_type": "RECEIVED", "occurred_at": T0, "dossier_id": "LATE-SEPT-1",
     "seq": 1, "province_code": "79", "commune_code": "25747",
     "procedure_code": "1.000037", "procedure_level": "COMMUNE",
     "channel": "ONLINE", "agency_code": "UBND-25747",
     "handling_level": "COMMUNE", "to_level": None, "to_agency_code": None,
     "due_at": T0 + 86400000 * 3, "source_system": "t",
     "handling_commune_code": "25747"}
print(json.dumps({"topic": "tthc.filings.79", "key": "LATE-SEPT-1",
                  "schema_id": 1, "schema_file": sys.argv[1], "event": e}))
PY
tp_ingest --exit-when-idle >"$W/ingest-late.log" 2>&1
tp_assert_eq "0 1" "$? $(tp_psql_val "SELECT count(*) FROM tthc.dossiers
	WHERE dossier_id = 'LATE-SEPT-1'")" "tthc-ingest stores the late event"
tp_assert_eq "79 2025-09-01" "$(tp_psql_val "SELECT DISTINCT province_code || ' ' || month
	FROM tthc.scorecard_stale")" "it makes September of province 79 stale, only it"
tp_assert_eq 1 "$(($(stored_vs_015) > 0))" \
	"the stored September of 79 no longer equals 015's..."
tp_assert_eq 0 "$(same_as_015)" "...but the view computes it live: it still equals 015's"
out=$("$TTHC_BIN/tthc-admin" scorecard refresh --pg "$TTHC_PG" 2>&1)
tp_assert_eq "0 scorecard: 1 closed month(s) of a province stored (missing or stale)" \
	"$? $out" "a refresh stores September of 79 again"
tp_assert_eq "0 0 0" "$(tp_psql_val "SELECT count(*) FROM tthc.scorecard_stale") \
$(stored_vs_015) $(same_as_015)" "nothing stale, stored rows and view equal 015's"

# Updates: one that changes what September counts (a dossier open at
# September's end learns it was resolved on 30 September) marks the month;
# one that does not (an October dossier resolved) does not.
tp_psql_val "UPDATE tthc.dossiers SET received_at = received_at
	WHERE province_code = '01'" >/dev/null
tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM tthc.scorecard_stale")" \
	"rewriting a province's dossiers unchanged marks nothing"
tp_psql_val "UPDATE tthc.dossiers SET status = 'resolved', outcome = 'on_time',
	closed_at = '2025-10-02 09:00+07' WHERE dossier_id = (SELECT dossier_id
	FROM tthc.dossiers WHERE province_code = '01' AND status = 'processing'
	AND received_at >= '2025-10-01 00:00+07' ORDER BY dossier_id LIMIT 1)" >/dev/null
tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM tthc.scorecard_stale")" \
	"resolving an October dossier on the watermark's day leaves September and October alone"
tp_assert_eq 1 "$(tp_psql_val "WITH d AS (SELECT province_code, dossier_id
	FROM tthc.dossiers WHERE province_code = '01' AND status = 'processing'
	AND received_at < '2025-09-30 09:00+07' ORDER BY dossier_id LIMIT 1)
	UPDATE tthc.dossiers x SET status = 'resolved', outcome = 'early',
	closed_at = '2025-09-30 15:00+07' FROM d
	WHERE x.province_code = d.province_code AND x.dossier_id = d.dossier_id
	RETURNING 1")" "a dossier open at September's end was resolved on 30 September"
tp_assert_eq "01 2025-09-01" "$(tp_psql_val "SELECT DISTINCT province_code || ' ' || month
	FROM tthc.scorecard_stale")" "it makes September of 01 stale"
tp_assert_eq 0 "$(same_as_015)" "the view still equals 015's"
tp_psql_val "SELECT tthc.scorecard_refresh('01')" >/dev/null
tp_assert_eq "0 0 0" "$(tp_psql_val "SELECT count(*) FROM tthc.scorecard_stale") \
$(stored_vs_015) $(same_as_015)" "tthc.scorecard_refresh('01') stores it again"

# The open month: October's dossiers closed before the watermark's day
# are stored (the watermark is on 2 October: 1 October is stored).
tp_assert_eq "01 2025-10-01 2025-10-01|79 2025-10-01 2025-10-01" "$(tp_psql_val "SELECT
	string_agg(t.province_code || ' ' || t.month || ' ' || t.through, '|'
	ORDER BY t.province_code) FROM tthc.scorecard_open_closed_through t
	JOIN tthc.freshness f USING (province_code)
	WHERE t.through = (f.watermark AT TIME ZONE 'Asia/Ho_Chi_Minh')::date - 1")" \
	"the refresh stored October's closed dossiers through the day before the watermark's"
stored=$(tp_psql_val "SELECT coalesce(sum(handled), 0) FROM tthc.scorecard_open_closed
	WHERE commune_code IS NOT NULL")
echo "# October's stored days: $stored closed dossiers handled by communes"
tp_assert_eq 1 "$((stored > 100))" \
	"the stored days hold the communes' closed dossiers"
bump_stored() {
	tp_psql_super_val "UPDATE tthc.scorecard_open_closed SET handled = handled + $1
		WHERE province_code = '79' AND commune_code = (SELECT min(commune_code)
		FROM tthc.scorecard_open_closed WHERE province_code = '79')" >/dev/null
}
bump_stored 1
tp_assert_eq 1 "$(($(same_as_015) > 0))" "the view reads the stored days (one count changed there shows)"
bump_stored -1
tp_assert_eq 0 "$(same_as_015)" "with the stored days, the view equals 015's"
tp_assert_eq 1 "$(tp_psql_val "WITH d AS (SELECT province_code, dossier_id
	FROM tthc.dossiers WHERE province_code = '79' AND status = 'resolved'
	AND outcome <> 'late' AND closed_at >= '2025-10-01 00:00+07'
	AND closed_at < '2025-10-02 00:00+07' ORDER BY dossier_id LIMIT 1)
	UPDATE tthc.dossiers x SET outcome = 'late' FROM d
	WHERE x.province_code = d.province_code AND x.dossier_id = d.dossier_id
	RETURNING 1")" "a dossier closed on 1 October learns it was late"
tp_assert_eq "79 2025-10-01" "$(tp_psql_val "SELECT DISTINCT province_code || ' ' || month
	FROM tthc.scorecard_stale")" "it makes October of 79 stale"
tp_assert_eq 0 "$(same_as_015)" "the view computes October of 79 live: it equals 015's"
tp_psql_val "SELECT tthc.scorecard_refresh('79')" >/dev/null
tp_assert_eq "0 0 2025-10-01" "$(tp_psql_val "SELECT count(*) FROM tthc.scorecard_stale") \
$(same_as_015) $(tp_psql_val "SELECT through FROM tthc.scorecard_open_closed_through
	WHERE province_code = '79'")" "a refresh stores October's days of 79 again"
tp_assert_eq 1 "$(tp_psql_val "WITH d AS (SELECT province_code, dossier_id
	FROM tthc.dossiers WHERE province_code = '01' AND status = 'resolved'
	AND closed_at >= '2025-10-01 00:00+07' AND closed_at < '2025-10-02 00:00+07'
	ORDER BY dossier_id LIMIT 1)
	UPDATE tthc.dossiers x SET received_at = '2025-10-02 08:00+07' FROM d
	WHERE x.province_code = d.province_code AND x.dossier_id = d.dossier_id
	RETURNING 1")" "a dossier closed on 1 October says it was received on 2 October"
tp_psql_val "SELECT tthc.scorecard_refresh('01')" >/dev/null
tp_assert_eq "0 0" "$(tp_psql_val "SELECT count(*) FROM tthc.scorecard_stale") $(same_as_015)" \
	"the stored days leave it out, the live part counts it: the view equals 015's"

# Row-level security: a province analyst sees its province's rows only.
tp_psql_val "SELECT tthc.create_province_analyst('tp_sc79', '79');
	ALTER ROLE tp_sc79 LOGIN" >/dev/null
P79="host=127.0.0.1 port=$TP_PG_PORT dbname=tthc user=tp_sc79"
tp_assert_eq "79|79|79|79|79" "$(psql -XAtq -v ON_ERROR_STOP=1 "$P79" -c "SELECT
	(SELECT string_agg(DISTINCT province_code, ',') FROM tthc.scorecard_closed) || '|' ||
	(SELECT string_agg(DISTINCT province_code, ',') FROM tthc.scorecard_closed_months) || '|' ||
	(SELECT string_agg(DISTINCT province_code, ',') FROM tthc.scorecard_open_closed) || '|' ||
	(SELECT string_agg(DISTINCT province_code, ',') FROM tthc.scorecard_open_closed_through) || '|' ||
	(SELECT string_agg(DISTINCT province_code, ',') FROM tthc.scorecard_monthly)")" \
	"a province analyst of 79 sees only 79's stored months and days, and scorecard"
tp_assert_eq 1 "$(psql -XAtq "$P79" -c "SELECT count(*) FROM tthc.scorecard_monthly
	WHERE scope = 'province'" | awk '{print ($1 == 2)}')" \
	"its province has a row for each of the two months"

# tthc-alert stores a month when its midnight passes (the stream crosses
# 30 September's): with the stored rows gone, one run over the stream
# stores September of both provinces again, equal to 015's. A midnight
# inside a month with nothing stale stores nothing (no refresh is run).
tp_psql_super_val "DELETE FROM tthc.scorecard_closed;
	DELETE FROM tthc.scorecard_closed_months; DELETE FROM tthc.scorecard_stale;
	DELETE FROM tthc.scorecard_open_closed;
	DELETE FROM tthc.scorecard_open_closed_through" >/dev/null
tp_consumer alert --exit-when-idle >"$W/alert.log" 2>&1
tp_assert_eq 0 $? "tthc-alert drains the stream"
tp_assert_eq "01 2025-09-01|79 2025-09-01 0" "$(tp_psql_val "SELECT string_agg(
	province_code || ' ' || month, '|' ORDER BY province_code, month)
	FROM tthc.scorecard_closed_months") $(stored_vs_015)" \
	"tthc-alert stored September of both provinces at its end, as 015 computes it"
tp_assert_eq "01 2025-10-01|79 2025-10-01 0" "$(tp_psql_val "SELECT string_agg(
	province_code || ' ' || through, '|' ORDER BY province_code)
	FROM tthc.scorecard_open_closed_through") $(same_as_015)" \
	"and, its stream read to the end, October's days; the view equals 015's"

tp_finish
