#!/usr/bin/env bash
# Writer schemas from a schema registry: ids missing from the local catalog
# are fetched over HTTP (GET /schemas/ids/<id>), cached; a 404 is a dead
# letter (unknown_schema), but a registry outage (5xx) is back-pressure:
# the consumer pauses, retries, and stores everything once it is back.
# The registry is a stand-in (tests/tools/fake_registry.py): Confluent's
# Schema Registry is not packaged for Debian.
set -uo pipefail # no -e: checks exit codes itself (CONTRIBUTING.md)
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
# The batch that met the outage is committed first; what was not fetched
# before it is consumed after the resume: wait for all of it (the counts
# are asserted below), then stop.
tp_wait_for "[ \"\$(tp_psql_val \"SELECT (SELECT count(*) FROM tthc.filing_events) >= 4 AND (SELECT count(*) FROM tthc.rejected_messages WHERE reason = 'unknown_schema') >= 1\")\" = t ]" 60
kill -TERM "$pid"
wait "$pid"
tp_assert_eq 0 $? "SIGTERM: commit, leave the group, exit 0"
tp_assert_eq 4 "$(tp_psql_val "SELECT count(*) FROM tthc.filing_events")" \
	"events of registry-only writer schemas are stored"
tp_assert_eq 1 "$(tp_psql_val "SELECT count(*) FROM tthc.rejected_messages WHERE reason = 'unknown_schema'")" \
	"an id the registry does not know (404) is a dead letter"
grep -q "$URL" "$W/ingest.log"
tp_assert_eq 1 $? "the registry URL is not logged"

# Basic authentication, the password from a file (TTHC_REGISTRY_PASSWORD_FILE):
# refused credentials are an outage (never dead letters), the right ones
# fetch the schema; the password is never logged.
echo "tthc:reg-s3cret-pw" >"$REG/.auth"
before=$(tp_psql_val "SELECT count(*) FROM tthc.rejected_messages")
printf 'wrong-pw\n' >"$W/reg-password"
cp "$TP_ROOT/schemas/avro/1-filing_event.avsc" "$REG/17-contract.avsc"
python3 - "$REG/17-contract.avsc" <<'PY' | tp_produce
import json, sys
e = {"event_id": "0d0d0d0d-0000-4000-8000-000000000017", "event_type": "RECEIVED",
     "occurred_at": 1756699200000, "dossier_id": "AUTH-1", "seq": 1,
     "province_code": "01", "commune_code": "00004", "procedure_code": "1.004227",
     "procedure_level": "COMMUNE", "channel": "IN_PERSON", "agency_code": "UBND-00004",
     "handling_level": "COMMUNE", "to_level": None, "to_agency_code": None,
     "due_at": 1756958400000, "source_system": "t", "handling_commune_code": "00004"}
print(json.dumps({"topic": "tthc.filings.01", "key": "AUTH-1", "partition": 0,
                  "schema_id": 17, "schema_file": sys.argv[1], "event": e}))
PY
TTHC_REGISTRY_PASSWORD_FILE=$W/reg-password tp_ingest --registry "$URL" \
	--registry-user tthc >"$W/ingest-auth.log" 2>&1 &
pid=$!
tp_wait_for "grep -q 'HTTP 401' '$W/ingest-auth.log'" 30
tp_assert_eq 0 $? "refused registry credentials are an outage (HTTP 401)"
kill -TERM "$pid"
wait "$pid"
tp_assert_eq "$before" "$(tp_psql_val "SELECT count(*) FROM tthc.rejected_messages")" \
	"and never make dead letters"
printf 'reg-s3cret-pw\n' >"$W/reg-password"
TTHC_REGISTRY_PASSWORD_FILE=$W/reg-password tp_ingest --registry "$URL" \
	--registry-user tthc --exit-when-idle >>"$W/ingest-auth.log" 2>&1
tp_assert_eq 0 $? "with the right password, tthc-ingest exits 0"
tp_assert_eq 1 "$(tp_psql_val "SELECT count(*) FROM tthc.filing_events WHERE dossier_id = 'AUTH-1'")" \
	"the event of a schema behind basic authentication is stored"
grep -q 'reg-s3cret-pw\|wrong-pw' "$W"/*.log
tp_assert_eq 1 $? "the registry password is not logged"
tp_finish
