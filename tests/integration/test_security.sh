#!/usr/bin/env bash
# test_security.sh - PostgreSQL over TLS with sslmode=verify-full (psql and
# our own binaries, with a CA and server certificate made here), the
# privileges of tthc_service and tthc_analyst, row-level security for a
# province analyst, and secrets kept out of the logs.
#
#   BUILD_DIR=build-ops bash tests/integration/test_security.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$TP_ROOT"

command -v openssl >/dev/null || tp_die "openssl not installed"
W=$(tp_workdir)
tp_pg_start

# ---- certificates ------------------------------------------------------------
# A CA, a server certificate for localhost / 127.0.0.1 signed by it, and an
# unrelated CA that must be refused.
tls() { openssl "$@" >>"$W/openssl.log" 2>&1 || {
	cat "$W/openssl.log" >&2
	tp_die "openssl $1 failed"
}; }
tls req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=tthc test CA" \
	-keyout "$W/ca.key" -out "$W/ca.crt" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
tls req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=wrong CA" \
	-keyout "$W/wrong-ca.key" -out "$W/wrong-ca.crt" \
	-addext basicConstraints=critical,CA:TRUE
tls req -new -newkey rsa:2048 -nodes -subj "/CN=localhost" \
	-keyout "$W/server.key" -out "$W/server.csr"
printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=digitalSignature,keyEncipherment" \
	"extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1" \
	>"$W/server.ext"
tls x509 -req -in "$W/server.csr" -CA "$W/ca.crt" -CAkey "$W/ca.key" \
	-CAcreateserial -days 2 -extfile "$W/server.ext" -out "$W/server.crt"

# ---- restart the server with ssl = on ------------------------------------------
DATA=$TP_PG_DIR/data
PG_USER=$(stat -c %U "$DATA")
install -m 0600 "$W/server.key" "$DATA/server.key"
install -m 0644 "$W/server.crt" "$DATA/server.crt"
if [[ $EUID -eq 0 ]]; then chown "$PG_USER": "$DATA/server.key" "$DATA/server.crt"; fi
tp_psql_super_val "ALTER SYSTEM SET ssl = on" >/dev/null
tp_psql_super_val "ALTER SYSTEM SET ssl_cert_file = 'server.crt'" >/dev/null
tp_psql_super_val "ALTER SYSTEM SET ssl_key_file = 'server.key'" >/dev/null
tp_psql_super_val "ALTER SYSTEM SET ssl_min_protocol_version = 'TLSv1.2'" >/dev/null
"$TP_ROOT/scripts/pg-local.sh" stop "$TP_PG_DIR" 2>>"$W/pg.log"
"$TP_ROOT/scripts/pg-local.sh" start "$TP_PG_DIR" "$TP_PG_PORT" >/dev/null 2>>"$W/pg.log" ||
	{ cat "$W/pg.log" "$TP_PG_DIR/server.log" >&2; tp_die "restart with ssl = on failed"; }
tp_assert_eq on "$(tp_psql_super_val 'SHOW ssl')" "server restarted with ssl = on"

TLS="sslmode=verify-full sslrootcert=$W/ca.crt"
PG_TLS="host=localhost port=$TP_PG_PORT dbname=tthc user=tthc_owner $TLS"
PG_TLS_IP="host=127.0.0.1 port=$TP_PG_PORT dbname=tthc user=tthc_owner $TLS"
PG_WRONG="host=localhost port=$TP_PG_PORT dbname=tthc user=tthc_owner sslmode=verify-full sslrootcert=$W/wrong-ca.crt"

ssl_in_use() { # ssl_in_use CONNINFO: "t" when the session is encrypted
	psql -XAtq -v ON_ERROR_STOP=1 "$1" \
		-c "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()" 2>&1
}
tp_assert_eq t "$(ssl_in_use "$PG_TLS")" "psql verify-full to localhost (DNS SAN) is encrypted"
tp_assert_eq t "$(ssl_in_use "$PG_TLS_IP")" "psql verify-full to 127.0.0.1 (IP SAN) is encrypted"
out=$(ssl_in_use "$PG_WRONG" || true)
tp_assert_eq refused "$([[ $out == *"certificate verify failed"* ]] && echo refused || echo "$out")" \
	"psql refuses a server certificate from another CA"
