#!/usr/bin/env bash
# Data errors are not outages (issue "No single message may stop..."):
# rows PostgreSQL refuses as data (SQLSTATE classes 22, 23, 54) are found by
# bisecting the batch and become dead letters (reason db_rejected, the
# SQLSTATE in the detail), once each on the DLQ topic, while the rest of
# the batch commits. A refusal of every message with the same SQLSTATE (a
# broken migration) is an outage: nothing is dead-lettered, /readyz fails
# after --unready-after-ms, and the stream resumes once it is repaired.
set -uo pipefail # no -e: checks exit codes itself (CONTRIBUTING.md)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/common_ingest.sh"

tp_ingest_setup
# Stand-ins for rows the data makes PostgreSQL refuse: a CHECK (class 23)
# and a failing cast (class 22), on the events of chosen dossiers only.
tp_psql_super_val "ALTER TABLE tthc.filing_events ADD CONSTRAINT tt_poison
	CHECK (dossier_id NOT LIKE 'POISON%');
	ALTER TABLE tthc.filing_events ADD CONSTRAINT tt_cast
	CHECK (dossier_id NOT LIKE 'CAST-%' OR substr(dossier_id, 6)::int > 0);
	ALTER TABLE tthc.filing_events ADD CONSTRAINT tt_broken
	CHECK (dossier_id NOT LIKE 'BROKEN-%')" >/dev/null

# gen PREFIX... : one RECEIVED event per dossier id, all on one partition.
gen() {
	python3 - "$TP_ROOT/schemas/avro/1-filing_event.avsc" "$@" <<'PY'
import json, sys, zlib
schema, ids = sys.argv[1], sys.argv[2:]
T0 = 1756699200000
for n, d in enumerate(ids):
    e = {"event_id": "0d0d0d0d-0000-4000-8000-%012d" % zlib.crc32(d.encode()),
         "event_type": "RECEIVED", "occurred_at": T0 + n * 1000, "dossier_id": d,
         "seq": 1, "province_code": "01", "commune_code": "00004",
         "procedure_code": "1.004227", "procedure_level": "COMMUNE",
         "channel": "IN_PERSON", "agency_code": "UBND-00004",
         "handling_level": "COMMUNE", "to_level": None, "to_agency_code": None,
         "due_at": T0 + 86400000 * 3, "source_system": "t",
         "handling_commune_code": "00004"}
    print(json.dumps({"topic": "tthc.filings.01", "key": "k", "partition": 0,
                      "schema_id": 1, "schema_file": schema, "event": e}))
PY
}

ids=()
for i in $(seq 1 40); do ids+=("GOOD-$i"); done
ids[7]=POISON-1
ids[23]=CAST-x
ids[31]=POISON-2
gen "${ids[@]}" | tp_produce

tp_ingest --exit-when-idle >"$W/ingest-1.log" 2>&1
tp_assert_eq 0 $? "tthc-ingest exits 0 past the refused rows"
tp_assert_eq 37 "$(tp_psql_val "SELECT count(*) FROM tthc.filing_events WHERE dossier_id LIKE 'GOOD-%'")" \
	"the 37 good events around them are stored"
tp_assert_eq "CAST-x:22P02 POISON-1:23514 POISON-2:23514" \
	"$(tp_psql_val "SELECT string_agg(d || ':' || substring(detail from 'SQLSTATE ([0-9A-Z]{5})'), ' ' ORDER BY d)
		FROM (SELECT detail, CASE kafka_offset WHEN 7 THEN 'POISON-1' WHEN 23 THEN 'CAST-x'
		      WHEN 31 THEN 'POISON-2' END AS d
		      FROM tthc.rejected_messages WHERE reason = 'db_rejected') x")" \
	"the three refused rows are dead letters db_rejected with their SQLSTATE"
dlq=$("$TTHC_BIN/raw_consume" "$TTHC_BROKERS" tthc.filings.dlq | cut -d' ' -f1)
tp_assert_eq 3 "$dlq" "each dead letter is on tthc.filings.dlq once"
tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM tthc.rejected_messages WHERE dlq_published_at IS NULL")" \
	"every dead letter is marked published"
tp_assert_eq 40 "$(tp_psql_val "SELECT next_offset FROM tthc.consumer_offsets WHERE group_id = 'tthc-ingest' AND topic = 'tthc.filings.01' AND partition = 0")" \
	"the offsets moved past the whole batch"

# A broken database: every message refused with the same SQLSTATE.
ids=()
for i in $(seq 1 12); do ids+=("BROKEN-$i"); done
gen "${ids[@]}" | tp_produce
PORT=$(tp_free_port)
tp_ingest --http-port "$PORT" --unready-after-ms 1500 --exit-when-idle \
	>"$W/ingest-2.log" 2>&1 &
pid=$!
tp_wait_for "grep -q 'every one refused with the same error\|treating it as an outage' '$W/ingest-2.log'" 60
tp_assert_eq 0 $? "a batch refused as a whole is an outage"
tp_wait_for "! curl -fs http://127.0.0.1:$PORT/readyz >/dev/null" 30
tp_assert_eq 0 $? "/readyz fails once commits have failed for --unready-after-ms"
metric=$(curl -fs "http://127.0.0.1:$PORT/metrics" | grep -c '^tthc_consumer_commit_failures_total{class="data"}')
tp_assert_eq 1 "$metric" "commit failures are counted by class"
tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM tthc.rejected_messages WHERE kafka_offset >= 40")" \
	"nothing of the refused batch is dead-lettered"
tp_psql_super_val "ALTER TABLE tthc.filing_events DROP CONSTRAINT tt_broken" >/dev/null
wait "$pid"
tp_assert_eq 0 $? "once repaired, tthc-ingest commits and exits 0"
tp_assert_eq 12 "$(tp_psql_val "SELECT count(*) FROM tthc.filing_events WHERE dossier_id LIKE 'BROKEN-%'")" \
	"the held-back events are stored"
tp_assert_eq 3 "$(tp_psql_val "SELECT count(*) FROM tthc.rejected_messages")" \
	"and none of them became a dead letter"

# A lone refused message cannot be told from a broken database: it waits
# (partitions not paused) for the messages that follow, then is judged.
gen POISON-3 | tp_produce
tp_ingest >"$W/ingest-3.log" 2>&1 &
pid=$!
tp_wait_for "grep -q 'waiting .* ms for more messages' '$W/ingest-3.log'" 60
tp_assert_eq 0 $? "a lone refused message waits for company"
tp_assert_eq 3 "$(tp_psql_val "SELECT count(*) FROM tthc.rejected_messages")" \
	"and is not dead-lettered alone"
gen GOOD-41 GOOD-42 | tp_produce
tp_wait_for "[[ \$(tp_psql_val \"SELECT count(*) FROM tthc.rejected_messages WHERE reason = 'db_rejected'\") == 4 ]]" 60
tp_assert_eq 0 $? "once good messages follow, the lone one is a dead letter"
tp_wait_for "[[ \$(tp_psql_val \"SELECT count(*) FROM tthc.filing_events WHERE dossier_id IN ('GOOD-41', 'GOOD-42')\") == 2 ]]" 30
tp_assert_eq 0 $? "and the messages after it are stored"
kill -TERM "$pid"
wait "$pid"
tp_assert_eq 0 $? "tthc-ingest stops cleanly on SIGTERM"
tp_finish
