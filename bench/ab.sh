#!/usr/bin/env bash
# bench/ab.sh - compares two variants of one consumer on a noisy machine:
# one national stream is produced once, then the consumer runs over all of
# it in alternating rounds (A, B, A, B, ...), its tables truncated and its
# offsets deleted before each round, so both variants see the same
# messages, the same empty tables and the same machine moments.
#
#   bench/ab.sh --consumer ingest|route|alert [--days 21] [--dossiers-per-day N]
#               [--partitions 3] [--rounds 3] [--bin-a DIR] [--bin-b DIR]
#               [--sql-a SQL] [--sql-b SQL] [--args-a ARGS] [--args-b ARGS]
#               [--compare yes]
#
#   --bin-a/-b  the directory holding the variant's tthc-<consumer>
#               (default: this tree's build, $BUILD_DIR/bin)
#   --sql-a/-b  SQL run as the superuser after the reset, before the
#               round (a setting, a function definition, an index)
#   --partitions partitions per province topic (32: a national stream
#               whose batches span a thousand partitions)
#   --args-a/-b options added to the variant's command line, split on
#               spaces (e.g. "--pipeline=false")
#   --compare   yes: after each B round, compare every table the consumer
#               writes with the A round before it, row for row, and stop
#               at the first difference: a change meant to be faster
#               only must leave the same rows (left out: columns that
#               default to now() or a sequence, and the times a message
#               was sent, WALL_CLOCK below)
#
# The database is migrated with this tree's schemas/sql. Prints one line
# per round: wall time after the group join, the consumer's CPU time and
# page faults (perf stat), its peak RSS (its exit line) and, for a
# pipelined run, how long it waited for its batches in flight; then the
# median wall time of each variant.
# Single runs of the same binary vary by 10-15 % on the 2-core VMs;
# compare medians of at least three rounds.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CONSUMER=
DAYS=21
DOSSIERS_PER_DAY=20000
PARTITIONS=3
ROUNDS=3
# Read through ${!name} below.
# shellcheck disable=SC2034
BIN_A=$B BIN_B=$B SQL_A='SELECT 1' SQL_B='SELECT 1' ARGS_A='' ARGS_B=''
COMPARE=no
bench_args bench/ab.sh \
	"consumer days dossiers-per-day partitions rounds bin-a bin-b sql-a sql-b args-a args-b compare" "$@"
EXTRA=()
WALL_CLOCK="updated_at last_message_at"
case $CONSUMER in
ingest)
	EXTRA=(--reference "$TP_ROOT/reference")
	TABLES="tthc.dossiers, tthc.filing_events, tthc.commune_throughput_hourly,
	        tthc.province_throughput_daily, tthc.partition_progress,
	        tthc.rejected_messages"
	;;
route)
	TABLES="tthc.route_dossiers, tthc.procedure_level_daily,
	        tthc.procedure_routing_daily, tthc.routing_anomalies_daily,
	        tthc.procedure_level_by_month, tthc.procedure_routing_by_month,
	        tthc.routing_anomalies_by_month"
	;;
alert)
	WALL_CLOCK="updated_at last_message_at kafka_sent_at am_first_sent_at am_last_sent_at am_resolved_sent_at"
	TABLES="tthc.alerts, tthc.alert_outbox, tthc.alert_delivery,
	        tthc.alert_dossiers, tthc.alert_commune_days,
	        tthc.alert_commune_ticks, tthc.alert_partition_state,
	        tthc.alert_provinces, tthc.commune_backlog_daily"
	;;
*)
	echo "ab.sh: --consumer ingest, route or alert" >&2
	exit 2
	;;
esac
command -v perf >/dev/null || tp_die "ab.sh needs perf (linux-perf)"
bench_stack "$PARTITIONS"
bench_sim 2025-09-03 "$DAYS" "$DOSSIERS_PER_DAY" 7
tp_log "$(tail -n 1 "$W/sim.log")"