out=$(ssl_in_use "hostaddr=127.0.0.1 host=db.example port=$TP_PG_PORT dbname=tthc user=tthc_owner $TLS" || true)
tp_assert_eq refused "$([[ $out == *"does not match host name"* ]] && echo refused || echo "$out")" \
	"psql refuses a certificate for another host name"

# Our binaries speak TLS through libpq: migrate over verify-full.
if "$TTHC_BIN/tthc-admin" migrate --pg "$PG_TLS" --migrations "$TP_ROOT"/schemas/sql \
	--reference "$TP_ROOT"/reference >"$W/migrate.log" 2>&1; then
	rc=0
else
	rc=$?
	cat "$W/migrate.log" >&2
fi
tp_assert_eq 0 "$rc" "tthc-admin migrate over sslmode=verify-full"
tp_assert_eq 4 "$(tp_psql_val "SELECT count(*) FROM tthc.schema_migrations WHERE version <= 4")" \
	"migrations 001-004 applied"
rc=0
"$TTHC_BIN/tthc-admin" migrate --pg "$PG_WRONG" --migrations "$TP_ROOT"/schemas/sql \
	--reference "$TP_ROOT"/reference >"$W/migrate-wrong.log" 2>&1 || rc=$?
tp_assert_eq "1 yes" "$rc $(grep -q 'certificate verify failed' "$W/migrate-wrong.log" && echo yes || echo no)" \
	"tthc-admin refuses a server certificate from another CA (exit 1, says why)"

# ---- roles ------------------------------------------------------------------------
# Login roles that are members of the group roles, as an operator would
# make them (the owner has CREATEROLE).
PW_SERVICE="svc-$(openssl rand -hex 12)"
tp_psql_val "CREATE ROLE t_service LOGIN PASSWORD '$PW_SERVICE' IN ROLE tthc_service;
CREATE ROLE t_analyst LOGIN IN ROLE tthc_analyst;
SELECT tthc.create_province_analyst('t_prov01', '01');
ALTER ROLE t_prov01 LOGIN;
CREATE ROLE t_person LOGIN IN ROLE t_prov01;
CREATE ROLE t_unbound LOGIN IN ROLE tthc_province_analyst" >/dev/null

as() { # as ROLE SQL: run SQL over TLS as ROLE; prints the value or the error
	psql -XAtq -v ON_ERROR_STOP=1 \
		"host=localhost port=$TP_PG_PORT dbname=tthc user=$1 $TLS" -c "$2" 2>&1
}
denied() { # denied ROLE SQL: "denied" when PostgreSQL refuses it for privileges
	local out
	if out=$(as "$1" "$2"); then
		echo "allowed: $out"
	elif [[ $out == *"permission denied"* || $out == *"must be owner"* ]]; then
		echo denied
	else
		echo "failed otherwise: $out"
	fi
}

# ---- data for two provinces, as the owner -------------------------------------------
tp_psql_val "SELECT tthc.ensure_month_partition('2025-09-10 03:00+00')" >/dev/null
tp_psql_val "
INSERT INTO tthc.filing_events (event_id, event_type, occurred_at, dossier_id,
  seq, province_code, commune_code, procedure_code, procedure_level, channel,
  agency_code, handling_level, source_system, kafka_topic, kafka_partition,
  kafka_offset)
VALUES
  ('00000000-0000-4000-8000-000000000001', 'RECEIVED', '2025-09-10 03:00+00',
   'D01-1', 1, '01', '00004', '1.004227', 'COMMUNE', 'ONLINE', 'UBND-00004',
   'COMMUNE', 'test', 'tthc.filings.01', 0, 0),
  ('00000000-0000-4000-8000-000000000002', 'RECEIVED', '2025-09-10 03:00+00',
   'D79-1', 1, '79', '25747', '1.004227', 'COMMUNE', 'IN_PERSON', 'UBND-25747',
   'COMMUNE', 'test', 'tthc.filings.79', 0, 0);
INSERT INTO tthc.dossiers (province_code, dossier_id, commune_code,
  procedure_code, procedure_level, channel, received_at, status, last_seq)
