#!/usr/bin/env bash
# test_alert_pipeline.sh - tthc-alert's pipelined checkpoints (--pipeline:
# batch n+1 applied to the partitions' state while batch n commits and
# its provinces are evaluated) give exactly the state, snapshots,
# counters and episodes of one batch at a time: through rows PostgreSQL
# refuses as data (the flight fails and is bisected), a kill -9 and its
# PostgreSQL connections terminated under it. Closed dossiers leave the
# state after their tombstone week, in attempts that are sealed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/common_pipeline.sh"
cd "$TP_ROOT"

tp_stack 3
pipe_stream --days 21 --laggards 3
pipe_refuse alert_dossiers

PIPE_NAME=alert
PIPE_TABLES=(alerts alert_outbox alert_dossiers alert_commune_days
	alert_commune_ticks alert_partition_state alert_provinces
	commune_backlog_daily)
pipe_reference
# The daily prune (tp_sweep_finish): per partition and commune, one
# snapshot left at or before the start of the Vietnam day of the
# province's last evaluated tick.
PRUNE_BOUND="date_trunc('day', (p.next_tick - interval '1 hour')
	AT TIME ZONE 'Asia/Ho_Chi_Minh') AT TIME ZONE 'Asia/Ho_Chi_Minh'"
tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM (SELECT 1
	FROM tthc.alert_commune_ticks t JOIN tthc.alert_provinces p
	USING (province_code) WHERE t.tick <= $PRUNE_BOUND
	GROUP BY t.topic, t.partition, t.commune_code HAVING count(*) > 1) x")" \
	"the prune leaves one snapshot per partition and commune before its day"
tp_assert_eq 1 "$(tp_psql_val "SELECT (count(*) > 100)::int
	FROM tthc.alert_commune_ticks t JOIN tthc.alert_provinces p
	USING (province_code) WHERE t.tick <= $PRUNE_BOUND")" \
	"snapshots older than the day are kept (one per partition and commune)"
tp_log "episodes: $(tp_psql_val "SELECT count(*) FROM tthc.alerts")"
tp_assert_eq 1 "$(tp_psql_val "SELECT (count(*) > 0)::int FROM tthc.alerts")" \
	"the stream raises alerts"
pipe_torture
tp_finish
