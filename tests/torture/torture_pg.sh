#!/usr/bin/env bash
# Torture: PostgreSQL restarted mid-stream, then stopped for a while (15 s
# with --small, 60 s with --full) while a live stream goes on. The running
# tthc-ingest (never restarted) must pause its partitions, retry with
# backoff, say so in its log and metrics, resume by itself, catch up and
# end exact: lost 0, duplicated 0.
#
#   BUILD_DIR=build-rel tests/torture/torture_pg.sh [--small|--full]
set -uo pipefail # no -e: checks exit codes itself (CONTRIBUTING.md)
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../integration/common_ingest.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_torture.sh"
tt_args "$@"

outage=$(tt_size 15 60)
days=$(tt_size 10 28)
rate=$(tt_size 1000 1000)

tp_ingest_setup
tt_produce_mix
port=$(tp_free_port)
tt_sim_bg --days "$days" --rate "$rate" --truth "$W/truth.json"
tt_ingest_bg "$W/ingest.log" --batch-size 500 --http-port "$port"
pid=$TT_PID
tp_wait_for "(( \$(tt_committed) > 0 ))" 60 || tp_die "tthc-ingest committed nothing"

# 1. A restart (fast shutdown, start again at once) mid-stream.
before=$(tt_committed)
tt_pg_stop
tp_log "PostgreSQL stopped (restart) at $before committed"
sleep 1
tt_pg_start
tp_log "PostgreSQL started again"
tp_wait_for "(( \$(tt_committed) > $before ))" 60
tp_assert_eq 0 $? "commits resume after the PostgreSQL restart"

# 2. Stopped for a while: paused, retrying, visible in log and metrics.
sleep 2
before=$(tt_committed)
tt_pg_stop
tp_log "PostgreSQL stopped for ${outage}s at $before committed"
sleep "$((outage / 2))"
paused=$(tt_metric "$port" tthc_consumer_paused)
retries=$(tt_metric "$port" tthc_consumer_commit_retries_total)
pg_up=$(tt_metric "$port" tthc_postgres_up)
tp_log "during the outage: paused=$paused retries=$retries pg_up=$pg_up"
sleep "$((outage - outage / 2))"
kill -0 "$pid" 2>/dev/null
tp_assert_eq 0 $? "tthc-ingest is still running after ${outage}s without PostgreSQL"
tp_assert_eq 1 "$paused" "metric tthc_consumer_paused is 1 during the outage"
tp_assert_eq 0 "$pg_up" "metric tthc_postgres_up is 0 during the outage"
[[ $retries =~ ^[0-9]+$ && $retries -ge 2 ]]
tp_assert_eq 0 $? "metric tthc_consumer_commit_retries_total grows during the outage ($retries)"
tt_pg_start
tp_log "PostgreSQL started again"
tp_wait_for "(( \$(tt_committed) > $before ))" 90
tp_assert_eq 0 $? "commits resume after ${outage}s of outage"
tp_wait_for "[[ \$(tt_metric $port tthc_consumer_paused) == 0 ]]" 30
tp_assert_eq 0 $? "metric tthc_consumer_paused is back to 0"

# Backoff: the retry delays grow (doubling) instead of hammering.
delays=$(grep -o 'retrying in [0-9]* ms' "$W/ingest.log" | awk '{print $3}' | sort -n | uniq | tr '\n' ' ')
tp_log "retry delays seen (ms): $delays"
n_delays=$(wc -w <<<"$delays")
[[ $n_delays -ge 3 ]]
tp_assert_eq 0 $? "retries back off (distinct delays: $delays)"
grep -q 'partitions paused' "$W/ingest.log"
tp_assert_eq 0 $? "the log says the partitions are paused"
grep -q 'resuming partitions' "$W/ingest.log"
tp_assert_eq 0 $? "the log says the partitions resume"

tt_sim_wait
tt_wait_caught_up 180
tp_assert_eq 0 $? "the same tthc-ingest process catches up with the whole stream"
tt_stop "$pid"
tp_assert_eq 0 $? "tthc-ingest exits 0 on SIGTERM"
tp_ingest --exit-when-idle >"$W/ingest-final.log" 2>&1
tp_assert_eq 0 $? "a final pass drains"
tt_exact "postgres restart + ${outage}s outage"
tp_finish
