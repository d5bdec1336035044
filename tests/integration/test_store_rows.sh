#!/usr/bin/env bash
# test_store_rows.sh - a checkpoint writes the dossier rows it changed as
# an UPDATE of the rows its store read or wrote before and a plain INSERT
# of the new ones (common/store_pg.h, tp_store_pg_write). That hint can be
# wrong, and none of tthc-ingest (tthc.dossiers), tthc-route
# (tthc.route_dossiers) and tthc-alert (tthc.alert_dossiers) may lose a
# row or refuse a message for it:
#  - a row deleted while its dossier is resident (a rebuild, an
#    operator) comes back with the next event: the UPDATE finds fewer
#    rows than it should, and the checkpoint upserts them instead;
#  - a row another writer inserts between the read that found the
#    dossier new and the checkpoint (held at a table lock until that
#    writer commits) is overwritten: the INSERT's unique violation goes
#    back to a savepoint and upserts, with no dead letter and no outage;
#  - while a table's statistics say it is empty over the pages it has
#    (emptied, then vacuumed before it filled again), the planner takes
#    it for one row: the checkpoint upserts (no join with the table) and
#    a load of new dossiers joins by hash, not a nested loop.
set -uo pipefail # no -e: checks exit codes itself (CONTRIBUTING.md)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/common_ingest.sh"

tp_ingest_setup

# gen DOSSIER SEQ TYPE: one event of DOSSIER, all on partition 0.
gen() {
	python3 - "$TP_ROOT/schemas/avro/1-filing_event.avsc" "$@" <<'PY'
import json, sys, zlib
schema, d, seq, etype = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
T0 = 1756699200000
e = {"event_id": "0d0d0d0d-0000-4000-8000-%012d" % zlib.crc32(("%s/%d" % (d, seq)).encode()),
     "event_type": etype, "occurred_at": T0 + seq * 3600000, "dossier_id": d,
     "seq": seq, "province_code": "01", "commune_code": "00004",
     "procedure_code": "1.004227", "procedure_level": "COMMUNE",
     "channel": "IN_PERSON", "agency_code": "UBND-00004",
     "handling_level": "COMMUNE", "to_level": None, "to_agency_code": None,
     "due_at": T0 + 86400000 * 3, "source_system": "t",
     "handling_commune_code": "00004"}
print(json.dumps({"topic": "tthc.filings.01", "key": d, "partition": 0,
                  "schema_id": 1, "schema_file": schema, "event": e}))
PY
}

# col COLUMN DOSSIER: "<in tthc.dossiers>/<tthc.route_dossiers>/<tthc.alert_dossiers>"
# ("-": no row).
col() {
	tp_psql_val "SELECT concat_ws('/',
		coalesce((SELECT $1::text FROM tthc.dossiers WHERE dossier_id = '$2'), '-'),
		coalesce((SELECT $1::text FROM tthc.route_dossiers WHERE dossier_id = '$2'), '-'),
		coalesce((SELECT $1::text FROM tthc.alert_dossiers WHERE dossier_id = '$2'), '-'))"
}
rows() { col last_seq "$1"; }
SERVICES=(ingest route alert)

# logged N PATTERN WHAT SERVICE...: each service's log has N lines
# matching PATTERN (grep's basic regex).
logged() {
	local n=$1 pattern=$2 what=$3 svc
	shift 3
	for svc in "$@"; do
		tp_assert_eq "$n" "$(grep -c "$pattern" "$W/$svc.log")" "tthc-$svc $what"
	done
}

tp_on_exit pkill -KILL -P "$$" -f 'tthc-(route|alert)'
tp_ingest >"$W/ingest.log" 2>&1 &
ingest_pid=$!
tp_consumer route >"$W/route.log" 2>&1 &
route_pid=$!
tp_consumer alert >"$W/alert.log" 2>&1 &
alert_pid=$!

