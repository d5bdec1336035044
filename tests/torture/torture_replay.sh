#!/usr/bin/env bash
# Torture: a producer replaying old segments. The stream is consumed, then
# (once tthc-ingest has caught up: "hours later" as far as the consumer is
# concerned) tthc-sim is run again with the same seed over old segments:
# the first days, a window in the middle, one province alone, and at
# --full the whole stream again. Every replayed event is a byte-identical
# duplicate arriving after its dossier moved on; the figures must not
# move: lost 0, duplicated 0.
#
#   BUILD_DIR=build-rel tests/torture/torture_replay.sh [--small|--full]
set -uo pipefail # no -e: checks exit codes itself (CONTRIBUTING.md)
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../integration/common_ingest.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_torture.sh"
tt_args "$@"

days=$(tt_size 7 28)

tp_ingest_setup
tt_produce_mix
tt_sim_bg --days "$days" --truth "$W/truth.json"
tt_ingest_bg "$W/ingest.log" --batch-size 1000
pid=$TT_PID
tt_sim_wait
tt_wait_caught_up 180
tp_assert_eq 0 $? "tthc-ingest caught up with the original stream"
tt_exact "original stream"
dups_before=$(tp_psql_val "SELECT count(*) FROM tthc.rejected_messages")

replays=(
	"--days 2"                                  # the first segment
	"--from 2025-10-03 --days 3"                # a window in the middle
	"--provinces 79 --days $days"               # one province again
)
((TT_FULL)) && replays+=("--days $days")        # everything again
replayed=0
for r in "${replays[@]}"; do
	before=$(tt_total)
	# shellcheck disable=SC2086 # word splitting wanted
	tt_sim_bg $r
	tt_sim_wait
	sent=$(($(tt_total) - before))
	replayed=$((replayed + sent))
	tp_log "replayed $sent messages ($r)"
	tt_wait_caught_up 180
	tp_assert_eq 0 $? "tthc-ingest consumed the replay ($r)"
done
tt_stop "$pid"
tp_assert_eq 0 $? "tthc-ingest exits 0 on SIGTERM"
tp_assert_eq "$dups_before" "$(tp_psql_val "SELECT count(*) FROM tthc.rejected_messages")" \
	"identical replays are duplicates, not dead letters"
tt_exact "after replaying $replayed old messages"
tp_finish
