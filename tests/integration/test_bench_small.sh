#!/usr/bin/env bash
# The benchmark runs (at a small size; its figures are not asserted: speed
# is measured by bench/run.sh, never by a timed test).
set -uo pipefail # no -e: checks exit codes itself (CONTRIBUTING.md)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
out=$(tp_workdir)/benchmarks.md
bash "$TP_ROOT/bench/run.sh" --small --out "$out" >/dev/null 2>&1
tp_assert_eq 0 $? "bench/run.sh --small succeeds"
grep -q "tthc-ingest end to end" "$out"
tp_assert_eq 0 $? "the report has the ingest row"
grep -q "limit: decode-only" "$out"
tp_assert_eq 0 $? "the report has the decode-only limit"
grep -q "tthc-admin rebuild alert" "$out"
tp_assert_eq 0 $? "the report has the rebuilds"
tp_finish
