#!/usr/bin/env bash
# Torture: kill -9 of tthc-ingest at random moments during a long live
# stream (tthc-sim at a fixed rate), 5 times (--small, CI) or 20 (--full),
# each restart resuming from the offsets stored in PostgreSQL; then a final
# pass. Every figure must equal the simulator's truth: lost 0, duplicated 0.
#
#   BUILD_DIR=build-rel tests/torture/torture_kill.sh [--small|--full]
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../integration/common_ingest.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_torture.sh"
tt_args "$@"

kills=$(tt_size "${TT_KILLS:-5}" 20)
days=$(tt_size 10 28)
rate=$(tt_size 1200 800) # events/s per tthc-sim's --rate (about 2x that in all)

tp_ingest_setup
tt_produce_mix
tt_sim_bg --days "$days" --rate "$rate" --truth "$W/truth.json"

mid=0 prev=0 advanced=0
for ((i = 1; i <= kills; i++)); do
	tt_ingest_bg "$W/ingest-$i.log" --batch-size 300
	# A random moment 0.0 .. 2.9 s after this instance's first commit: a
	# restart waits for the killed member's session to time out and for
	# the group to settle (the first "assigned" can be followed by another
	# rebalance, and a slow sanitized build needs seconds before its first
	# batch), so waiting for "assigned" alone let kills land before any
	# work. Waiting for progress makes each kill land among batches.
	tp_wait_for "(( \$(tt_committed 2>/dev/null || echo 0) > $prev ))" 90 ||
		tp_log "instance $i committed nothing within 90 s"
	sleep "$((RANDOM % 3)).$((RANDOM % 10))"
	live=0
	tt_sim_running && live=1
	kill -9 "$TT_PID" 2>/dev/null
	wait "$TT_PID" 2>/dev/null
	stored=$(tt_committed)
	((stored > prev)) && advanced=$((advanced + 1))
	((live)) && mid=$((mid + 1))
	tp_log "kill -9 #$i (stream live: $live): $stored messages committed"
	prev=$stored
done
tt_sim_wait
[[ $mid -ge $((kills / 2 + 1)) ]]
tp_assert_eq 0 $? "most kill -9 landed while the stream was live ($mid of $kills)"
[[ $advanced -ge $((kills / 2 + 1)) ]]
tp_assert_eq 0 $? "instances between kills made progress ($advanced of $kills)"
tp_ingest --exit-when-idle >"$W/ingest-final.log" 2>&1
tp_assert_eq 0 $? "tthc-ingest --exit-when-idle drains after $kills kills"
tp_assert_eq "$(tt_total)" "$(tt_committed)" "every message committed once the last pass ends"
tt_exact "kill-9 x$kills"
tp_finish
