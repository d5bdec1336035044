#!/usr/bin/env bash
# test_alert_pipeline.sh - tthc-alert's pipelined checkpoints (--pipeline:
# batch n+1 applied to the partitions' state while batch n commits and
# its provinces are evaluated) give exactly the state, snapshots,
# counters and episodes of one batch at a time: through rows PostgreSQL
# refuses as data (the flight fails and is bisected), a kill -9 and its
# PostgreSQL connections terminated under it, and two instances sharing
# the partitions. Closed dossiers leave the state after their tombstone
# week, in attempts that are sealed.
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
# One instance holds every partition: once it has read a province's
# snapshots from the table, those it needs are the ones it wrote and
# kept, until an attempt does not commit (here: each bisection). Each
# such evaluation read the table too and compared, row by row
# (verify-snapshots, tests/integration/lib.sh).
SNAPS=$(grep -o 'snapshots from memory [0-9]* time(s), from PostgreSQL [0-9]*' \
	"$W/alert-ref.log" | tail -n 1)
tp_log "reference run: $SNAPS"
tp_assert_eq 1 "$(awk '{ print ($4 > 0 && $8 > 0) }' <<<"$SNAPS")" \
	"evaluations took the snapshots kept in memory (each checked against the table)"
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

# Two instances share the province's partitions (and, since migration 025,
# its day counter rows: each adds its partitions' deltas in turn): the
# tables of one instance one batch at a time, whoever held which
# partition when.
pipe_reset
pipe_consumer >"$W/alert-a.log" 2>&1 &
PA=$!
tp_on_exit _pipe_kill_quietly "$PA"
pipe_consumer >"$W/alert-b.log" 2>&1 &
PB=$!
tp_on_exit _pipe_kill_quietly "$PB"
pipe_caught_up "two tthc-alert instances" "$W/alert-a.log" "$W/alert-b.log"
kill -TERM "$PA" "$PB"
wait "$PA" || tp_die "tthc-alert (a) did not exit cleanly"
wait "$PB" || tp_die "tthc-alert (b) did not exit cleanly"
tp_assert_eq "1 1" "$(for f in a b; do grep -c 'assigned [1-9]' "$W/alert-$f.log" |
	awk '{ print ($1 > 0) }'; done | xargs)" "both instances were assigned partitions"
tp_log "two instances: $(grep -ho 'snapshots from memory [0-9]* time(s), from PostgreSQL [0-9]*' \
	"$W/alert-a.log" "$W/alert-b.log" | xargs)"
pipe_compare two "two instances: the tables of one batch at a time"
tp_finish
