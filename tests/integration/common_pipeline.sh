# shellcheck shell=bash
# common_pipeline.sh - the run shared by the pipelined-checkpoint tests
# (test_ingest_pipeline.sh, test_route_pipeline.sh, test_alert_pipeline.sh;
# sourced after lib.sh): a reference run one batch at a time, then the
# same stream pipelined, killed with -9 a third of the way, restarted with
# its PostgreSQL connections terminated under it, and the tables compared
# row for row.
#
# The caller sets PIPE_NAME (ingest, route, alert: the service tthc-NAME
# and its group) and PIPE_TABLES (the tthc tables it writes), and may
# define pipe_consumer again (tthc-ingest needs its catalog).

# pipe_stream ARGS...: the test's stream, province 48 from 2025-09-01
# with 1 % of the messages re-sent (more tthc-sim options in ARGS: --days).
pipe_stream() {
	"$TTHC_BIN/tthc-sim" --brokers "$TTHC_BROKERS" --provinces 48 \
		--from 2025-09-01 --seed 11 --duplicate-rate 0.01 "$@" \
		>"$W/sim.log" 2>&1 || {
		cat "$W/sim.log" >&2
		tp_die "tthc-sim failed"
	}
}

# pipe_refuse TABLE: a stand-in for rows the data makes PostgreSQL refuse
# (class 23): TABLE's rows of about one dossier in 256.
pipe_refuse() {
	tp_psql_super_val "ALTER TABLE tthc.$1 ADD CONSTRAINT tt_refused
		CHECK (right(md5(dossier_id), 2) <> 'ff')" >/dev/null
}

# pipe_snapshot FILE: row count and digest of each table, without the
# columns that hold the time of the write.
pipe_snapshot() {
	local t
	for t in "${PIPE_TABLES[@]}"; do
		printf '%s %s\n' "$t" "$(tp_psql_super_val "SELECT count(*) || ' ' ||
			md5(coalesce(string_agg(x, '|' ORDER BY x), ''))
			FROM (SELECT (to_jsonb(t) - 'ingested_at' - 'updated_at'
			      - 'id' - 'rejected_at' - 'redriven_at'
			      - 'dlq_published_at' - 'last_message_at'
			      - 'high_watermark' - 'created_at'
			      - 'kafka_sent_at' - 'caught_up_at')::text AS x
			      FROM tthc.$t t) s")"
	done >"$1"
}

pipe_reset() {
	tp_psql_super_val "TRUNCATE $(printf 'tthc.%s,' "${PIPE_TABLES[@]}" |
		sed 's/,$//'); DELETE FROM tthc.consumer_offsets
		WHERE group_id = 'tthc-$PIPE_NAME'" >/dev/null
}

pipe_offsets() {
	tp_psql_val "SELECT coalesce(sum(next_offset), 0) FROM
		tthc.consumer_offsets WHERE group_id = 'tthc-$PIPE_NAME'"
}

# pipe_consumer ARGS...: the consumer in batches of 40 messages, with
# ARGS; `pipe_consumer ... &` execs it, so that $! is the consumer.
pipe_consumer() {
	local run=()
	[[ $BASHPID != "$$" ]] && run=(exec)
	"${run[@]}" "$TTHC_BIN/tthc-$PIPE_NAME" --batch-size 40 --batch-ms 100 \
		--kafka.session.timeout.ms=6000 "$@"
}

_pipe_kill_quietly() { kill -KILL "$1" 2>/dev/null || true; }

# pipe_reference: the run one batch at a time; sets PIPE_TOTAL (messages)
# and PIPE_REFUSED (taken out as refused), snapshots into $W/ref.txt.
pipe_reference() {
	pipe_consumer --pipeline=false --exit-when-idle --idle-exit-ms 3000 \
		>"$W/$PIPE_NAME-ref.log" 2>&1 || {
		tail -n 30 "$W/$PIPE_NAME-ref.log" >&2
		tp_die "the reference run failed"
	}
	PIPE_TOTAL=$(pipe_offsets)
	pipe_snapshot "$W/ref.txt"
	PIPE_REFUSED=$(grep -c 'taking the message at' "$W/$PIPE_NAME-ref.log" ||
		true)
	tp_log "reference: $PIPE_TOTAL messages, $PIPE_REFUSED taken out as refused"
	((PIPE_REFUSED > 0)) ||
		tp_die "the stream has no message the constraint refuses"
	tp_assert_eq 0 "$(grep -c 'in a backlog' "$W/$PIPE_NAME-ref.log" || true)" \
		"--pipeline=false commits one batch at a time"
}

