#!/usr/bin/env bash
# tthc-ingest scaled out: two instances in one consumer group share the
# province partitions, a third joins mid-stream (a rebalance) and one is
# killed with kill -9 (its partitions move after its session times out).
# Every figure must equal the simulator's truth, exactly.
set -uo pipefail # no -e: checks exit codes itself (CONTRIBUTING.md)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/common_ingest.sh"

tp_ingest_setup
tp_sim --truth "$W/truth.json"
tp_produce <"$W/mix.jsonl"

tp_ingest --batch-size 300 --exit-when-idle >"$W/a.log" 2>&1 &
a=$!
tp_ingest --batch-size 300 --exit-when-idle >"$W/b.log" 2>&1 &
b=$!
sleep 4
tp_ingest --batch-size 300 --exit-when-idle >"$W/c.log" 2>&1 &
c=$!
sleep 3
kill -9 "$b" 2>/dev/null
wait "$a"
ra=$?
wait "$c"
rc=$?
wait "$b" 2>/dev/null
tp_assert_eq "0 0" "$ra $rc" "the surviving instances drain and exit 0"
# A last pass picks up anything the killed one held when the others left.
tp_ingest --exit-when-idle >"$W/d.log" 2>&1
tp_assert_eq 0 $? "a final pass drains"
assigned=$(grep -h "assigned" "$W"/a.log "$W"/c.log | wc -l)
[[ $assigned -ge 2 ]]
tp_assert_eq 0 $? "the group rebalanced ($assigned assignments seen)"
tp_check_truth two-instances

tp_finish
