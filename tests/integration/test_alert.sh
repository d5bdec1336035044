#!/usr/bin/env bash
# test_alert.sh - tthc-alert on a simulated province stream with seeded
# laggards: they fire (with the figures in details), every change reaches
# Kafka tthc.alerts, Alertmanager down then up still receives every active
# alert, a replay gives identical episodes (same ids), and kill -9
# mid-stream gives the same episodes as an uninterrupted run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/common_alert.sh"
cd "$TP_ROOT"

tp_stack 3

PROV=48
"$TTHC_BIN/tthc-sim" --brokers "$TTHC_BROKERS" --provinces "$PROV" \
	--from 2025-09-01 --days 21 --laggards 2 --seed 7 --duplicate-rate 0.01 \
	--truth "$W/truth.json" >"$W/sim.log" 2>&1 ||
	{ cat "$W/sim.log" >&2; tp_die "tthc-sim failed"; }
mapfile -t LAGGARDS < <(jq -r '.laggards[]' "$W/truth.json")
tp_log "laggards: ${LAGGARDS[*]}"

tp_alert_past_rules "$W/rules.conf"
AM_PORT=$(tp_free_port)
AM_URL=http://127.0.0.1:$AM_PORT
COMMON=(--brokers "$TTHC_BROKERS" --pg "$TTHC_PG" --rules "$W/rules.conf"
	--kafka.session.timeout.ms=6000)

# ---- 1. a live instance with Alertmanager down, then up -------------------
"$TTHC_BIN/tthc-alert" "${COMMON[@]}" --alertmanager "$AM_URL" \
	>"$W/alert1.log" 2>&1 &
APID=$!
tp_on_exit bash -c "kill -KILL $APID 2>/dev/null || true"
tp_wait_for "[[ \$(tp_psql_val \"SELECT count(*) FROM tthc.alert_provinces
	WHERE caught_up\") == 1 ]]" 120 ||
	{ tail -20 "$W/alert1.log" >&2; tp_die "tthc-alert did not catch up"; }
sleep 3
tp_wait_for "grep -q 'Alertmanager unavailable' '$W/alert1.log'" 30 ||
	tp_die "no Alertmanager retry logged"
FIRING=$(tp_psql_val "SELECT count(*) FROM tthc.alerts WHERE status = 'firing'")
tp_log "$FIRING firing episode(s); starting Alertmanager on $AM_URL"
tp_alertmanager_start "$W" "$AM_PORT"
am_active() {
	curl -sf "$AM_URL/api/v2/alerts?active=true" |
		jq '[.[] | select(.labels.service == "tthc-pulse")
			| select(.status.state == "active")] | length'
}
tp_wait_for "[[ \$(am_active) == $FIRING ]]" 90 ||
	tp_log "Alertmanager has $(am_active 2>/dev/null) alert(s)"
tp_assert_eq "$FIRING" "$(am_active)" \
	"Alertmanager received every active alert after coming up"