# ---- a row deleted while resident -------------------------------------
gen GONE-1 1 RECEIVED | tp_produce
tp_wait_for "[[ \$(rows GONE-1) == 1/1/1 ]]" 90
tp_assert_eq 1/1/1 "$(rows GONE-1)" "the three consumers wrote the new dossier's row"
tp_psql_super_val "DELETE FROM tthc.dossiers WHERE dossier_id = 'GONE-1';
	DELETE FROM tthc.route_dossiers WHERE dossier_id = 'GONE-1';
	DELETE FROM tthc.alert_dossiers WHERE dossier_id = 'GONE-1'" >/dev/null
gen GONE-1 2 SUPPLEMENT_REQUESTED | tp_produce
tp_wait_for "[[ \$(rows GONE-1) == 2/2/2 ]]" 60
tp_assert_eq 2/2/2 "$(rows GONE-1)" \
	"the rows deleted under the resident dossier come back with its next event"
tp_assert_eq "paused/paused/paused" "$(col status GONE-1)" \
	"with the state of both events"
logged 1 'rows this checkpoint updates were not there' \
	"noticed the missing row and upserted" "${SERVICES[@]}"

# ---- a row inserted by another writer meanwhile ------------------------
# The writer locks the three tables against writes, waits until each
# consumer waits on the lock to write RACE-1 (read as new before), inserts
# rows of its own (last_seq 7) and commits.
psql -XAtq -v ON_ERROR_STOP=1 "$TTHC_PG_SUPER" >"$W/writer.log" 2>&1 <<'SQL' &
BEGIN;
LOCK TABLE tthc.dossiers, tthc.route_dossiers, tthc.alert_dossiers
	IN SHARE ROW EXCLUSIVE MODE;
DO $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
	WHILE (SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted
	       AND relation IN ('tthc.dossiers'::regclass,
	                        'tthc.route_dossiers'::regclass,
	                        'tthc.alert_dossiers'::regclass)) < 3 LOOP
		IF clock_timestamp() - t0 > interval '120 s' THEN
			RAISE EXCEPTION 'the consumers never waited on the lock';
		END IF;
		PERFORM pg_sleep(0.05);
	END LOOP;
END $$;
INSERT INTO tthc.dossiers (province_code, dossier_id, procedure_code,
	procedure_level, channel, status, last_seq)
	VALUES ('01', 'RACE-1', '1.004227', 'COMMUNE', 'ONLINE', 'processing', 7);
INSERT INTO tthc.route_dossiers (province_code, dossier_id, procedure_code,
	procedure_level, channel, status, last_seq)
	VALUES ('01', 'RACE-1', '1.004227', 'COMMUNE', 'ONLINE', 'processing', 7);
INSERT INTO tthc.alert_dossiers (topic, partition, province_code,
	dossier_id, procedure_code, channel, status, last_seq)
	VALUES ('tthc.filings.01', 0, '01', 'RACE-1', '1.004227', 'ONLINE',
	'processing', 7);
COMMIT;
SQL
writer=$!
gen RACE-1 1 RECEIVED | tp_produce
wait "$writer"
tp_assert_eq 0 $? "the other writer held the three consumers at the lock, then inserted (see $W/writer.log)"
tp_wait_for "[[ \$(rows RACE-1) == 1/1/1 ]]" 60
tp_assert_eq 1/1/1 "$(rows RACE-1)" "the consumers' rows replace the other writer's"
tp_assert_eq "IN_PERSON/IN_PERSON/IN_PERSON" "$(col channel RACE-1)" \
	"every column of them"
logged 1 'a new row of this checkpoint was there already' \
	"met the unique violation and upserted" "${SERVICES[@]}"
logged 0 'refused as data\|taking the message' \
	"took it for neither a data error nor an outage" "${SERVICES[@]}"
tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM tthc.rejected_messages")" \
	"no dead letter"
