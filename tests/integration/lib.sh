# shellcheck shell=bash
# tests/integration/lib.sh - helpers for the integration tests (bash).
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Sourcing sets (and exports) TP_ROOT (repo root), BUILD_DIR (default
# $TP_ROOT/build; a relative value is taken from the repo root) and TTHC_BIN
# (default $BUILD_DIR/bin), and installs one EXIT trap that runs every
# registered cleanup in reverse order of registration (INT/TERM exit through
# it too). Cleanups are kept in a file, so registering works from command
# substitutions: `W=$(tp_workdir)` is fine.
#
# Functions that export variables must run in the test's own shell, not in
# $(...): tp_pg_start, tp_broker_start, tp_stack.
#
#   tp_die MSG...             print "FATAL: MSG" to stderr, exit 1
#   tp_log MSG...             print "# MSG" to stderr
#   tp_on_exit CMD [ARG...]   register a cleanup command
#   tp_workdir                make a temp dir (removed on exit), print its path
#   tp_free_port              print a free TCP port on 127.0.0.1
#   tp_pg_start               start a private PostgreSQL (scripts/pg-local.sh);
#                             exports TTHC_PG, TTHC_PG_SUPER, TP_PG_DIR,
#                             TP_PG_PORT; stopped and removed on exit
#   tp_broker_start [N]       start $TTHC_BIN/tthc-broker with N partitions
#                             (default 3); exports TTHC_BROKERS,
#                             TTHC_BROKER_CONTROL (a FIFO, made before the
#                             broker starts), TP_BROKER_PID, TP_BROKER_LOG;
#                             killed on exit
#   tp_stack [N]              tp_pg_start, tp_broker_start N, the
#                             migrations and reference data (log:
#                             $W/migrate.log); sets W (tp_workdir)
#   tp_psql_val SQL           run SQL as tthc_owner, print the value(s)
#   tp_psql_super_val SQL     the same as the postgres superuser
#   tp_assert_eq EXP ACT WHAT print "ok - WHAT" or "not ok - WHAT: expected
#                             EXP got ACT" and count it (never exits)
#   tp_wait_for CMD SECS      run CMD (a string, eval'd) every 0.2 s until it
#                             succeeds; return 1 after SECS seconds
#   tp_finish                 print "N passed, N failed"; exit 1 if any
#                             assertion failed (or none ran), else 0
#
# Counters live in the test's shell: call tp_assert_eq there, not in $(...).

if [[ -n "${TP_LIB_LOADED:-}" ]]; then
	return 0
fi
TP_LIB_LOADED=1

TP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export TP_ROOT
: "${BUILD_DIR:=build}"
[[ "$BUILD_DIR" == /* ]] || BUILD_DIR=$TP_ROOT/$BUILD_DIR
: "${TTHC_BIN:=$BUILD_DIR/bin}"
export BUILD_DIR TTHC_BIN
# tthc-alert checks the snapshots it keeps in memory against the table
# whenever it uses them (option verify-snapshots; bench/lib.sh turns it
# off): every test that runs it checks the feed.
: "${TTHC_VERIFY_SNAPSHOTS:=true}"
export TTHC_VERIFY_SNAPSHOTS

TP_PASSED=0
TP_FAILED=0
TP_CLEANUP_FILE=$(mktemp "${TMPDIR:-/tmp}/tthc-test-cleanup.XXXXXX")
TP_MAIN_PID=$$

tp_log() { printf '# %s\n' "$*" >&2; }

tp_die() {
	printf 'FATAL: %s\n' "$*" >&2
	exit 1
}

tp_on_exit() {
	[[ $# -gt 0 ]] || return 0
	printf '%q ' "$@" >>"$TP_CLEANUP_FILE"
	printf '\n' >>"$TP_CLEANUP_FILE"
}

_tp_run_cleanups() {
	local rc=$? line
	# Subshells don't inherit the EXIT trap, but be sure.
	[[ $BASHPID == "$TP_MAIN_PID" ]] || return "$rc"
	trap - EXIT
	set +e
	if [[ -f "$TP_CLEANUP_FILE" ]]; then
		while IFS= read -r line; do
			[[ -n "$line" ]] || continue
			# A process already gone is not news.
			if [[ $line == kill\ * ]]; then
				eval "$line" 2>/dev/null
			else
				eval "$line" >&2
			fi
		done < <(tac "$TP_CLEANUP_FILE")
		rm -f "$TP_CLEANUP_FILE"
	fi
	exit "$rc"
}
trap _tp_run_cleanups EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

tp_workdir() {
	local d
	d=$(mktemp -d "${TMPDIR:-/tmp}/tthc-test-XXXXXX") ||
		tp_die "mktemp failed"
	tp_on_exit rm -rf -- "$d"
	printf '%s\n' "$d"
}

tp_free_port() {
	if command -v python3 >/dev/null; then
		python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
		return
	fi
	local p i
	for ((i = 0; i < 100; i++)); do
		p=$((20000 + RANDOM % 30000))
		if [[ -z "$(ss -Htln "sport = :$p")" ]]; then
			echo "$p"
			return
		fi
	done
	tp_die "no free port found"
}

tp_pg_start() {
	local dir port out attempt
	for attempt in 1 2 3; do
		port=$(tp_free_port)
		dir=$(mktemp -d /tmp/tthc-pg-XXXXXX) || tp_die "mktemp failed"
		if out=$("$TP_ROOT/scripts/pg-local.sh" start "$dir" "$port"); then
			tp_on_exit "$TP_ROOT/scripts/pg-local.sh" stop "$dir" --clean
			eval "$out"
			export TTHC_PG TTHC_PG_SUPER
			export TP_PG_DIR=$dir TP_PG_PORT=$port
			tp_log "PostgreSQL on 127.0.0.1:$port ($dir)"
			return 0
		fi
		tp_log "PostgreSQL start on port $port failed (attempt $attempt)"
		"$TP_ROOT/scripts/pg-local.sh" stop "$dir" --clean >/dev/null 2>&1 ||
			true
	done
	tp_die "could not start PostgreSQL"
}

_tp_kill_wait() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

tp_broker_start() {
	local parts=${1:-3} dir bfile fifo pid i
	[[ -x "$TTHC_BIN/tthc-broker" ]] ||
		tp_die "$TTHC_BIN/tthc-broker not found (build first, or set TTHC_BIN)"
	dir=$(tp_workdir)
	bfile=$dir/bootstrap
	fifo=$dir/control
	mkfifo "$fifo" || tp_die "mkfifo $fifo failed"
	"$TTHC_BIN/tthc-broker" --reference "$TP_ROOT/reference" \
		--partitions "$parts" --bootstrap-file "$bfile" \
		--control "$fifo" >"$dir/broker.log" 2>&1 &
	pid=$!
	tp_on_exit _tp_kill_wait "$pid"
	for ((i = 0; i < 300; i++)); do
		if [[ -s "$bfile" ]] && grep -Eq '^[^[:space:]]+:[0-9]+' "$bfile"; then
			break
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			cat "$dir/broker.log" >&2
			tp_die "tthc-broker exited before writing $bfile"
		fi
		sleep 0.1
	done
	((i < 300)) || {
		cat "$dir/broker.log" >&2
		tp_die "tthc-broker did not write $bfile within 30 s"
	}
	TTHC_BROKERS=$(head -n 1 "$bfile" | tr -d '[:space:]')
	export TTHC_BROKERS TTHC_BROKER_CONTROL=$fifo
	export TP_BROKER_PID=$pid TP_BROKER_LOG=$dir/broker.log
	tp_log "broker $TTHC_BROKERS (pid $pid, $parts partitions)"
}

tp_stack() {
	W=$(tp_workdir)
	tp_pg_start
	tp_broker_start "${1:-3}"
	"$TTHC_BIN/tthc-admin" migrate --pg "$TTHC_PG" \
		--migrations "$TP_ROOT/schemas/sql" \
		--reference "$TP_ROOT/reference" >"$W/migrate.log" 2>&1 ||
		{ cat "$W/migrate.log" >&2; tp_die "migrate failed"; }
}

tp_psql_val() {
	psql -XAtq -v ON_ERROR_STOP=1 "$TTHC_PG" -c "$1"
}

tp_psql_super_val() {
	psql -XAtq -v ON_ERROR_STOP=1 "$TTHC_PG_SUPER" -c "$1"
}

tp_assert_eq() {
	local exp=$1 act=$2 what=${3:-}
	if [[ "$exp" == "$act" ]]; then
		TP_PASSED=$((TP_PASSED + 1))
		printf 'ok - %s\n' "$what"
	else
		TP_FAILED=$((TP_FAILED + 1))
		printf 'not ok - %s: expected %s got %s\n' "$what" "$exp" "$act"
	fi
	return 0
}

tp_wait_for() {
	local cmd=$1 timeout=${2:-30} deadline
	deadline=$((SECONDS + timeout))
	while :; do
		if eval "$cmd" >/dev/null 2>&1; then
			return 0
		fi
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

tp_finish() {
	printf '%d passed, %d failed\n' "$TP_PASSED" "$TP_FAILED"
	if ((TP_FAILED > 0)); then
		exit 1
	fi
	if ((TP_PASSED == 0)); then
		printf 'no assertions ran\n'
		exit 1
	fi
	exit 0
}
