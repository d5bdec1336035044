#!/usr/bin/env bash
# Torture: consumer-group churn under a live stream. Every 2-4 s an
# instance of tthc-ingest joins or leaves the group (leaving is SIGTERM or,
# one time in three, kill -9), never more than three at once, for ~60 s
# (--small) or ~240 s (--full). Each join/leave is an eager rebalance; the
# offsets in PostgreSQL and the compare-and-set commit keep zombies out.
# The end must be exact: lost 0, duplicated 0.
#
#   BUILD_DIR=build-rel tests/torture/torture_churn.sh [--small|--full]
set -uo pipefail # no -e: checks exit codes itself (CONTRIBUTING.md)
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../integration/common_ingest.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_torture.sh"
tt_args "$@"

duration=$(tt_size 60 240)
days=$(tt_size 10 28)
rate=$(tt_size 1000 800)

tp_ingest_setup
tt_produce_mix
tt_sim_bg --days "$days" --rate "$rate" --truth "$W/truth.json"

running=()
joins=0 leaves=0 kills=0 max_seen=0 n=0
start() {
	n=$((n + 1))
	tt_ingest_bg "$W/ingest-$n.log" --batch-size 300
	running+=("$TT_PID")
	joins=$((joins + 1))
}
stop_one() {
	local i=$((RANDOM % ${#running[@]})) pid
	pid=${running[$i]}
	if ((RANDOM % 3 == 0)); then
		kill -9 "$pid" 2>/dev/null
		kills=$((kills + 1))
	else
		kill -TERM "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	running=("${running[@]:0:i}" "${running[@]:i+1}")
	leaves=$((leaves + 1))
}
end=$((SECONDS + duration))
start
while ((SECONDS < end)); do
	sleep "$((RANDOM % 3 + 2)).$((RANDOM % 10))"
	if ((${#running[@]} == 0)); then
		start
	elif ((${#running[@]} >= 3)); then
		stop_one
	elif ((RANDOM % 2)); then
		start
	else
		stop_one
	fi
	((${#running[@]} > max_seen)) && max_seen=${#running[@]}
	tp_log "churn: ${#running[@]} instance(s), $(tt_committed) committed"
done
tp_log "churn: $joins joins, $leaves leaves ($kills by kill -9), at most $max_seen at once"
((joins >= duration / 8 && max_seen <= 3 && max_seen >= 2))
tp_assert_eq 0 $? "churn happened: $joins joins, $leaves leaves, $kills kill -9, at most $max_seen at once (<= 3)"
for pid in "${running[@]}"; do kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
tt_sim_wait
tp_ingest --exit-when-idle >"$W/ingest-final.log" 2>&1
tp_assert_eq 0 $? "a final pass drains"
tt_caught_up
tp_assert_eq 0 $? "every partition committed up to its high watermark"
fenced=$(cat "$W"/ingest-*.log | grep -ciE 'fenced')
tp_log "fenced-out commits refused and retried: $fenced"
tt_exact "group churn ($joins joins, $leaves leaves)"
tp_finish