tp_assert_eq 1 "$(tp_psql_val "SELECT count(*) FROM tthc.filing_events WHERE dossier_id = 'RACE-1'")" \
	"the event is stored once"

# ---- statistics that say the table is empty ---------------------------
# A rebuild's DELETE of every row, then a VACUUM that could not truncate
# (the consumers hold locks) before the table filled again: PostgreSQL's
# statistics say it holds no row over its pages, and the planner takes
# it for one row whatever it holds. Made here as it comes about (the rows
# put back after), autovacuum kept off those tables so that it stays.
# The premise: so, a join of a checkpoint's rows with the table would be
# a nested loop that reads all of them once per row of the table (seen:
# minutes for a second's work after a bench's reset).
TABLES=(tthc.dossiers tthc.route_dossiers tthc.alert_dossiers)
for t in "${TABLES[@]}"; do
	tp_psql_super_val "ALTER TABLE $t SET (autovacuum_enabled = false)" >/dev/null
	psql -XAtq -v ON_ERROR_STOP=1 "$TTHC_PG_SUPER" >>"$W/stats.log" 2>&1 <<SQL
CREATE TEMP TABLE saved AS SELECT * FROM $t;
DELETE FROM $t;
VACUUM (TRUNCATE false, ANALYZE) $t;
INSERT INTO $t SELECT * FROM saved;
SQL
	tp_assert_eq 0 $? "$t emptied, vacuumed and refilled (see $W/stats.log)"
	tp_assert_eq t "$(tp_psql_val "SELECT reltuples = 0 AND relpages > 0 AND
		(SELECT count(*) FROM $t) > 0 FROM pg_class WHERE oid = '$t'::regclass")" \
		"$t holds rows its statistics say it has not"
done
tp_assert_eq 1 "$(psql -XAtq -v ON_ERROR_STOP=1 "$TTHC_PG_SUPER" <<'SQL' | grep -c 'Seq Scan on s'
BEGIN;
CREATE TEMP TABLE s ON COMMIT DROP AS SELECT d.*, true AS stored
	FROM tthc.alert_dossiers d, generate_series(1, 20000) g;
SET LOCAL enable_hashjoin = off;
SET LOCAL enable_mergejoin = off;
EXPLAIN UPDATE tthc.alert_dossiers t SET last_seq = s.last_seq FROM s
	WHERE s.stored AND t.topic = s.topic AND t.partition = s.partition
	AND t.dossier_id = s.dossier_id;
ROLLBACK;
SQL
)" "the premise: the planner would scan a checkpoint's rows once per row of the table"
gen GONE-1 3 SUPPLEMENT_RECEIVED | tp_produce
gen NEW-1 1 RECEIVED | tp_produce
tp_wait_for "[[ \$(rows GONE-1) == 3/3/3 && \$(rows NEW-1) == 1/1/1 ]]" 60
tp_assert_eq "3/3/3 1/1/1" "$(rows GONE-1) $(rows NEW-1)" \
	"a stored and a new dossier written while the statistics say empty"
tp_assert_eq "processing/processing/processing" "$(col status GONE-1)" \
	"with the stored dossier's state"
logged 1 'its statistics say it is empty: upserting' \
	"upserted with no join while the statistics say empty" "${SERVICES[@]}"
logged 1 'its statistics say it is empty: loaded' \
	"loaded the new dossier by hash join" ingest route
for t in "${TABLES[@]}"; do
	tp_psql_super_val "ALTER TABLE $t RESET (autovacuum_enabled)" >/dev/null
done

kill -TERM "$ingest_pid" "$route_pid" "$alert_pid"
wait "$ingest_pid"
tp_assert_eq 0 $? "tthc-ingest stops cleanly"
wait "$route_pid"
tp_assert_eq 0 $? "tthc-route stops cleanly"
wait "$alert_pid"
tp_assert_eq 0 $? "tthc-alert stops cleanly"
tp_finish
