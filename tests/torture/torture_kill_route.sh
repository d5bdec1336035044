#!/usr/bin/env bash
# Torture: kill -9 of tthc-route at random moments during a long live
# stream, 5 times (--small, CI) or 20 (--full), each restart resuming from
# the offsets stored in PostgreSQL, then a final pass. An uninterrupted
# tthc-ingest runs alongside: every aggregate of tthc-route must equal what
# SQL computes from tthc-ingest's tables (which must equal the simulator's
# truth): transfers, per-level counters, histograms, anomalies.
#
#   BUILD_DIR=build-rel tests/torture/torture_kill_route.sh [--small|--full]
set -uo pipefail # no -e: checks exit codes itself (CONTRIBUTING.md)
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../integration/common_ingest.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../integration/common_route.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_torture.sh"
tt_kill_setup route "$@"
tt_sim_bg --days "$days" --rate "$rate" --truth "$W/truth.json"
tt_ingest_bg "$W/ingest.log"
INGEST_PID=$TT_PID

tt_kill_loop route "$kills"
tt_sim_wait
tt_wait_caught_up 600 || tp_die "tthc-ingest did not catch up"
tt_stop "$INGEST_PID"
tp_assert_eq 0 $? "the uninterrupted tthc-ingest exits 0 on SIGTERM"
tt_consumer route --exit-when-idle >"$W/route-final.log" 2>&1
tp_assert_eq 0 $? "tthc-route --exit-when-idle drains after $kills kills"
tt_caught_up route
tp_assert_eq 0 $? "tthc-route committed every partition up to its high watermark"
tt_exact "ingest beside route kills"
tp_route_exact "route kill-9 x$kills"
printf 'figures route kill-9 x%d: events checked %d, every aggregate equal to SQL over tthc-ingest'"'"'s tables\n' \
	"$kills" "$(tp_psql_val "SELECT count(*) FROM tthc.filing_events")"
tp_finish
