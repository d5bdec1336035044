#!/usr/bin/env bash
# Compare-and-set on the stored offsets: when another instance moves a
# partition's offset under a running consumer (here: rewound by hand, as a
# zombie's view of the world would be stale), the consumer's next batch is
# refused, it reloads the stored offsets, seeks, and carries on; the
# figures still equal the truth exactly.
set -uo pipefail # no -e: checks exit codes itself (CONTRIBUTING.md)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/common_ingest.sh"

tp_ingest_setup
tp_sim --truth "$W/truth.json"
tp_produce <"$W/mix.jsonl"
offset79() { tp_psql_val "SELECT coalesce(max(next_offset), 0) FROM tthc.consumer_offsets WHERE topic = 'tthc.filings.79' AND partition = 0"; }
tp_ingest --batch-size 300 --exit-when-idle >"$W/ingest.log" 2>&1 &
pid=$!
tp_wait_for "(( \$(offset79) > 600 ))" 120
tp_assert_eq 0 $? "tthc.filings.79 [0] is being consumed"
tp_psql_val "UPDATE tthc.consumer_offsets SET next_offset = 300 WHERE topic = 'tthc.filings.79' AND partition = 0" >/dev/null
tp_wait_for "grep -q 'offsets moved by another instance' '$W/ingest.log'" 60
tp_assert_eq 0 $? "the next batch is refused and the consumer reloads"
wait "$pid"
tp_assert_eq 0 $? "the consumer drains and exits 0"
tp_check_truth after-fence
tp_finish
