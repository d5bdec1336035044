#!/usr/bin/env bash
# bench/breakdown.sh - where a consumer's time goes: one consumer over a
# national stream with every statement's duration logged by PostgreSQL
# (log_min_duration_statement = 0) and the consumer's own CPU time, so the
# client (decode, validate, apply, COPY text) and each kind of statement
# can be set against the wall-clock time of the run. The client and the
# server alternate (one connection, one transaction at a time), so the
# wall time is about client CPU + statement time + waiting for Kafka.
#
#   bench/breakdown.sh --consumer ingest|route|alert [--days N]
#                      [--dossiers-per-day N] [--partitions N] [--out FILE]
#                      [--pg-settings 'name=value ...'] [--args 'ARGS']
#                      [--perf FILE]
#
#   --pg-settings  PostgreSQL settings for the run (ALTER SYSTEM, restart),
#                  e.g. docs/operations.md's 'shared_buffers=2GB ...'
#   --args         options added to the consumer's command line, split on
#                  spaces (e.g. a deploy config's --batch-size 200000 ...)
#   --perf         the consumer runs under perf record (499 samples a
#                  second, linux-perf), its data written to FILE; the
#                  report ends with the functions that took the most
#                  samples in its threads, librdkafka's (rdk:) aside
#                  (a flat profile: the libraries
#                  have no frame pointers to walk; the client CPU then
#                  includes perf's own)
#
# Logging every statement costs a little itself: compare the shares, and
# take rates from bench/run.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
source "$ROOT/bench/lib.sh"
CONSUMER=
DAYS=10
DOSSIERS_PER_DAY=20000
PARTITIONS=3
OUT=
PG_SETTINGS=
ARGS=
PERF=
bench_args bench/breakdown.sh "consumer days dossiers-per-day partitions out pg-settings args perf" "$@"
bench_report_fd "$OUT"
read -r -a EXTRA <<<"$ARGS"
RUN=("$B/tthc-$CONSUMER")
if [[ -n $PERF ]]; then
	command -v perf >/dev/null || tp_die "--perf needs perf (linux-perf)"
	RUN=("$(command -v perf)" record -q -F 499 -o "$PERF" "${RUN[@]}")
fi
case $CONSUMER in
ingest | route | alert) ;;
*) echo "breakdown.sh: --consumer ingest, route or alert" >&2; exit 2 ;;
esac
bench_stack "$PARTITIONS"
[[ -z $PG_SETTINGS ]] || bench_pg_settings "$PG_SETTINGS"
bench_sim 2025-09-03 "$DAYS" "$DOSSIERS_PER_DAY" 7
MSGS=$(tail -n 1 "$W/sim.log" | grep -o '[0-9]*' | head -n 1)
psql -XAq -v ON_ERROR_STOP=1 "$TTHC_PG_SUPER" \
	-c "ALTER SYSTEM SET log_min_duration_statement = 0" \
	-c "SELECT pg_reload_conf()" >/dev/null
sleep 1
: >"$TP_PG_DIR/server.log.mark"
OFFSET=$(stat -c %s "$TP_PG_DIR/server.log")

# The consumer under a small wrapper that reports its CPU time.
bench_run_usage "$W/usage" "$W/pid" "${RUN[@]}" --brokers "$TTHC_BROKERS" \
	--pg "$TTHC_PG" --schemas "$ROOT/schemas/avro" --exit-when-idle \
	--kafka.session.timeout.ms=6000 ${EXTRA[@]+"${EXTRA[@]}"} \
	2>"$W/consumer.log"
read -r WALL USR SYS RC <"$W/usage"
[[ $RC == 0 ]] || tp_die "tthc-$CONSUMER exited $RC (see $W/consumer.log)"
# the run's one check, so that tp_finish, which fails a run of none, passes
tp_assert_eq 0 "$RC" "tthc-$CONSUMER read the stream and exited 0"
tail -c +"$((OFFSET + 1))" "$TP_PG_DIR/server.log" >"$W/statements.log"

python3 - "$W/statements.log" "$W/consumer.log" "$CONSUMER" "$MSGS" \
	"$DAYS" "$DOSSIERS_PER_DAY" "$WALL" "$USR" "$SYS" "$PARTITIONS" \
	"$PG_SETTINGS" "$ARGS" <<'PY' >&3
