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
#   bench_cpu_watch OUT         run in the background until sent
#                               SIGTERM; then writes to OUT the CPU
#                               seconds used meanwhile: a first line
#                               "BUSY IDLE STOLEN POSTGRES BROKER" (the
#                               cores', /proc/stat; PostgreSQL's: the
#                               postmaster, the children it reaped and the
#                               live ones; tthc-broker's), then a line
#                               "KIND<TAB>SECONDS" for each kind of
#                               PostgreSQL process ("backend",
#                               "autovacuum worker", ...), watched every
#                               0.5 s: one that lives less than that is
#                               missed (the difference to POSTGRES is the
#                               unseen)
#   bench_run_usage USAGE PIDFILE CMD...
#                               runs CMD, writes its pid to PIDFILE at once
#                               and, when it exits, "WALL USER SYS RC" to
#                               USAGE (its own CPU time, from wait4)
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

bench_cpu_watch() {
	exec python3 - "$TP_PG_DIR/data/postmaster.pid" "$TP_BROKER_PID" "$1" <<'PY'
import os, signal, sys, time
tick = os.sysconf("SC_CLK_TCK")
pm, broker, out = open(sys.argv[1]).readline().strip(), sys.argv[2], sys.argv[3]
KINDS = ("autovacuum worker", "autovacuum launcher", "walwriter",
         "checkpointer", "background writer", "logical replication")
def stat(pid):
    """ppid, own CPU, reaped children's CPU, start time; None if gone"""
    try:
        raw = open("/proc/%s/stat" % pid).read()
    except OSError:
        return None
    f = raw[raw.rindex(")") + 2:].split()
    return (f[1], int(f[11]) + int(f[12]), int(f[13]) + int(f[14]),
            int(f[19]))
def totals():
    """the cores' busy, idle and stolen time, PostgreSQL's, the broker's"""
    cpu = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest is in user);
    # steal is time the hypervisor gave to others, neither busy nor idle
    own = stat(pm)
    pg = own[1] + own[2] if own else 0
    for d in os.listdir("/proc"):
        st = stat(d) if d.isdigit() else None
        if st and st[0] == pm:
            pg += st[1]
    br = stat(broker)
    return [cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6], cpu[3] + cpu[4],
            cpu[7], pg, br[1] if br else 0]
first, last, kind = {}, {}, {}
def scan(scanned):
    for d in os.listdir("/proc"):
        st = stat(d) if d.isdigit() else None
        if not st or st[0] != pm:
            continue
        try:
            cmd = open("/proc/%s/cmdline" % d).read()
        except OSError:
            continue
        # "postgres: autovacuum worker tthc", "postgres: USER DB HOST ..."
        k = cmd.rstrip("\0").replace("postgres: ", "", 1)
        key = (d, st[3])  # pid and start time: a reused pid is new
        # those running at the start count from there, the others whole
        first.setdefault(key, st[1] if not scanned else 0)
        last[key] = st[1]
        kind[key] = next((n for n in KINDS if k.startswith(n)), "backend")
stop = False
def term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, term)
t0 = totals()
scanned = False
while not stop:
    scan(scanned)
    scanned = True
    time.sleep(0.5)
t1 = totals()
tot = {}
for key, cpu in last.items():
    tot[kind[key]] = tot.get(kind[key], 0) + cpu - first[key]
with open(out, "w") as f:
    f.write(" ".join("%.2f" % ((b - a) / tick) for a, b in zip(t0, t1)) + "\n")
    for k, v in sorted(tot.items(), key=lambda kv: -kv[1]):
        f.write("%s\t%.2f\n" % (k, v / tick))
PY
}

bench_run_usage() {
	python3 - "$@" <<'PY'
import os, sys, time
t0 = time.time()
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[3], sys.argv[3:])
open(sys.argv[2], "w").write("%d\n" % pid)
_, status, ru = os.wait4(pid, 0)
open(sys.argv[1], "w").write("%.3f %.3f %.3f %d\n" % (
    time.time() - t0, ru.ru_utime, ru.ru_stime,
    os.waitstatus_to_exitcode(status)))
PY
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