AM_IDS=$(curl -sf "$AM_URL/api/v2/alerts?active=true" |
	jq -r '.[] | select(.labels.service == "tthc-pulse")
		| .annotations.alert_id' | sort | tr '\n' ' ')
PG_IDS=$(tp_psql_val "SELECT alert_id FROM tthc.alerts WHERE status = 'firing'" |
	sort | tr '\n' ' ')
tp_assert_eq "$PG_IDS" "$AM_IDS" "Alertmanager holds the firing episode ids"
LABELS=$(curl -sf "$AM_URL/api/v2/alerts" | jq -r '[.[0].labels | has("alertname"),
	has("province"), has("commune"), has("severity")] | all')
tp_assert_eq true "$LABELS" "Alertmanager labels alertname, province, commune, severity"
kill -TERM "$APID"
wait "$APID" || true
tp_alert_snapshot >"$W/a.txt"

for c in "${LAGGARDS[@]}"; do
	tp_assert_eq 1 "$(tp_psql_val "SELECT (count(*) > 0)::int FROM tthc.alerts
		WHERE commune_code = '$c'")" "laggard $c has an alert"
done
tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM tthc.alerts
	WHERE rule = 'overdue_backlog' AND NOT details ? 'overdue_open'")" \
	"overdue alerts carry the figures in details"
OTHERS=$(tp_psql_val "SELECT count(DISTINCT commune_code) FROM tthc.alerts
	WHERE commune_code <> ALL ('{$(IFS=,; echo "${LAGGARDS[*]}")}')")
tp_log "other communes alerted: $OTHERS"
tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM tthc.alert_outbox
	WHERE kafka_sent_at IS NULL")" "every alert change was published"
tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM tthc.commune_health
	WHERE behind AND commune_code NOT IN (SELECT commune_code FROM tthc.alerts
	WHERE status = 'firing')")" "commune_health agrees with tthc.alerts"

# The Kafka topic: read it back with a throwaway consumer group of
# tthc-ingest, which keeps every message it cannot read as ours
# (raw bytes, key) in tthc.rejected_messages.
OUTBOX=$(tp_psql_val "SELECT count(*) FROM tthc.alert_outbox")
"$TTHC_BIN/tthc-ingest" --brokers "$TTHC_BROKERS" --pg "$TTHC_PG" \
	--topics tthc.alerts --group tp-verify-alerts --dlq-topic tthc.verify.dlq \
	--exit-when-idle --kafka.session.timeout.ms=6000 >"$W/verify.log" 2>&1 ||
	{ tail -5 "$W/verify.log" >&2; }
tp_assert_eq "$OUTBOX" "$(tp_psql_val "SELECT count(*) FROM
	tthc.rejected_messages WHERE topic = 'tthc.alerts'")" \
	"tthc.alerts holds one message per change"
tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM tthc.rejected_messages
	WHERE topic = 'tthc.alerts' AND (get_byte(raw_value, 0) <> 0
	OR get_byte(raw_value, 4) <> 2)")" "alert messages are framed with schema id 2"
tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM tthc.rejected_messages r
	WHERE topic = 'tthc.alerts' AND convert_from(message_key, 'UTF8') NOT IN
	(SELECT coalesce(commune_code, province_code) FROM tthc.alerts)")" \
	"alert messages are keyed by commune code"

# ---- 2. a replay gives the same episodes ------------------------------------
tp_alert_reset
"$TTHC_BIN/tthc-alert" "${COMMON[@]}" --exit-when-idle >"$W/alert2.log" 2>&1 ||
	{ tail -20 "$W/alert2.log" >&2; tp_die "replay failed"; }
tp_alert_snapshot >"$W/b.txt"
tp_assert_eq "$(md5sum <"$W/a.txt")" "$(md5sum <"$W/b.txt")" \
	"a replay gives identical episodes ($(wc -l <"$W/a.txt") episodes)"

# ---- 3. kill -9 mid-stream, restart -----------------------------------------
tp_alert_reset
"$TTHC_BIN/tthc-alert" "${COMMON[@]}" --batch-size 300 --batch-ms 50 \
	>"$W/alert3.log" 2>&1 &
KPID=$!
tp_wait_for "[[ \$(tp_psql_val \"SELECT coalesce(sum(next_offset), 0) FROM
	tthc.consumer_offsets WHERE group_id = 'tthc-alert'\") -gt 6000 ]]" 60 ||
	tp_log "kill came late"
kill -KILL "$KPID"
wait "$KPID" 2>/dev/null || true
tp_log "killed at $(tp_psql_val "SELECT sum(next_offset) FROM
	tthc.consumer_offsets WHERE group_id = 'tthc-alert'") offsets"
"$TTHC_BIN/tthc-alert" "${COMMON[@]}" --exit-when-idle --batch-size 700 \
	>"$W/alert4.log" 2>&1 ||
	{ tail -20 "$W/alert4.log" >&2; tp_die "restart failed"; }
tp_alert_snapshot >"$W/c.txt"
tp_assert_eq "$(md5sum <"$W/a.txt")" "$(md5sum <"$W/c.txt")" \
	"kill -9 and restart give the same episodes"
diff "$W/a.txt" "$W/c.txt" >&2 || true

tp_finish
