#!/usr/bin/env bash
# bench/rss_long.sh - memory, file descriptors and rate of the consumers
# over a long run: a national stream (default 60 days, about 3.3 million
# events), each consumer run alone over all of it (tthc-ingest first: the
# others need its reference data only), RSS and open fds sampled every
# 10 s. Memory is bounded by the batch and the resident dossiers (at most
# --state-cap; tthc-alert: the open ones), not by the stream, so RSS must
# level off. The report extrapolates each rate to a national year, and
# ends each consumer with the machine's CPU over its run (the cores' busy
# and idle time; the consumer's, PostgreSQL's by kind of process and
# tthc-broker's shares; the CPU per event, and the year it would take
# with every core busy).
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
	local name=$1 pid pids=() wrappers=() watch t0 rss fds done_ i rc
	bench_cpu_watch "$W/$name.cpu" &
	watch=$!
	for i in $(seq 1 "$INSTANCES"); do
		rm -f "$W/$name.$i.pid"
		bench_run_usage "$W/$name.$i.usage" "$W/$name.$i.pid" \
			"$B/tthc-$name" --brokers "$TTHC_BROKERS" --pg "$TTHC_PG" \
			--schemas "$ROOT/schemas/avro" --exit-when-idle \
			--kafka.session.timeout.ms=6000 "${EXTRA[@]}" \
			>"$W/$name.$i.log" 2>&1 &
		wrappers+=($!)
	done
	for i in $(seq 1 "$INSTANCES"); do
		tp_wait_for "test -s '$W/$name.$i.pid'" 10 ||
			tp_die "tthc-$name (instance $i) did not start"
		pids+=("$(cat "$W/$name.$i.pid")")
	done
	t0=$SECONDS
	echo "seconds,committed_messages,rss_kib,open_fds" >"$W/$name.csv"
	while any_alive; do
		rss=0 fds=0
		for pid in "${pids[@]}"; do
			kill -0 "$pid" 2>/dev/null || continue
			rss=$((rss + $(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)))
			fds=$((fds + $(ls "/proc/$pid/fd" 2>/dev/null | wc -l)))
		done
		done_=$(tp_psql_val "SELECT coalesce(sum(next_offset), 0) FROM tthc.consumer_offsets WHERE group_id = 'tthc-$name'")
		echo "$((SECONDS - t0)),$done_,$rss,$fds" >>"$W/$name.csv"
		# the next sample in 10 s, or the end as soon as all have exited
		for _ in $(seq 1 20); do
			any_alive || break
			sleep 0.5
		done
	done
	wait "${wrappers[@]}"
	kill -TERM "$watch"
	wait "$watch"
	for i in $(seq 1 "$INSTANCES"); do
		read -r _ _ _ rc <"$W/$name.$i.usage"
		tp_assert_eq 0 "$rc" "tthc-$name (instance $i) read the stream and exited 0"
		cp "$W/$name.$i.log" "/tmp/rss_long_$name.$i.log" 2>/dev/null || true
	done
}
# any_alive: whether one of run_sampled's pids still runs.
any_alive() {
	local pid
	for pid in "${pids[@]}"; do
		kill -0 "$pid" 2>/dev/null && return 0
	done
	return 1
}
for c in $CONSUMERS; do
	tp_log "running tthc-$c over the stream"
	run_sampled "$c"
done
python3 - "$W" "$MSGS" "$DAYS" "$DOSSIERS_PER_DAY" "$PARTITIONS" "$CONSUMERS" "$PG_SETTINGS" "$ARGS" "$INSTANCES" <<'PY' >&3
import csv, os, sys
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
    # The machine's CPU over the run (bench_cpu_watch), and the
    # consumers' own (their usage files: wall, user, system, exit code).
    lines = open("%s/%s.cpu" % (w, c)).read().splitlines()
    busy, idle, steal, pg, broker = (float(x) for x in lines[0].split())
    usage = [[float(x) for x in open("%s/%s.%d.usage" % (w, c, i)).read().split()]
             for i in range(1, int(inst) + 1)]
    wall = max(u[0] for u in usage)
    client = sum(u[1] + u[2] for u in usage)
    ncpu = os.cpu_count()
    per = busy / int(msgs) * 1e6
    print("CPU from the start to the exit (%.0f s on %d cores): the machine "
          "busy %.0f %% of the time (%.0f s: tthc-%s %.0f s, PostgreSQL "
          "%.0f s, tthc-broker %.0f s, the rest %.0f s), idle %.0f s, "
          "stolen by the hypervisor %.0f s; %.1f µs of CPU an event. At "
          "that work per event, with every core busy all the time, a "
          "national year of 120M events would take %.0f min.\n"
          % (wall, ncpu, 100 * busy / (busy + idle + steal),
             busy, c, client, pg, broker, busy - client - pg - broker,
             idle, steal, per, 120e6 * per / 1e6 / ncpu / 60))
    kinds = [l.split("\t") for l in lines[1:]]
    seen = sum(float(v) for _, v in kinds)
    print("PostgreSQL's %.0f s by process (watched every 0.5 s): %s, "
          "processes too short to be seen %.0f s.\n"
          % (pg, ", ".join("%s %.0f s" % (k, float(v)) for k, v in kinds
                            if float(v) >= 0.5), pg - seen))
PY
[[ " $CONSUMERS " != *" ingest "* ]] || tp_assert_eq "$MSGS" "$(tp_psql_val "SELECT count(*) FROM tthc.filing_events")" \
	"every produced message was stored (none lost by the broker's retention)"
tp_finish
