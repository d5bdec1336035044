#!/usr/bin/env bash
# bench/gen_year.sh - fills a migrated database with a plausible national
# year of what the consumers write, set-based in SQL (bench/gen_year.sql),
# so that analyst queries and web pages are measured on a year of
# aggregates without pushing 100-150M events through Kafka.
#
#   bench/gen_year.sh --pg DSN [--days 365] [--scale 1.0] [--end DATE]
#                     [--seed 0.42]
#
#   --pg     the database, already migrated with its reference data
#            (tthc-admin migrate --migrations schemas/sql --reference
#            reference), as its owner (tthc_owner); it should hold no
#            dossiers yet
#   --days   days of data, ending on --end (default 365)
#   --scale  1.0 = 40,000 dossiers a working day nationally (about 10M
#            dossiers a year); 0.1 for quick tries, 0.01 for a smoke test
#   --end    the last Vietnam day (default: today in Vietnam); the
#            watermark of every province is 16:00 that day, so the month
#            of --end is the open month
#   --seed   random seed in [-1, 1] (default 0.42): the same options give
#            the same data
#
# What is written, and what is not (tthc.filing_events: no documented
# query reads it), is listed at the top of bench/gen_year.sql. Prints the
# row counts and the time taken. docs/benchmarks.md, "Analyst queries on a
# national year", has the figures.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
source "$ROOT/bench/lib.sh"
PG=
DAYS=365
SCALE=1.0
END=$(TZ=Asia/Ho_Chi_Minh date +%F)
SEED=0.42
bench_args bench/gen_year.sh "pg days scale end seed" "$@"
[[ -n $PG ]] || {
	echo "bench/gen_year.sh: --pg DSN is required" >&2
	exit 2
}
[[ $DAYS =~ ^[1-9][0-9]*$ ]] || {
	echo "bench/gen_year.sh: --days expects a positive integer" >&2
	exit 2
}
[[ $SCALE =~ ^[0-9]*\.?[0-9]+$ ]] || {
	echo "bench/gen_year.sh: --scale expects a positive number" >&2
	exit 2
}
n=$(psql -XAtq -v ON_ERROR_STOP=1 "$PG" -c "SELECT count(*)::text FROM tthc.dossiers") ||
	tp_die "cannot read tthc.dossiers (is the database migrated?)"
[[ $n == 0 ]] || tp_die "tthc.dossiers already holds $n rows: generate into an empty database"
t0=$(date +%s.%N)
psql -XAq -1 -v ON_ERROR_STOP=1 -v days="$DAYS" -v scale="$SCALE" \
	-v end_day="$END" -v seed="$SEED" "$PG" -f "$ROOT/bench/gen_year.sql" ||
	tp_die "bench/gen_year.sql failed"
t1=$(date +%s.%N)
psql -XAt -F ' ' -v ON_ERROR_STOP=1 "$PG" <<'SQL'
SELECT 'dossiers', count(*)::text FROM tthc.dossiers
UNION ALL SELECT 'commune_throughput_hourly', count(*)::text FROM tthc.commune_throughput_hourly
UNION ALL SELECT 'province_throughput_daily', count(*)::text FROM tthc.province_throughput_daily
UNION ALL SELECT 'procedure_level_daily', count(*)::text FROM tthc.procedure_level_daily
UNION ALL SELECT 'procedure_level_by_month', count(*)::text FROM tthc.procedure_level_by_month
UNION ALL SELECT 'procedure_routing_daily', count(*)::text FROM tthc.procedure_routing_daily
UNION ALL SELECT 'routing_anomalies_daily', count(*)::text FROM tthc.routing_anomalies_daily
UNION ALL SELECT 'procedure_routing_by_month', count(*)::text FROM tthc.procedure_routing_by_month
UNION ALL SELECT 'routing_anomalies_by_month', count(*)::text FROM tthc.routing_anomalies_by_month
UNION ALL SELECT 'commune_backlog_daily', count(*)::text FROM tthc.commune_backlog_daily
UNION ALL SELECT 'alerts', count(*)::text FROM tthc.alerts
UNION ALL SELECT 'alert_outbox', count(*)::text FROM tthc.alert_outbox
UNION ALL SELECT 'database_size', pg_size_pretty(pg_database_size(current_database()))::text;
SQL
printf 'generated %s days at scale %s ending %s in %.1f s\n' "$DAYS" "$SCALE" \
	"$END" "$(python3 -c "print($t1 - $t0)")"
