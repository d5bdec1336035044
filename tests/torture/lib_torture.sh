# shellcheck shell=bash
# tests/torture/lib_torture.sh - helpers for the torture scripts (bash),
# sourced after tests/integration/lib.sh and common_ingest.sh.
#
#   tt_args "$@"            parse --small (default) / --full; sets TT_FULL
#                           (--full: 16 partitions per topic, TP_PARTITIONS)
#   tt_size SMALL FULL      print SMALL, or FULL with --full
#   tt_sim_bg ARGS...       start tthc-sim in the background (seed 5, the
#                           provinces 01,79,31, from 2025-10-01, 1 %
#                           duplicates; ARGS add/override: --days, --rate,
#                           --dossiers-per-day, --truth ...); sets TT_SIM_PID
#   tt_sim_wait             wait for it; tp_die if it failed
#   tt_sim_running          exit 0 while it runs
#   tt_ingest_bg LOG ARGS.. start tthc-ingest in the background (the pid is
#                           tthc-ingest itself); prints nothing, sets TT_PID
#   tt_stop PID             SIGTERM, wait; returns its exit status
#   tt_committed [NAME]     messages committed by group tthc-NAME (ingest)
#   tt_lag [NAME]           the partitions of the log whose offset committed
#                           by tthc-NAME is not their high watermark
#   tt_caught_up [NAME]     exit 0 when tt_lag prints nothing
#   tt_consumer NAME ARGS.. run tthc-NAME with the test's settings
#   tt_kill_setup NAME "$@" sizes and setup of a kill script
#   tt_kill_loop NAME N ..  N x (start tthc-NAME, first commit, kill -9)
#   tt_total                messages the producers reported delivered to
#                           the province topics
#   tt_produce_mix          produce mixins.py's messages (counted in tt_total)
#   tt_wait_caught_up SECS [NAME]  wait until tt_caught_up NAME
#   tt_pg_stop / tt_pg_start  stop / start the test PostgreSQL (same dir
#                           and port: TP_PG_DIR, TP_PG_PORT from lib.sh)
#   tt_metric PORT NAME     sum of a metric's samples on /metrics
#   tt_exact LABEL          reads the log back (tp-log-ids), checks that
#                           the mock broker holds every message reported
#                           delivered, tthc-ingest's tables against the log
#                           (check_log.py) and the figures against the
#                           truth (tp_check_truth); prints "figures LABEL:
#                           events checked N, lost L, duplicated D"
#                           (collected by run.sh)
#   tt_control CMD          write a line to the broker's control FIFO and
#                           wait until the broker logged it

TT_FULL=0
tt_args() {
	local a
	for a in "$@"; do
		case $a in
		--full)
			TT_FULL=1
			# 16 partitions per province topic (tp_ingest_setup): the mock
			# broker keeps ~5 MiB per partition and evicts beyond it, and
			# a consumer killed 20 times falls minutes behind a long
			# stream; 3 partitions let it evict unread messages
			export TP_PARTITIONS=16
			;;
		--small) TT_FULL=0 ;;
		*) tp_die "usage: $0 [--small|--full]" ;;
		esac
	done
	tp_log "size: $( ((TT_FULL)) && echo full || echo small)"
}

tt_size() {
	if ((TT_FULL)); then echo "$2"; else echo "$1"; fi
}

tt_sim_bg() {
	"$TTHC_BIN/tthc-sim" --brokers "$TTHC_BROKERS" \
		--reference "$TP_ROOT/reference" \
		--schema "$TP_ROOT/schemas/avro/1-filing_event.avsc" \
		--provinces 01,79,31 --from 2025-10-01 --days 7 \
		--dossiers-per-day 30000 --seed 5 --duplicate-rate 0.01 \
		--flush-timeout 600 "$@" >>"$W/sim.log" 2>&1 &
	TT_SIM_PID=$!
	tp_on_exit kill -KILL "$TT_SIM_PID"
}

tt_sim_running() {
	kill -0 "$TT_SIM_PID" 2>/dev/null
}

tt_sim_wait() {
	wait "$TT_SIM_PID" || {
		tail -n 20 "$W/sim.log" >&2
		tp_die "tthc-sim failed (see $W/sim.log)"
	}
	tp_log "sim: $(grep 'events produced' "$W/sim.log" | tail -n 1)"
}

# Started as `tt_ingest_bg LOG ARGS...` in the test's shell (not in $(...)).
tt_ingest_bg() {
	local log=$1
	shift
	tp_ingest "$@" >>"$log" 2>&1 &
	TT_PID=$!
	tp_on_exit kill -KILL "$TT_PID"
}

