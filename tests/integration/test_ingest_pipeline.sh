#!/usr/bin/env bash
# test_ingest_pipeline.sh - tthc-ingest's pipelined checkpoints
# (--pipeline: batch n+1 applied while batch n commits) give exactly the
# tables of one batch at a time: the events, dossiers, counters, dead
# letters and progress. The stream re-sends events 1 to 120 messages
# after their first copy, so the first copy is often in the batch in
# flight when the second is staged: identical copies (counted once),
# differing ones (conflicting_duplicate) and a seq older than the
# dossier's last that was never stored (bad_seq); with poison messages
# of every kind, rows PostgreSQL refuses as data (the flight fails and
# is bisected), a kill -9 and PostgreSQL connections terminated under it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/common_ingest.sh"
source "$(dirname "${BASH_SOURCE[0]}")/common_pipeline.sh"
cd "$TP_ROOT"

tp_ingest_setup
pipe_stream --days 14
tp_produce <"$W/mix.jsonl"

# 300 dossiers on one partition, each re-sending an event later: kind 0
# an identical copy, 1 a differing one, 2 the seq its gap skipped.
python3 - "$TP_ROOT/schemas/avro/1-filing_event.avsc" >"$W/dups.jsonl" <<'PY'
import hashlib, json, sys
schema = sys.argv[1]
T0, DAY = 1756699200000, 86400000
def ev(n, etype, at, d, seq, src="pipe"):
    return {"event_id": "0c0c0c0c-0000-4000-8000-%012d" % n, "event_type": etype,
            "occurred_at": at, "dossier_id": d, "seq": seq, "province_code": "01",
            "commune_code": "00004", "procedure_code": "1.004227",
            "procedure_level": "COMMUNE", "channel": "IN_PERSON",
            "agency_code": "UBND-00004", "handling_level": "COMMUNE",
            "to_level": None, "to_agency_code": None, "due_at": None,
            "source_system": src, "handling_commune_code": "00004"}
ids, n = [], 0
while len(ids) < 300:  # none of them refused by the test's constraint
    d = "PIPE-%d" % n
    n += 1
    if not hashlib.md5(d.encode()).hexdigest().endswith("ff"):
        ids.append(d)
out = []
for i, d in enumerate(ids):
    p, at, kind = 2 * i, T0 + i * 60000, i % 3
    first = ev(3 * i, "RECEIVED", at, d, 1)
    first["due_at"] = at + 3 * DAY
    out.append((p, 0, first))
    if kind == 2:
        out.append((p, 1, ev(3 * i + 2, "RESOLVED", at + DAY, d, 3)))
        later = ev(3 * i + 1, "SUPPLEMENT_REQUESTED", at + 1000, d, 2)
    elif kind == 1:
        later = dict(first, source_system="other")
    else:
        later = first
    out.append((p + 1 + (i * 7) % 120, 2, later))
for _, _, e in sorted(out, key=lambda x: (x[0], x[1])):
    print(json.dumps({"topic": "tthc.filings.01", "key": e["dossier_id"],
                      "partition": 0, "schema_id": 1, "schema_file": schema,
                      "event": e}))
PY
tp_produce <"$W/dups.jsonl"
pipe_refuse dossiers

PIPE_NAME=ingest
PIPE_TABLES=(filing_events dossiers commune_throughput_hourly
	province_throughput_daily rejected_messages partition_progress)
pipe_consumer() { tp_consumer ingest --batch-size 40 --batch-ms 100 "$@"; }
pipe_reference
tp_assert_eq "100 100" "$(tp_psql_val "SELECT
	count(*) FILTER (WHERE reason = 'conflicting_duplicate') || ' ' ||
	count(*) FILTER (WHERE reason = 'bad_seq') FROM tthc.rejected_messages
	WHERE topic = 'tthc.filings.01' AND partition = 0 AND
	encode(message_key, 'escape') LIKE 'PIPE-%'")" \
	"differing copies and never-stored seqs of earlier batches are dead letters"
tp_assert_eq 400 "$(tp_psql_val "SELECT count(*) FROM tthc.filing_events
	WHERE dossier_id LIKE 'PIPE-%'")" \
	"an identical copy is stored once"
pipe_torture
tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM tthc.rejected_messages
	WHERE dlq_published_at IS NULL")" \
	"every dead letter reached the DLQ topic"
tp_finish