import collections, re, sys, datetime
log, clog, consumer, msgs, days, dpd, wall, usr, sys_, parts, pgs, args = sys.argv[1:13]
wall, usr, sys_ = float(wall), float(usr), float(sys_)
# The group join: from "consuming" to the first assignment.
ts = []
for l in open(clog):
    m = re.search(r'ts="([^"]+)\+00".*msg="(consuming|assigned)', l)
    if m:
        ts.append(datetime.datetime.fromisoformat(m.group(1)))
join = (ts[1] - ts[0]).total_seconds() if len(ts) > 1 else 0.0
kinds = collections.OrderedDict()
def kind(stmt):
    s = " ".join(stmt.split())
    for pat in (r"^(COPY \S+)", r"^(INSERT INTO \S+)", r"^(UPDATE \S+)",
                r"^(DELETE FROM \S+)", r"^(WITH \w+ AS)", r"^SELECT .*? FROM (\S+)",
                r"^(SET LOCAL client_min_messages)", r"^(\w+)"):
        m = re.search(pat, s, re.I)
        if m:
            k = m.group(0) if pat.startswith("^SELECT") else m.group(1)
            if pat.startswith("^SELECT"):
                k = "SELECT … FROM " + m.group(1)
            if k.startswith("SET LOCAL client_min_messages"):
                k = "temporary tables (SET LOCAL; CREATE TEMP TABLE)"
            return k.rstrip(";,(")
    return s[:40]
total = collections.Counter()
count = collections.Counter()
cur = None
for l in open(log):
    m = re.search(r"duration: ([0-9.]+) ms(?:\s+(statement|execute [^:]*|parse [^:]*|bind [^:]*): (.*))?", l)
    if not m:
        continue
    ms = float(m.group(1))
    stmt = m.group(3)
    if stmt is None:          # a bind/execute logged apart: same statement
        k = cur or "?"
    else:
        k = kind(stmt)
        cur = k
    total[k] += ms
    if m.group(2) and (m.group(2) == "statement" or m.group(2).startswith("execute")):
        count[k] += 1
server = sum(total.values()) / 1000.0
print("## Where tthc-%s's time goes\n" % consumer)
extra = "".join(" --%s '%s'" % (n, v) for n, v in (("pg-settings", pgs), ("args", args)) if v)
print("`bench/breakdown.sh --consumer %s --days %s --dossiers-per-day %s "
      "--partitions %s%s`: %s messages; wall time %.1f s, of which the group "
      "join %.1f s; "
      "every statement's duration logged by PostgreSQL "
      "(`log_min_duration_statement = 0`), the consumer's CPU time from "
      "the kernel.\n" % (consumer, days, dpd, parts, extra, msgs, wall, join))
print("| where | time | share of the run after the join |")
print("|---|---|---|")
run = max(wall - join, 0.001)
print("| client CPU (decode, validate, apply, COPY rows, libpq) | %.1f s | %.0f %% |" % (usr + sys_, 100 * (usr + sys_) / run))
for k, v in total.most_common():
    if v / 1000.0 < 0.05:
        continue
    print("| `%s` (%d) | %.1f s | %.0f %% |" % (k, count[k], v / 1000.0, 100 * v / 1000.0 / run))
rest = sum(v for k, v in total.items() if v / 1000.0 < 0.05) / 1000.0
print("| other statements | %.1f s | %.0f %% |" % (rest, 100 * rest / run))
other = run - (usr + sys_) - server
print("| neither (waiting for Kafka, scheduling, the two overlapping) | %.1f s | %.0f %% |" % (other, 100 * other / run))
PY
if [[ -n $PERF ]]; then
	{
		printf '\n`perf report -i %s --comm tthc-%s --no-children --sort dso,symbol`, the first 25:\n\n```\n' "$PERF" "$CONSUMER"
		perf report -i "$PERF" --comm "tthc-$CONSUMER" --no-children \
			--sort dso,symbol --stdio 2>/dev/null | grep '%' | head -n 25
		printf '```\n'
	} >&3
fi
tp_finish
