#!/usr/bin/env bash
# tthc-ingest end to end: a known stream of tens of thousands of dossiers in
# three provinces (tthc-sim, with 1 % producer duplicates), evolved writer
# schemas (reordered + extra field, and an older one lacking a field that
# has a default) and a poison message of every kind; the consumer is killed
# with kill -9 four times mid-run; then the whole stream is delivered again.
# Every figure must equal the simulator's truth, exactly.
set -uo pipefail # no -e: checks exit codes itself (CONTRIBUTING.md)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/common_ingest.sh"

tp_ingest_setup
tp_sim --truth "$W/truth.json"
tp_produce <"$W/mix.jsonl"

# Kill -9 at random moments while it works, four times; small batches so
# that a kill lands between many commits.
total=$("$TTHC_BIN/raw_consume" "$TTHC_BROKERS" | cut -d' ' -f1)
midway=0
offsets() { tp_psql_val "SELECT coalesce(sum(next_offset), 0) FROM tthc.consumer_offsets"; }
for i in 1 2 3 4; do
	before=$(offsets)
	tp_ingest --batch-size 300 >"$W/ingest-$i.log" 2>&1 &
	pid=$!
	# once this life has committed something, kill it a random moment later
	tp_wait_for "(( \$(offsets) > $before ))" 90
	sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	stored=$(offsets)
	tp_log "kill -9 #$i: $stored of $total messages committed"
	((stored > 0 && stored < total)) && midway=$((midway + 1))
done
[[ $midway -ge 1 ]]
tp_assert_eq 0 $? "at least one kill -9 landed mid-stream ($midway of 4)"
tp_ingest --exit-when-idle >"$W/ingest-final.log" 2>&1
tp_assert_eq 0 $? "tthc-ingest --exit-when-idle exits 0 after the kills"
tp_check_truth after-kills

dlq=$("$TTHC_BIN/raw_consume" "$TTHC_BROKERS" tthc.filings.dlq | cut -d' ' -f1)
rejected=$(tp_psql_val "SELECT count(*) FROM tthc.rejected_messages")
[[ $dlq -ge $rejected && $rejected -gt 0 ]]
tp_assert_eq 0 $? "every dead letter is on tthc.filings.dlq ($dlq >= $rejected)"
tp_assert_eq "unknown_commune" \
	"$(tp_psql_val "SELECT reason FROM tthc.rejected_messages WHERE message_key = 'P7'::bytea")" \
	"dead letter keeps its key and reason"

# The same stream again (and the valid mixed-in events): nothing changes.
tp_sim
head -n 5 "$W/mix.jsonl" | tp_produce
tp_ingest --exit-when-idle >"$W/ingest-again.log" 2>&1
tp_assert_eq 0 $? "second delivery drains"
tp_check_truth delivered-twice

tp_finish
