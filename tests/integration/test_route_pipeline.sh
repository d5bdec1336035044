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
pipe_stream --days 14
pipe_refuse route_dossiers

PIPE_NAME=route
PIPE_TABLES=(route_dossiers procedure_level_daily procedure_routing_daily
	routing_anomalies_daily procedure_level_by_month
	procedure_routing_by_month routing_anomalies_by_month)
pipe_reference
pipe_torture
tp_finish