tt_stop() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
}

tt_committed() {
	tp_psql_val "SELECT coalesce(sum(next_offset), 0) FROM tthc.consumer_offsets
		WHERE group_id = 'tthc-${1:-ingest}' AND topic <> 'tthc.filings.dlq'"
}

# tt_consumer NAME ARGS...: tp_consumer with small batches (300), so kills
# land among many commits.
tt_consumer() {
	local name=$1
	shift
	tp_consumer "$name" --batch-size 300 "$@"
}

# tt_kill_setup NAME "$@": the start of a kill script for tthc-NAME:
# parses --small/--full, sets its sizes: kills (5, --full 20; TT_KILLS
# overrides the small size), days of stream (10, 28) and tthc-sim's --rate
# (1200, 800 events/s; about twice that in all); PostgreSQL, broker and
# migrations (tp_ingest_setup), tthc-NAME killed when the script ends, the
# mixed-in messages produced.
tt_kill_setup() {
	local name=$1
	shift
	tt_args "$@"
	kills=$(tt_size "${TT_KILLS:-5}" 20)
	days=$(tt_size 10 28)
	rate=$(tt_size 1200 800)
	tp_ingest_setup
	tp_on_exit pkill -KILL -P "$$" -f "tthc-$name"
	tt_produce_mix
}

# tt_kill_loop NAME KILLS [ARGS...]: KILLS times, start tthc-NAME in the
# background, wait for its first commit, kill -9 it a random 0.0-2.9 s
# later (so each kill lands among batches and commits). A restart waits
# for the killed member's session to time out and for the group to settle
# (the first "assigned" can be followed by another rebalance, and a slow
# sanitized build needs seconds before its first batch), hence the wait
# for progress rather than for "assigned". Asserts that most kills landed
# while the stream was live and that the instances made progress.
tt_kill_loop() {
	local name=$1 kills=$2 i live stored prev=0 mid=0 advanced=0 pid
	shift 2
	for ((i = 1; i <= kills; i++)); do
		tt_consumer "$name" "$@" >>"$W/$name-$i.log" 2>&1 &
		pid=$!
		tp_on_exit kill -KILL "$pid"
		tp_wait_for "(( \$(tt_committed $name 2>/dev/null || echo 0) > $prev ))" 90 ||
			tp_log "tthc-$name instance $i committed nothing within 90 s"
		sleep "$((RANDOM % 3)).$((RANDOM % 10))"
		live=0
		tt_sim_running && live=1
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		stored=$(tt_committed "$name")
		((stored > prev)) && advanced=$((advanced + 1))
		((live)) && mid=$((mid + 1))
		tp_log "kill -9 #$i of tthc-$name (stream live: $live): $stored messages committed"
		prev=$stored
	done
	[[ $mid -ge $((kills / 2 + 1)) ]]
	tp_assert_eq 0 $? "most kill -9 of tthc-$name landed while the stream was live ($mid of $kills)"
	[[ $advanced -ge $((kills / 2 + 1)) ]]
	tp_assert_eq 0 $? "tthc-$name instances between kills made progress ($advanced of $kills)"
}

# What the producers reported delivered to the province topics: tthc-sim's
# "events produced: N" lines (messages, duplicates included; printed once
# every delivery report came back without error) plus the mixed-in lines
# (tt_produce_mix). What the broker holds is read back by tp-log-ids.
tt_total() {
	local sim
	sim=$(grep -ho 'events produced: [0-9]*' "$W/sim.log" 2>/dev/null |
		awk '{ s += $3 } END { print s + 0 }')
	echo $((sim + ${TT_MIX_SENT:-0}))
}

# tt_produce_mix: the evolved-schema events and the poison of mixins.py
tt_produce_mix() {
	tp_produce <"$W/mix.jsonl"
	TT_MIX_SENT=$(wc -l <"$W/mix.jsonl")
}

# tt_lag [NAME]: "caught up" is measured against the log, not against
# what the producers believe they sent: one "TOPIC [P] committed C of H"
# line per partition of the province topics (tp-log-ids) whose offset
# committed by group tthc-NAME (default ingest) in tthc.consumer_offsets
# is not its high watermark H; a line too when the watermarks cannot be
# read.
tt_lag() {
	local name=${1:-ingest}
	{
		tp_psql_val "SELECT topic, partition, next_offset
			FROM tthc.consumer_offsets WHERE group_id = 'tthc-$name'" |
			tr '|' ' ' | sed 's/^/C /'
		"$TTHC_BIN/tp-log-ids" "$TTHC_BROKERS" 2>/dev/null || echo X
	} | awk '$1 == "C" { c[$2 " " $3] = $4; next }
		$1 == "X" { print "high watermarks not read"; bad = 1; next }
		$1 == "W" { n++; k = $2 " " $3
			if (c[k] + 0 != $5)
				printf "%s [%d] committed %d of %d\n", $2, $3, c[k], $5 }
		END { if (!n && !bad) print "no partitions" }'
}

