#!/usr/bin/env bash
# Torture: kill -9 of tthc-ingest at random moments during a long live
# stream (tthc-sim at a fixed rate), 5 times (--small, CI) or 20 (--full),
# each restart resuming from the offsets stored in PostgreSQL; then a final
# pass. Every figure must equal the simulator's truth: lost 0, duplicated 0.
#
#   BUILD_DIR=build-rel tests/torture/torture_kill.sh [--small|--full]
set -uo pipefail # no -e: checks exit codes itself (CONTRIBUTING.md)
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../integration/common_ingest.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_torture.sh"
tt_kill_setup ingest "$@"
tt_sim_bg --days "$days" --rate "$rate" --truth "$W/truth.json"

tt_kill_loop ingest "$kills"
tt_sim_wait
tp_ingest --exit-when-idle >"$W/ingest-final.log" 2>&1
tp_assert_eq 0 $? "tthc-ingest --exit-when-idle drains after $kills kills"
tt_caught_up
tp_assert_eq 0 $? "every partition committed up to its high watermark once the last pass ends"
tt_exact "kill-9 x$kills"
tp_finish
