#!/usr/bin/env bash
# demo.sh - tthc-pulse in one command, on a fresh Debian 12 machine:
# installs the packages, builds, starts a private PostgreSQL (loopback,
# non-root, data in /var/tmp/tthc-demo), tthc-broker, streams a simulated
# month for all 34 provinces with a few lagging communes through
# tthc-ingest, tthc-route and tthc-alert, and prints a summary.
#
#   scripts/demo.sh [--days N] [--dossiers-per-day N] [--laggards N]
#                   [--no-install] [--keep]
#
# Defaults: 30 days from 2025-10-01, 10000 dossiers per working day
# nationally, 5 laggards, one silent commune. Everything it started is
# stopped when it ends or is interrupted; with --keep (or on a terminal,
# until you press Enter) PostgreSQL stays up for exploring with psql.
# Running it again starts from scratch.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DAYS=30
DPD=10000
LAGGARDS=5
INSTALL=1
KEEP=0
while [[ $# -gt 0 ]]; do
	case $1 in
	--days) DAYS=$2; shift 2 ;;
	--dossiers-per-day) DPD=$2; shift 2 ;;
	--laggards) LAGGARDS=$2; shift 2 ;;
	--no-install) INSTALL=0; shift ;;
	--keep) KEEP=1; shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "demo.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
done

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
[[ $INSTALL == 1 ]] && { say "installing packages"; bash scripts/install-deps.sh; }
say "building (release)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 >/dev/null
B=$ROOT/build/bin

PGDIR=/var/tmp/tthc-demo
RUN=$(mktemp -d /tmp/tthc-demo-run.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [[ $KEEP == 0 ]]; then
		bash scripts/pg-local.sh stop "$PGDIR" >/dev/null 2>&1 || true
	fi
	rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "starting PostgreSQL and tthc-broker"
bash scripts/pg-local.sh stop "$PGDIR" --clean >/dev/null 2>&1 || true
eval "$(bash scripts/pg-local.sh start "$PGDIR" 55433 2>/dev/null)"
"$B/tthc-broker" --reference reference --partitions 3 \
	--bootstrap-file "$RUN/bootstrap" >"$RUN/broker.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [[ -s $RUN/bootstrap ]] && break; sleep 0.1; done
BROKERS=$(head -n1 "$RUN/bootstrap")
"$B/tthc-admin" migrate --pg "$TTHC_PG" >/dev/null
echo "PostgreSQL: $TTHC_PG"
echo "broker:     $BROKERS (librdkafka mock cluster, in memory)"

say "streaming $DAYS days for 34 provinces ($DPD dossiers per working day, $LAGGARDS laggards)"
# The silent commune: the busiest desk of a dry run (the rule needs >= 5
# events a working day), so that commune_silent has something to find.
"$B/tthc-sim" --from 2025-10-01 --days "$DAYS" --dossiers-per-day "$DPD" \
	--laggards "$LAGGARDS" --seed 2025 --dry-run --truth "$RUN/dry.json" >/dev/null 2>&1
silent=$(python3 -c "
import json, sys
t = json.load(open(sys.argv[1]))
c = [x for x in t['communes'] if x['commune_code'] and x['commune_code'] not in t['laggards']]
print(max(c, key=lambda x: x['received'])['commune_code'])" "$RUN/dry.json")
"$B/tthc-sim" --brokers "$BROKERS" --from 2025-10-01 --days "$DAYS" \
	--dossiers-per-day "$DPD" --laggards "$LAGGARDS" --silent "$silent" \
	--seed 2025 --duplicate-rate 0.005 --truth "$RUN/truth.json"

say "consuming: tthc-ingest, tthc-route and tthc-alert side by side"
common=(--brokers "$BROKERS" --pg "$TTHC_PG" --exit-when-idle
	--kafka.session.timeout.ms=6000)
t0=$(date +%s.%N)
for svc in ingest route alert; do
	"$B/tthc-$svc" "${common[@]}" >"$RUN/$svc.log" 2>&1 &
	PIDS+=($!)
done
"$ROOT/scripts/demo-progress.sh" "$TTHC_PG" "${PIDS[@]:1}" || true
for p in "${PIDS[@]:1}"; do wait "$p" || { echo "a consumer failed:"; tail -5 "$RUN"/*.log; exit 1; }; done
t1=$(date +%s.%N)

say "summary"
python3 - "$RUN/truth.json" "$t0" "$t1" <<'PY' >"$RUN/laggards.txt"
import json, sys
t = json.load(open(sys.argv[1]))
print(",".join(t["laggards"] + t["silent"]))
PY
psql -XAq "$TTHC_PG" -v elapsed="$(python3 -c "print($t1 - $t0)")" \
	-v seeded="$(cat "$RUN/laggards.txt")" -f scripts/demo-summary.sql
echo
echo "Seeded by the simulator: laggards and the silent commune $(cat "$RUN/laggards.txt")"
bash "$ROOT/tests/tools/dump_ingest.sh" "$TTHC_PG" "$RUN/dump"
if check=$(python3 "$ROOT/tests/tools/check_ingest.py" "$RUN/truth.json" - "$RUN/dump"); then
	echo "Checked against tthc-sim --truth: $(tail -n 1 <<<"$check") (every commune's counters and open state, every province's events and dossiers)"
else
	grep '^not ok' <<<"$check" | head -n 5
	echo "tthc-ingest's figures differ from tthc-sim's truth: $(tail -n 1 <<<"$check")"
	exit 1
fi
# An analyst login (read-only, Vietnam time) for docs/analysts.md's queries.
psql -XAq -v ON_ERROR_STOP=1 "$TTHC_PG" \
	-c "SELECT tthc.create_analyst('demo_analyst')" >/dev/null
ANALYST_PG=${TTHC_PG/user=tthc_owner/user=demo_analyst}
echo "Explore as an analyst (read-only, Vietnam time; docs/analysts.md has queries):"
echo "  psql \"$ANALYST_PG\""
echo "As the owner: psql \"$TTHC_PG\""

# tthc-web (docs/web.md): the pages, as a read-only NOINHERIT login that
# shows the national view to anyone on this machine.
say "tthc-web: the pages alerts lead to"
psql -XAq -v ON_ERROR_STOP=1 "$TTHC_PG" -c "SELECT tthc.create_web_login('demo_web')" \
	-c "SELECT tthc.web_allow_role('demo_web', 'tthc_analyst')" >/dev/null
WEB_PORT=8080
if [[ -n $(ss -Htln "sport = :$WEB_PORT" 2>/dev/null) ]]; then
	WEB_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi
"$B/tthc-web" --pg "${TTHC_PG/user=tthc_owner/user=demo_web}" --address 127.0.0.1 \
	--port "$WEB_PORT" --anonymous-role tthc_analyst >"$RUN/web.log" 2>&1 &
WEB_PID=$!
PIDS+=("$WEB_PID")
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$WEB_PORT/healthz" >/dev/null && break; sleep 0.1; done
if [[ $KEEP == 1 ]]; then
	echo "PostgreSQL keeps running (--keep); stop it with: scripts/pg-local.sh stop $PGDIR"
fi
echo "National page: http://127.0.0.1:$WEB_PORT/"
if [[ -t 0 ]]; then
	echo "Serving it until Ctrl-C (the commune pages, the alerts, ?lang=en)."
	wait "$WEB_PID" || true
fi
