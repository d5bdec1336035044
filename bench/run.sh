#!/usr/bin/env bash
# bench/run.sh - measures tthc-pulse against the limits of the same
# machine, in one run: the raw librdkafka consume rate of the same messages
# (bench/raw_consume, no decoding), the raw COPY rate of the same rows into
# a table defined like tthc.filing_events, and each consumer end to end
# (Kafka to committed PostgreSQL rows) with its peak RSS.
#
#   bench/run.sh [--days N] [--dossiers-per-day N] [--out FILE] [--small]
#
# Defaults: a national stream of 21 days at 20000 dossiers per working day
# (about 1 million events). --small is the CI smoke size. The Markdown
# report goes to --out (default docs/benchmarks.md).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
source "$ROOT/bench/lib.sh"
DAYS=21
DOSSIERS_PER_DAY=20000
OUT=$ROOT/docs/benchmarks.md
# --small: the CI smoke run
args=()
for a in "$@"; do
	if [[ $a == --small ]]; then args+=(--days 2 --dossiers-per-day 2000); else args+=("$a"); fi
done
bench_args bench/run.sh "days dossiers-per-day out" ${args[@]+"${args[@]}"}

now() { date +%s.%N; }
rate() { python3 -c "import sys; n, t = float(sys.argv[1]), float(sys.argv[2]); print('%.0f' % (n / t if t > 0 else 0))" "$1" "$2"; }
# pct A B: A as a percentage of B
pct() { python3 -c "print('%.0f %%' % (100.0 * $1 / $2 if $2 > 0 else 0))"; }

# run_peak CMD...: runs CMD, prints "seconds peak_rss_kib" on fd 3.
run_peak() {
	local t0 t1 pid peak=0 hwm
	t0=$(now)
	"$@" &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
		[[ -n $hwm && $hwm -gt $peak ]] && peak=$hwm
		sleep 0.2
	done
	wait "$pid"
	t1=$(now)
	echo "$(python3 -c "print('%.3f' % ($t1 - $t0))") $peak" >&3
}

bench_stack 3

tp_log "producing: national stream, $DAYS days, $DOSSIERS_PER_DAY dossiers per working day"
bench_sim 2025-09-03 "$DAYS" "$DOSSIERS_PER_DAY" 7
read -r MSGS BYTES RAW_S < <("$B/raw_consume" "$TTHC_BROKERS")
tp_log "raw consume: $MSGS messages, $BYTES bytes in $RAW_S s"
# The decode-only limit: consume + unframe + decode + validate, nothing
# stored (tthc-check reads the topics with the consumers' own reader).
t0=$(now)
"$B/tthc-check" --brokers "$TTHC_BROKERS" --schemas "$ROOT/schemas/avro" \
	--reference "$ROOT/reference" >"$W/check.log" 2>&1 ||
	tp_die "tthc-check found invalid messages (see $W/check.log)"
DEC_S=$(python3 -c "print('%.3f' % ($(now) - $t0))")

ING() {
	exec "$B/tthc-ingest" --brokers "$TTHC_BROKERS" --pg "$TTHC_PG" \
		--schemas "$ROOT/schemas/avro" --reference "$ROOT/reference" \
		--exit-when-idle --kafka.session.timeout.ms=6000 "$@" \
		>"$W/ingest.log" 2>&1
}
read -r ING_S ING_RSS < <(run_peak ING 3>&1 >/dev/null)
EVENTS=$(tp_psql_val "SELECT count(*) FROM tthc.filing_events")
# The group join (about 3 s on the mock broker) is inside ING_S; report it.
JOIN_S=$(bench_join_s "$W/ingest.log")

# tthc-route and tthc-alert on the same stream, each in its own group.
ROUTE() {
	exec "$B/tthc-route" --brokers "$TTHC_BROKERS" --pg "$TTHC_PG" \
		--schemas "$ROOT/schemas/avro" --exit-when-idle \
		--kafka.session.timeout.ms=6000 >"$W/route.log" 2>&1
}
ALERT() {
	exec "$B/tthc-alert" --brokers "$TTHC_BROKERS" --pg "$TTHC_PG" \
		--schemas "$ROOT/schemas/avro" --exit-when-idle \
		--kafka.session.timeout.ms=6000 >"$W/alert.log" 2>&1
}
read -r ROUTE_S ROUTE_RSS < <(run_peak ROUTE 3>&1 >/dev/null)
read -r ALERT_S ALERT_RSS < <(run_peak ALERT 3>&1 >/dev/null)

# The same three recomputed from tthc.filing_events, no broker
# (tthc-admin rebuild, docs/operations.md "Rebuilding"), one transaction each.
REBUILD() {
	TTHC_SCHEMAS="$ROOT/schemas/avro" TTHC_REFERENCE="$ROOT/reference" \
		exec "$B/tthc-admin" rebuild "$1" --pg "$TTHC_PG" >"$W/rebuild-$1.log" 2>&1
}
read -r RB_ING_S RB_ING_RSS < <(run_peak REBUILD ingest 3>&1 >/dev/null)
read -r RB_ROUTE_S RB_ROUTE_RSS < <(run_peak REBUILD route 3>&1 >/dev/null)
read -r RB_ALERT_S RB_ALERT_RSS < <(run_peak REBUILD alert 3>&1 >/dev/null)

