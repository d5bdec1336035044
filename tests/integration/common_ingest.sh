# shellcheck shell=bash
# common_ingest.sh - shared steps of the tthc-ingest integration tests
# (sourced after lib.sh).

# tp_ingest_setup: PostgreSQL, broker (TP_PARTITIONS partitions per topic,
# default 3), migrations, a schema catalog with
# the evolved writer schemas, and the mixed-in messages. Sets W, CAT.
tp_ingest_setup() {
	tp_pg_start
	# consumers still running when the test ends (it failed) go too
	tp_on_exit pkill -KILL -P "$$" -f tthc-ingest
	tp_broker_start "${TP_PARTITIONS:-3}"
	# a topic the subscription matches whose code is no province
	echo "topic tthc.filings.02 1" >"$TTHC_BROKER_CONTROL"
	W=$(tp_workdir)
	CAT=$W/cat
	mkdir -p "$CAT"
	cp "$TP_ROOT/schemas/avro/1-filing_event.avsc" "$CAT/"
	"$TTHC_BIN/tthc-admin" migrate --pg "$TTHC_PG" \
		--migrations "$TP_ROOT/schemas/sql" \
		--reference "$TP_ROOT/reference" >/dev/null ||
		tp_die "migrations failed"
	python3 "$TP_ROOT/tests/tools/mixins.py" "$CAT" "$W/mix.jsonl" \
		"$W/extra.json" || tp_die "mixins.py failed"
}

# tp_sim ARGS...: the known stream (deterministic for the seed).
tp_sim() {
	"$TTHC_BIN/tthc-sim" --brokers "$TTHC_BROKERS" \
		--reference "$TP_ROOT/reference" \
		--schema "$TP_ROOT/schemas/avro/1-filing_event.avsc" \
		--provinces 01,79,31 --from 2025-10-01 --days 7 \
		--dossiers-per-day 30000 --seed 5 --duplicate-rate 0.01 "$@" \
		>>"$W/sim.log" 2>&1 || tp_die "tthc-sim failed (see $W/sim.log)"
}

tp_produce() {
	"$TTHC_BIN/tp-produce" "$TTHC_BROKERS" >/dev/null ||
		tp_die "tp-produce failed"
}

# tp_consumer NAME ARGS...: runs tthc-NAME (ingest, route, alert) against
# the test's broker, database, catalog and reference data. Started with
# `tp_consumer ... &`, the background subshell execs it, so $! is the
# consumer itself (kill -9 and SIGTERM must reach it, not a shell).
# Later flags win, so ARGS may override the batch settings.
tp_consumer() {
	local name=$1 run=()
	shift
	[[ $BASHPID != "$$" ]] && run=(exec)
	"${run[@]}" "$TTHC_BIN/tthc-$name" --brokers "$TTHC_BROKERS" --pg "$TTHC_PG" \
		--schemas "$CAT" --reference "$TP_ROOT/reference" \
		--batch-size 2000 --batch-ms 200 \
		--kafka.session.timeout.ms=6000 \
		--kafka.topic.metadata.refresh.interval.ms=2000 "$@"
}

# tp_ingest ARGS...: tp_consumer ingest ARGS...
tp_ingest() {
	tp_consumer ingest "$@"
}

# tp_dump DIR: the figures check_ingest.py compares with the truth.
tp_dump() {
	bash "$TP_ROOT/tests/tools/dump_ingest.sh" "$TTHC_PG" "$1"
}

# tp_check_truth LABEL: compares the database with the truth.
tp_check_truth() {
	local label=$1 out
	tp_dump "$W/dump-$label"
	out=$(python3 "$TP_ROOT/tests/tools/check_ingest.py" "$W/truth.json" \
		"$W/extra.json" "$W/dump-$label")
	local rc=$?
	printf '%s\n' "$out" | sed "s/^/[$label] /" | grep -v "passed,"
	tp_assert_eq 0 "$rc" "$label: every figure equals the truth"
	# The province days (migration 020) are the hourly rows summed per
	# province and Vietnam day, row for row.
	tp_assert_eq 0 "$(tp_psql_val "WITH a AS (
		SELECT * FROM tthc.province_throughput_daily), b AS (
		SELECT (hour AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, province_code,
		       sum(received), sum(resolved_early), sum(resolved_on_time),
		       sum(resolved_late), sum(stopped), sum(withdrawn),
		       sum(intake_refused), sum(transferred_out),
		       sum(supplement_requested), sum(online_received)
		FROM tthc.commune_throughput_hourly GROUP BY 1, 2)
		SELECT count(*) FROM ((TABLE a EXCEPT ALL TABLE b) UNION ALL
		                      (TABLE b EXCEPT ALL TABLE a)) x")" \
		"$label: province_throughput_daily holds the hourly rows summed per province and day"
	tp_assert_eq 1 "$(tp_psql_val "SELECT (count(*) > 0)::int FROM tthc.province_throughput_daily")" \
		"$label: province_throughput_daily has rows"
}
