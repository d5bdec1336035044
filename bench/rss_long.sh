#!/usr/bin/env bash
# bench/rss_long.sh - memory, file descriptors and rate of the consumers
# over a long run: a national stream (default 60 days, about 3.3 million
# events), each consumer run alone over all of it (tthc-ingest first: the
# others need its reference data only), RSS and open fds sampled every
# 10 s. Memory is bounded by the batch and the resident dossiers (at most
# --state-cap; tthc-alert: the open ones), not by the stream, so RSS must
# level off. The report extrapolates each rate to a national year.
#
#   bench/rss_long.sh [--days N] [--dossiers-per-day N] [--partitions N]
#                     [--consumers "ingest route alert"]
#                     [--pg-settings "K=V ..."] [--args "OPTIONS"]
#                     [--out FILE]
#
# --args adds options to every consumer's command line, split on spaces
# (e.g. "--batch-size 400000 --batch-ms 20000 --batch-bytes 67108864",
# the replay checkpoints of deploy/config/tthc-route.conf).
#
# --pg-settings runs PostgreSQL with those parameters (e.g. the sizing of
# docs/operations.md: "shared_buffers=2GB max_wal_size=16GB
# checkpoint_timeout=30min"); default: scripts/pg-local.sh's.
#
# The mock broker keeps only about 5 MB per partition (librdkafka's mock
# cluster drops its oldest segments beyond that), so longer streams need
# more partitions; the script checks that every produced message was
# stored, so a stream the broker could not hold fails loudly.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
source "$ROOT/bench/lib.sh"
DAYS=60
DOSSIERS_PER_DAY=21000
PARTITIONS=24
CONSUMERS=ingest
PG_SETTINGS=
OUT=
ARGS=
bench_args bench/rss_long.sh "days dossiers-per-day partitions consumers pg-settings args out" "$@"
bench_report_fd "$OUT"
read -r -a EXTRA <<<"$ARGS"
bench_stack "$PARTITIONS"
[[ -z $PG_SETTINGS ]] || bench_pg_settings "$PG_SETTINGS"
bench_sim 2025-07-01 "$DAYS" "$DOSSIERS_PER_DAY" 11
MSGS=$(tail -n 1 "$W/sim.log" | grep -o '[0-9]*' | head -n 1)
tp_log "produced $MSGS messages"
# run_sampled NAME: runs tthc-NAME over the whole stream, sampling it.
run_sampled() {
	local name=$1 pid t0 rss fds done_
	"$B/tthc-$name" --brokers "$TTHC_BROKERS" --pg "$TTHC_PG" \
		--schemas "$ROOT/schemas/avro" --exit-when-idle \
		--kafka.session.timeout.ms=6000 "${EXTRA[@]}" >"$W/$name.log" 2>&1 &
	pid=$!
	t0=$SECONDS
	echo "seconds,committed_messages,rss_kib,open_fds" >"$W/$name.csv"
	while kill -0 "$pid" 2>/dev/null; do
		rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
		fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
		done_=$(tp_psql_val "SELECT coalesce(sum(next_offset), 0) FROM tthc.consumer_offsets WHERE group_id = 'tthc-$name'")
		echo "$((SECONDS - t0)),$done_,$rss,$fds" >>"$W/$name.csv"
		sleep 10
	done
	local rc=0
	wait "$pid" || rc=$?
	tp_assert_eq 0 "$rc" "tthc-$name read the stream and exited 0"
	cp "$W/$name.log" "/tmp/rss_long_$name.log" 2>/dev/null || true
}
for c in $CONSUMERS; do
	tp_log "running tthc-$c over the stream"
	run_sampled "$c"
done
python3 - "$W" "$MSGS" "$DAYS" "$DOSSIERS_PER_DAY" "$PARTITIONS" "$CONSUMERS" "$PG_SETTINGS" "$ARGS" <<'PY' >&3
import csv, sys
w, msgs, days, dpd, parts, consumers, pgset, args = sys.argv[1:9]
def mib(k): return "%.0f MiB" % (int(k) / 1024)
print("## Memory and rate over a long run\n")
print("`bench/rss_long.sh --days %s --dossiers-per-day %s --partitions %s "
      "--consumers '%s'%s%s`: %s messages, all stored, each consumer run "
      "alone over the whole stream, sampled every 10 s.\n"
      % (days, dpd, parts, consumers,
         " --pg-settings '%s'" % pgset if pgset else "",
         " --args '%s'" % args if args else "", msgs))
for c in consumers.split():
    rows = [r for r in csv.DictReader(open("%s/%s.csv" % (w, c)))
            if int(r["rss_kib"]) > 0]
    if not rows:
        continue
    print("### tthc-%s\n" % c)
    print("| at | committed | RSS | open fds |\n|---|---|---|---|")
    step = max(1, len(rows) // 12)
    for r in rows[::step] + ([rows[-1]] if (len(rows) - 1) % step else []):
        print("| %s s | %s | %s | %s |" % (r["seconds"], r["committed_messages"],
                                           mib(r["rss_kib"]), r["open_fds"]))
    half = rows[len(rows) // 2:]
    first = next((r for r in rows if int(r["committed_messages"]) > 0), rows[0])
    last = rows[-1]
    secs = int(last["seconds"]) - int(first["seconds"])
    done = int(last["committed_messages"]) - int(first["committed_messages"])
    rate = done / secs if secs > 0 else 0
    print("\nRSS in the second half of the run: min %s, max %s; open fds "
          "min %s, max %s. Rate from the first commit to the last sample: "
          "%.0f events/s; a national year of 120M events at that rate: "
          "%.0f min.\n"
          % (mib(min(int(r["rss_kib"]) for r in half)),
             mib(max(int(r["rss_kib"]) for r in half)),
             min(int(r["open_fds"]) for r in half),
             max(int(r["open_fds"]) for r in half), rate,
             120e6 / rate / 60 if rate else 0))
PY
[[ " $CONSUMERS " != *" ingest "* ]] || tp_assert_eq "$MSGS" "$(tp_psql_val "SELECT count(*) FROM tthc.filing_events")" \
	"every produced message was stored (none lost by the broker's retention)"
tp_finish
