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
#                     [--instances N] [--out FILE]
#
# --args adds options to every consumer's command line, split on spaces
# (e.g. "--batch-size 400000 --batch-ms 20000 --batch-bytes 67108864",
# the replay checkpoints of deploy/config/tthc-route.conf).
#
# --instances N runs N processes of each consumer in its group at once (a
# province topic's partitions are shared among them, each instance with
# its own PostgreSQL connection: docs/operations.md, "Sizing"); RSS and
# open fds are then their sums.
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
INSTANCES=1
bench_args bench/rss_long.sh "days dossiers-per-day partitions consumers pg-settings args instances out" "$@"
bench_report_fd "$OUT"
read -r -a EXTRA <<<"$ARGS"
bench_stack "$PARTITIONS"
[[ -z $PG_SETTINGS ]] || bench_pg_settings "$PG_SETTINGS"
bench_sim 2025-07-01 "$DAYS" "$DOSSIERS_PER_DAY" 11
MSGS=$(tail -n 1 "$W/sim.log" | grep -o '[0-9]*' | head -n 1)
tp_log "produced $MSGS messages"
# run_sampled NAME: runs tthc-NAME (INSTANCES processes) over the whole
# stream, sampling them.
run_sampled() {
	local name=$1 pid pids=() t0 rss fds done_ alive i rc
	for i in $(seq 1 "$INSTANCES"); do
		"$B/tthc-$name" --brokers "$TTHC_BROKERS" --pg "$TTHC_PG" \
			--schemas "$ROOT/schemas/avro" --exit-when-idle \
			--kafka.session.timeout.ms=6000 "${EXTRA[@]}" \
			>"$W/$name.$i.log" 2>&1 &
		pids+=($!)
	done
	t0=$SECONDS
	echo "seconds,committed_messages,rss_kib,open_fds" >"$W/$name.csv"
	while :; do
		alive=0 rss=0 fds=0
		for pid in "${pids[@]}"; do
			kill -0 "$pid" 2>/dev/null || continue
			alive=1
			rss=$((rss + $(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)))
			fds=$((fds + $(ls "/proc/$pid/fd" 2>/dev/null | wc -l)))
		done
		[[ $alive == 1 ]] || break
		done_=$(tp_psql_val "SELECT coalesce(sum(next_offset), 0) FROM tthc.consumer_offsets WHERE group_id = 'tthc-$name'")
		echo "$((SECONDS - t0)),$done_,$rss,$fds" >>"$W/$name.csv"
		sleep 10
	done
	for i in "${!pids[@]}"; do
		rc=0
		wait "${pids[$i]}" || rc=$?
		tp_assert_eq 0 "$rc" "tthc-$name (instance $((i + 1))) read the stream and exited 0"
		cp "$W/$name.$((i + 1)).log" "/tmp/rss_long_$name.$((i + 1)).log" 2>/dev/null || true
	done
}
for c in $CONSUMERS; do
	tp_log "running tthc-$c over the stream"
	run_sampled "$c"
done
python3 - "$W" "$MSGS" "$DAYS" "$DOSSIERS_PER_DAY" "$PARTITIONS" "$CONSUMERS" "$PG_SETTINGS" "$ARGS" "$INSTANCES" <<'PY' >&3
import csv, sys
w, msgs, days, dpd, parts, consumers, pgset, args, inst = sys.argv[1:10]
def mib(k): return "%.0f MiB" % (int(k) / 1024)
print("## Memory and rate over a long run\n")
print("`bench/rss_long.sh --days %s --dossiers-per-day %s --partitions %s "
      "--consumers '%s'%s%s%s`: %s messages, all stored, each consumer run "
      "alone over the whole stream%s, sampled every 10 s.\n"
      % (days, dpd, parts, consumers,
         " --pg-settings '%s'" % pgset if pgset else "",
         " --args '%s'" % args if args else "",
         " --instances %s" % inst if inst != "1" else "", msgs,
         " (%s instances at once: RSS and fds are their sums)" % inst
         if inst != "1" else ""))
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