# Every row of the consumer's tables, sorted, into directory $1.
ab_dump() {
	local t cols
	mkdir -p "$1"
	for t in ${TABLES//,/ }; do
		cols=$(psql -XAtq -v ON_ERROR_STOP=1 "$TTHC_PG_SUPER" -c "
			SELECT string_agg(quote_ident(column_name), ', '
			                  ORDER BY ordinal_position)
			FROM information_schema.columns
			WHERE table_schema || '.' || table_name = '$t'
			  AND coalesce(column_default, '') NOT LIKE '%now()%'
			  AND coalesce(column_default, '') NOT LIKE 'nextval(%'
			  AND column_name <> ALL (string_to_array('$WALL_CLOCK', ' '))")
		psql -XAq -v ON_ERROR_STOP=1 "$TTHC_PG_SUPER" \
			-c "COPY (SELECT $cols FROM $t) TO STDOUT" | LC_ALL=C sort >"$1/$t"
	done
}

declare -A WALLS=([A]="" [B]="")
for round in $(seq 1 "$ROUNDS"); do
	for v in A B; do
		bin=BIN_$v sql=SQL_$v args=ARGS_$v
		read -r -a vargs <<<"${!args}"
		psql -XAq -v ON_ERROR_STOP=1 "$TTHC_PG_SUPER" -c "TRUNCATE $TABLES" \
			-c "DELETE FROM tthc.consumer_offsets
			    WHERE group_id = 'tthc-$CONSUMER'" \
			-c "${!sql}" -c "CHECKPOINT" >/dev/null
		start=$(date +%s.%N)
		perf stat -x, -e task-clock,page-faults -o "$W/stat" \
			"${!bin}/tthc-$CONSUMER" --brokers "$TTHC_BROKERS" \
			--pg "$TTHC_PG" --schemas "$TP_ROOT/schemas/avro" \
			"${EXTRA[@]}" "${vargs[@]}" \
			--exit-when-idle --kafka.session.timeout.ms=6000 \
			2>"$W/consumer.log" ||
			tp_die "round $round $v: tthc-$CONSUMER failed (see $W/consumer.log)"
		end=$(date +%s.%N)
		# The group join (about 3 s on the mock broker, more when the
		# previous round's member is still known) is taken out, as
		# bench/run.sh does.
		join=$(bench_join_s "$W/consumer.log")
		wall=$(awk -v s="$start" -v e="$end" -v j="$join" \
			'BEGIN { printf "%.1f", e - s - j }')
		WALLS[$v]+="$wall "
		# the consumer's exit line: "leaving the consumer group (peak RSS N MiB)"
		rss=$(grep -o 'peak RSS [0-9]* MiB' "$W/consumer.log" | tail -n 1 || true)
		awk -F, -v v="$v" -v r="$round" -v w="$wall" -v rss="${rss:-peak RSS ?}" '
			$3 == "task-clock" { cpu = $1 / 1000 }
			$3 == "page-faults" { pf = $1 }
			END { printf "%s round %d: %s s wall, %.1f s CPU, %d page faults, %s\n",
			      v, r, w, cpu, pf, rss }' "$W/stat"
		# a pipelined run says how long it waited for its batches in flight
		grep -o '[0-9]* batches committed while the next was applied; [0-9.]* s spent waiting' \
			"$W/consumer.log" | sed "s/^/  $v round $round: /" || true
		if [[ $COMPARE == yes ]]; then
			ab_dump "$W/rows.$v"
			if [[ $v == B ]]; then
				if ! diff -r "$W/rows.A" "$W/rows.B" >"$W/rows.diff"; then
					{ grep "^diff" "$W/rows.diff"; head -n 20 "$W/rows.diff"; } >&2
					tp_die "round $round: B's rows differ from A's ($W/rows.diff)"
				fi
				echo "  round $round: the same rows in every table ($(cat "$W"/rows.B/* | wc -l) rows)"
			fi
		fi
	done
done
for v in A B; do
	# shellcheck disable=SC2086
	printf '%s median: %s s\n' "$v" "$(printf '%s\n' ${WALLS[$v]} | sort -n |
		awk '{ a[NR] = $1 }
		     END { m = int((NR + 1) / 2)
		           if (NR % 2 == 0) print (a[m] + a[m + 1]) / 2
		           else print a[m] }')"
done
