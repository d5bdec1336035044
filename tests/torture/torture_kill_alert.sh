#!/usr/bin/env bash
# Torture: kill -9 of tthc-alert at random moments during a long live
# stream with seeded laggards, 5 times (--small, CI) or 20 (--full), each
# restart resuming from the state and offsets checkpointed in PostgreSQL,
# then a final pass. The episodes (ids, severities, figures, ticks) must be
# identical to those of one uninterrupted pass over the same stream: no
# alert lost, duplicated or resolved wrongly.
#
#   BUILD_DIR=build-rel tests/torture/torture_kill_alert.sh [--small|--full]
set -uo pipefail # no -e: checks exit codes itself (CONTRIBUTING.md)
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../integration/common_ingest.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../integration/common_alert.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_torture.sh"
tt_kill_setup alert "$@"
tt_sim_bg --days "$days" --rate "$rate" --laggards 4 --truth "$W/truth.json"

tt_kill_loop alert "$kills"
tt_sim_wait
tt_consumer alert --exit-when-idle >"$W/alert-final.log" 2>&1
tp_assert_eq 0 $? "tthc-alert --exit-when-idle drains after $kills kills"
tt_caught_up alert
tp_assert_eq 0 $? "tthc-alert committed every partition up to its high watermark"
tp_alert_snapshot >"$W/killed.txt"
episodes=$(wc -l <"$W/killed.txt")
tp_assert_eq 1 "$((episodes > 0))" "the stream raised alerts ($episodes episodes)"
tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM tthc.alert_outbox
	WHERE kafka_sent_at IS NULL")" "every alert change was published to tthc.alerts"

tp_alert_reset
tt_consumer alert --exit-when-idle --batch-size 5000 >"$W/alert-once.log" 2>&1
tp_assert_eq 0 $? "an uninterrupted pass over the same stream exits 0"
tp_alert_snapshot >"$W/once.txt"
tp_assert_eq "$(md5sum <"$W/once.txt")" "$(md5sum <"$W/killed.txt")" \
	"kill -9 x$kills gives the episodes of an uninterrupted run ($episodes episodes)"
diff "$W/once.txt" "$W/killed.txt" >&2 || true
lost=$(comm -23 <(sort "$W/once.txt") <(sort "$W/killed.txt") | wc -l)
extra=$(comm -13 <(sort "$W/once.txt") <(sort "$W/killed.txt") | wc -l)
printf 'figures alert kill-9 x%d: messages checked %d, episodes %d, lost %d, duplicated or different %d\n' \
	"$kills" "$(tt_total)" "$episodes" "$lost" "$extra"
tp_finish
