#!/usr/bin/env bash
# tthc-check, the integrators' dry-run checker: on a topic holding valid
# events and a poison message of every kind it names each poison message
# with its reason code (as tthc-ingest would), warns about the duplicate,
# exits 1; a message value in a file is checked the same way.
set -uo pipefail # no -e: checks exit codes itself (CONTRIBUTING.md)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/common_ingest.sh"

tp_ingest_setup
tp_produce <"$W/mix.jsonl"
"$TTHC_BIN/tthc-check" --brokers "$TTHC_BROKERS" --schemas "$CAT" \
	--reference "$TP_ROOT/reference" >"$W/check.out" 2>"$W/check.err"
tp_assert_eq 1 $? "exit 1 when some messages would be dead letters"
for reason in bad_framing unknown_schema bad_avro missing_field \
	topic_province_mismatch unknown_province unknown_commune \
	time_out_of_range bad_seq bad_transfer; do
	want=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['rejected'].get(sys.argv[2], 0))" "$W/extra.json" "$reason")
	got=$(grep -c ": $reason: " "$W/check.out")
	tp_assert_eq "$want" "$got" "reason $reason reported per message"
done
grep -q "warning: seq 1 of dossier MIX-EVO-1" "$W/check.out"
tp_assert_eq 0 $? "a repeated seq is a warning"
grep -q "would be dead letters" "$W/check.out"
tp_assert_eq 0 $? "summary printed"

# An event_id under two dedup keys (province, dossier_id, seq) is a
# producer bug the consumers do not look for: the checker reports it, once,
# and not for a re-sent copy under the same key.
python3 - "$W/mix.jsonl" >"$W/evid.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    j = json.loads(line)
    ev = j.get("event")
    if j.get("raw_hex") or not ev or j.get("truncate") or ev.get("seq") != 1:
        continue
    for n, dossier in enumerate(["EVID-A", "EVID-B", "EVID-B"]):
        e = dict(ev, dossier_id=dossier,
                 event_id="0e1d0000-0000-4000-8000-000000000001")
        print(json.dumps(dict(j, key=dossier, event=e)))
    break
PY
tp_produce <"$W/evid.jsonl"
topic=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['topic'])" "$W/evid.jsonl")
"$TTHC_BIN/tthc-check" --brokers "$TTHC_BROKERS" --schemas "$CAT" \
	--reference "$TP_ROOT/reference" --topics "$topic" >"$W/evid.out" 2>&1
tp_assert_eq 1 "$(grep -c 'warning: event_id 0e1d0000-0000-4000-8000-000000000001 was seen before under another key' "$W/evid.out")" \
	"the event_id under a second dossier is reported once (not its re-sent copy)"
grep -q 'event_id(s) under two keys' "$W/evid.out"
tp_assert_eq 0 $? "the summary counts event_ids under two keys"

# a message value from a file
printf '\x7fnot avro' >"$W/bad.bin"
"$TTHC_BIN/tthc-check" --file "$W/bad.bin" --schemas "$CAT" \
	--reference "$TP_ROOT/reference" >"$W/file.out" 2>&1
tp_assert_eq 1 $? "a bad file message exits 1"
grep -q "bad.bin: bad_framing: wrong magic byte 0x7f" "$W/file.out"
tp_assert_eq 0 $? "the file is named with its reason"

# Checking nothing is not a pass: a --topics that matches no topic, or an
# invalid regex, exits non-zero and says why.
for spec in '(' 'tthc.filings.nope' '^(tthc'; do
	"$TTHC_BIN/tthc-check" --brokers "$TTHC_BROKERS" --schemas "$CAT" \
		--reference "$TP_ROOT/reference" --topics "$spec" >"$W/none.out" 2>&1
	rc=$?
	tp_assert_eq 1 "$((rc != 0))" "--topics '$spec' checks nothing: exit $rc, not 0"
	grep -q "no topic matches\|invalid topic regex" "$W/none.out"
	tp_assert_eq 0 $? "--topics '$spec': the reason is said"
done
tp_finish
