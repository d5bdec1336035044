#!/usr/bin/env bash
# bench/rss_long.sh - memory and file descriptors of tthc-ingest over a
# long run: a national stream (default 60 days, about 3.3 million events),
# RSS and open fds sampled every 10 s while it consumes. Memory is bounded
# by the batch, not by the stream, so RSS must stay flat.
#
#   bench/rss_long.sh [--days N] [--dossiers-per-day N] [--partitions N]
#                     [--out FILE]
#
# The mock broker keeps only about 5 MB per partition (librdkafka's mock
# cluster drops its oldest segments beyond that), so longer streams need
# more partitions; the script checks that every produced message was
# stored, so a stream the broker could not hold fails loudly.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DAYS=60
DPD=21000
PARTS=24
OUT=/dev/stdout
while [[ $# -gt 0 ]]; do
	case $1 in
	--days) DAYS=$2; shift 2 ;;
	--dossiers-per-day) DPD=$2; shift 2 ;;
	--partitions) PARTS=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	*) echo "rss_long.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
export BUILD_DIR=${BUILD_DIR:-$ROOT/build}
# shellcheck source=../tests/integration/lib.sh
source "$ROOT/tests/integration/lib.sh"
B=$TTHC_BIN
tp_pg_start
tp_broker_start "$PARTS"
W=$(tp_workdir)
"$B/tthc-admin" migrate --pg "$TTHC_PG" --migrations "$ROOT/schemas/sql" \
	--reference "$ROOT/reference" >/dev/null
"$B/tthc-sim" --brokers "$TTHC_BROKERS" --reference "$ROOT/reference" \
	--schema "$ROOT/schemas/avro/1-filing_event.avsc" --from 2025-07-01 \
	--days "$DAYS" --dossiers-per-day "$DPD" --seed 11 >"$W/sim.log" 2>&1
MSGS=$(tail -n 1 "$W/sim.log" | grep -o '[0-9]*' | head -n 1)
tp_log "produced $MSGS messages"
"$B/tthc-ingest" --brokers "$TTHC_BROKERS" --pg "$TTHC_PG" \
	--schemas "$ROOT/schemas/avro" --exit-when-idle \
	--kafka.session.timeout.ms=6000 >"$W/ingest.log" 2>&1 &
pid=$!
t0=$SECONDS
echo "seconds,committed_messages,rss_kib,open_fds" >"$W/samples.csv"
while kill -0 "$pid" 2>/dev/null; do
	rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
	fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
	done_=$(tp_psql_val "SELECT coalesce(sum(next_offset), 0) FROM tthc.consumer_offsets")
	echo "$((SECONDS - t0)),$done_,$rss,$fds" >>"$W/samples.csv"
	sleep 10
done
wait "$pid"
cp "$W/ingest.log" /tmp/rss_long_ingest.log 2>/dev/null || true
python3 - "$W/samples.csv" "$MSGS" "$DAYS" "$DPD" <<'PY' >"$OUT"
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if int(r["rss_kib"]) > 0]
msgs, days, dpd = sys.argv[2:5]
def mib(k): return "%.0f MiB" % (int(k) / 1024)
print("## tthc-ingest memory over a long run\n")
print("`bench/rss_long.sh --days %s --dossiers-per-day %s`: %s messages, "
      "all stored, sampled every 10 s.\n" % (days, dpd, msgs))
print("| at | committed | RSS | open fds |\n|---|---|---|---|")
step = max(1, len(rows) // 12)
for r in rows[::step] + ([rows[-1]] if rows and (len(rows) - 1) % step else []):
    print("| %s s | %s | %s | %s |" % (r["seconds"], r["committed_messages"], mib(r["rss_kib"]), r["open_fds"]))
half = rows[len(rows) // 2:]
if rows:
    print("\nRSS in the second half of the run: min %s, max %s; open fds "
          "min %s, max %s." % (mib(min(int(r["rss_kib"]) for r in half)),
                               mib(max(int(r["rss_kib"]) for r in half)),
                               min(int(r["open_fds"]) for r in half),
                               max(int(r["open_fds"]) for r in half)))
PY
tp_assert_eq "$MSGS" "$(tp_psql_val "SELECT count(*) FROM tthc.filing_events")" \
	"every produced message was stored (none lost by the broker's retention)"
tp_finish
