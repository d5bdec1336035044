#!/usr/bin/env bash
# demo-progress.sh PG PID... - one progress line while the consumers run.
# no -e: a failed progress query must not end the demo (CONTRIBUTING.md)
set -uo pipefail
pg=$1
shift
while :; do
	alive=0
	for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
	line=$(psql -XAtq "$pg" -c "SELECT string_agg(group_id || ' ' || s, ', ' ORDER BY group_id) FROM (SELECT group_id, sum(next_offset) AS s FROM tthc.consumer_offsets GROUP BY 1) x" 2>/dev/null)
	printf '\r  committed messages: %-70s' "${line:-none yet}"
	[[ $alive == 0 ]] && break
	sleep 2
done
echo