# pipe_caught_up WHAT LOG...: waits until the group's offsets reach
# PIPE_TOTAL; else shows the tails of the LOGs and fails, naming WHAT.
pipe_caught_up() {
	local what=$1
	shift
	tp_wait_for "[[ \$(pipe_offsets) == $PIPE_TOTAL ]]" 300 || {
		tail -n 30 "$@" >&2
		tp_die "$what did not catch up"
	}
}

# pipe_compare NAME WHAT: the tables snapshot into $W/NAME.txt and
# compared row for row with the reference run's (WHAT: the assertion).
pipe_compare() {
	local same=0
	pipe_snapshot "$W/$1.txt"
	diff "$W/ref.txt" "$W/$1.txt" >&2 || same=$?
	tp_assert_eq 0 "$same" "$2"
}

# pipe_torture: the tables emptied, the pipelined runs, the comparison
# with the reference and what the logs must show.
pipe_torture() {
	local p1 p2 kills=0 logs
	pipe_reset
	pipe_consumer >"$W/$PIPE_NAME-1.log" 2>&1 &
	p1=$!
	tp_on_exit _pipe_kill_quietly "$p1"
	tp_wait_for "(( \$(pipe_offsets) > $PIPE_TOTAL / 3 ))" 300 || {
		tail -n 30 "$W/$PIPE_NAME-1.log" >&2
		tp_die "tthc-$PIPE_NAME made no progress"
	}
	kill -KILL "$p1"
	wait "$p1" 2>/dev/null || true
	tp_log "killed tthc-$PIPE_NAME at $(pipe_offsets) of $PIPE_TOTAL"

	pipe_consumer >"$W/$PIPE_NAME-2.log" 2>&1 &
	p2=$!
	tp_on_exit _pipe_kill_quietly "$p2"
	while ((kills < 30)) && [[ $(pipe_offsets) != "$PIPE_TOTAL" ]]; do
		sleep 0.2
		tp_psql_super_val "SELECT count(pg_terminate_backend(pid))
			FROM pg_stat_activity
			WHERE application_name = 'tthc-$PIPE_NAME'" \
			>>"$W/terminated.txt"
		kills=$((kills + 1))
	done
	pipe_caught_up "tthc-$PIPE_NAME" "$W/$PIPE_NAME-2.log"
	kill -TERM "$p2"
	wait "$p2" || tp_die "tthc-$PIPE_NAME did not exit cleanly"
	tp_log "connections terminated: $(awk '{ n += $1 } END { print n }' \
		"$W/terminated.txt")"
	pipe_compare pipelined \
		"pipelined, killed and cut off: the tables of one batch at a time"
	logs=$(cat "$W/$PIPE_NAME-1.log" "$W/$PIPE_NAME-2.log")
	tp_assert_eq 1 "$(grep -c 'in a backlog: applying each batch' <<<"$logs" |
		awk '{ print ($1 > 0) }')" \
		"batches were applied while others committed"
	tp_assert_eq 1 "$(grep -c 'did not commit (data); committing it again' \
		<<<"$logs" | awk '{ print ($1 > 0) }')" \
		"a batch refused in flight was committed again after bisection"
	tp_assert_eq "$PIPE_REFUSED" "$(grep -o 'taking the message at [^:]*' \
		<<<"$logs" | sort -u | wc -l)" \
		"the same messages were taken out as refused"
	tp_assert_eq 0 "$(grep -c -E 'Sanitizer|runtime error' <<<"$logs" ||
		true)" "no sanitizer report"
}
