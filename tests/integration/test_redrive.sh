#!/usr/bin/env bash
# Nothing is lost for good: a message rejected for an unknown commune is
# re-driven once the commune is added to the reference data (as data), and
# is then stored; re-driving again republishes nothing.
set -uo pipefail # no -e: checks exit codes itself (CONTRIBUTING.md)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/common_ingest.sh"

tp_ingest_setup
tp_produce <"$W/mix.jsonl"
tp_ingest --exit-when-idle >"$W/ingest-1.log" 2>&1
tp_assert_eq 1 "$(tp_psql_val "SELECT count(*) FROM tthc.rejected_messages WHERE reason = 'unknown_commune'")" \
	"the unknown commune is a dead letter"

# A new commune appears in the official list (here: 99999 in Hà Nội).
REF=$W/reference
cp -r "$TP_ROOT/reference" "$REF"
echo '99999,01,Thử Nghiệm,Thu Nghiem,Phường Thử Nghiệm,Thu Nghiem Ward,ward' >>"$REF/communes.csv"
"$TTHC_BIN/tthc-admin" migrate --pg "$TTHC_PG" --migrations "$TP_ROOT/schemas/sql" \
	--reference "$REF" >"$W/migrate.log" 2>&1
tp_assert_eq 0 $? "the reference data is updated as data"
out=$("$TTHC_BIN/tthc-admin" redrive --pg "$TTHC_PG" --brokers "$TTHC_BROKERS" \
	--reason unknown_commune)
tp_assert_eq "republished 1 dead letter(s) to their original partitions" "$out" \
	"redrive republishes the dead letter"
tp_ingest --exit-when-idle >"$W/ingest-2.log" 2>&1
tp_assert_eq 1 "$(tp_psql_val "SELECT count(*) FROM tthc.dossiers WHERE dossier_id = 'P7' AND commune_code = '99999'")" \
	"the re-driven event is stored"
tp_assert_eq 1 "$(tp_psql_val "SELECT count(*) FROM tthc.rejected_messages WHERE reason = 'unknown_commune' AND redriven_at IS NOT NULL")" \
	"the dead letter is marked re-driven"
out=$("$TTHC_BIN/tthc-admin" redrive --pg "$TTHC_PG" --brokers "$TTHC_BROKERS" \
	--reason unknown_commune)
tp_assert_eq "republished 0 dead letter(s) to their original partitions" "$out" \
	"a second redrive sends nothing"
tp_finish
