#!/usr/bin/env bash
# bench/rss_open.sh - memory of each consumer holding a million open
# dossiers: a stream of two working days at 900,000 dossiers a day
# (tthc-sim), cut before most of them are processed, so that at its end
# well over a million dossiers are open (the truth file counts them).
# Each consumer runs alone over the whole stream; its peak RSS (VmHWM)
# is reported with the dossiers it kept resident: tthc-ingest and
# tthc-route up to --state-cap (default 1,000,000, least recently used
# evicted), tthc-alert every open dossier of its partitions.
#
#   bench/rss_open.sh [--days N] [--dossiers-per-day N] [--partitions N]
#                     [--out FILE]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
source "$ROOT/bench/lib.sh"
DAYS=2
DOSSIERS_PER_DAY=900000
PARTITIONS=32
OUT=
bench_args bench/rss_open.sh "days dossiers-per-day partitions out" "$@"
bench_report_fd "$OUT"
bench_stack "$PARTITIONS"
# 2025-09-03 is a Wednesday: two working days.
bench_sim 2025-09-03 "$DAYS" "$DOSSIERS_PER_DAY" 13 --truth "$W/truth.json"
MSGS=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['messages_sent'])" "$W/truth.json")
OPEN=$(python3 -c "import json,sys; print(sum(p['open'] for p in json.load(open(sys.argv[1]))['provinces']))" "$W/truth.json")
tp_log "produced $MSGS messages; $OPEN dossiers open at the end"

# peak NAME: runs tthc-NAME over the stream; prints "peak_kib last_kib".
peak() {
	local name=$1 pid hwm=0 rss=0 v
	"$B/tthc-$name" --brokers "$TTHC_BROKERS" --pg "$TTHC_PG" \
		--schemas "$ROOT/schemas/avro" --exit-when-idle \
		--kafka.session.timeout.ms=6000 >"$W/$name.log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		v=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
		[[ -n $v && $v -gt $hwm ]] && hwm=$v
		v=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
		[[ -n $v && $v -gt 0 ]] && rss=$v
		sleep 1
	done
	wait "$pid" || tp_die "tthc-$name failed (see $W/$name.log)"
	echo "$hwm $rss"
}
resident() {
	grep -o 'state store: [0-9]* dossier' "$W/$1.log" | grep -o '[0-9]*' | tail -n 1
}
read -r ING_HWM ING_RSS < <(peak ingest)
ING_RES=$(resident ingest)
tp_assert_eq "$MSGS" "$(tp_psql_val "SELECT count(*) FROM tthc.filing_events")" \
	"every produced message was stored (none lost by the broker's retention)"
read -r RT_HWM RT_RSS < <(peak route)
RT_RES=$(resident route)
read -r AL_HWM AL_RSS < <(peak alert)
AL_RES=$(tp_psql_val "SELECT count(*) FROM tthc.alert_dossiers")
AL_OPEN=$(tp_psql_val "SELECT count(*) FROM tthc.alert_dossiers WHERE status IN ('submitted', 'processing', 'paused')")

python3 - "$MSGS" "$OPEN" "$DAYS" "$DOSSIERS_PER_DAY" "$PARTITIONS" \
	"$ING_HWM" "$ING_RSS" "$ING_RES" "$RT_HWM" "$RT_RSS" "$RT_RES" \
	"$AL_HWM" "$AL_RSS" "$AL_RES" "$AL_OPEN" <<'PY' >&3
import sys
a = sys.argv[1:]
msgs, opn, days, dpd, parts = a[:5]
rows = [("tthc-ingest", a[5], a[6], a[7]), ("tthc-route", a[8], a[9], a[10]),
        ("tthc-alert", a[11], a[12], a[13])]
print("## Memory with a million open dossiers\n")
print("`bench/rss_open.sh --days %s --dossiers-per-day %s --partitions %s`: "
      "%s messages; %s dossiers open at the end of the stream (tthc-sim's "
      "truth file, which counts processing and paused ones; tthc-alert "
      "holds %s not closed, submitted ones included, and the tombstones "
      "of the closed ones). "
      "Each consumer run alone over the whole stream.\n"
      % (days, dpd, parts, msgs, opn, a[14]))
print("| consumer | dossiers resident at the end | peak RSS | RSS at the end | peak per resident dossier |")
print("|---|---|---|---|---|")
for name, hwm, rss, res in rows:
    res = int(res or 0)
    print("| %s | %d | %.0f MiB | %.0f MiB | %s |" % (
        name, res, int(hwm) / 1024, int(rss) / 1024,
        "%.2f KiB" % (int(hwm) / res) if res else "—"))
PY
tp_finish