VALUES ('01', 'D01-1', '00004', '1.004227', 'COMMUNE', 'ONLINE',
        '2025-09-10 03:00+00', 'processing', 1),
       ('79', 'D79-1', '25747', '1.004227', 'COMMUNE', 'IN_PERSON',
        '2025-09-10 03:00+00', 'processing', 1);
INSERT INTO tthc.commune_throughput_hourly (province_code, commune_code, hour,
  received, online_received)
VALUES ('01', '00004', '2025-09-10 03:00+00', 1, 1),
       ('79', '25747', '2025-09-10 03:00+00', 1, 0);
INSERT INTO tthc.rejected_messages (consumer_group, topic, partition,
  kafka_offset, reason, detail)
VALUES ('tthc-ingest', 'tthc.filings.01', 0, 1, 'bad_framing', 'test'),
       ('tthc-ingest', 'tthc.filings.79', 0, 1, 'bad_avro', 'test');
INSERT INTO tthc.partition_progress (group_id, topic, partition,
  province_code, max_occurred_at, last_message_at, next_offset)
VALUES ('tthc-ingest', 'tthc.filings.01', 0, '01', '2025-09-10 03:00+00', now(), 2),
       ('tthc-ingest', 'tthc.filings.79', 0, '79', '2025-09-10 03:00+00', now(), 2);
SELECT tthc.province_throughput_resum(NULL)" \
	>/dev/null
PART=$(tp_psql_val "SELECT tthc.ensure_month_partition('2025-09-10 03:00+00')")

# ---- tthc_analyst: reads everything, writes nothing -----------------------------------
tp_assert_eq "2 2 2 2 2" "$(as t_analyst "SELECT (SELECT count(*) FROM tthc.filing_events),
  (SELECT count(*) FROM tthc.dossiers), (SELECT count(*) FROM tthc.commune_throughput_daily),
  (SELECT count(*) FROM tthc.rejected_messages), (SELECT count(*) FROM tthc.freshness)" | tr '|' ' ')" \
	"analyst reads both provinces (events, dossiers, daily view, dead letters, freshness)"
tp_assert_eq denied "$(denied t_analyst "INSERT INTO tthc.commune_throughput_hourly (province_code, hour) VALUES ('01', now())")" \
	"analyst cannot INSERT"
tp_assert_eq denied "$(denied t_analyst "UPDATE tthc.dossiers SET status = 'stopped'")" \
	"analyst cannot UPDATE"
tp_assert_eq denied "$(denied t_analyst "DELETE FROM tthc.rejected_messages")" \
	"analyst cannot DELETE"
tp_assert_eq denied "$(denied t_analyst "CREATE TABLE tthc.analyst_notes (x int)")" \
	"analyst cannot CREATE TABLE in tthc"
tp_assert_eq denied "$(denied t_analyst "DROP VIEW tthc.freshness")" \
	"analyst cannot DROP"

# ---- province analyst: only province 01 ------------------------------------------------
for rel in filing_events dossiers commune_throughput_hourly commune_throughput_daily \
	province_throughput_daily open_dossiers partition_progress freshness; do
	tp_assert_eq "1 01" "$(as t_prov01 "SELECT count(*), string_agg(DISTINCT province_code, ',') FROM tthc.$rel" | tr '|' ' ')" \
		"province analyst sees only province 01 in tthc.$rel"
done
tp_assert_eq "1 tthc.filings.01" "$(as t_prov01 "SELECT count(*), string_agg(DISTINCT topic, ',') FROM tthc.rejected_messages" | tr '|' ' ')" \
	"province analyst sees only province 01's dead letters"
tp_assert_eq 0 "$(as t_prov01 "SELECT count(*) FROM tthc.dossiers WHERE province_code = '79'")" \
	"province analyst cannot find province 79 by asking for it"
tp_assert_eq "1 01" "$(as t_person "SELECT count(*), string_agg(DISTINCT province_code, ',') FROM tthc.dossiers" | tr '|' ' ')" \
	"a login member of the province role inherits its province"
tp_assert_eq 0 "$(as t_unbound "SELECT count(*) FROM tthc.dossiers")" \
	"a province analyst bound to no province sees no row"
tp_assert_eq denied "$(denied t_prov01 "SELECT count(*) FROM tthc.$PART")" \
	"province analyst cannot read a month partition around the policy"