# Raw COPY of the same rows into a table defined like tthc.filing_events.
psql -XAq -v ON_ERROR_STOP=1 "$TTHC_PG" <<SQL
\copy (SELECT * FROM tthc.filing_events) TO '$W/rows.copy'
CREATE TABLE public.bench_copy (LIKE tthc.filing_events INCLUDING DEFAULTS);
CREATE INDEX ON public.bench_copy (province_code, dossier_id, seq);
SQL
t0=$(now)
psql -XAq -v ON_ERROR_STOP=1 "$TTHC_PG" -c "\\copy public.bench_copy FROM '$W/rows.copy'"
COPY_S=$(python3 -c "print('%.3f' % ($(now) - $t0))")

# Each consumer's own storage limit: every row it leaves in its tables
# (for tthc-ingest, the same events too), written once, by COPY, in one
# transaction, into tables defined and indexed as tthc's: the least
# PostgreSQL work that leaves those tables as analysts read them. A
# consumer does more: it writes a dossier's row again at every checkpoint
# the dossier changes in, upserts counters, and tthc-alert writes
# snapshots it prunes later. Prints "seconds rows".
own_rows_copy() {
	local name=$1 t sql="BEGIN;" rows=0 t0
	shift
	for t in "$@"; do
		psql -XAq -v ON_ERROR_STOP=1 "$TTHC_PG" \
			-c "\\copy (SELECT * FROM tthc.$t) TO '$W/$name-$t.copy'" \
			-c "CREATE TABLE public.bench_${name}_$t (LIKE tthc.$t
			    INCLUDING DEFAULTS INCLUDING INDEXES)" ||
			tp_die "could not export tthc.$t"
		# one line per row in COPY's text format
		rows=$((rows + $(wc -l <"$W/$name-$t.copy")))
		sql+=$'\n'"\\copy public.bench_${name}_$t FROM '$W/$name-$t.copy'"
	done
	if [[ $name == ingest ]]; then
		psql -XAq -v ON_ERROR_STOP=1 "$TTHC_PG" -c "TRUNCATE public.bench_copy"
		sql+=$'\n'"\\copy public.bench_copy FROM '$W/rows.copy'"
	fi
	t0=$(now)
	printf '%s\nCOMMIT;\n' "$sql" | psql -XAq -v ON_ERROR_STOP=1 "$TTHC_PG" ||
		tp_die "the COPY of tthc-$name's rows failed"
	echo "$(python3 -c "print('%.3f' % ($(now) - $t0))") $rows"
}
read -r OWN_ING_S OWN_ING_ROWS < <(own_rows_copy ingest dossiers \
	commune_throughput_hourly province_throughput_daily)
read -r OWN_ROUTE_S OWN_ROUTE_ROWS < <(own_rows_copy route route_dossiers \
	procedure_level_daily procedure_routing_daily routing_anomalies_daily \
	procedure_level_by_month procedure_routing_by_month \
	routing_anomalies_by_month)
read -r OWN_ALERT_S OWN_ALERT_ROWS < <(own_rows_copy alert alert_dossiers \
	alert_commune_days alert_commune_ticks alert_partition_state \
	alert_provinces commune_backlog_daily alerts alert_outbox)
# How long each pipelined consumer waited for its batches in flight: for
# PostgreSQL, while its client had nothing left to do.
ING_W=$(bench_wait_s "$W/ingest.log")
ROUTE_W=$(bench_wait_s "$W/route.log")
ALERT_W=$(bench_wait_s "$W/alert.log")

RAW_RATE=$(rate "$MSGS" "$RAW_S")
DEC_RATE=$(rate "$MSGS" "$DEC_S")
DRATIO=$(pct "$DEC_RATE" "$RAW_RATE")
COPY_RATE=$(rate "$EVENTS" "$COPY_S")
ING_RATE=$(rate "$MSGS" "$(python3 -c "print($ING_S - $JOIN_S)")")
RATIO=$(pct "$ING_RATE" "$COPY_RATE")
OWN_ING_RATE=$(rate "$MSGS" "$OWN_ING_S")
OWN_ROUTE_RATE=$(rate "$MSGS" "$OWN_ROUTE_S")
OWN_ALERT_RATE=$(rate "$MSGS" "$OWN_ALERT_S")
# route and alert: the same group-join allowance as ingest
ROUTE_RATE=$(rate "$MSGS" "$(python3 -c "print($ROUTE_S - $JOIN_S)")")
ALERT_RATE=$(rate "$MSGS" "$(python3 -c "print($ALERT_S - $JOIN_S)")")
RRATIO="$(pct "$ROUTE_RATE" "$RAW_RATE") of raw consume, $(pct "$ROUTE_RATE" "$DEC_RATE") of decode-only"
ARATIO="$(pct "$ALERT_RATE" "$RAW_RATE") of raw consume, $(pct "$ALERT_RATE" "$DEC_RATE") of decode-only"

