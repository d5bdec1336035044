#!/usr/bin/env bash
# Operations endpoints of tthc-ingest under real traffic: /healthz, /readyz
# (ready once joined with a PostgreSQL connection), and /metrics whose
# counters move with the messages (stored, duplicates, dead letters by
# reason, committed messages); SIGHUP reloads the log level; SIGTERM
# finishes, commits and exits 0.
set -uo pipefail # no -e: checks exit codes itself (CONTRIBUTING.md)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/common_ingest.sh"

tp_ingest_setup
PORT=$(tp_free_port)
URL=http://127.0.0.1:$PORT
echo "log-level = info" >"$W/ingest.conf"
tp_ingest --http-port "$PORT" --config "$W/ingest.conf" >"$W/ingest.log" 2>&1 &
pid=$!
tp_wait_for "curl -fs $URL/healthz" 20
tp_assert_eq 0 $? "/healthz answers while the process runs"
tp_wait_for "curl -fs $URL/readyz" 30
tp_assert_eq 0 $? "/readyz turns ready once joined and connected"
curl -fs "$URL/metrics" >"$W/m0"
tp_produce <"$W/mix.jsonl"
n=$(wc -l <"$W/mix.jsonl")
committed() {
	curl -fs "$URL/metrics" >"$W/m1" &&
		awk '/^tthc_consumer_messages_total/ {s += $2} END {print s + 0}' "$W/m1"
}
tp_wait_for "[[ \$(committed) == $n ]]" 60
tp_assert_eq 0 $? "tthc_consumer_messages_total reaches the $n messages produced"
tp_assert_eq 4 "$(awk '$1 == "tthc_ingest_events_stored_total" {print $2}' "$W/m1")" \
	"tthc_ingest_events_stored_total counts the 4 stored events"
metric() { awk -v k="$1" '$1 == k {print $2}' "$W/m1"; }
tp_assert_eq 1 "$(metric tthc_ingest_duplicates_total)" "duplicates counter"
tp_assert_eq 3 "$(metric 'tthc_ingest_rejected_total{reason="bad_framing"}')" \
	"dead letters by reason"
grep -q '^tthc_postgres_up 1' "$W/m1"
tp_assert_eq 0 $? "tthc_postgres_up is 1"
grep -q '^# TYPE tthc_consumer_commit_seconds histogram' "$W/m1"
tp_assert_eq 0 $? "commit latency histogram exposed"
echo "log-level = debug" >"$W/ingest.conf"
kill -HUP "$pid"
tp_wait_for "grep -q 'SIGHUP: reloaded (log level debug' '$W/ingest.log'" 20
tp_assert_eq 0 $? "SIGHUP reloads the log level from the config file"
echo "log-level = info" >"$W/ingest.conf"
kill -HUP "$pid"
tp_wait_for "grep -q 'SIGHUP: reloaded (log level info' '$W/ingest.log'" 20
tp_assert_eq 0 $? "a second SIGHUP reloads again (the handler stays installed)"
kill -TERM "$pid"
wait "$pid"
tp_assert_eq 0 $? "SIGTERM: finish, commit, leave, exit 0"
tp_finish