tp_assert_eq denied "$(denied t_prov01 "INSERT INTO tthc.dossiers (province_code, dossier_id, procedure_code, procedure_level, channel, status, last_seq) VALUES ('01', 'X', 'p', 'COMMUNE', 'ONLINE', 'processing', 1)")" \
	"province analyst cannot INSERT"
tp_assert_eq denied "$(denied t_prov01 "CREATE TABLE tthc.p (x int)")" \
	"province analyst cannot CREATE TABLE"
tp_assert_eq denied "$(denied t_prov01 "SELECT tthc.create_province_analyst('t_prov01', '79')")" \
	"province analyst cannot bind itself to another province"
# ---- province isolation by construction -----------------------------------------------
# Every relation a province analyst may read either filters by the caller's
# provinces or is reference data. Walk the catalog, so that a table added
# later without row-level security (or a view without security_invoker, or
# a materialized view) fails here.
ISOLATION_ALLOW="'tthc.provinces', 'tthc.communes', 'tthc.holidays', 'tthc.procedures'"
isolation_leaks() { # the relations that could show another province's rows
	tp_psql_val "$1
WITH rel AS (
  SELECT c.oid, format('%s.%s', n.nspname, c.relname) AS name, c.relkind,
         c.relrowsecurity,
         coalesce((SELECT bool_or(o ~* '^security_invoker=(true|on|yes|1)\$')
                   FROM unnest(c.reloptions) o), false) AS invoker
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname !~ '^pg_(toast|temp)'
    AND (has_table_privilege('tthc_province_analyst', c.oid, 'SELECT')
         OR has_any_column_privilege('tthc_province_analyst', c.oid, 'SELECT'))
    AND format('%s.%s', n.nspname, c.relname) NOT IN ($ISOLATION_ALLOW)
), why AS (
  SELECT name, CASE
           WHEN relkind = 'm' THEN 'materialized view'
           WHEN relkind = 'f' THEN 'foreign table'
           WHEN relkind = 'v' AND NOT invoker THEN 'view without security_invoker'
           WHEN relkind IN ('r', 'p') AND NOT relrowsecurity THEN 'table without row-level security'
         END AS reason
  FROM rel
  UNION ALL
  -- a policy that applies to province analysts must filter by the caller
  SELECT r.name, format('policy %s does not filter by the caller', p.polname)
  FROM rel r JOIN pg_policy p ON p.polrelid = r.oid
  WHERE r.relkind IN ('r', 'p') AND p.polcmd IN ('r', '*') AND p.polpermissive
    AND EXISTS (SELECT 1 FROM unnest(p.polroles) pr
                WHERE pr = 0 OR pg_has_role('tthc_province_analyst', pr, 'USAGE'))
    AND pg_get_expr(p.polqual, p.polrelid) !~ '(analyst_province_codes\(\)|CURRENT_USER)'
)
SELECT name || ': ' || reason FROM why WHERE reason IS NOT NULL
ORDER BY (name || ': ' || reason) COLLATE \"C\""
}
# The rows are on partition 9, which no consumer of this test reads:
# tthc-alert (below) reloads a partition's last snapshot from this table and
# writes the tick 04:00 of tthc.filings.01/0 itself, so a hand-made row
# there would collide with its primary key (the 60 s timeout of an earlier
# version of this test: every batch refused with SQLSTATE 23505).
tp_psql_val "SELECT tthc.create_province_analyst('t_prov79', '79');
INSERT INTO tthc.alert_commune_ticks (topic, partition, province_code,
  commune_code, tick, open, overdue, intake_backlog)
VALUES ('tthc.filings.01', 9, '01', '00004', '2025-09-10 04:00+00', 1, 0, 0),
       ('tthc.filings.79', 9, '79', '25747', '2025-09-10 04:00+00', 1, 0, 0)" >/dev/null
tp_assert_eq "1 01" "$(as t_prov01 "SELECT count(*), string_agg(DISTINCT province_code, ',') FROM tthc.alert_commune_ticks" | tr '|' ' ')" \
	"province analyst sees only province 01 in tthc.alert_commune_ticks"
tp_assert_eq "t_prov01 01" "$(as t_person "SELECT role_name, province_code FROM tthc.my_province_bindings" | tr '|' ' ')" \
	"tthc.my_province_bindings shows the caller's own bindings"
