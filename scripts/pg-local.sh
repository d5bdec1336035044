#!/usr/bin/env bash
# pg-local.sh - a throwaway PostgreSQL server on loopback for local runs and
# tests of tthc-pulse. Not for production.
#
# Usage:
#   scripts/pg-local.sh start [DIR] [PORT]   create (if absent) and start a cluster
#   scripts/pg-local.sh stop  DIR [--clean]  stop it (fast); --clean removes DIR
#   scripts/pg-local.sh env   DIR [PORT]     print the export lines for it
#   scripts/pg-local.sh status DIR           exit 0 if running
#
# DIR holds data/ (PGDATA), sock/ (the unix socket), server.log and port.
# Without DIR, start makes /tmp/tthc-pg-XXXXXX. PORT defaults to the port the
# cluster was created with, else 55432. The server listens on 127.0.0.1 only.
#
# `start` and `env` print on stdout, for eval:
#   export TTHC_PG='host=127.0.0.1 port=PORT dbname=tthc user=tthc_owner'
#   export TTHC_PG_SUPER='host=127.0.0.1 port=PORT dbname=tthc user=postgres'
# (everything else goes to stderr), so: eval "$(scripts/pg-local.sh start)".
#
# Roles: `postgres` (superuser) and `tthc_owner` (LOGIN CREATEROLE, not a
# superuser) which owns database `tthc`. Authentication is trust, on loopback.
#
# Run as root, the server runs as the `postgres` system user (PostgreSQL
# refuses to run as root); run as any other user, it runs as that user.
# PG_BINDIR overrides where initdb/pg_ctl/postgres are looked for.
set -euo pipefail

readonly DEFAULT_PORT=55432
readonly MARKER=.tthc-pg-local

log() { printf 'pg-local: %s\n' "$*" >&2; }
die() {
	printf 'pg-local: error: %s\n' "$*" >&2
	exit 1
}

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
	exit "${1:-2}"
}

