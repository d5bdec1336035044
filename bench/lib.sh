# shellcheck shell=bash
# bench/lib.sh - the start every bench script shares, sourced after
# tests/integration/lib.sh (which gives PostgreSQL, the broker and
# cleanups):
#
#   bench_stack PARTS           PostgreSQL, tthc-broker with PARTS partitions
#                               per province topic, the migrations and
#                               reference data; sets W (a work directory)
#   bench_sim FROM DAYS DPD SEED [tthc-sim options...]
#                               produces a national stream; its log is
#                               $W/sim.log

bench_stack() {
	tp_pg_start
	tp_broker_start "$1"
	W=$(tp_workdir)
	"$TTHC_BIN/tthc-admin" migrate --pg "$TTHC_PG" \
		--migrations "$TP_ROOT/schemas/sql" \
		--reference "$TP_ROOT/reference" >/dev/null
}

bench_sim() {
	local from=$1 days=$2 dpd=$3 seed=$4
	shift 4
	"$TTHC_BIN/tthc-sim" --brokers "$TTHC_BROKERS" \
		--reference "$TP_ROOT/reference" \
		--schema "$TP_ROOT/schemas/avro/1-filing_event.avsc" \
		--from "$from" --days "$days" --dossiers-per-day "$dpd" \
		--seed "$seed" "$@" >"$W/sim.log" 2>&1
}
