#!/usr/bin/env bash
# make_corpus.sh - (re)generates the fuzz seed corpus tests/fuzz/corpus/ and
# the extra writer schemas tests/fuzz/schemas/.
#
#   BUILD_DIR=build-rel tests/fuzz/make_corpus.sh
#
# Needs a build with tthc-broker, tthc-sim, tp-produce and fuzz_dump
# (FUZZ_DUMP=path overrides $TTHC_BIN/fuzz_dump). Starts
# a private broker, streams a small known day of two provinces with tthc-sim
# (seed 7) and keeps a sample of the real messages (sim-*); produces
# mixins.py's evolved-schema events and poison with tp-produce and keeps all
# of them (mix-*); then make_corpus.py adds the hand-made evolved/poison/
# schema-mode inputs. Crash reproducers (crash-*) are kept across runs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

OUT=$TP_ROOT/tests/fuzz/corpus
SCH=$TP_ROOT/tests/fuzz/schemas
: "${FUZZ_DUMP:=$TTHC_BIN/fuzz_dump}"
for b in "$TTHC_BIN/tthc-broker" "$TTHC_BIN/tthc-sim" "$TTHC_BIN/tp-produce" "$FUZZ_DUMP"; do
	[[ -x "$b" ]] || tp_die "$b not built"
done
mkdir -p "$OUT" "$SCH"
find "$OUT" -type f ! -name 'crash-*' -delete

tp_broker_start 3
echo "topic tthc.fuzzmix 1" >"$TTHC_BROKER_CONTROL"
W=$(tp_workdir)

"$TTHC_BIN/tthc-sim" --brokers "$TTHC_BROKERS" --reference "$TP_ROOT/reference" \
	--schema "$TP_ROOT/schemas/avro/1-filing_event.avsc" \
	--provinces 01,79 --from 2025-10-01 --days 3 --dossiers-per-day 2000 \
	--seed 7 --duplicate-rate 0.01 >"$W/sim.log" 2>&1 ||
	{ cat "$W/sim.log" >&2; tp_die "tthc-sim failed"; }
n_sim=$("$FUZZ_DUMP" "$TTHC_BROKERS" tthc.filings. "$OUT" sim 11 10)

# mixins.py: evolved writers 7 and 8 and one poison message of every kind,
# all sent to one topic of their own so they can be dumped whole.
python3 "$TP_ROOT/tests/tools/mixins.py" "$SCH" "$W/mix.jsonl" "$W/extra.json"
sed -E 's/"topic": "[^"]*"/"topic": "tthc.fuzzmix"/' "$W/mix.jsonl" |
	sed "s#$SCH#$SCH#" | "$TTHC_BIN/tp-produce" "$TTHC_BROKERS" >/dev/null
n_mix=$("$FUZZ_DUMP" "$TTHC_BROKERS" tthc.fuzzmix "$OUT" mix 1 1000)

n_all=$(python3 "$TP_ROOT/tests/fuzz/make_corpus.py" "$OUT" "$SCH")
tp_log "corpus: $n_sim sim messages, $n_mix mixins, $n_all files in all ($OUT)"