tp_assert_eq "t_prov01" "$(as t_prov01 "SELECT string_agg(DISTINCT role_name, ',') FROM tthc.analyst_provinces")" \
	"a province analyst cannot read another role's binding in tthc.analyst_provinces"
tp_assert_eq 0 "$(as t_unbound "SELECT count(*) FROM tthc.analyst_provinces")" \
	"a province analyst bound to no province sees no binding"
tp_assert_eq "" "$(isolation_leaks "" 2>&1)" \
	"catalog walk: every relation granted to tthc_province_analyst filters by province"
tp_assert_eq "tthc.t_canary: table without row-level security
tthc.t_canary_m: materialized view
tthc.t_canary_rls: policy tthc_leak does not filter by the caller
tthc.t_canary_v: view without security_invoker" \
	"$(isolation_leaks "BEGIN;
CREATE TABLE tthc.t_canary (province_code text);
CREATE VIEW tthc.t_canary_v AS SELECT * FROM tthc.dossiers;
CREATE MATERIALIZED VIEW tthc.t_canary_m AS SELECT 1 AS x;
CREATE TABLE tthc.t_canary_rls (province_code text);
ALTER TABLE tthc.t_canary_rls ENABLE ROW LEVEL SECURITY;
CREATE POLICY tthc_leak ON tthc.t_canary_rls FOR SELECT USING (true);
GRANT SELECT ON tthc.t_canary, tthc.t_canary_v, tthc.t_canary_m,
  tthc.t_canary_rls TO tthc_province_analyst;" 2>&1)" \
	"catalog walk catches a new table, view, materialized view and policy (rolled back)"

out=$(tp_psql_val "SELECT tthc.create_province_analyst('t_analyst', '01')" 2>&1 || true)
tp_assert_eq refused "$([[ $out == *"already sees every province"* ]] && echo refused || echo "$out")" \
	"create_province_analyst refuses a role that already sees everything"

# ---- tthc_service: writes its tables, no DDL ----------------------------------------------
tp_assert_eq denied "$(denied t_service "CREATE TABLE tthc.evil (x int)")" \
	"service cannot CREATE TABLE in schema tthc"
tp_assert_eq denied "$(denied t_service "CREATE TABLE public.evil (x int)")" \
	"service cannot CREATE TABLE in schema public"
tp_assert_eq denied "$(denied t_service "CREATE SCHEMA evil")" \
	"service cannot CREATE SCHEMA"
tp_assert_eq denied "$(denied t_service "ALTER TABLE tthc.dossiers ADD COLUMN evil int")" \
	"service cannot ALTER a table"
tp_assert_eq denied "$(denied t_service "DROP TABLE tthc.commune_throughput_hourly")" \
	"service cannot DROP a table"
tp_assert_eq denied "$(denied t_service "TRUNCATE tthc.dossiers")" \
	"service cannot TRUNCATE"
tp_assert_eq denied "$(denied t_service "DELETE FROM tthc.filing_events")" \
	"service cannot DELETE events"
tp_assert_eq denied "$(denied t_service "SELECT tthc.province_throughput_resum(NULL)")" \
	"service cannot recompute the province days (owner only)"
tp_assert_eq denied "$(denied t_service "INSERT INTO tthc.provinces (code, name) VALUES ('99', 'x')")" \
	"service cannot write reference data"
tp_assert_eq "2 2" "$(as t_service "SELECT (SELECT count(*) FROM tthc.dossiers), (SELECT count(*) FROM tthc.filing_events)" | tr '|' ' ')" \
	"service reads every province"
tp_assert_eq "ok 3" "$(as t_service "
CREATE TEMP TABLE tp_events (LIKE tthc.filing_events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
BEGIN;
INSERT INTO tp_events (event_id, event_type, occurred_at, dossier_id, seq,
  province_code, procedure_code, procedure_level, channel, agency_code,
  handling_level, source_system, kafka_topic, kafka_partition, kafka_offset)
VALUES ('00000000-0000-4000-8000-000000000003', 'RESOLVED', '2025-09-11 03:00+00',
  'D01-1', 2, '01', '1.004227', 'COMMUNE', 'ONLINE', 'UBND-00004', 'COMMUNE',
  'test', 'tthc.filings.01', 0, 2);
INSERT INTO tthc.filing_events SELECT * FROM tp_events;
UPDATE tthc.dossiers SET last_seq = 2 WHERE dossier_id = 'D01-1';
COMMIT;
SELECT 'ok', count(*) FROM tthc.filing_events" | tr '|' ' ')" \
	"service creates TEMP tables and writes events through INSERT ... SELECT"
tp_assert_eq filing_events_2025_10 "$(as t_service "SELECT tthc.ensure_month_partition('2025-10-02 00:00+07')")" \
	"service creates month partitions only through tthc.ensure_month_partition"

# ---- tthc-ingest as a tthc_service member, end to end -----------------------------------
# Proves the services need nothing but tthc_service on tables with row-level
# security (PostgreSQL refuses COPY FROM into them for non-owners).
tp_broker_start 1
cat >"$W/events.jsonl" <<EOF
{"topic": "tthc.filings.01", "key": "S01-1", "partition": 0, "schema_id": 1, "schema_file": "schemas/avro/1-filing_event.avsc", "event": {"event_id": "00000000-0000-4000-8000-0000000000a1", "event_type": "RECEIVED", "occurred_at": 1757473200000, "dossier_id": "S01-1", "seq": 1, "province_code": "01", "commune_code": "00004", "procedure_code": "1.004227", "procedure_level": "COMMUNE", "channel": "ONLINE", "agency_code": "UBND-00004", "handling_level": "COMMUNE", "to_level": null, "to_agency_code": null, "due_at": 1758078000000, "source_system": "test", "handling_commune_code": "00004"}}
{"topic": "tthc.filings.01", "key": "S01-1", "partition": 0, "schema_id": 1, "schema_file": "schemas/avro/1-filing_event.avsc", "event": {"event_id": "00000000-0000-4000-8000-0000000000a2", "event_type": "RESOLVED", "occurred_at": 1757559600000, "dossier_id": "S01-1", "seq": 2, "province_code": "01", "commune_code": "00004", "procedure_code": "1.004227", "procedure_level": "COMMUNE", "channel": "ONLINE", "agency_code": "UBND-00004", "handling_level": "COMMUNE", "to_level": null, "to_agency_code": null, "due_at": 1758078000000, "source_system": "test", "handling_commune_code": "00004"}}
{"topic": "tthc.filings.01", "key": "S01-2", "partition": 0, "raw_hex": "deadbeef"}
EOF
"$TTHC_BIN/tp-produce" "$TTHC_BROKERS" <"$W/events.jsonl" >/dev/null 2>"$W/produce.log" ||
	{ cat "$W/produce.log" >&2; tp_die "tp-produce failed"; }
rc=0
TTHC_PG="host=localhost port=$TP_PG_PORT dbname=tthc user=t_service $TLS" \
	timeout 40 "$TTHC_BIN/tthc-ingest" --exit-when-idle --idle-exit-ms 3000 \
	--schemas schemas/avro >"$W/ingest-service.log" 2>&1 || rc=$?
tp_assert_eq "0 2 1" "$rc $(tp_psql_val "SELECT (SELECT count(*) FROM tthc.filing_events WHERE dossier_id = 'S01-1'),
  (SELECT count(*) FROM tthc.rejected_messages WHERE topic = 'tthc.filings.01' AND reason = 'bad_framing' AND consumer_group = 'tthc-ingest' AND kafka_offset = 2)" | tr '|' ' ')" \
	"tthc-ingest connected as a tthc_service member over TLS stores events and dead letters"
if [[ $rc != 0 ]]; then tail -n 5 "$W/ingest-service.log" >&2; fi

# tthc-alert as a tthc_service member: every table it writes has row-level
# security (tthc.alert_commune_ticks since 007), so it must not COPY into them.
rc=0
TTHC_PG="host=localhost port=$TP_PG_PORT dbname=tthc user=t_service $TLS" \
	timeout 60 "$TTHC_BIN/tthc-alert" --exit-when-idle --idle-exit-ms 3000 \
	--topics '^tthc\.filings\.01$' >"$W/alert-service.log" 2>&1 || rc=$?
tp_assert_eq "0 yes" "$rc $(tp_psql_val "SELECT CASE WHEN count(*) > 0 THEN 'yes' ELSE 'no' END
  FROM tthc.alert_commune_ticks WHERE topic = 'tthc.filings.01' AND partition = 0
   AND commune_code = '00004'")" \
	"tthc-alert connected as a tthc_service member writes tthc.alert_commune_ticks"
if [[ $rc != 0 ]]; then tail -n 5 "$W/alert-service.log" >&2; fi
tp_assert_eq 0 "$(grep -c 'level=error' "$W/alert-service.log" || true)" \
	"tthc-alert as a tthc_service member logged no error"

# ---- secrets never reach the logs ------------------------------------------------------
# The conninfo comes from TTHC_PG_FILE with a password; SASL credentials
# from the config file; librdkafka debugging on. One run reaches PostgreSQL
# (trust auth ignores the password) but no broker, one reaches neither.
PG_SECRET="pg-$(openssl rand -hex 16)"
SASL_SECRET="sasl-$(openssl rand -hex 16)"
printf 'host=localhost port=%s dbname=tthc user=t_service password=%s %s\n' \
	"$TP_PG_PORT" "$PG_SECRET" "$TLS" >"$W/pg.secret"
printf 'host=127.0.0.1 port=1 dbname=tthc user=t_service password=%s connect_timeout=2\n' \
	"$PG_SECRET" >"$W/pg-down.secret"
chmod 0600 "$W/pg.secret" "$W/pg-down.secret"
cat >"$W/ingest.conf" <<EOF
brokers = 127.0.0.1:1
schemas = schemas/avro
log-level = debug
kafka.security.protocol = SASL_PLAINTEXT
kafka.sasl.mechanisms = SCRAM-SHA-512
kafka.sasl.username = tthc-ingest
kafka.sasl.password = $SASL_SECRET
kafka.debug = conf,security,broker,generic
EOF
# The same, with the SASL password from TTHC_KAFKA_SASL_PASSWORD_FILE.
grep -v 'sasl.password' "$W/ingest.conf" >"$W/ingest-env.conf"
printf '%s\n' "$SASL_SECRET" >"$W/sasl.secret"
chmod 0600 "$W/sasl.secret"
run_secret() { # run_secret NAME PGFILE CONF PATTERN [VAR=VALUE]: run tthc-ingest until its
	# log (NAME.log) shows PATTERN or it exits, at most 60 s: a loaded machine may take
	# seconds to connect to PostgreSQL over TLS before it builds its Kafka client.
	local pid
	env -u TTHC_PG TTHC_PG_FILE="$2" "${@:5}" "$TTHC_BIN/tthc-ingest" --config "$3" \
		--log-level debug >"$W/$1.log" 2>&1 &
	pid=$!
	for _ in $(seq 600); do
		grep -q -e "$4" "$W/$1.log" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	sleep 1 # let librdkafka log its first connection attempts too
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
run_secret secret-pg-up "$W/pg.secret" "$W/ingest-env.conf" 'sasl.password = \[redacted\]' \
	TTHC_KAFKA_SASL_PASSWORD_FILE="$W/sasl.secret"
run_secret secret-pg-down "$W/pg-down.secret" "$W/ingest.conf" 'could not connect to PostgreSQL'
for f in secret-pg-up secret-pg-down; do
	tp_assert_eq yes "$([[ $(wc -l <"$W/$f.log") -gt 0 ]] && echo yes || echo no)" \
		"tthc-ingest logged something ($f)"
	tp_assert_eq 0 "$(grep -c -e "$PG_SECRET" -e "$SASL_SECRET" "$W/$f.log" || true)" \
		"no password in tthc-ingest's debug log ($f)"
done
tp_assert_eq yes "$(grep -q 'sasl.password = \[redacted\]' "$W/secret-pg-up.log" && echo yes || echo no)" \
	"librdkafka got sasl.password from TTHC_KAFKA_SASL_PASSWORD_FILE (its dump redacts it)"
grep -q 'sasl.password = \[redacted\]' "$W/secret-pg-up.log" || tail -n 20 "$W/secret-pg-up.log" >&2
rc=0
"$TTHC_BIN/tthc-admin" migrate --pg "$(cat "$W/pg-down.secret")" >"$W/admin-secret.log" 2>&1 || rc=$?
tp_assert_eq "1 0" "$rc $(grep -c -e "$PG_SECRET" "$W/admin-secret.log" || true)" \
	"tthc-admin fails with exit 1 and no password in its message"

# Malformed conninfo with a password: libpq's parse errors quote pieces of
# it (a whole URI, a percent-encoded token, the word after a space, a
# word with quotes of its own), and an invalid value found when connecting.
# Grepped for the secret's tail: one of them splits it with a quote.
BAD_CONNINFO=(
	"postgresql://t_service:$PG_SECRET@[::1/tthc"
	"postgresql://t_service:$PG_SECRET%zz@localhost:$TP_PG_PORT/tthc"
	"host=localhost port=$TP_PG_PORT dbname=tthc password=x $PG_SECRET"
	"host=localhost port=$TP_PG_PORT dbname=tthc password=$PG_SECRET sslmode=$PG_SECRET"
	"host=localhost port=$TP_PG_PORT dbname=tthc password=x =\"${PG_SECRET:0:8}\"${PG_SECRET:8}"
)
for i in "${!BAD_CONNINFO[@]}"; do
	rc=0
	"$TTHC_BIN/tthc-admin" migrate --pg "${BAD_CONNINFO[$i]}" >"$W/admin-bad-$i.log" 2>&1 || rc=$?
	tp_assert_eq "1 0 yes" "$rc $(grep -c -e "${PG_SECRET:8}" "$W/admin-bad-$i.log" || true) $(grep -q 'could not connect to PostgreSQL' "$W/admin-bad-$i.log" && echo yes || echo no)" \
		"malformed conninfo $i: tthc-admin says it could not connect, without the password"
	[[ $rc == 1 ]] || cat "$W/admin-bad-$i.log" >&2
done
printf '%s\n' "${BAD_CONNINFO[0]}" >"$W/pg-bad.secret"
chmod 0600 "$W/pg-bad.secret"
run_secret secret-pg-bad "$W/pg-bad.secret" "$W/ingest.conf" 'could not connect to PostgreSQL'
tp_assert_eq "0 yes" "$(grep -c -e "$PG_SECRET" "$W/secret-pg-bad.log" || true) $(grep -q 'could not connect to PostgreSQL' "$W/secret-pg-bad.log" && echo yes || echo no)" \
	"tthc-ingest with a malformed conninfo says so without the password"

# An Alertmanager URL with credentials that fails: refused, and HTTP 401.
AM_SECRET="am-$(openssl rand -hex 16)"
AM_DEAD_PORT=$(tp_free_port)
AM_401_PORT=$(tp_free_port)
python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(401); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
' "$AM_401_PORT" &
tp_on_exit kill $!
tp_psql_val "INSERT INTO tthc.alerts (alert_id, province_code, rule, severity,
  status, value, threshold, started_at, changed_at)
VALUES ('00000000-0000-4000-8000-0000000000f1', '79', 'province_feed_stale',
  'warning', 'firing', 5, 4, now(), now())" >/dev/null
for am in dead 401; do
	[[ $am == dead ]] && port=$AM_DEAD_PORT || port=$AM_401_PORT
	printf 'alertmanager = http://tthc:%s@127.0.0.1:%s/am\nlog-level = debug\n' \
		"$AM_SECRET" "$port" >"$W/alert-am-$am.conf"
	TTHC_PG="host=localhost port=$TP_PG_PORT dbname=tthc user=t_service $TLS" \
		"$TTHC_BIN/tthc-alert" --config "$W/alert-am-$am.conf" \
		--topics '^tthc\.filings\.01$' >"$W/alert-am-$am.log" 2>&1 &
	pid=$!
	tp_wait_for "grep -q 'Alertmanager unavailable' '$W/alert-am-$am.log'" 20  || true
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	tp_assert_eq "yes 0" "$(grep -q "Alertmanager unavailable.*127.0.0.1:$port" "$W/alert-am-$am.log" && echo yes || echo no) $(grep -c -e "$AM_SECRET" "$W/alert-am-$am.log" || true)" \
		"a failed POST to Alertmanager ($am) names the host, not the credentials"
done

tp_finish
