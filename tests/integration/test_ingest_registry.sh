#!/usr/bin/env bash
# Writer schemas from a schema registry: ids missing from the local catalog
# are fetched over HTTP (GET /schemas/ids/<id>), cached; a 404 is a dead
# letter (unknown_schema), but a registry outage (5xx) is back-pressure:
# the consumer pauses, retries, and stores everything once it is back.
# The registry is a stand-in (tests/tools/fake_registry.py): Confluent's
# Schema Registry is not packaged for Debian.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/common_ingest.sh"

tp_ingest_setup
tp_produce <"$W/mix.jsonl"
REG=$W/registry
mkdir -p "$REG"
mv "$CAT/7-evolved.avsc" "$CAT/8-old.avsc" "$REG/"   # only the registry has them
touch "$REG/.down"
python3 "$TP_ROOT/tests/tools/fake_registry.py" "$REG" "$W/reg.port" &
tp_on_exit kill $!
tp_wait_for "test -s '$W/reg.port'" 10 || tp_die "registry did not start"
URL="http://127.0.0.1:$(cat "$W/reg.port")"

tp_ingest --registry "$URL" >"$W/ingest.log" 2>&1 &
pid=$!
tp_wait_for "grep -q 'retrying' '$W/ingest.log'" 30
tp_assert_eq 0 $? "a registry outage pauses and retries"
tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM tthc.rejected_messages")" \
	"an outage never makes dead letters"
rm "$REG/.down"
tp_wait_for "grep -q 'resuming partitions' '$W/ingest.log'" 60
tp_assert_eq 0 $? "the consumer resumes once the registry is back"
kill -TERM "$pid"
wait "$pid"
tp_assert_eq 0 $? "SIGTERM: commit, leave the group, exit 0"
tp_assert_eq 4 "$(tp_psql_val "SELECT count(*) FROM tthc.filing_events")" \
	"events of registry-only writer schemas are stored"
tp_assert_eq 1 "$(tp_psql_val "SELECT count(*) FROM tthc.rejected_messages WHERE reason = 'unknown_schema'")" \
	"an id the registry does not know (404) is a dead letter"
grep -q "$URL" "$W/ingest.log"
tp_assert_eq 1 $? "the registry URL is not logged"
tp_finish
