#!/usr/bin/env bash
# test_route_pipeline.sh - tthc-route's pipelined checkpoints (--pipeline:
# batch n+1 applied while batch n commits) give exactly the tables of one
# batch at a time, through the failures that hit a batch in flight: rows
# PostgreSQL refuses as data (the flight fails, goes back in front of the
# batch staged behind it and is bisected), a kill -9 of the consumer and
# its PostgreSQL connections terminated under it, again and again.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$TP_ROOT"

tp_stack 3
"$TTHC_BIN/tthc-sim" --brokers "$TTHC_BROKERS" --provinces 48 \
	--from 2025-09-01 --days 14 --seed 11 --duplicate-rate 0.01 \
	>"$W/sim.log" 2>&1 || { cat "$W/sim.log" >&2; tp_die "tthc-sim failed"; }
# A stand-in for rows the data makes PostgreSQL refuse (class 23): every
# row of about one dossier in 256.
tp_psql_super_val "ALTER TABLE tthc.route_dossiers ADD CONSTRAINT tt_refused
	CHECK (right(md5(dossier_id), 2) <> 'ff')" >/dev/null

TABLES=(route_dossiers procedure_level_daily procedure_routing_daily
	routing_anomalies_daily procedure_level_by_month
	procedure_routing_by_month routing_anomalies_by_month)
snapshot() { # snapshot FILE: row count and digest of each table
	local t
	for t in "${TABLES[@]}"; do
		printf '%s %s\n' "$t" "$(tp_psql_super_val "SELECT count(*) || ' ' ||
			md5(coalesce(string_agg(x, '|' ORDER BY x), ''))
			FROM (SELECT (to_jsonb(t) - 'updated_at')::text AS x
			      FROM tthc.$t t) s")"
	done >"$1"
}
reset() {
	tp_psql_super_val "TRUNCATE $(printf 'tthc.%s,' "${TABLES[@]}" |
		sed 's/,$//'); DELETE FROM tthc.consumer_offsets
		WHERE group_id = 'tthc-route'" >/dev/null
}
offsets() {
	tp_psql_val "SELECT coalesce(sum(next_offset), 0) FROM
		tthc.consumer_offsets WHERE group_id = 'tthc-route'"
}
ROUTE=("$TTHC_BIN/tthc-route" --batch-size 40 --batch-ms 100
	--kafka.session.timeout.ms=6000)
kill_quietly() { kill -KILL "$1" 2>/dev/null || true; }

# One batch at a time: the reference.
timeout 600 "${ROUTE[@]}" --pipeline=false --exit-when-idle \
	--idle-exit-ms 3000 >"$W/route-ref.log" 2>&1 ||
	{ tail -n 30 "$W/route-ref.log" >&2; tp_die "the reference run failed"; }
TOTAL=$(offsets)
snapshot "$W/ref.txt"
REFUSED=$(grep -c 'taking the message at' "$W/route-ref.log" || true)
tp_log "reference: $TOTAL messages, $REFUSED taken out as refused"
(( REFUSED > 0 )) || tp_die "the stream has no dossier the constraint refuses"
tp_assert_eq 0 "$(grep -c 'in a backlog' "$W/route-ref.log" || true)" \
	"--pipeline=false commits one batch at a time"

# Pipelined, killed with -9 a third of the way.
reset
"${ROUTE[@]}" >"$W/route-1.log" 2>&1 &
R1=$!
tp_on_exit kill_quietly "$R1"
tp_wait_for "(( \$(offsets) > $TOTAL / 3 ))" 300 ||
	{ tail -n 30 "$W/route-1.log" >&2; tp_die "tthc-route made no progress"; }
kill -KILL "$R1"
wait "$R1" 2>/dev/null || true
tp_log "killed tthc-route at $(offsets) of $TOTAL"

# Restarted, with its PostgreSQL connections terminated under it.
"${ROUTE[@]}" >"$W/route-2.log" 2>&1 &
R2=$!
tp_on_exit kill_quietly "$R2"
kills=0
while (( kills < 30 )) && [[ $(offsets) != "$TOTAL" ]]; do
	sleep 0.2
	tp_psql_super_val "SELECT count(pg_terminate_backend(pid))
		FROM pg_stat_activity WHERE application_name = 'tthc-route'" \
		>>"$W/terminated.txt"
	kills=$((kills + 1))
done
tp_wait_for "[[ \$(offsets) == $TOTAL ]]" 300 ||
	{ tail -n 30 "$W/route-2.log" >&2; tp_die "tthc-route did not catch up"; }
kill -TERM "$R2"
wait "$R2" || tp_die "tthc-route did not exit cleanly"
snapshot "$W/pipelined.txt"
tp_log "connections terminated: $(awk '{ n += $1 } END { print n }' \
	"$W/terminated.txt")"

same=0
diff "$W/ref.txt" "$W/pipelined.txt" >&2 || same=$?
tp_assert_eq 0 "$same" \
	"pipelined, killed and cut off: the tables of one batch at a time"
tp_assert_eq 1 "$(cat "$W"/route-[12].log |
	grep -c 'in a backlog: applying each batch' | awk '{ print ($1 > 0) }')" \
	"batches were applied while others committed"
tp_assert_eq 1 "$(cat "$W"/route-[12].log |
	grep -c 'did not commit (data); committing it again' |
	awk '{ print ($1 > 0) }')" \
	"a batch refused in flight was committed again after bisection"
tp_assert_eq "$REFUSED" "$(cat "$W"/route-[12].log |
	grep -o 'taking the message at [^:]*' | sort -u | wc -l)" \
	"the same messages were taken out as refused"
tp_assert_eq 0 "$(cat "$W"/route-[12].log |
	grep -c -E 'Sanitizer|runtime error' || true)" \
	"no sanitizer report"
tp_finish
