#!/usr/bin/env bash
# Hostile input (issue "No single message may stop, crash or bloat a
# consumer"): messages and writer schemas a hostile producer or registry
# could send (tests/tools/hostile.py lists them) between good events. Each
# is a dead letter in tthc-ingest (bad_avro or bad_schema) with a detail
# that is valid UTF-8, skipped and counted in tthc-route and tthc-alert;
# the good events around them are stored exactly; all three consumers exit
# 0 with --exit-when-idle; the hostile run's peak RSS stays within 64 MiB
# of a run over good messages only; every log is valid UTF-8.
set -uo pipefail # no -e: checks exit codes itself (CONTRIBUTING.md)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/common_ingest.sh"
source "$(dirname "${BASH_SOURCE[0]}")/common_alert.sh"

tp_ingest_setup
REG=$W/registry
mkdir -p "$REG"
python3 "$TP_ROOT/tests/tools/hostile.py" \
	"$TP_ROOT/schemas/avro/1-filing_event.avsc" "$CAT" "$REG" \
	"$W/hostile.jsonl" "$W/expect.txt" || tp_die "hostile.py failed"
python3 "$TP_ROOT/tests/tools/fake_registry.py" "$REG" "$W/reg.port" &
tp_on_exit kill $!
tp_wait_for "test -s '$W/reg.port'" 10 || tp_die "registry did not start"
URL="http://127.0.0.1:$(cat "$W/reg.port")"
n_hostile=$(wc -l <"$W/expect.txt")

# peak_rss LOG CMD...: runs CMD in the background, echoes its exit status
# and peak RSS in KiB (VmHWM, read until it exits). Under ASan freed memory
# is held in a quarantine (up to 256 MiB), which is not the program's: the
# quarantine is turned off for these runs.
peak_rss() {
	local log=$1 pid hwm=0 h
	shift
	ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0" \
		"$@" >"$log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		h=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null)
		[[ -n "$h" ]] && ((h > hwm)) && hwm=$h
		sleep 0.1
	done
	wait "$pid"
	echo "$? $hwm"
}

# The baseline: the good events only (the first 24 lines without hostile
# ones go to partition 1, a copy on another partition).
python3 - "$W/hostile.jsonl" >"$W/good.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    j = json.loads(line)
    v = bytes.fromhex(j["raw_hex"])
    if v[1:5] == b"\0\0\0\1" and b"GOOD-" in v:
        j["partition"] = 1
        j["raw_hex"] = v.replace(b"GOOD-", b"BASE-").hex()
        print(json.dumps(j))
PY
tp_produce <"$W/good.jsonl"
read -r rc base < <(peak_rss "$W/ingest-base.log" tp_ingest --registry "$URL" --exit-when-idle)
tp_assert_eq 0 "$rc" "tthc-ingest over good events exits 0"

tp_produce <"$W/hostile.jsonl"
read -r rc peak < <(peak_rss "$W/ingest.log" tp_ingest --registry "$URL" --exit-when-idle)
tp_assert_eq 0 "$rc" "tthc-ingest exits 0 past every hostile message"
tp_log "peak RSS: good events only ${base} KiB, with the hostile ones ${peak} KiB"
tp_assert_eq 1 "$((peak - base < 64 * 1024))" \
	"hostile input adds less than 64 MiB to the peak RSS"

tp_assert_eq 24 "$(tp_psql_val "SELECT count(DISTINCT dossier_id) FROM tthc.filing_events WHERE dossier_id LIKE 'GOOD-%'")" \
	"the 24 good events around them are stored"
tp_assert_eq "$n_hostile" "$(tp_psql_val "SELECT count(*) FROM tthc.rejected_messages")" \
	"each hostile message is one dead letter"
while read -r off reason what; do
	got=$(tp_psql_val "SELECT reason FROM tthc.rejected_messages WHERE partition = 0 AND kafka_offset = $off")
	tp_assert_eq "$reason" "$got" "$what: $reason"
done <"$W/expect.txt"
tp_psql_val "SELECT kafka_offset || ' ' || detail FROM tthc.rejected_messages ORDER BY kafka_offset" >"$W/details.txt"
cat "$W/details.txt" >&2
tp_assert_eq 1 "$(grep -c 'ff\\xfeX\|\\xff\\xfe' "$W/details.txt")" \
	"invalid bytes are quoted as \\xNN in the detail"
tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM tthc.rejected_messages WHERE octet_length(detail) > 1024 OR detail IS NULL OR detail = ''")" \
	"every detail says why, in bounded length"
dlq=$("$TTHC_BIN/raw_consume" "$TTHC_BROKERS" tthc.filings.dlq | cut -d' ' -f1)
tp_assert_eq "$n_hostile" "$dlq" "each dead letter is on tthc.filings.dlq once"

# tthc-route and tthc-alert skip and count them, and go on.
tp_consumer route --registry "$URL" --exit-when-idle >"$W/route.log" 2>&1
tp_assert_eq 0 $? "tthc-route exits 0 past every hostile message"
bad_avro=$(grep -c ' bad_avro ' "$W/expect.txt")
bad_schema=$(grep -c ' bad_schema ' "$W/expect.txt")
grep 'skipped\|invalid' "$W/route.log" >&2
tp_assert_eq 1 "$(grep -c "skipped bad_avro: $bad_avro\"" "$W/route.log")" \
	"tthc-route counts the bad_avro messages it skipped"
tp_assert_eq 1 "$(grep -c "skipped bad_schema: $bad_schema\"" "$W/route.log")" \
	"tthc-route counts the bad_schema messages it skipped"
tp_assert_eq 48 "$(tp_psql_val "SELECT sum(received) FROM tthc.procedure_level_daily")" \
	"tthc-route counts the 48 good events"

tp_consumer alert --registry "$URL" --exit-when-idle >"$W/alert.log" 2>&1
tp_assert_eq 0 $? "tthc-alert exits 0 past every hostile message"
tp_assert_eq 1 "$(grep -c "$n_hostile invalid" "$W/alert.log")" \
	"tthc-alert reports the skipped messages"

# The same counted in metrics, by reason (a replay of tthc-alert).
tp_alert_reset
PORT=$(tp_free_port)
tp_consumer alert --registry "$URL" --http-port "$PORT" >"$W/alert-2.log" 2>&1 &
pid=$!
metric() {
	curl -fs "http://127.0.0.1:$PORT/metrics" |
		awk -v r="$1" '$1 == "tthc_consumer_invalid_total{reason=\"" r "\"}" {print $2}'
}
tp_wait_for "[[ \$(metric bad_schema) == $bad_schema ]]" 60
tp_assert_eq 0 $? "tthc-alert counts the bad_schema messages it skipped (metric)"
tp_assert_eq "$bad_avro" "$(metric bad_avro)" \
	"tthc-alert counts the bad_avro messages it skipped (metric)"
kill -TERM "$pid"
wait "$pid"
tp_assert_eq 0 $? "tthc-alert stops cleanly on SIGTERM"

for log in "$W"/ingest.log "$W"/route.log "$W"/alert.log "$W"/alert-2.log; do
	python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$log"
	tp_assert_eq 0 $? "$(basename "$log") is valid UTF-8"
done
# librdkafka speaks through our logger only, never in its "%4|...|" format
tp_assert_eq 0 "$(cat "$W"/*.log | grep -c '^%[0-9]|')" \
	"no librdkafka line in its own format"
tp_finish
