# shellcheck shell=bash
# bench/lib.sh - the start every bench script shares. Sourcing it sources
# tests/integration/lib.sh (PostgreSQL, the broker, cleanups; BUILD_DIR
# defaults to build/, the release build) and sets B (the binaries).
#
#   bench_args SCRIPT "NAME..." ARGS...
#                               the script's options: each --NAME VALUE of
#                               ARGS sets the variable NAME (upper case,
#                               '-' as '_'), which the script set to its
#                               default first; anything after -- goes to
#                               the array BENCH_REST
#   bench_stack PARTITIONS      PostgreSQL, tthc-broker with PARTITIONS
#                               partitions per province topic, the
#                               migrations and reference data; sets W (a
#                               work directory)
#   bench_sim FROM DAYS DOSSIERS_PER_DAY SEED [tthc-sim options...]
#                               produces a national stream; its log is
#                               $W/sim.log
#   bench_pg_settings "K=V ..." sets PostgreSQL parameters (ALTER SYSTEM)
#                               and restarts the server, e.g.
#                               "shared_buffers=2GB max_wal_size=16GB"
#   bench_join_s LOG            prints the seconds a consumer took to join
#                               its group (from "consuming" to "assigned"
#                               in its log LOG; 0 when not found)
#   bench_wait_s LOG            prints the seconds a pipelined consumer
#                               waited for its batches in flight, i.e. for
#                               PostgreSQL (its exit line in LOG; 0 when it
#                               never pipelined)
#   bench_report_fd OUT         opens fd 3 for the script's report: the
#                               file OUT, or (OUT empty) this stdout as it
#                               is; reopening /dev/stdout instead would
#                               truncate a file stdout was redirected to
#                               under the lines written to it since

export BUILD_DIR=${BUILD_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build}
# shellcheck source=../tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/integration/lib.sh"
# measured as deployed: no second read of the snapshots (tests/integration/lib.sh)
export TTHC_VERIFY_SNAPSHOTS=false
B=$TTHC_BIN
BENCH_REST=()

bench_args() {
	local script=$1 list=$2 names=" $2 " name var
	shift 2
	while [[ $# -gt 0 ]]; do
		if [[ $1 == -- ]]; then
			shift
			BENCH_REST=("$@")
			return 0
		fi
		name=${1#--}
		if [[ $1 != --* || $names != *" $name "* ]]; then
			echo "$script: unknown option $1 (options: $list)" >&2
			exit 2
		fi
		if [[ $# -lt 2 ]]; then
			echo "$script: $1 needs a value" >&2
			exit 2
		fi
		var=${name^^}
		printf -v "${var//-/_}" '%s' "$2"
		shift 2
	done
}

bench_report_fd() {
	if [[ -n $1 ]]; then
		exec 3>"$1"
	else
		exec 3>&1
	fi
}

bench_stack() {
	tp_stack "$1"
}

bench_pg_settings() {
	local kv name
	local -a kvs
	read -r -a kvs <<<"$1"
	for kv in "${kvs[@]}"; do
		name=${kv%%=*}
		[[ $kv == *=* && $name =~ ^[a-z_.]+$ ]] ||
			tp_die "bench_pg_settings: '$kv' is not NAME=VALUE"
		psql -XAq -v ON_ERROR_STOP=1 "$TTHC_PG_SUPER" \
			-c "ALTER SYSTEM SET $name = '${kv#*=}'" >/dev/null ||
			tp_die "could not set $name"
	done
	# pg-local's messages to stderr: the work directory and the server
	# log are removed on exit, so a refused setting must show here.
	"$TP_ROOT/scripts/pg-local.sh" stop "$TP_PG_DIR" ||
		tp_die "PostgreSQL did not stop"
	"$TP_ROOT/scripts/pg-local.sh" start "$TP_PG_DIR" "$TP_PG_PORT" \
		>/dev/null || {
		tail -n 20 "$TP_PG_DIR/server.log" >&2 || true
		tp_die "PostgreSQL did not restart with $1"
	}
	tp_log "PostgreSQL restarted with $1"
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

bench_join_s() {
	python3 - "$1" <<'PY'
import re, sys, datetime
ts = []
for l in open(sys.argv[1]):
    m = re.search(r'ts="([^"]+)\+00".*msg="(consuming|assigned)', l)
    if m:
        ts.append(datetime.datetime.fromisoformat(m.group(1)))
print("%.3f" % ((ts[1] - ts[0]).total_seconds() if len(ts) > 1 else 0))
PY
}

bench_wait_s() {
	sed -n 's/.*applied; \([0-9.]*\) s spent waiting.*/\1/p' "$1" |
		tail -n 1 | grep . || echo 0
}
