#!/usr/bin/env bash
# Torture: a long run. About 300k events (--small) or 13.7 million (--full)
# through one tthc-ingest process, sampling its resident memory (VmRSS)
# and open file descriptors every few seconds: both must stay flat once it
# is warm (no growth with the number of events or dossiers), and the end
# must be exact: lost 0, duplicated 0. The samples are printed as
# "sample T_s committed rss_kb fds" lines.
#
#   BUILD_DIR=build-rel tests/torture/torture_soak.sh [--small|--full]
set -uo pipefail # no -e: checks exit codes itself (CONTRIBUTING.md)
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../integration/common_ingest.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_torture.sh"
tt_args "$@"

if ((TT_FULL)); then
	# all 34 provinces, 28 days at 190,000 dossiers per working day:
	# 13.65 million messages (13.5 million distinct events)
	sim_args=(--provinces "$(tail -n +2 "$TP_ROOT/reference/provinces.csv" | cut -d, -f1 | paste -sd,)"
		--days 28 --dossiers-per-day 190000 --rate 6000)
	export TP_PARTITIONS=32 # ~5 MiB kept per partition by the mock broker
	every=10
else
	sim_args=(--days 24 --rate 6000)
	# 16 partitions per province: the end checks read the whole log back
	# (tp-log-ids), so nothing may be evicted even after tthc-ingest read
	# it; with 3, province 79's partitions outgrow the mock's ~5 MiB
	export TP_PARTITIONS=16
	every=2
fi
# --rate: the librdkafka mock broker keeps at most 5 MiB (and 100,000
# message sets) per partition and drops the oldest beyond that, so the
# stream is paced for tthc-ingest to read every message before the mock
# evicts it (a real broker's retention is days). Unpaced, a consumer that
# starts late finds the oldest messages gone.

tp_ingest_setup
tt_produce_mix
tt_sim_bg "${sim_args[@]}" --truth "$W/truth.json"
# --state-cap: the state store keeps up to that many dossiers resident
# (1,000,000 by default, docs/ingest.md), so RSS grows with the dossiers
# until the cap; 5,000 is reached within the warm-up, after which the
# store evicts as many as it adds and memory must stay flat.
tt_ingest_bg "$W/ingest.log" --batch-size 2000 --state-cap 5000
pid=$TT_PID
samples=$W/samples.txt
t0=$SECONDS
limit=$(tt_size 600 14400)
while kill -0 "$pid" 2>/dev/null; do
	rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null)
	fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	done_n=$(tt_committed 2>/dev/null || echo 0)
	[[ -n "$rss" ]] && printf 'sample %d %d %d %d\n' "$((SECONDS - t0))" "$done_n" "$rss" "$fds" | tee -a "$samples"
	if ! tt_sim_running && [[ -z "${total:-}" ]]; then
		tt_sim_wait
		total=$(tt_total)
	fi
	[[ -n "${total:-}" ]] && tt_caught_up && break
	((SECONDS - t0 < limit)) || tp_die "not done after ${limit}s ($done_n of ${total:-?} committed)"
	sleep "$every"
done
tt_stop "$pid"
tp_assert_eq 0 $? "tthc-ingest ran through the whole stream and exits 0 on SIGTERM"

# Flat: after warm-up (the first quarter of the committed messages), the
# largest RSS is within 10 % + 8 MB of the RSS at the end of the warm-up,
# and the fd count varies by at most 2.
read -r verdict detail < <(awk -v total="$total" '
	$3 >= total / 4 { n++; if (n == 1) { base = $4; lo = $5; hi = $5 }
		if ($4 > max) max = $4; if ($5 < lo) lo = $5; if ($5 > hi) hi = $5 }
	END { ok = (n >= 3 && max <= base * 1.10 + 8192 && hi - lo <= 2)
		printf "%s samples=%d rss_after_warmup_kb=%d rss_max_kb=%d fds=%d..%d\n",
			ok ? "flat" : "growing", n, base, max, lo, hi }' "$samples")
tp_log "memory and fds after warm-up: $detail"
fds_flat=$(awk -v total="$total" '$3 >= total / 4 { n++; if (n == 1) { lo = $5; hi = $5 }
	if ($5 < lo) lo = $5; if ($5 > hi) hi = $5 } END { print (n >= 3 && hi - lo <= 2) ? "flat" : "growing" }' "$samples")
tp_assert_eq flat "$fds_flat" "open fds stay flat ($detail)"
# ldd's output taken whole: `ldd | grep -q` under pipefail fails when grep
# exits at the first match while ldd still writes (SIGPIPE), as on a
# loaded machine.
libs=$(ldd "$TTHC_BIN/tthc-ingest")
if [[ $libs == *libasan* ]]; then
	# AddressSanitizer keeps freed memory in quarantine (up to 256 MiB) and
	# adds shadow memory, so RSS does not measure the program here;
	# scripts/test.sh runs this script again on the release build.
	tp_log "sanitizer build: RSS reported above, asserted only on release builds"
else
	tp_assert_eq flat "$verdict" "RSS and open fds stay flat ($detail)"
fi
tt_exact "long run of $total messages"
tp_finish
