#!/usr/bin/env bash
# The benchmark runs (at a small size; its figures are not asserted: speed
# is measured by bench/run.sh, never by a timed test).
set -uo pipefail # no -e: checks exit codes itself (CONTRIBUTING.md)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
out=$(tp_workdir)/benchmarks.md
bash "$TP_ROOT/bench/run.sh" --small --out "$out" >/dev/null 2>&1
tp_assert_eq 0 $? "bench/run.sh --small succeeds"
grep -q "tthc-ingest end to end" "$out"
tp_assert_eq 0 $? "the report has the ingest row"
grep -q "limit: decode-only" "$out"
tp_assert_eq 0 $? "the report has the decode-only limit"
grep -q "tthc-admin rebuild alert" "$out"
tp_assert_eq 0 $? "the report has the rebuilds"
for c in ingest route alert; do
	grep -Eq "^\| limit: tthc-$c's rows, COPY once each \((the events and )?[1-9][0-9]*( others)?\) \| [0-9.]+ \| [1-9][0-9]* \|" "$out"
	tp_assert_eq 0 $? "the report has tthc-$c's own limit: a COPY of its rows"
done
grep -Eq "^\| tthc-alert end to end \|.* \| [0-9.]+ s \|$" "$out"
tp_assert_eq 0 $? "the report says how long tthc-alert waited for PostgreSQL"

# The long-run bench, at a small size: its report's rate and CPU lines.
out=$(tp_workdir)/rss_long.md
bash "$TP_ROOT/bench/rss_long.sh" --days 2 --dossiers-per-day 2000 \
	--partitions 3 --consumers 'ingest route' --out "$out" >/dev/null 2>&1
tp_assert_eq 0 $? "bench/rss_long.sh at a small size succeeds"
for c in ingest route; do
	grep -A 40 "^### tthc-$c" "$out" | grep -Eq "^CPU from the start to the exit \([0-9]+ s on [0-9]+ cores\): the machine busy [0-9]+ % of the time \([0-9]+ s: tthc-$c [0-9]+ s, PostgreSQL [0-9]+ s, tthc-broker [0-9]+ s,.*[0-9.]+ µs of CPU an event"
	tp_assert_eq 0 $? "bench/rss_long.sh reports the machine's CPU over tthc-$c's run"
done
grep -q "^PostgreSQL's [0-9]* s by process" "$out"
tp_assert_eq 0 $? "bench/rss_long.sh reports PostgreSQL's CPU by process"

# The national-year generator and the analyst query bench, at a small size.
tp_pg_start
W=$(tp_workdir)
"$TTHC_BIN/tthc-admin" migrate --pg "$TTHC_PG" --migrations "$TP_ROOT/schemas/sql" \
	--reference "$TP_ROOT/reference" >/dev/null || tp_die "migrations failed"
bash "$TP_ROOT/bench/gen_year.sh" --pg "$TTHC_PG" --days 75 --scale 0.01 \
	--end 2025-11-14 >"$W/gen.log" 2>&1
tp_assert_eq 0 $? "bench/gen_year.sh --days 75 --scale 0.01 succeeds ($(tail -n 1 "$W/gen.log"))"
tp_assert_eq "1 0 0 0" "$(tp_psql_val "SELECT (count(*) > 20000)::int || ' ' ||
	count(*) FILTER (WHERE (status = 'resolved') <> (outcome IS NOT NULL)) || ' ' ||
	count(*) FILTER (WHERE (closed_at IS NULL) <> (status IN ('submitted',
	  'processing', 'paused'))) || ' ' ||
	count(*) FILTER (WHERE closed_at > '2025-11-14 16:00+07'
	  OR received_at > '2025-11-14 16:00+07')
	FROM tthc.dossiers")" \
	"the dossiers: outcomes of resolved ones, closings of closed ones, nothing after the watermark"
tp_assert_eq "3314 74" "$(tp_psql_val "SELECT count(DISTINCT commune_code) || ' ' ||
	count(DISTINCT day) FROM tthc.commune_backlog_daily")" \
	"the backlog history has every commune, every closed day"
"$TTHC_BIN/tthc-admin" scorecard refresh --pg "$TTHC_PG" >"$W/refresh.log" 2>&1
tp_assert_eq 0 $? "the scorecard's closed months are stored ($(cat "$W/refresh.log"))"
sed 's/tthc\.scorecard_monthly/tthc.test_scorecard_015/g' \
	"$TP_ROOT/schemas/sql/015_scorecard_ties.sql" |
	psql -XAq -v ON_ERROR_STOP=1 "$TTHC_PG" || tp_die "could not create the reference view"
tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM ((TABLE tthc.test_scorecard_015
	EXCEPT ALL TABLE tthc.scorecard_monthly) UNION ALL (TABLE tthc.scorecard_monthly
	EXCEPT ALL TABLE tthc.test_scorecard_015)) x")" \
	"on the generated months, the stored scorecard equals 015's live computation"
bash "$TP_ROOT/bench/analyst_queries.sh" --pg "$TTHC_PG" --runs 1 \
	--out "$W/queries.md" >/dev/null 2>"$W/queries.log"
tp_assert_eq 0 $? "every docs/analysts.md query runs and returns rows on it"
tp_finish