find_bindir() {
	if [[ -n "${PG_BINDIR:-}" ]]; then
		[[ -x "$PG_BINDIR/initdb" ]] || die "no initdb in PG_BINDIR=$PG_BINDIR"
		printf '%s\n' "$PG_BINDIR"
		return
	fi
	local d best=""
	# Highest installed major version of the Debian layout.
	for d in /usr/lib/postgresql/*/bin; do
		[[ -x "$d/initdb" && -x "$d/pg_ctl" ]] && best=$d
	done
	if [[ -z "$best" ]]; then
		local p
		p=$(command -v initdb 2>/dev/null) || die "PostgreSQL server binaries not found (install the postgresql package or set PG_BINDIR)"
		best=$(dirname "$(readlink -f "$p")")
	fi
	printf '%s\n' "$best"
}

# as_pg CMD...: run CMD as the server's OS user: ourselves, or when we are
# root the owner of an existing data directory, else `postgres`.
as_pg() {
	if [[ $EUID -eq 0 ]]; then
		local u=postgres
		if [[ -d "$DATA" ]]; then
			u=$(stat -c %U "$DATA")
			[[ "$u" != root ]] || u=postgres
		fi
		(cd / && runuser -u "$u" -- "$@")
	else
		"$@"
	fi
}

is_running() {
	[[ -f "$DATA/PG_VERSION" ]] || return 1
	as_pg "$BINDIR/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

print_env() {
	local port=$1
	printf "export TTHC_PG='host=127.0.0.1 port=%s dbname=tthc user=tthc_owner'\n" "$port"
	printf "export TTHC_PG_SUPER='host=127.0.0.1 port=%s dbname=tthc user=postgres'\n" "$port"
}

stored_port() {
	if [[ -f "$DIR/port" ]]; then
		cat "$DIR/port"
	else
		echo "$DEFAULT_PORT"
	fi
}

valid_port() {
	[[ "$1" =~ ^[0-9]+$ ]] && (("$1" >= 1 && "$1" <= 65535))
}

super_psql() {
	# -X: ignore ~/.psqlrc; explicit conninfo, so PG* variables don't matter.
	"$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 \
		"host=127.0.0.1 port=$PORT dbname=${1} user=postgres" -c "$2" >/dev/null
}

init_cluster() {
	mkdir -p "$DIR"
	touch "$DIR/$MARKER"
	mkdir -p "$DIR/sock"
	if [[ $EUID -eq 0 ]]; then
		id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' user (install the postgresql package)"
		chown -R postgres: "$DIR"
		chmod 0700 "$DIR"
		# postgres must be able to reach DIR through its parents.
		runuser -u postgres -- test -x "$DIR" ||
			die "user postgres cannot reach $DIR (a parent directory is not traversable); use a path under /tmp"
	fi
	if [[ ! -f "$DATA/PG_VERSION" ]]; then
		log "initdb in $DATA"
		local common=(-D "$DATA" --auth=trust -U postgres --encoding=UTF8)
		if ! as_pg "$BINDIR/initdb" "${common[@]}" --locale=C.UTF-8 \
			>"$DIR/initdb.log" 2>&1; then
			log "initdb with locale C.UTF-8 failed, retrying with locale C"
			as_pg rm -rf "$DATA"
			as_pg "$BINDIR/initdb" "${common[@]}" --locale=C \
				>"$DIR/initdb.log" 2>&1 || {
				cat "$DIR/initdb.log" >&2
				die "initdb failed"
			}
		fi
	fi
	# Our settings go last in postgresql.conf, rewritten on each start (so a
	# new PORT takes effect). fsync and synchronous_commit stay at defaults.
	local conf="$DATA/postgresql.conf" tmp
	tmp=$(mktemp)
	sed '/^# tthc-pg-local begin/,/^# tthc-pg-local end/d' "$conf" >"$tmp"
	cat >>"$tmp" <<EOF
# tthc-pg-local begin
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DIR/sock'
max_connections = 200
shared_buffers = 256MB
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
# tthc-pg-local end
EOF
	cat "$tmp" >"$conf" # keeps the file's owner and mode
	rm -f "$tmp"
	echo "$PORT" >"$DIR/port"
	if [[ $EUID -eq 0 ]]; then chown postgres: "$DIR/port"; fi
}

cmd_start() {
	if [[ -z "$DIR" ]]; then
		DIR=$(mktemp -d /tmp/tthc-pg-XXXXXX)
		DATA=$DIR/data
		log "created $DIR"
	fi
	[[ -n "$PORT" ]] || PORT=$(stored_port)
	valid_port "$PORT" || die "bad port: $PORT"
	if is_running; then
		local running
		running=$(stored_port)
		[[ "$running" == "$PORT" ]] ||
			die "cluster in $DIR is already running on port $running"
		log "already running in $DIR on port $PORT"
	else
		if [[ -e "$DIR" && ! -f "$DIR/$MARKER" && -n "$(ls -A "$DIR")" ]]; then
			die "$DIR exists, is not empty and was not made by pg-local.sh"
		fi
		init_cluster
		log "starting on 127.0.0.1:$PORT (log: $DIR/server.log)"
		if ! as_pg "$BINDIR/pg_ctl" -D "$DATA" -l "$DIR/server.log" \
			-w -t 60 -o "-p $PORT" start >/dev/null; then
			tail -n 30 "$DIR/server.log" >&2 || true
			die "server failed to start"
		fi
	fi
	local i
	for ((i = 0; i < 120; i++)); do
		if "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PORT" -d postgres -U postgres; then
			break
		fi
		sleep 0.25
	done
	((i < 120)) || die "server did not become ready on port $PORT"

	super_psql postgres "DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tthc_owner') THEN
    CREATE ROLE tthc_owner LOGIN CREATEROLE;
  END IF;
END \$\$;"
	if [[ -z "$("$BINDIR/psql" -XAtq "host=127.0.0.1 port=$PORT dbname=postgres user=postgres" \
		-c "SELECT 1 FROM pg_database WHERE datname = 'tthc'")" ]]; then
		super_psql postgres "CREATE DATABASE tthc OWNER tthc_owner"
	fi
	super_psql postgres "ALTER DATABASE tthc OWNER TO tthc_owner"
	log "ready: database tthc owned by tthc_owner on 127.0.0.1:$PORT"
	print_env "$PORT"
}

cmd_stop() {
	if is_running; then
		log "stopping server in $DIR"
		as_pg "$BINDIR/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null ||
			die "pg_ctl stop failed"
	else
		log "no server running in $DIR"
	fi
	if [[ "$CLEAN" == 1 && -d "$DIR" ]]; then
		if [[ -f "$DIR/$MARKER" ]]; then
			rm -rf -- "$DIR"
			log "removed $DIR"
		else
			die "not removing $DIR: it was not made by pg-local.sh"
		fi
	fi
}

main() {
	[[ $# -ge 1 ]] || usage
	local cmd=$1
	shift
	CLEAN=0
	local args=()
	while [[ $# -gt 0 ]]; do
		case $1 in
		--clean) CLEAN=1 ;;
		-h | --help) usage 0 ;;
		-*) die "unknown option: $1" ;;
		*) args+=("$1") ;;
		esac
		shift
	done
	DIR=${args[0]:-}
	PORT=${args[1]:-}
	[[ ${#args[@]} -le 2 ]] || usage
	if [[ -n "$DIR" ]]; then
		[[ "$DIR" == /* ]] || DIR=$PWD/$DIR
		DIR=${DIR%/}
	fi
	DATA=$DIR/data
	BINDIR=$(find_bindir)

	case $cmd in
	start) cmd_start ;;
	stop)
		[[ -n "$DIR" ]] || die "stop needs DIR"
		cmd_stop
		;;
	env)
		[[ -n "$DIR" ]] || die "env needs DIR"
		[[ -n "$PORT" ]] || PORT=$(stored_port)
		valid_port "$PORT" || die "bad port: $PORT"
		print_env "$PORT"
		;;
	status)
		[[ -n "$DIR" ]] || die "status needs DIR"
		is_running
		;;
	-h | --help | help) usage 0 ;;
	*) usage ;;
	esac
}

main "$@"
