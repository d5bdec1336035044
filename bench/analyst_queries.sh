#!/usr/bin/env bash
# bench/analyst_queries.sh - times every query of docs/analysts.md (the
# same extraction as tests/integration/test_analysts.sh:
# tests/tools/doc_queries.py) as an analyst login, on a database filled by
# bench/gen_year.sh (or by the consumers).
#
#   bench/analyst_queries.sh --pg DSN [--runs 5] [--login bench_analyst]
#                            [--out FILE] [--explain DIR] [--limit-ms 1000]
#                            [--queries 1,5,18]
#
#   --pg        the database, as its owner (a key=value conninfo): the
#               login is made with tthc.create_analyst (national analyst,
#               Vietnam time) and the queries run as it
#   --runs      runs of each query, each in a new session (default 5)
#   --out       also write the Markdown table to FILE
#   --explain   for each query whose median is over --limit-ms, write
#               EXPLAIN (ANALYZE, BUFFERS) to DIR/qN.txt (default: the
#               directory of --out, else none)
#   --queries   only these queries (numbers in docs/analysts.md order)
#
# Prints a Markdown table: query number, section, rows returned, median and
# max wall time in ms as psql's \timing measures it (server execution and
# the transfer of the rows; connection set-up excluded). Exits 1 if a
# query fails or returns no row, 0 otherwise (times are reported, never
# asserted).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
source "$ROOT/bench/lib.sh"
PG=
RUNS=5
LOGIN=bench_analyst
OUT=
EXPLAIN=
LIMIT_MS=1000
QUERIES=
bench_args bench/analyst_queries.sh "pg runs login out explain limit-ms queries" "$@"
[[ -n $PG ]] || {
	echo "bench/analyst_queries.sh: --pg DSN is required" >&2
	exit 2
}
[[ -z $EXPLAIN && -n $OUT ]] && EXPLAIN=$(dirname "$OUT")
psql -XAtq -v ON_ERROR_STOP=1 "$PG" \
	-c "SELECT tthc.create_analyst('$LOGIN')" >/dev/null ||
	tp_die "could not make the analyst login $LOGIN"
AN="$PG user=$LOGIN"

table="| # | section | rows | median (ms) | max (ms) |
|---|---|---|---|---|"
n=0
failed=0
while IFS=$'\t' read -r -d '' title q; do
	n=$((n + 1))
	[[ -z $QUERIES || ",$QUERIES," == *",$n,"* ]] || continue
	times=()
	rows=
	for ((r = 0; r < RUNS; r++)); do
		if ! out=$(psql -XAtq -v ON_ERROR_STOP=1 "$AN" -c '\timing on' \
			-c "$q" 2>&1); then
			printf 'query %d (%s) failed:\n%s\n' "$n" "$title" "$out" >&2
			rows=error
			break
		fi
		times+=("$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out" | tail -n 1)")
		rows=$(grep -vc '^Time: ' <<<"$out" || true)
	done
	if [[ $rows == error || $rows == 0 ]]; then
		failed=1
		table+=$'\n'"| $n | $title | ${rows:-error} | | |"
		continue
	fi
	read -r med max < <(printf '%s\n' "${times[@]}" | python3 -c '
import statistics, sys
t = [float(x) for x in sys.stdin.read().split()]
print("%.0f %.0f" % (statistics.median(t), max(t)))')
	table+=$'\n'"| $n | $title | $rows | $med | $max |"
	tp_log "query $n ($title): $rows row(s), median $med ms, max $max ms"
	if [[ -n $EXPLAIN ]] && ((med > LIMIT_MS)); then
		mkdir -p "$EXPLAIN"
		psql -XAq "$AN" -c "EXPLAIN (ANALYZE, BUFFERS) $q" \
			>"$EXPLAIN/q$n.txt" 2>&1 || true
	fi
done < <(python3 "$ROOT/tests/tools/doc_queries.py" --titles \
	"$ROOT/docs/analysts.md")
printf '%s\n' "$table"
[[ -z $OUT ]] || printf '%s\n' "$table" >"$OUT"
((n > 0)) || tp_die "no query found in docs/analysts.md"
exit "$failed"
