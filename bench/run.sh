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

RAW_RATE=$(rate "$MSGS" "$RAW_S")
DEC_RATE=$(rate "$MSGS" "$DEC_S")
DRATIO=$(python3 -c "print('%.0f %%' % (100.0 * $DEC_RATE / $RAW_RATE))")
COPY_RATE=$(rate "$EVENTS" "$COPY_S")
ING_RATE=$(rate "$MSGS" "$(python3 -c "print($ING_S - $JOIN_S)")")
RATIO=$(python3 -c "print('%.0f %%' % (100.0 * $ING_RATE / $COPY_RATE))")
# route and alert: the same group-join allowance as ingest
ROUTE_RATE=$(rate "$MSGS" "$(python3 -c "print($ROUTE_S - $JOIN_S)")")
ALERT_RATE=$(rate "$MSGS" "$(python3 -c "print($ALERT_S - $JOIN_S)")")
RRATIO=$(python3 -c "print('%.0f %% of raw consume, %.0f %% of decode-only' % (100.0 * $ROUTE_RATE / $RAW_RATE, 100.0 * $ROUTE_RATE / $DEC_RATE))")
ARATIO=$(python3 -c "print('%.0f %% of raw consume, %.0f %% of decode-only' % (100.0 * $ALERT_RATE / $RAW_RATE, 100.0 * $ALERT_RATE / $DEC_RATE))")

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

| what | time (s) | rate (events/s) | vs limit | peak RSS |
|---|---|---|---|---|
| limit: raw consume (librdkafka, no decoding) | $RAW_S | $RAW_RATE | | |
| limit: raw COPY into a table like filing_events | $COPY_S | $COPY_RATE | | |
| limit: decode-only (consume + decode + validate, tthc-check) | $DEC_S | $DEC_RATE | $DRATIO of raw consume | |
| tthc-ingest end to end (after a ${JOIN_S} s group join) | $ING_S | $ING_RATE | $RATIO of raw COPY | $((ING_RSS / 1024)) MiB |
| tthc-route end to end | $ROUTE_S | $ROUTE_RATE | $RRATIO | $((ROUTE_RSS / 1024)) MiB |
| tthc-alert end to end | $ALERT_S | $ALERT_RATE | $ARATIO | $((ALERT_RSS / 1024)) MiB |
| tthc-admin rebuild ingest (from filing_events) | $RB_ING_S | $(rate "$EVENTS" "$RB_ING_S") | | $((RB_ING_RSS / 1024)) MiB |
| tthc-admin rebuild route | $RB_ROUTE_S | $(rate "$EVENTS" "$RB_ROUTE_S") | | $((RB_ROUTE_RSS / 1024)) MiB |
| tthc-admin rebuild alert | $RB_ALERT_S | $(rate "$EVENTS" "$RB_ALERT_S") | | $((RB_ALERT_RSS / 1024)) MiB |

Rates count every consumed message (duplicates and dead letters included)
over the time from partition assignment (the ~3 s group join on the mock
broker is subtracted) to the last commit and exit. Consumers run one after
the other, each alone with PostgreSQL on the 2 cores. A rebuild counts the
stored events it reads from \`tthc.filing_events\` and applies through the
consumer's own handler, deleting and rewriting the service's tables in one
transaction (its RSS is the service binary's: \`tthc-admin\` execs it).
MD
tp_log "report written to $OUT"
cat "$OUT"
# The stream has no duplicates: every message is one stored event (this
# also catches a stream larger than the mock broker's ~5 MB per partition).
tp_assert_eq "$MSGS" "$EVENTS" "tthc-ingest stored every message"
tp_finish
