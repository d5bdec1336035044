#!/usr/bin/env bash
# test_route_pipeline.sh - tthc-route's pipelined checkpoints (--pipeline:
# batch n+1 applied while batch n commits) give exactly the tables of one
# batch at a time, through the failures that hit a batch in flight: rows
# PostgreSQL refuses as data (the flight fails, goes back in front of the
# batch staged behind it and is bisected), a kill -9 of the consumer and
# its PostgreSQL connections terminated under it, again and again.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/common_pipeline.sh"
cd "$TP_ROOT"

tp_stack 3
"$TTHC_BIN/tthc-sim" --brokers "$TTHC_BROKERS" --provinces 48 \
	--from 2025-09-01 --days 14 --seed 11 --duplicate-rate 0.01 \
	>"$W/sim.log" 2>&1 || { cat "$W/sim.log" >&2; tp_die "tthc-sim failed"; }
# A stand-in for rows the data makes PostgreSQL refuse (class 23): every
# row of about one dossier in 256.
tp_psql_super_val "ALTER TABLE tthc.route_dossiers ADD CONSTRAINT tt_refused
	CHECK (right(md5(dossier_id), 2) <> 'ff')" >/dev/null

PIPE_NAME=route
PIPE_TABLES=(route_dossiers procedure_level_daily procedure_routing_daily
	routing_anomalies_daily procedure_level_by_month
	procedure_routing_by_month routing_anomalies_by_month)
pipe_consumer() {
	local run=()
	[[ $BASHPID != "$$" ]] && run=(exec)
	"${run[@]}" "$TTHC_BIN/tthc-route" --batch-size 40 --batch-ms 100 \
		--kafka.session.timeout.ms=6000 "$@"
}
pipe_reference
pipe_torture
tp_finish
