#!/usr/bin/env bash
# bench/web_pages.sh - how fast tthc-web renders its pages (issue 15: every
# page under 100 ms at p95 at national scale: 3,314 communes, a year of
# data, e.g. a database filled by bench/gen_year.sh).
#
#   bench/web_pages.sh --pg DSN [--requests N] [--threads T] [--cache-s S]
#   bench/web_pages.sh --url http://host:port [--requests N]
#
# With --pg (the owner's conninfo of a migrated, filled database) it makes
# a web login (tthc.create_web_login, allowed tthc_analyst), starts
# $TTHC_BIN/tthc-web on a free port as that login (national view) and stops
# it at the end; with --url it measures a running server as its anonymous
# role sees it. The pages: the national page (HTML and JSON), the worst
# province, the commune of the newest firing alert (else the province's
# first), /alerts. Each is fetched N times (default 200) by one curl
# keeping its connection, after 3 warm-up fetches; prints n, p50, p95 and
# max in milliseconds per page. Run the release build (BUILD_DIR=build).
# --cache-s is tthc-web's own option (default 30: the national page is
# built once per role every 30 s); --cache-s 0 measures every request
# built from PostgreSQL.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG='' URL='' REQUESTS=200 THREADS=4 CACHE_S=30
bench_args bench/web_pages.sh "pg url requests threads cache-s" "$@"
[[ -n "$PG$URL" ]] || { echo "bench/web_pages.sh: --pg DSN or --url URL" >&2; exit 2; }

if [[ -z "$URL" ]]; then
	[[ -x "$TTHC_BIN/tthc-web" ]] || tp_die "$TTHC_BIN/tthc-web not found (build first)"
	pw=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	psql -XAtq -v ON_ERROR_STOP=1 "$PG" -c "SELECT tthc.create_web_login('tthc_web_bench', '$pw');
		SELECT tthc.web_allow_role('tthc_web_bench', 'tthc_analyst')" >/dev/null
	port=$(tp_free_port)
	log=$(mktemp /tmp/tthc-web-bench.XXXXXX)
	tp_on_exit rm -f "$log"
	"$TTHC_BIN/tthc-web" --pg "$PG user=tthc_web_bench password=$pw" \
		--address 127.0.0.1 --port "$port" --threads "$THREADS" --cache-s "$CACHE_S" \
		--anonymous-role tthc_analyst >"$log" 2>&1 &
	tp_on_exit _tp_kill_wait $!
	URL=http://127.0.0.1:$port
	tp_wait_for "curl -sf $URL/healthz" 30 || { cat "$log" >&2; tp_die "tthc-web did not start"; }
fi
URL=${URL%/}
BENCH_TMP=$(mktemp /tmp/tthc-web-bench.XXXXXX)
tp_on_exit rm -f "$BENCH_TMP"

json() { curl -sf -H 'Accept: application/json' "$URL$1"; }
province=$(json / | jq -r '.provinces[0].province_code')
commune=$(json /alerts | jq -r '[.alerts[] | select(.commune_code != null)][0].commune_code // empty')
if [[ -z "$commune" ]]; then
	commune=$(json "/provinces/$province" | jq -r '.communes[0].commune_code')
fi

# measure NAME PATH [curl options]: REQUESTS fetches, one connection
measure() {
	local name=$1 path=$2 i bad args=()
	shift 2
	for ((i = 0; i < REQUESTS + 3; i++)); do
		args+=(-o /dev/null "$URL$path")
	done
	curl -s "$@" -w '%{http_code} %{time_total}\n' "${args[@]}" |
		tail -n +4 >"$BENCH_TMP"
	bad=$(awk '$1 != 200' "$BENCH_TMP" | wc -l)
	awk '{ printf "%.3f\n", $2 * 1000 }' "$BENCH_TMP" | sort -n |
		awk -v name="$name" -v path="$path" -v bad="$bad" '
		{ t[NR] = $1 }
		END {
			p95 = int(NR * 0.95); if (p95 < NR * 0.95) p95++
			printf "%-12s %-22s n=%d p50=%.1fms p95=%.1fms max=%.1fms%s\n",
				name, path, NR, t[int((NR + 1) / 2)], t[p95], t[NR],
				(bad > 0 ? " (" bad " not 200)" : "")
		}'
}

echo "# tthc-web at $URL, $REQUESTS requests per page"
measure nation /
measure nation-json / -H 'Accept: application/json'
measure province "/provinces/$province"
measure commune "/communes/$commune"
measure alerts /alerts