tt_caught_up() {
	[[ -z "$(tt_lag "$@")" ]]
}

tt_wait_caught_up() {
	local secs=${1:-120} name=${2:-ingest}
	tp_wait_for "tt_caught_up $name" "$secs" && return 0
	tp_log "tthc-$name behind the high watermarks: $(tt_lag "$name" | head -n 5 | paste -sd ';')"
	return 1
}

tt_pg_stop() {
	"$TP_ROOT/scripts/pg-local.sh" stop "$TP_PG_DIR" >/dev/null 2>&1 ||
		tp_die "could not stop PostgreSQL"
}

tt_pg_start() {
	"$TP_ROOT/scripts/pg-local.sh" start "$TP_PG_DIR" "$TP_PG_PORT" \
		>/dev/null 2>&1 || tp_die "could not start PostgreSQL again"
}

tt_metric() {
	local port=$1 name=$2
	curl -fsS --max-time 2 "http://127.0.0.1:$port/metrics" 2>/dev/null |
		awk -v n="$name" '$1 == n || index($1, n "{") == 1 { s += $2; f = 1 }
			END { if (f) printf "%d\n", s; else print "absent" }'
}

tt_control() {
	local before
	before=$(grep -c 'control command' "$TP_BROKER_LOG")
	echo "$1" >"$TTHC_BROKER_CONTROL"
	tp_wait_for "(( \$(grep -c 'control command' '$TP_BROKER_LOG') > $before ))" 10 ||
		tp_log "broker did not confirm '$1'"
}

# tt_exact LABEL: the end of every script, measured against the log.
# 1. The mock holds what the producers reported delivered (check_log.py
#    mock): a separate check, so that a message lost by the broker is
#    named as such and not taken for a consumer fault.
# 2. tthc-ingest against the log (check_log.py exact): every message is
#    stored (by event_id) or a dead letter (by topic, partition, offset),
#    nothing stored that the log does not hold, no event_id twice.
# 3. The figures against tthc-sim's truth (tp_check_truth).
tt_exact() {
	local label=$1 log out rc counts events lost dup msgs dead t0=$SECONDS
	log=$W/log-${label//[^A-Za-z0-9]/_}.txt
	"$TTHC_BIN/tp-log-ids" "$TTHC_BROKERS" "$CAT" "$TP_ROOT/reference" \
		>"$log" || tp_die "tp-log-ids could not read the log back"
	tp_log "$label: log read back in $((SECONDS - t0)) s ($(grep -c '^M ' "$log") messages)"
	out=$(python3 "$TP_ROOT/tests/tools/check_log.py" mock "$log" \
		"$W/truth.json" "$(tt_total)")
	rc=$?
	printf '%s\n' "$out" | sed "s/^/[$label] /"
	tp_assert_eq 0 "$rc" "$label: the mock broker (tthc-broker, librdkafka's mock cluster) holds every message tthc-sim and tp-produce reported delivered"
	((rc == 0)) || tp_log "$label: the MOCK BROKER lost or evicted acknowledged messages: a limit of the test broker, not of the consumer (docs/broker.md, \"Known limits of the mock\")"
	tp_psql_val "SELECT event_id FROM tthc.filing_events" >"$log.stored"
	tp_psql_val "SELECT topic || '|' || partition || '|' || kafka_offset
		FROM tthc.rejected_messages WHERE consumer_group = 'tthc-ingest'" \
		>"$log.rejected"
	out=$(python3 "$TP_ROOT/tests/tools/check_log.py" exact "$log" \
		"$log.stored" "$log.rejected")
	rc=$?
	printf '%s\n' "$out" | grep -v '^counts ' | sed "s/^/[$label] /"
	counts=$(grep '^counts ' <<<"$out")
	read -r _ events lost dup msgs dead <<<"${counts:-counts 0 -1 -1 0 0}"
	tp_assert_eq "0 0 0" "$rc $lost $dup" "$label: tthc-ingest's tables equal the log: lost 0, duplicated 0 ($msgs messages, $events events, $dead dead letters)"
	tp_check_truth "$label"
	printf 'figures %s: events checked %d, lost %d, duplicated %d\n' \
		"$label" "$events" "$lost" "$dup"
}