mkdir -p "$(dirname "$OUT")"
cat >"$OUT" <<MD
# Benchmarks

Measured by \`bench/run.sh --days $DAYS --dossiers-per-day $DOSSIERS_PER_DAY\` on
$(date -u +%Y-%m-%d), commit $(git -C "$ROOT" rev-parse --short HEAD),
machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo),
$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),
PostgreSQL $(psql -XAtq "$TTHC_PG" -c "SHOW server_version"), librdkafka mock
cluster (tthc-broker, 3 partitions per province), release build.

Stream: national, $DAYS days from 2025-09-03, $DOSSIERS_PER_DAY dossiers per working day:
$MSGS messages ($BYTES bytes), $EVENTS distinct events stored.

| what | time (s) | rate (events/s) | vs limit | peak RSS | waiting for PostgreSQL |
|---|---|---|---|---|---|
| limit: raw consume (librdkafka, no decoding) | $RAW_S | $RAW_RATE | | | |
| limit: raw COPY into a table like filing_events | $COPY_S | $COPY_RATE | | | |
| limit: decode-only (consume + decode + validate, tthc-check) | $DEC_S | $DEC_RATE | $DRATIO of raw consume | | |
| limit: tthc-ingest's rows, COPY once each (the events and $OWN_ING_ROWS others) | $OWN_ING_S | $OWN_ING_RATE | $(pct "$OWN_ING_RATE" "$COPY_RATE") of raw COPY | | |
| limit: tthc-route's rows, COPY once each ($OWN_ROUTE_ROWS) | $OWN_ROUTE_S | $OWN_ROUTE_RATE | $(pct "$OWN_ROUTE_RATE" "$RAW_RATE") of raw consume | | |
| limit: tthc-alert's rows, COPY once each ($OWN_ALERT_ROWS) | $OWN_ALERT_S | $OWN_ALERT_RATE | $(pct "$OWN_ALERT_RATE" "$RAW_RATE") of raw consume | | |
| tthc-ingest end to end (after a ${JOIN_S} s group join) | $ING_S | $ING_RATE | $RATIO of raw COPY, $(pct "$ING_RATE" "$OWN_ING_RATE") of its rows' COPY | $((ING_RSS / 1024)) MiB | $ING_W s |
| tthc-route end to end | $ROUTE_S | $ROUTE_RATE | $RRATIO, $(pct "$ROUTE_RATE" "$OWN_ROUTE_RATE") of its rows' COPY | $((ROUTE_RSS / 1024)) MiB | $ROUTE_W s |
| tthc-alert end to end | $ALERT_S | $ALERT_RATE | $ARATIO, $(pct "$ALERT_RATE" "$OWN_ALERT_RATE") of its rows' COPY | $((ALERT_RSS / 1024)) MiB | $ALERT_W s |
| tthc-admin rebuild ingest (from filing_events) | $RB_ING_S | $(rate "$EVENTS" "$RB_ING_S") | | $((RB_ING_RSS / 1024)) MiB | |
| tthc-admin rebuild route | $RB_ROUTE_S | $(rate "$EVENTS" "$RB_ROUTE_S") | | $((RB_ROUTE_RSS / 1024)) MiB | |
| tthc-admin rebuild alert | $RB_ALERT_S | $(rate "$EVENTS" "$RB_ALERT_S") | | $((RB_ALERT_RSS / 1024)) MiB | |

Rates count every consumed message (duplicates and dead letters included)
over the time from partition assignment (the ~3 s group join on the mock
broker is subtracted) to the last commit and exit. Consumers run one after
the other, each alone with PostgreSQL on the 2 cores. A rebuild counts the
stored events it reads from \`tthc.filing_events\` and applies through the
consumer's own handler, deleting and rewriting the service's tables in one
transaction (its RSS is the service binary's: \`tthc-admin\` execs it).

\`waiting for PostgreSQL\` is the time a consumer, its next batch already
staged, waited for the one in flight to commit (its exit line): its
client had nothing left to do, so a faster client would not shorten that
run. A consumer's "rows, COPY once each" is every row it left in its
tables (tthc-ingest: and the events) COPYed once, in one transaction, into
tables indexed as tthc's: the least PostgreSQL work that leaves those
tables as analysts read them, with nothing else running. The consumers
do more (a dossier's row is written again at every checkpoint it changes
in, counters are upserted, tthc-alert writes snapshots it prunes later),
so the limit bounds them from above (docs/performance.md, "The ceiling,
measured").
MD
tp_log "report written to $OUT"
cat "$OUT"
# The stream has no duplicates: every message is one stored event (this
# also catches a stream larger than the mock broker's ~5 MB per partition).
tp_assert_eq "$MSGS" "$EVENTS" "tthc-ingest stored every message"
tp_finish
